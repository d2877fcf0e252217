// Fixed-point encoding of real vectors into the ring Z_2^32 and back.
// x is clipped to [-c, c], mapped affinely to [0, Q] and rounded stochastically (unbiased:
// E[encode(x)] = the exact scaled value), so sums of many encodings stay unbiased.
import type { SecAggParams } from './params.ts';

export type Encoding = Pick<SecAggParams, 'clipping_range' | 'quantization_range'>;

export function clip(x: number, c: number): number {
  if (Number.isNaN(x)) throw new Error('"input" contains NaN');
  return x < -c ? -c : x > c ? c : x;
}

/**
 * Encode with the rounding coins given as words: coordinate i rounds up when uniform[i] / 2^32 <
 * its fractional part (unbiased). The engine expands the words from a seed with the round's PRG,
 * so the page, its worker and Node encode alike, off the main thread.
 */
export function encodeVectorWithCoins(input: ArrayLike<number>, p: Encoding, uniform: Uint32Array): Uint32Array {
  if (uniform.length !== input.length) throw new Error(`"uniform" must have ${input.length} words, got ${uniform.length}`);
  const c = p.clipping_range;
  const scale = p.quantization_range / (2 * c);
  const out = new Uint32Array(input.length);
  for (let i = 0; i < input.length; i++) {
    const v = (clip(input[i] as number, c) + c) * scale;
    const floor = Math.floor(v);
    const q = floor + ((uniform[i] as number) * 2 ** -32 < v - floor ? 1 : 0);
    out[i] = Math.min(q, p.quantization_range);
  }
  return out;
}

/** Decode the ring sum of `contributors` encodings into the sum of their real inputs. */
export function decodeSum(sum: Uint32Array, contributors: number, p: Encoding): Float64Array {
  const c = p.clipping_range;
  const scale = (2 * c) / p.quantization_range;
  const out = new Float64Array(sum.length);
  for (let i = 0; i < sum.length; i++) out[i] = (sum[i] as number) * scale - contributors * c;
  return out;
}

/** Largest error of one decoded coordinate of a single input (one quantization step). */
export function quantizationStep(p: Encoding): number {
  return (2 * p.clipping_range) / p.quantization_range;
}

/** The input as the engine takes it; NaN is refused here, when a participant is made. */
export function inputVector(input: ArrayLike<number>): Float64Array {
  // One indexed pass (Float64Array.from walks an iterator: ~80 ms for 1M entries on a loaded page).
  const out = new Float64Array(input.length);
  for (let i = 0; i < out.length; i++) {
    const x = input[i] as number;
    if (Number.isNaN(x)) throw new Error('"input" contains NaN');
    out[i] = x;
  }
  return out;
}
