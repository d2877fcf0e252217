// Shamir sharing over GF(2^8): the committed fixture, a naive byte-at-a-time reference (whose field
// multiplication is checked against FIPS 197 §4.2), reconstruction from any t of n shares, nothing
// from t - 1, strict share decoding, and wiping of the randomness it was given.
import { readFileSync } from 'node:fs';
import { chacha20 } from '@noble/ciphers/chacha.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../src/core/bytes.ts';
import type { Random } from '../../src/core/clock.ts';
import {
  combine,
  decodeShare,
  ENCODED_SHARE_BYTES,
  encodeShare,
  SHAMIR_MAX_SHARES,
  split,
  type Share,
} from '../../src/core/crypto/shamir.ts';

fc.configureGlobal({ ...fc.readConfigureGlobal(), defaultSizeToMaxWhenMaxSpecified: true });

const fixture = JSON.parse(readFileSync(new URL('../vectors/shamir-v1.json', import.meta.url), 'utf8')) as {
  secret: string;
  threshold: number;
  shareCount: number;
  random: string;
  shares: string[];
};

/** Deterministic Random: the ChaCha20 keystream of a seed, a fresh block range per call. */
function seededRandom(seed: Uint8Array): Random {
  let counter = 0;
  const key = new Uint8Array(32);
  key.set(seed.subarray(0, 32));
  return {
    bytes(length) {
      const out = chacha20(key, new Uint8Array(12), new Uint8Array(length), undefined, counter);
      counter += Math.ceil(length / 64);
      return out;
    },
    float: () => 0,
  };
}

/** A Random that returns the given bytes and remembers the arrays it handed out. */
function scriptedRandom(bytes: Uint8Array): Random & { handedOut: Uint8Array[] } {
  const handedOut: Uint8Array[] = [];
  let offset = 0;
  return {
    handedOut,
    bytes(length) {
      const out = bytes.slice(offset, offset + length);
      offset += length;
      handedOut.push(out);
      return out;
    },
    float: () => 0,
  };
}

// Reference: schoolbook GF(2^8) arithmetic, one byte at a time.
function gfMul(a: number, b: number): number {
  let r = 0;
  while (b > 0) {
    if (b & 1) r ^= a;
    a = (a << 1) ^ (a & 0x80 ? 0x11b : 0);
    b >>= 1;
  }
  return r;
}
function gfInv(a: number): number {
  for (let b = 1; b < 256; b++) if (gfMul(a, b) === 1) return b;
  throw new Error('0 has no inverse');
}
function referenceShares(secret: Uint8Array, random: Uint8Array, threshold: number, shareCount: number): string[] {
  const out: string[] = [];
  for (let x = 1; x <= shareCount; x++) {
    const y = new Uint8Array(32);
    for (let i = 0; i < 32; i++) {
      let value = secret[i] as number;
      let power = 1;
      for (let k = 1; k < threshold; k++) {
        power = gfMul(power, x);
        value ^= gfMul(random[32 * (k - 1) + i] as number, power);
      }
      y[i] = value;
    }
    out.push(bytesToHex(encodeShare({ x, y })));
  }
  return out;
}
function referenceCombine(shares: readonly Share[]): Uint8Array {
  const out = new Uint8Array(32);
  for (const si of shares) {
    let l = 1;
    for (const sj of shares) if (sj.x !== si.x) l = gfMul(l, gfMul(sj.x, gfInv(sj.x ^ si.x)));
    for (let i = 0; i < 32; i++) out[i] = (out[i] as number) ^ gfMul(si.y[i] as number, l);
  }
  return out;
}

const secret32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
/** n in 1..255, t in 1..n, and a random t-subset of the share indices in random order. */
const thresholdScheme = fc.integer({ min: 1, max: SHAMIR_MAX_SHARES }).chain((n) =>
  fc.integer({ min: 1, max: n }).chain((t) =>
    fc.record({
      n: fc.constant(n),
      t: fc.constant(t),
      pick: fc.shuffledSubarray(Array.from({ length: n }, (_, i) => i), { minLength: t, maxLength: t }),
    }),
  ),
);

describe('reference arithmetic', () => {
  it('multiplies as FIPS 197 §4.2: {57}·{83} = {c1}, {57}·{13} = {fe}', () => {
    expect(gfMul(0x57, 0x83)).toBe(0xc1);
    expect(gfMul(0x57, 0x13)).toBe(0xfe);
    expect(gfMul(0x53, 0xca)).toBe(0x01); // §5.1.1: {53}^-1 = {ca}
  });
});

describe('shamir-v1.json fixture', () => {
  const secret = hexToBytes(fixture.secret);
  const random = hexToBytes(fixture.random);

  it('split reproduces the committed shares, as does the naive reference', () => {
    const shares = split(secret, fixture.threshold, fixture.shareCount, scriptedRandom(random));
    expect(shares.map((s) => bytesToHex(encodeShare(s)))).toEqual(fixture.shares);
    expect(referenceShares(secret, random, fixture.threshold, fixture.shareCount)).toEqual(fixture.shares);
  });

  it('every 3 of the 5 committed shares decode and combine to the secret; 2 do not', () => {
    const shares = fixture.shares.map((hex) => {
      const r = decodeShare(hexToBytes(hex));
      if (!r.ok) throw new Error(r.error);
      return r.value;
    });
    for (let a = 0; a < 5; a++)
      for (let b = a + 1; b < 5; b++) {
        for (let c = b + 1; c < 5; c++)
          expect(bytesToHex(combine([shares[c], shares[a], shares[b]] as Share[], 3))).toBe(fixture.secret);
        expect(bytesToHex(combine([shares[a], shares[b]] as Share[], 2))).not.toBe(fixture.secret);
      }
  });
});

describe('split / combine', () => {
  it('any t of n shares reconstruct the secret exactly (random t, n, subsets and order)', () => {
    fc.assert(
      fc.property(secret32, thresholdScheme, secret32, (secret, { n, t, pick }, seed) => {
        const shares = split(secret, t, n, seededRandom(seed));
        expect(shares.map((s) => s.x)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
        const subset = pick.map((i) => shares[i] as Share);
        expect(bytesToHex(combine(subset, t))).toBe(bytesToHex(secret));
        // More shares than needed: the first t are used, the result is the same.
        const extra = shares.filter((s) => !pick.includes(s.x - 1)).slice(0, 3);
        expect(bytesToHex(combine([...subset, ...extra], t))).toBe(bytesToHex(secret));
      }),
      { numRuns: 150 },
    );
  });

  it('matches the naive byte-at-a-time reference for split and for combine', () => {
    fc.assert(
      fc.property(secret32, fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 40 }), fc.uint8Array({ minLength: 40 * 32, maxLength: 40 * 32 }), (secret, t, more, random) => {
        const n = Math.min(SHAMIR_MAX_SHARES, t + more);
        const shares = split(secret, t, n, scriptedRandom(random));
        expect(shares.map((s) => bytesToHex(encodeShare(s)))).toEqual(referenceShares(secret, random, t, n));
        const last = shares.slice(n - t);
        expect(bytesToHex(combine(last, t))).toBe(bytesToHex(referenceCombine(last)));
      }),
      { numRuns: 100 },
    );
  });

  it('t - 1 shares (t >= 2) give a value that is not the secret', () => {
    fc.assert(
      fc.property(secret32, thresholdScheme.filter(({ t }) => t >= 2), secret32, (secret, { n, t, pick }, seed) => {
        const shares = split(secret, t, n, seededRandom(seed));
        const fewer = pick.slice(0, t - 1).map((i) => shares[i] as Share);
        expect(bytesToHex(combine(fewer, t - 1))).not.toBe(bytesToHex(secret));
      }),
      { numRuns: 150 },
    );
  });

  it('t - 1 shares say nothing about a secret byte: its guess from them is uniform', () => {
    // Threshold 3, shares x = 1, 2: over many splits of ONE secret, interpolating those two shares
    // at 0 gives every byte value about equally often (a chi-squared test, 255 degrees of freedom).
    const secret = new Uint8Array(32).fill(0x42);
    const counts = new Array<number>(256).fill(0);
    const runs = 4096;
    const random = seededRandom(new Uint8Array(32).fill(3));
    for (let r = 0; r < runs; r++) {
      const [a, b] = split(secret, 3, 3 + (r % 3), random) as [Share, Share];
      for (const byte of combine([a, b], 2)) counts[byte] = (counts[byte] as number) + 1;
    }
    const expected = (runs * 32) / 256;
    const chi2 = counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    // 99.99th percentile of chi-squared(255) is about 347; a leak would concentrate on 0x42.
    expect(chi2).toBeLessThan(347);
    expect(counts[0x42]).toBeLessThan(expected * 1.5);
  });

  it('threshold 1 gives the secret itself in every share; threshold n needs all of them', () => {
    const secret = hexToBytes(fixture.secret);
    const ones = split(secret, 1, 4, seededRandom(new Uint8Array(32)));
    for (const s of ones) expect(bytesToHex(s.y)).toBe(fixture.secret);
    const all = split(secret, 255, 255, seededRandom(new Uint8Array(32).fill(8)));
    expect(bytesToHex(combine(all.slice().reverse(), 255))).toBe(fixture.secret);
    expect(bytesToHex(combine(all.slice(1), 254))).not.toBe(fixture.secret);
  });

  it('wipes the randomness it drew and leaves the secret alone', () => {
    const secret = hexToBytes(fixture.secret);
    const random = scriptedRandom(hexToBytes(fixture.random));
    split(secret, 3, 5, random);
    expect(random.handedOut).toHaveLength(1);
    expect(random.handedOut.every((b) => b.length > 0 && b.every((x) => x === 0))).toBe(true);
    expect(bytesToHex(secret)).toBe(fixture.secret);
  });
});

describe('programmer errors throw, naming the field', () => {
  const secret = new Uint8Array(32);
  const random = seededRandom(new Uint8Array(32));
  const shares = split(secret, 2, 4, random);

  it('split', () => {
    expect(() => split(new Uint8Array(31), 2, 3, random)).toThrow('"secret" must be 32 bytes');
    for (const t of [0, -1, 1.5, 256, Number.NaN]) expect(() => split(secret, t, 3, random), String(t)).toThrow('"threshold"');
    for (const n of [1, 256, 2.5]) expect(() => split(secret, 2, n, random), String(n)).toThrow('"shareCount"');
    expect(() => split(secret, 2, 3, { bytes: () => new Uint8Array(3), float: () => 0 })).toThrow('"random"');
  });

  it('combine', () => {
    expect(() => combine(shares.slice(0, 1), 2)).toThrow('"shares" must hold at least threshold = 2 shares, got 1');
    expect(() => combine([shares[0] as Share, shares[0] as Share], 2)).toThrow('"shares[1].x" repeats x = 1');
    expect(() => combine([shares[0] as Share, { x: 0, y: new Uint8Array(32) }], 2)).toThrow('"shares[1].x"');
    expect(() => combine([shares[0] as Share, { x: 256, y: new Uint8Array(32) }], 2)).toThrow('"shares[1].x"');
    expect(() => combine([shares[0] as Share, { x: 9, y: new Uint8Array(31) }], 2)).toThrow('"shares[1].y" must be 32 bytes');
    expect(() => combine(shares, 0)).toThrow('"threshold"');
  });

  it('encodeShare', () => {
    expect(() => encodeShare({ x: 0, y: new Uint8Array(32) })).toThrow('"share.x"');
    expect(() => encodeShare({ x: 1, y: new Uint8Array(33) })).toThrow('"share.y" must be 32 bytes');
  });
});

describe('share encoding', () => {
  it('round-trips every share', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 255 }), secret32, (x, y) => {
        const bytes = encodeShare({ x, y });
        expect(bytes).toHaveLength(ENCODED_SHARE_BYTES);
        expect(bytes[0]).toBe(1);
        const r = decodeShare(bytes);
        expect(r.ok).toBe(true);
        if (r.ok) {
          expect(r.value.x).toBe(x);
          expect(bytesToHex(r.value.y)).toBe(bytesToHex(y));
          expect(r.value.y.buffer).not.toBe(bytes.buffer); // a copy, not a view into the message
        }
      }),
      { numRuns: 500 },
    );
  });

  it('refuses other versions, x = 0, and wrong lengths with a reason', () => {
    const good = hexToBytes(fixture.shares[0] as string);
    const cases: [string, Uint8Array][] = [
      ['version 0', Uint8Array.from([0, ...good.subarray(1)])],
      ['version 2', Uint8Array.from([2, ...good.subarray(1)])],
      ['x = 0', Uint8Array.from([1, 0, ...good.subarray(2)])],
      ['truncated', good.subarray(0, 33)],
      ['trailing byte', Uint8Array.from([...good, 0])],
      ['empty', new Uint8Array(0)],
    ];
    for (const [name, bytes] of cases) {
      const r = decodeShare(bytes);
      expect(r.ok, name).toBe(false);
      if (!r.ok) expect(r.error.length, name).toBeGreaterThan(0);
    }
  });

  it('decode of random bytes never throws, and accepts exactly the well-formed ones', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        const r = decodeShare(bytes);
        const wellFormed = bytes.length === ENCODED_SHARE_BYTES && bytes[0] === 1 && bytes[1] !== 0;
        expect(r.ok).toBe(wellFormed);
      }),
      { numRuns: 20_000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat(255), (y, x) => {
        const r = decodeShare(Uint8Array.from([1, x, ...y]));
        expect(r.ok).toBe(x !== 0);
      }),
    );
    for (const bad of [undefined, null, 'share', 42, {}]) expect(decodeShare(bad as unknown as Uint8Array).ok).toBe(false);
  });
});
