// Vector arithmetic in Z_2^32: masking an input and removing masks from a sum. Uint32Array stores
// reduce modulo 2^32 by themselves (ToUint32), so plain += and -= are ring operations.
import { acquireSimdRing, releaseSimdRing, type SimdRing } from './ring-simd.ts';

/** A seed whose PRG stream is added (sign +1) to a vector or subtracted (−1) from it. */
export interface PairMask {
  seed: Uint8Array;
  sign: 1 | -1;
}

/** acc += sign · v (mod 2^32), in place. */
export function addStream(acc: Uint32Array, v: Uint32Array, sign: 1 | -1): void {
  const n = acc.length;
  if (sign === 1) for (let i = 0; i < n; i++) acc[i] = (acc[i] as number) + (v[i] as number);
  else for (let i = 0; i < n; i++) acc[i] = (acc[i] as number) - (v[i] as number);
}

/** A running sum in Z_2^32 that starts from a vector and ends by writing the total back into it. */
export interface RingAccumulator {
  readonly words: number;
  /** sum += sign · v; `v` must have `words` entries. */
  add(v: Uint32Array, sign: 1 | -1): void;
  /** Write the sum into the initial vector, release scratch memory, and return that vector. */
  finish(): Uint32Array;
  /** On failure: wipe and release scratch memory (the initial vector is left as it is). */
  abandon(): void;
}

/**
 * Words per staging copy on the SIMD path: 256 KiB, so a stream chunk is still in L2 when it is
 * added. A multiple of 4 (one 16-byte SIMD lane group).
 */
export const STAGING_WORDS = 1 << 16;

/**
 * A sum starting at `initial`, whose storage the accumulator takes over: WebAssembly SIMD where the
 * host has it (unless `simd` is false), the JavaScript loop in place otherwise. Same bits either way.
 */
export function ringAccumulator(initial: Uint32Array, simd = true, stagingWords = STAGING_WORDS): RingAccumulator {
  if (!Number.isInteger(stagingWords) || stagingWords < 4 || stagingWords % 4 !== 0)
    throw new Error(`"stagingWords" must be a positive multiple of 4, got ${stagingWords}`);
  const words = initial.length;
  const ring = simd && words > 0 ? acquireSimdRing(paddedBytes(words) + stagingWords * 4) : null;
  return ring ? new SimdAccumulator(initial, ring, stagingWords) : new JsAccumulator(initial);
}

/** Bytes of `words` rounded up to whole 16-byte lane groups. */
function paddedBytes(words: number): number {
  return Math.ceil(words / 4) * 16;
}

function checkLength(v: Uint32Array, words: number): void {
  if (v.length !== words) throw new Error(`"v" has ${v.length} words, the sum has ${words}`);
}

class JsAccumulator implements RingAccumulator {
  readonly words: number;
  constructor(private readonly acc: Uint32Array) {
    this.words = acc.length;
  }
  add(v: Uint32Array, sign: 1 | -1): void {
    checkLength(v, this.words);
    addStream(this.acc, v, sign);
  }
  finish(): Uint32Array {
    return this.acc;
  }
  abandon(): void {}
}

/**
 * Memory layout: the sum at byte 0 (padded to 16 bytes), the staging area after it. A stream is
 * copied into staging a chunk at a time and added lane-wise; the last chunk's padding words add
 * stale staging words into the sum's padding, which `finish` never copies out.
 */
class SimdAccumulator implements RingAccumulator {
  readonly words: number;
  private readonly sum: Uint32Array;
  private readonly staging: Uint32Array;
  private readonly stagingOffset: number;

  constructor(
    private readonly initial: Uint32Array,
    private readonly ring: SimdRing,
    private readonly stagingWords: number,
  ) {
    this.words = initial.length;
    this.stagingOffset = paddedBytes(this.words);
    this.sum = new Uint32Array(ring.buffer, 0, this.words);
    this.staging = new Uint32Array(ring.buffer, this.stagingOffset, stagingWords);
    this.sum.set(initial);
  }

  add(v: Uint32Array, sign: 1 | -1): void {
    checkLength(v, this.words);
    const op = sign === 1 ? this.ring.add : this.ring.sub;
    for (let offset = 0; offset < this.words; offset += this.stagingWords) {
      const n = Math.min(this.stagingWords, this.words - offset);
      this.staging.set(offset === 0 && n === v.length ? v : v.subarray(offset, offset + n));
      op(offset * 4, this.stagingOffset, paddedBytes(n));
    }
  }

  finish(): Uint32Array {
    this.initial.set(this.sum);
    // The staging area last held part of a mask stream; the sum is the result the caller now holds.
    this.staging.fill(0);
    releaseSimdRing(this.ring);
    return this.initial;
  }

  abandon(): void {
    // A partial sum (an input plus some of its masks) must not outlive the failed call.
    this.sum.fill(0);
    this.staging.fill(0);
    releaseSimdRing(this.ring);
  }
}
