import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../src/core/bytes.ts';
import { chunkMessage, MAX_FRAME_BYTES, Reassembler } from '../../src/core/net/chunker.ts';
import type { Result } from '../../src/core/result.ts';

// Without this, fast-check's default size ('small') caps `maxLength` at about 10 elements.
fc.configureGlobal({ ...fc.readConfigureGlobal(), defaultSizeToMaxWhenMaxSpecified: true });

const PAYLOAD = MAX_FRAME_BYTES - 8;
const LIMIT = 1 << 20;

function message(n: number, seed = n): Uint8Array {
  const m = new Uint8Array(n);
  for (let i = 0; i < n; i++) m[i] = (i * 31 + seed) & 0xff;
  return m;
}

/** Push every frame; returns the results. */
function pushAll(r: Reassembler, frames: Uint8Array[]): Result<Uint8Array | null>[] {
  return frames.map((f) => r.push(f));
}

function expectDelivered(r: Reassembler, msg: Uint8Array, id: number): void {
  const results = pushAll(r, chunkMessage(id, msg));
  const last = results.pop();
  for (const res of results) expect(res).toEqual({ ok: true, value: null });
  expect(last?.ok).toBe(true);
  if (last?.ok) expect(last.value !== null && bytesEqual(last.value, msg)).toBe(true);
}

function header(id: number, index: number, count: number, payload = new Uint8Array(4)): Uint8Array {
  const f = new Uint8Array(8 + payload.length);
  const v = new DataView(f.buffer);
  v.setUint32(0, id);
  v.setUint16(4, index);
  v.setUint16(6, count);
  f.set(payload, 8);
  return f;
}

describe('chunkMessage', () => {
  it('splits into frames of at most 16 KiB with the documented header', () => {
    const msg = message(2 * PAYLOAD + 5);
    const frames = chunkMessage(0x01020304, msg);
    expect(frames.map((f) => f.length)).toEqual([MAX_FRAME_BYTES, MAX_FRAME_BYTES, 13]);
    frames.forEach((f, i) => {
      const v = new DataView(f.buffer, f.byteOffset);
      expect([v.getUint32(0), v.getUint16(4), v.getUint16(6)]).toEqual([0x01020304, i, 3]);
    });
    expect(MAX_FRAME_BYTES).toBe(16 * 1024);
  });

  it('sends an empty message as one header-only frame', () => {
    const frames = chunkMessage(9, new Uint8Array(0));
    expect(frames).toHaveLength(1);
    expect(frames[0]?.length).toBe(8);
  });

  it('refuses a message that needs more than 65,535 chunks', () => {
    expect(() => chunkMessage(1, new Uint8Array(65_536), 9)).toThrow('needs more than 65535 chunks');
    expect(chunkMessage(1, new Uint8Array(65_535), 9)).toHaveLength(65_535);
  });
});

describe('Reassembler', () => {
  it('round-trips every size at and around chunk boundaries', () => {
    const r = new Reassembler(LIMIT);
    const sizes = [0, 1, 2, 7, 8, 9];
    for (let k = 1; k <= 12; k++) sizes.push(k * PAYLOAD - 1, k * PAYLOAD, k * PAYLOAD + 1);
    sizes.push(200 * 1024);
    sizes.forEach((n, i) => expectDelivered(r, message(n), i));
  });

  it('round-trips random sizes up to 200 KB, several messages in a row, frames ≤ 16 KiB', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 200 * 1024 }), { minLength: 1, maxLength: 4 }), fc.nat(), (sizes, firstId) => {
        const r = new Reassembler(LIMIT);
        sizes.forEach((n, i) => {
          const msg = message(n, firstId + i);
          const frames = chunkMessage(firstId + i, msg);
          expect(frames.length).toBe(Math.max(1, Math.ceil(n / PAYLOAD)));
          for (const f of frames) expect(f.length).toBeLessThanOrEqual(MAX_FRAME_BYTES);
          expectDelivered(r, msg, firstId + i);
        });
      }),
      { numRuns: 150 },
    );
  });

  it('supports smaller frame sizes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 9, max: 64 }), fc.uint8Array({ maxLength: 500 }), (maxFrame, msg) => {
        const frames = chunkMessage(3, msg, maxFrame);
        for (const f of frames) expect(f.length).toBeLessThanOrEqual(maxFrame);
        const results = pushAll(new Reassembler(LIMIT), frames);
        const last = results[results.length - 1];
        expect(last?.ok && last.value !== null && bytesEqual(last.value, msg)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('out-of-order chunks are an error; the next message gets through', () => {
    const r = new Reassembler(LIMIT);
    const [a0, a1, a2] = chunkMessage(1, message(3 * PAYLOAD)) as [Uint8Array, Uint8Array, Uint8Array];
    expect(r.push(a0)).toEqual({ ok: true, value: null });
    const res = r.push(a2);
    expect(res.ok === false && res.error).toMatch(/^out-of-order chunk 2\/3/);
    expect(r.push(a1).ok).toBe(false); // the broken message is abandoned, not resumed
    expectDelivered(r, message(2 * PAYLOAD + 3), 2);
  });

  it('a duplicated chunk is an error; the next message gets through', () => {
    const r = new Reassembler(LIMIT);
    const [a0, a1, a2] = chunkMessage(1, message(3 * PAYLOAD)) as [Uint8Array, Uint8Array, Uint8Array];
    expect(pushAll(r, [a0, a1]).every((x) => x.ok && x.value === null)).toBe(true);
    expect(r.push(a1).ok).toBe(false);
    expect(r.push(a2).ok).toBe(false);
    expectDelivered(r, message(10), 2);
  });

  it('a chunk of another message, or a changed count, mid-message is an error', () => {
    const r = new Reassembler(LIMIT);
    const a = chunkMessage(1, message(2 * PAYLOAD));
    const b = chunkMessage(2, message(2 * PAYLOAD));
    r.push(a[0] as Uint8Array);
    expect(r.push(b[1] as Uint8Array).ok).toBe(false);
    r.push(a[0] as Uint8Array);
    expect(r.push(header(1, 1, 3)).ok).toBe(false);
    // A new first chunk while one is open: the open message is reported broken.
    r.push(a[0] as Uint8Array);
    const res = r.push(b[0] as Uint8Array);
    expect(res.ok === false && res.error).toMatch(/before the previous one finished/);
    expectDelivered(r, message(5), 3);
  });

  it('oversize messages are an error, checked before buffering; the next message gets through', () => {
    const r = new Reassembler(2 * PAYLOAD);
    expectDelivered(r, message(2 * PAYLOAD), 1);
    const frames = chunkMessage(2, message(2 * PAYLOAD + 1));
    const results = pushAll(r, frames);
    expect(results[0]).toEqual({ ok: true, value: null });
    expect(results[1]).toEqual({ ok: true, value: null });
    expect(results[2]?.ok === false && results[2].error).toMatch(/^oversize/);
    expectDelivered(r, message(PAYLOAD), 3);
    // A single frame bigger than the limit is refused too.
    const tiny = new Reassembler(10);
    const big = tiny.push(header(1, 0, 1, new Uint8Array(11)));
    expect(big.ok === false && big.error).toMatch(/^oversize/);
    expectDelivered(tiny, message(10), 4);
  });

  it('garbage frames are errors: short header, zero count, index past count', () => {
    const r = new Reassembler(LIMIT);
    for (const g of [new Uint8Array(0), new Uint8Array(7), header(1, 0, 0), header(1, 3, 3), header(1, 0xffff, 1)]) {
      const res = r.push(g);
      expect(res.ok, `frame of ${g.length} bytes`).toBe(false);
    }
    expectDelivered(r, message(PAYLOAD + 1), 5);
  });

  it('after any error, the next message gets through (short garbage in the middle of a message)', () => {
    const r = new Reassembler(LIMIT);
    const a = chunkMessage(1, message(3 * PAYLOAD));
    r.push(a[0] as Uint8Array);
    expect(r.push(new Uint8Array(3)).ok).toBe(false);
    expectDelivered(r, message(7), 2);
  });

  it('never throws on arbitrary frame sequences, and recovers after any error', () => {
    const frameArb = fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      fc
        .record({ id: fc.nat(3), index: fc.nat(4), count: fc.nat(4), payload: fc.uint8Array({ maxLength: 30 }) })
        .map(({ id, index, count, payload }) => header(id, index, count, payload)),
    );
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 30 }), fc.integer({ min: 0, max: 40 * 1024 }), (garbage, n) => {
        const r = new Reassembler(64 * 1024);
        let lastFailed = false;
        for (const g of garbage) {
          const res = r.push(g);
          if (res.ok) expect(res.value === null || res.value instanceof Uint8Array).toBe(true);
          else expect(typeof res.error).toBe('string');
          lastFailed = !res.ok;
        }
        const msg = message(n);
        if (lastFailed) {
          expectDelivered(r, msg, 100);
        } else {
          // Whatever the garbage left open, one complete message flushes it; the one after is delivered.
          pushAll(r, chunkMessage(99, message(3)));
          expectDelivered(r, msg, 100);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
