// Splits messages into data-channel frames of at most `maxFrameBytes` (16 KiB: the size every
// browser's SCTP stack delivers intact) and reassembles them. Data channels are reliable and ordered,
// so chunks of one message arrive contiguously; any deviation is a protocol error.
//
// Frame: u32 message id, u16 chunk index, u16 chunk count, payload.
import { ByteReader, safeDecode } from '../codec/index.ts';
import type { Result } from '../result.ts';

export const MAX_FRAME_BYTES = 16 * 1024;
const CHUNK_HEADER_BYTES = 8;

export function chunkMessage(messageId: number, message: Uint8Array, maxFrameBytes = MAX_FRAME_BYTES): Uint8Array[] {
  const payload = maxFrameBytes - CHUNK_HEADER_BYTES;
  const count = Math.max(1, Math.ceil(message.length / payload));
  if (count > 0xffff) throw new Error(`"message" of ${message.length} bytes needs more than 65535 chunks`);
  const frames: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const part = message.subarray(i * payload, Math.min(message.length, (i + 1) * payload));
    const f = new Uint8Array(CHUNK_HEADER_BYTES + part.length);
    const v = new DataView(f.buffer);
    v.setUint32(0, messageId >>> 0);
    v.setUint16(4, i);
    v.setUint16(6, count);
    f.set(part, CHUNK_HEADER_BYTES);
    frames.push(f);
  }
  return frames;
}

/** Reassembles one link's frames. `push` returns a whole message, null while incomplete, or an error. */
export class Reassembler {
  private id = -1;
  private count = 0;
  private parts: Uint8Array[] = [];
  private bytes = 0;

  constructor(private readonly maxMessageBytes: number) {}

  push(frame: Uint8Array): Result<Uint8Array | null> {
    const header = safeDecode(() => {
      const r = new ByteReader(frame);
      return { id: r.u32(), index: r.u16(), count: r.u16() };
    });
    if (!header.ok) return this.fail(header.error);
    const { id, index, count } = header.value;
    if (count === 0 || index >= count) return this.fail(`bad chunk ${index}/${count}`);
    if (index === 0) {
      if (this.parts.length > 0) return this.fail('new message before the previous one finished');
      this.id = id;
      this.count = count;
    } else if (id !== this.id || count !== this.count || index !== this.parts.length) {
      return this.fail(`out-of-order chunk ${index}/${count}`);
    }
    this.bytes += frame.length - CHUNK_HEADER_BYTES;
    if (this.bytes > this.maxMessageBytes) return this.fail(`oversize: message exceeds ${this.maxMessageBytes} bytes`);
    this.parts.push(frame.subarray(CHUNK_HEADER_BYTES));
    if (this.parts.length < count) return { ok: true, value: null };
    const out = new Uint8Array(this.bytes);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    this.reset();
    return { ok: true, value: out };
  }

  private fail(error: string): Result<never> {
    this.reset();
    return { ok: false, error };
  }

  private reset(): void {
    this.parts = [];
    this.bytes = 0;
    this.id = -1;
    this.count = 0;
  }
}
