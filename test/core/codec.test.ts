import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import { ByteReader, ByteWriter, DecodeError, safeDecode } from '../../src/core/codec/index.ts';

// Without this, fast-check's default size ('small') caps `maxLength: 300` at about 10 elements.
fc.configureGlobal({ ...fc.readConfigureGlobal(), defaultSizeToMaxWhenMaxSpecified: true });

type Op =
  | { op: 'u8'; v: number }
  | { op: 'u16'; v: number }
  | { op: 'u32'; v: number }
  | { op: 'u64'; v: number }
  | { op: 'f64'; v: number }
  | { op: 'bytes'; v: Uint8Array }
  | { op: 'varBytes'; v: Uint8Array };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.integer({ min: 0, max: 0xff }).map((v) => ({ op: 'u8' as const, v })),
  fc.integer({ min: 0, max: 0xffff }).map((v) => ({ op: 'u16' as const, v })),
  fc.integer({ min: 0, max: 0xffffffff }).map((v) => ({ op: 'u32' as const, v })),
  fc
    .oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.maxSafeNat(), fc.constantFrom(0, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER))
    .map((v) => ({ op: 'u64' as const, v })),
  fc.double().map((v) => ({ op: 'f64' as const, v })),
  fc.uint8Array({ maxLength: 64 }).map((v) => ({ op: 'bytes' as const, v })),
  fc.uint8Array({ maxLength: 300 }).map((v) => ({ op: 'varBytes' as const, v })),
);

function write(w: ByteWriter, o: Op): void {
  switch (o.op) {
    case 'u8':
      w.u8(o.v);
      break;
    case 'u16':
      w.u16(o.v);
      break;
    case 'u32':
      w.u32(o.v);
      break;
    case 'u64':
      w.u64(o.v);
      break;
    case 'f64':
      w.f64(o.v);
      break;
    case 'bytes':
      w.bytes(o.v);
      break;
    case 'varBytes':
      w.varBytes(o.v);
      break;
  }
}

function read(r: ByteReader, o: Op): number | Uint8Array {
  switch (o.op) {
    case 'u8':
      return r.u8();
    case 'u16':
      return r.u16();
    case 'u32':
      return r.u32();
    case 'u64':
      return r.u64();
    case 'f64':
      return r.f64();
    case 'bytes':
      return r.bytes(o.v.length);
    case 'varBytes':
      return r.varBytes(1 << 20);
  }
}

const SIZES: Record<Op['op'], (o: Op) => number> = {
  u8: () => 1,
  u16: () => 2,
  u32: () => 4,
  u64: () => 8,
  f64: () => 8,
  bytes: (o) => (o.v as Uint8Array).length,
  varBytes: (o) => 4 + (o.v as Uint8Array).length,
};

describe('ByteWriter / ByteReader', () => {
  it('round-trips any sequence of fields, byte-exact in size, from any buffer offset', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), fc.integer({ min: 1, max: 64 }), fc.nat(16), (ops, capacity, pad) => {
        const w = new ByteWriter(capacity); // small capacities force the buffer to grow
        for (const o of ops) write(w, o);
        const encoded = w.finish();
        expect(encoded.length).toBe(ops.reduce((n, o) => n + SIZES[o.op](o), 0));
        expect(w.length).toBe(encoded.length);
        // Read from a view into a larger buffer: the reader must honour byteOffset.
        const host = new Uint8Array(pad + encoded.length + 3).fill(0xee);
        host.set(encoded, pad);
        const r = new ByteReader(host.subarray(pad, pad + encoded.length));
        for (const o of ops) {
          const got = read(r, o);
          if (o.v instanceof Uint8Array) expect(bytesToHex(got as Uint8Array)).toBe(bytesToHex(o.v));
          else expect(Object.is(got, o.v)).toBe(true);
        }
        expect(r.remaining).toBe(0);
        expect(r.offset).toBe(encoded.length);
        r.end();
      }),
      { numRuns: 2000 },
    );
  });

  it('writes big-endian at fixed widths', () => {
    const w = new ByteWriter(1).u8(0xab).u16(0x0102).u32(0x03040506).u64(0x0708090a0b0c).varBytes(new Uint8Array([9, 8]));
    expect(bytesToHex(w.finish())).toBe('ab' + '0102' + '03040506' + '00000708090a0b0c' + '00000002' + '0908');
    expect(bytesToHex(new ByteWriter().f64(1).finish())).toBe('3ff0000000000000');
  });

  it('finish() returns a copy that later writes do not change', () => {
    const w = new ByteWriter(4).u8(1);
    const first = w.finish();
    w.u8(2);
    expect(Array.from(first)).toEqual([1]);
    expect(Array.from(w.finish())).toEqual([1, 2]);
  });

  it('f64 keeps NaN, ±0 and ±Infinity', () => {
    for (const v of [Number.NaN, 0, -0, Infinity, -Infinity, Number.MIN_VALUE, -Number.MAX_VALUE]) {
      const r = new ByteReader(new ByteWriter().f64(v).finish());
      expect(Object.is(r.f64(), v)).toBe(true);
    }
  });
});

describe('u64 limits', () => {
  it('round-trips 0, 2^32 - 1, 2^32 and 2^53 - 1 exactly', () => {
    const values = [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 52, Number.MAX_SAFE_INTEGER];
    const w = new ByteWriter();
    for (const v of values) w.u64(v);
    const bytes = w.finish();
    expect(bytesToHex(bytes.subarray(40, 48))).toBe('001fffffffffffff');
    const r = new ByteReader(bytes);
    for (const v of values) expect(r.u64()).toBe(v);
  });

  it('the writer refuses what it cannot encode exactly, naming the field', () => {
    for (const v of [-1, 2 ** 53, Number.MAX_SAFE_INTEGER + 2, 1.5, Number.NaN, Infinity])
      expect(() => new ByteWriter().u64(v), String(v)).toThrow('"u64" must be a non-negative safe integer');
  });

  it('the reader rejects values of 2^53 and above instead of rounding them', () => {
    for (const hex of ['0020000000000000', '8000000000000000', 'ffffffffffffffff', '0020000000000001']) {
      const r = new ByteReader(Uint8Array.from(hex.match(/../g) as string[], (h) => parseInt(h, 16)));
      expect(() => r.u64('sequence')).toThrow(DecodeError);
      expect(() => new ByteReader(Uint8Array.from(hex.match(/../g) as string[], (h) => parseInt(h, 16))).u64('sequence')).toThrow(
        'sequence exceeds 2^53',
      );
    }
  });
});

describe('truncation and bounds', () => {
  it('every reader method throws a DecodeError naming the field when bytes run out', () => {
    const cases: [number, (r: ByteReader) => unknown][] = [
      [0, (r) => r.u8('kind')],
      [1, (r) => r.u16('kind')],
      [3, (r) => r.u32('kind')],
      [7, (r) => r.u64('kind')],
      [4, (r) => r.u64('kind')],
      [7, (r) => r.f64('kind')],
      [9, (r) => r.bytes(10, 'kind')],
      [3, (r) => r.varBytes(100, 'kind')],
    ];
    for (const [n, f] of cases) {
      const r = new ByteReader(new Uint8Array(n));
      expect(() => f(r)).toThrow(DecodeError);
      expect(() => f(new ByteReader(new Uint8Array(n)))).toThrow(/^truncated: kind/);
    }
  });

  it('varBytes checks its limit before reading and its length against what is left', () => {
    const over = new ByteWriter().varBytes(new Uint8Array(11)).finish();
    expect(() => new ByteReader(over).varBytes(10, 'body')).toThrow('body is 11 bytes, limit 10');
    const lying = new ByteWriter().u32(0xffffffff).bytes(new Uint8Array(5)).finish();
    expect(() => new ByteReader(lying).varBytes(0xffffffff, 'body')).toThrow(/^truncated: body needs 4294967295 bytes, 5 left/);
  });

  it('a failed read consumes nothing', () => {
    const r = new ByteReader(new Uint8Array([1, 2, 3]));
    expect(() => r.u32()).toThrow(DecodeError);
    expect(r.offset).toBe(0);
    expect(r.u16()).toBe(0x0102);
  });

  it('end() rejects trailing bytes', () => {
    const r = new ByteReader(new Uint8Array([1, 2]));
    r.u8();
    expect(() => r.end('frame')).toThrow('frame has 1 trailing bytes');
  });

  it('reading every prefix of a valid encoding fails cleanly, never out of bounds', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 12 }), fc.nat(), (ops, cut) => {
        const w = new ByteWriter();
        for (const o of ops) write(w, o);
        const full = w.finish();
        fc.pre(full.length > 0);
        const prefix = full.subarray(0, cut % full.length);
        const result = safeDecode(() => {
          const r = new ByteReader(prefix);
          for (const o of ops) read(r, o);
          r.end();
        });
        // Field sizes are fixed by the data itself, so a strict prefix can never decode.
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.error).toMatch(/^truncated: /);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('safeDecode', () => {
  it('turns a DecodeError into its message and anything else into "malformed"', () => {
    expect(safeDecode(() => 7)).toEqual({ ok: true, value: 7 });
    expect(safeDecode(() => new ByteReader(new Uint8Array(0)).u8('version'))).toEqual({
      ok: false,
      error: 'truncated: version needs 1 bytes, 0 left',
    });
    const other = safeDecode(() => {
      throw new TypeError('boom');
    });
    expect(other).toEqual({ ok: false, error: 'malformed: TypeError: boom' });
  });
});

describe('u32 words in bulk (u32s)', () => {
  const words = (n: number): Uint32Array => Uint32Array.from({ length: n }, (_, i) => (Math.imul(i + 1, 0x9e3779b1) ^ (i << 3)) >>> 0);
  const oneByOne = (prefix: number, v: Uint32Array): Uint8Array => {
    const w = new ByteWriter(1).bytes(new Uint8Array(prefix).fill(7));
    for (const x of v) w.u32(x);
    return w.finish();
  };

  it('writes exactly the bytes of u32 word by word, at any offset and across its scratch blocks', () => {
    for (const n of [0, 1, 3, 1000, 64 * 1024, 64 * 1024 + 5, 200_001])
      for (const prefix of [0, 1, 3]) {
        const v = words(n);
        const bulk = new ByteWriter(1).bytes(new Uint8Array(prefix).fill(7)).u32s(v).finish();
        expect(bytesToHex(bulk)).toBe(bytesToHex(oneByOne(prefix, v)));
      }
  });

  it('reads back what u32 wrote, from an unaligned view, and leaves the source bytes alone', () => {
    for (const n of [0, 1, 7, 70_000]) {
      const v = words(n);
      const bytes = oneByOne(1, v);
      const before = bytes.slice();
      const r = new ByteReader(bytes);
      r.u8();
      expect(r.u32s(n)).toEqual(v);
      r.end();
      expect(bytes).toEqual(before);
    }
  });

  it('a vector one byte short is truncated, as word-by-word reads would be', () => {
    const bytes = oneByOne(0, words(4)).subarray(0, 15);
    expect(() => new ByteReader(bytes).u32s(4)).toThrow(DecodeError);
  });
});
