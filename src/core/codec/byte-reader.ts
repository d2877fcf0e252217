import { readU32sBE } from './u32-words.ts';

/**
 * Bounds-checked big-endian reader over untrusted bytes. Methods throw `DecodeError`;
 * public decoders catch it at their boundary and return a `Result`, so nothing escapes.
 */
export class DecodeError extends Error {
  override name = 'DecodeError';
}

export class ByteReader {
  private readonly view: DataView;
  private pos = 0;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number, what: string): void {
    if (n > this.remaining) throw new DecodeError(`truncated: ${what} needs ${n} bytes, ${this.remaining} left`);
  }

  u8(what = 'u8'): number {
    this.need(1, what);
    return this.view.getUint8(this.pos++);
  }

  u16(what = 'u16'): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  /** Unsigned 64-bit; rejects values above 2^53 - 1 so they stay exact as numbers. */
  u64(what = 'u64'): number {
    const hi = this.u32(what);
    const lo = this.u32(what);
    if (hi >= 2 ** 21) throw new DecodeError(`${what} exceeds 2^53`);
    return hi * 2 ** 32 + lo;
  }

  f64(what = 'f64'): number {
    this.need(8, what);
    const v = this.view.getFloat64(this.pos);
    this.pos += 8;
    return v;
  }

  /** A view (no copy) of the next n bytes. */
  bytes(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** n big-endian words, as n `u32` calls would read them, into a fresh array in one pass. */
  u32s(n: number, what = 'u32s'): Uint32Array {
    const bytes = this.bytes(4 * n, what);
    return readU32sBE(bytes);
  }

  /** u32 length prefix (bounded by `max`), then the bytes. */
  varBytes(max: number, what = 'varBytes'): Uint8Array {
    const n = this.u32(`${what} length`);
    if (n > max) throw new DecodeError(`${what} is ${n} bytes, limit ${max}`);
    return this.bytes(n, what);
  }

  end(what = 'message'): void {
    if (this.remaining !== 0) throw new DecodeError(`${what} has ${this.remaining} trailing bytes`);
  }
}

/** Run a decoder over untrusted bytes; any throw becomes an error value. */
export function safeDecode<T>(decode: () => T): { ok: true; value: T } | { ok: false; error: string } {
  try {
    return { ok: true, value: decode() };
  } catch (e) {
    return { ok: false, error: e instanceof DecodeError ? e.message : `malformed: ${String(e)}` };
  }
}
