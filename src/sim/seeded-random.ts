// Seeded randomness for the simulator: xoshiro128** (Blackman & Vigna, 2018), a small fast
// generator with 128 bits of state, seeded through splitmix32 so that nearby seeds (1, 2, 3...)
// give unrelated streams. Not cryptographic: it only has to make runs reproducible.
//
// `fork(label)` derives an independent child stream from this stream's *seed key* and the label,
// never from its current position. So adding a draw somewhere (a new link, a new node) does not
// shift the numbers every other component sees, and `fork('node:3')` is the same stream no
// matter when it is called.
import type { Random } from '../core/clock.ts';

const TWO_POW_32 = 0x1_0000_0000;
const TWO_POW_53 = 2 ** 53;
const GOLDEN_32 = 0x9e3779b9;

/** MurmurHash3's 32-bit finaliser: a bijective avalanche mix. */
function fmix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** splitmix32 as a stateful generator (used only to expand seeds into xoshiro state). */
function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + GOLDEN_32) >>> 0;
    return fmix32(state);
  };
}

/** FNV-1a over UTF-16 code units, with a caller-chosen offset basis (two bases give 64 bits). */
function fnv1a32(label: string, basis: number): number {
  let h = basis >>> 0;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

type Key = readonly [number, number, number, number];

export class SeededRandom implements Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  private constructor(
    /** The 128-bit seed key this stream started from; forks derive from it. */
    private readonly key: Key,
    /** Human-readable derivation path, e.g. "seed:42/node:3" (for debugging only). */
    readonly path: string,
  ) {
    [this.s0, this.s1, this.s2, this.s3] = key;
  }

  /** A stream from a non-negative safe integer seed (0 .. 2^53-1). */
  static fromSeed(seed: number): SeededRandom {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error('"seed" must be a non-negative safe integer');
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    const next = splitmix32(lo ^ fmix32(hi ^ 0x5eed));
    return new SeededRandom(nonZero([next(), next() ^ hi, next(), next()]), `seed:${seed}`);
  }

  /** A stream from raw xoshiro128** state (four u32 words, not all zero): for known-answer tests. */
  static fromState(words: readonly [number, number, number, number]): SeededRandom {
    if (words.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff) || words.every((w) => w === 0))
      throw new Error('"words" must be four u32 values, not all zero');
    return new SeededRandom([words[0], words[1], words[2], words[3]], `state:${words.join(',')}`);
  }

  /** An independent stream determined only by this stream's seed key and `label`. */
  fork(label: string): SeededRandom {
    const h1 = fnv1a32(label, 0x811c9dc5);
    const h2 = fnv1a32(label, 0x050c5d1f);
    const next = splitmix32(h1 ^ rotl(h2, 16));
    const [k0, k1, k2, k3] = this.key;
    const child: [number, number, number, number] = [
      fmix32(k0 ^ next()) ^ h2,
      fmix32(k1 ^ next()),
      fmix32(k2 ^ next()) ^ h1,
      fmix32(k3 ^ next()),
    ];
    return new SeededRandom(nonZero(child), `${this.path}/${label}`);
  }

  /** Next 32-bit output of xoshiro128**, as an unsigned integer. */
  uint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 bits of resolution. */
  float(): number {
    const hi = this.uint32() >>> 5; // 27 bits
    const lo = this.uint32() >>> 6; // 26 bits
    return (hi * 0x400_0000 + lo) / TWO_POW_53;
  }

  bytes(length: number): Uint8Array {
    if (!Number.isInteger(length) || length < 0) throw new Error('"length" must be a non-negative integer');
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i += 4) {
      let w = this.uint32();
      for (let j = i; j < Math.min(i + 4, length); j++) {
        out[j] = w & 0xff;
        w >>>= 8;
      }
    }
    return out;
  }

  /** Uniform integer in [0, n) for 1 <= n <= 2^32 (rejection sampling, no modulo bias). */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) throw new Error('"n" must be an integer in [1, 2^32]');
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const x = this.uint32();
      if (x < limit) return x % n;
    }
  }

  /** Uniform in [min, max). */
  range(min: number, max: number): number {
    return min + (max - min) * this.float();
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return p > 0 && (p >= 1 || this.float() < p);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('"items" must not be empty');
    return items[this.int(items.length)] as T;
  }
}

/** xoshiro's all-zero state is a fixed point; nudge it (probability ~2^-128, but cheap to rule out). */
function nonZero(words: [number, number, number, number]): Key {
  const w = words.map((x) => x >>> 0) as [number, number, number, number];
  if ((w[0] | w[1] | w[2] | w[3]) === 0) w[0] = GOLDEN_32;
  return w;
}
