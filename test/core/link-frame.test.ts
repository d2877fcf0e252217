import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex, concatBytes, utf8ToBytes } from '../../src/core/bytes.ts';
import { decodeLinkFrame, encodeLinkFrame, LinkFrameKind, type LinkFrame } from '../../src/core/net/link-frame.ts';

// Without this, fast-check's default size ('small') caps `maxLength: 300` at about 10 elements.
fc.configureGlobal({ ...fc.readConfigureGlobal(), defaultSizeToMaxWhenMaxSpecified: true });

const bytesOf = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const finiteTime = fc.double({ noNaN: true, noDefaultInfinity: true });

const frameArb: fc.Arbitrary<LinkFrame> = fc.oneof(
  fc.record({ kind: fc.constant('hello' as const), publicKey: bytesOf(32), nonce: bytesOf(32) }),
  fc.record({ kind: fc.constant('proof' as const), signature: bytesOf(64) }),
  fc.record({ kind: fc.constant('gossip' as const), ttl: fc.nat(255), envelope: fc.uint8Array({ maxLength: 500 }) }),
  fc.record({ kind: fc.constant('ping' as const), id: fc.nat(0xffffffff), timeMs: finiteTime }),
  fc.record({ kind: fc.constant('pong' as const), id: fc.nat(0xffffffff), timeMs: finiteTime }),
  fc.record({ kind: fc.constant('bye' as const), reason: fc.string({ maxLength: 200 }) }),
);

/** Structural equality that treats byte arrays by content and -0 / NaN exactly. */
function canonical(f: LinkFrame): unknown {
  return Object.fromEntries(
    Object.entries(f).map(([k, v]) => [k, v instanceof Uint8Array ? bytesToHex(v) : Object.is(v, -0) ? '-0' : v]),
  );
}

describe('link frames', () => {
  it('round-trip every kind', () => {
    fc.assert(
      fc.property(frameArb, (f) => {
        const decoded = decodeLinkFrame(encodeLinkFrame(f));
        if (!decoded.ok) throw new Error(decoded.error);
        expect(canonical(decoded.value)).toEqual(canonical(f));
      }),
      { numRuns: 5000 },
    );
  });

  it('have the documented byte layout', () => {
    const key = new Uint8Array(32).fill(0xaa);
    const nonce = new Uint8Array(32).fill(0xbb);
    expect(bytesToHex(encodeLinkFrame({ kind: 'hello', publicKey: key, nonce }))).toBe('01' + 'aa'.repeat(32) + 'bb'.repeat(32));
    expect(bytesToHex(encodeLinkFrame({ kind: 'proof', signature: new Uint8Array(64).fill(1) }))).toBe('02' + '01'.repeat(64));
    expect(bytesToHex(encodeLinkFrame({ kind: 'gossip', ttl: 7, envelope: new Uint8Array([9, 9]) }))).toBe('03070909');
    expect(bytesToHex(encodeLinkFrame({ kind: 'ping', id: 0x01020304, timeMs: 1 }))).toBe('04010203043ff0000000000000');
    expect(bytesToHex(encodeLinkFrame({ kind: 'pong', id: 0xffffffff, timeMs: -2 }))).toBe('05ffffffffc000000000000000');
    expect(bytesToHex(encodeLinkFrame({ kind: 'bye', reason: 'ok' }))).toBe('06026f6b');
    expect(LinkFrameKind).toEqual({ Hello: 1, Proof: 2, Gossip: 3, Ping: 4, Pong: 5, Bye: 6 });
  });

  it('bye: reasons are cut to 200 characters and always fit the u8 length', () => {
    const ascii = 'x'.repeat(300);
    const a = decodeLinkFrame(encodeLinkFrame({ kind: 'bye', reason: ascii }));
    expect(a.ok && a.value).toEqual({ kind: 'bye', reason: 'x'.repeat(200) });
    // 200 three-byte characters are 600 bytes: more than a u8 length can say.
    for (const reason of ['€'.repeat(200), 'é'.repeat(150), '😀'.repeat(100), 'a'.repeat(254) + 'é', 'a'.repeat(198) + '😀']) {
      const bytes = encodeLinkFrame({ kind: 'bye', reason });
      expect(bytes.length).toBeLessThanOrEqual(2 + 255);
      const d = decodeLinkFrame(bytes);
      if (!d.ok) throw new Error(`${reason.slice(0, 4)}…: ${d.error}`);
      expect(d.value.kind).toBe('bye');
      if (d.value.kind === 'bye') {
        expect(d.value.reason.length).toBeGreaterThan(0);
        expect(reason.startsWith(d.value.reason)).toBe(true);
        // Cut on a character boundary as late as possible: one more character would not fit.
        const next = reason.slice(d.value.reason.length).codePointAt(0);
        if (next !== undefined && d.value.reason.length < 200)
          expect(utf8ToBytes(d.value.reason + String.fromCodePoint(next)).length).toBeGreaterThan(255);
      }
    }
  });

  it('bye: any reason decodes to a prefix of its well-formed UTF-8 form', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (reason) => {
        const bytes = encodeLinkFrame({ kind: 'bye', reason });
        const d = decodeLinkFrame(bytes);
        if (!d.ok) throw new Error(d.error);
        if (d.value.kind !== 'bye') return false;
        // Lone surrogates (also one cut in half at 200 code units) become U+FFFD.
        const wellFormed = new TextDecoder().decode(utf8ToBytes(reason.slice(0, 200)));
        return wellFormed.startsWith(d.value.reason) && bytes.length <= 257 && d.value.reason.length >= Math.min(wellFormed.length, 85);
      }),
      { numRuns: 3000 },
    );
  });

  it('reject wrong lengths, unknown kinds, non-finite times and invalid UTF-8', () => {
    const hello = encodeLinkFrame({ kind: 'hello', publicKey: new Uint8Array(32), nonce: new Uint8Array(32) });
    const proof = encodeLinkFrame({ kind: 'proof', signature: new Uint8Array(64) });
    const ping = encodeLinkFrame({ kind: 'ping', id: 1, timeMs: 5 });
    const cases: [string, Uint8Array, RegExp][] = [
      ['empty', new Uint8Array(0), /truncated: kind/],
      ['hello short', hello.subarray(0, 64), /truncated: nonce/],
      ['hello long', concatBytes(hello, new Uint8Array(1)), /trailing/],
      ['proof short', proof.subarray(0, 64), /truncated: signature/],
      ['proof long', concatBytes(proof, new Uint8Array(1)), /trailing/],
      ['gossip without ttl', new Uint8Array([3]), /truncated: ttl/],
      ['ping short', ping.subarray(0, 12), /truncated: time/],
      ['ping long', concatBytes(ping, new Uint8Array(1)), /trailing/],
      ['unknown kind 0', new Uint8Array([0]), /unknown link frame kind 0/],
      ['unknown kind 7', new Uint8Array([7, 1, 2]), /unknown link frame kind 7/],
      ['unknown kind 255', new Uint8Array([255]), /unknown link frame kind 255/],
      ['bye reason short', new Uint8Array([6, 3, 0x61]), /truncated: reason/],
      ['bye reason long', new Uint8Array([6, 1, 0x61, 0x62]), /trailing/],
      ['bye invalid UTF-8', new Uint8Array([6, 2, 0xc3, 0x28]), /malformed/],
      ['bye lone surrogate', new Uint8Array([6, 3, 0xed, 0xa0, 0x80]), /malformed/],
    ];
    for (const timeMs of [Number.NaN, Infinity, -Infinity]) {
      const b = new Uint8Array(13);
      b[0] = 4;
      new DataView(b.buffer).setFloat64(5, timeMs);
      cases.push([`ping time ${timeMs}`, b, /not finite/]);
    }
    for (const [name, bytes, error] of cases) {
      const d = decodeLinkFrame(bytes);
      expect(d.ok, name).toBe(false);
      if (!d.ok) expect(d.error, name).toMatch(error);
    }
  });

  it('gossip accepts an empty envelope (the envelope decoder judges it)', () => {
    const d = decodeLinkFrame(new Uint8Array([3, 0]));
    expect(d.ok && d.value).toEqual({ kind: 'gossip', ttl: 0, envelope: new Uint8Array(0) });
  });

  it('never throw on random bytes', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 100 }),
          fc.tuple(fc.integer({ min: 1, max: 6 }), fc.uint8Array({ maxLength: 100 })).map(([k, rest]) => concatBytes(new Uint8Array([k]), rest)),
        ),
        (bytes) => {
          const d = decodeLinkFrame(bytes);
          return d.ok ? typeof d.value.kind === 'string' : typeof d.error === 'string';
        },
      ),
      { numRuns: 30_000 },
    );
  });
});
