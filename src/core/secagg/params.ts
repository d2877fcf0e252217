// Round parameters, named as Flower's SecAgg+ names them so users recognise them
// (num_shares, reconstruction_threshold, clipping_range, quantization_range, modulus_range, timeout).
import type { Result } from '../result.ts';

export interface SecAggParams {
  /** Vector length m. */
  dimension: number;
  /** Inputs are clipped to [-clipping_range, +clipping_range]; must be > 0. */
  clipping_range: number;
  /** Clipped values map to integers 0..quantization_range (fixed point, stochastic rounding). */
  quantization_range: number;
  /** The ring Z_{modulus_range}; 2^32 by default (one uint32 per coordinate). */
  modulus_range: number;
  /**
   * Shares per secret (the node's neighbours plus itself), or 0 for the documented rule
   * (see neighbour-graph.ts: complete graph for small rounds, k ≈ 7.2·log2(n) above).
   */
  num_shares: number;
  /** Shares needed to reconstruct a secret, or 0 for the documented rule ⌊2·num_shares/3⌋ + 1. */
  reconstruction_threshold: number;
  /** Fewer masked inputs than this and the round releases nothing. */
  min_contributors: number;
  /** Per-stage timeout in milliseconds. */
  timeout: number;
  /** Rounds up to this many participants use the complete graph; above it a k-regular Harary graph. */
  complete_graph_max: number;
}

export const DEFAULT_PARAMS: SecAggParams = {
  dimension: 1,
  clipping_range: 8,
  quantization_range: 2 ** 22,
  modulus_range: 2 ** 32,
  num_shares: 0,
  reconstruction_threshold: 0,
  min_contributors: 3,
  timeout: 10_000,
  complete_graph_max: 64,
};

export const MAX_DIMENSION = 1 << 21;

/** Field-by-field equality (params are flat numbers; a round is bound to exactly the committed ones). */
export function paramsEqual(a: SecAggParams, b: SecAggParams): boolean {
  return (Object.keys(a) as (keyof SecAggParams)[]).every((k) => a[k] === b[k]);
}

const isPositiveInt = (v: number): boolean => Number.isSafeInteger(v) && v > 0;

/** Checks parameters on their own (a round with n participants also needs `checkRing`). */
export function validateParams(p: SecAggParams): Result<SecAggParams> {
  if (!isPositiveInt(p.dimension) || p.dimension > MAX_DIMENSION)
    return { ok: false, error: `"dimension" must be an integer in 1..${MAX_DIMENSION}, got ${p.dimension}` };
  if (!(Number.isFinite(p.clipping_range) && p.clipping_range > 0))
    return { ok: false, error: `"clipping_range" must be a finite number > 0, got ${p.clipping_range}` };
  if (!isPositiveInt(p.quantization_range))
    return { ok: false, error: `"quantization_range" must be a positive integer, got ${p.quantization_range}` };
  if (p.modulus_range !== 2 ** 32)
    return { ok: false, error: `"modulus_range" must be 2^32 (4294967296) in this version, got ${p.modulus_range}` };
  if (p.quantization_range >= p.modulus_range)
    return { ok: false, error: `"quantization_range" (${p.quantization_range}) must be below "modulus_range"` };
  if (!Number.isSafeInteger(p.num_shares) || p.num_shares < 0 || p.num_shares === 1 || p.num_shares > 255)
    return { ok: false, error: `"num_shares" must be 0 (automatic) or 2..255, got ${p.num_shares}` };
  if (!Number.isSafeInteger(p.reconstruction_threshold) || p.reconstruction_threshold < 0)
    return { ok: false, error: `"reconstruction_threshold" must be 0 (automatic) or a positive integer` };
  if (p.num_shares > 0 && p.reconstruction_threshold > p.num_shares)
    return { ok: false, error: `"reconstruction_threshold" must not exceed "num_shares"` };
  if (!isPositiveInt(p.min_contributors))
    return { ok: false, error: `"min_contributors" must be a positive integer, got ${p.min_contributors}` };
  if (!isPositiveInt(p.timeout)) return { ok: false, error: `"timeout" must be a positive number of ms` };
  if (!isPositiveInt(p.complete_graph_max) || p.complete_graph_max > 255)
    return { ok: false, error: `"complete_graph_max" must be in 1..255` };
  return { ok: true, value: p };
}

/** The most participants whose quantized sum fits the ring: ⌊(modulus_range − 1)/quantization_range⌋ (1023 by default). */
export function ringCapacity(p: Pick<SecAggParams, 'modulus_range' | 'quantization_range'>): number {
  return Math.floor((p.modulus_range - 1) / p.quantization_range);
}

/**
 * The sum of n quantized inputs must fit the ring, or it wraps silently (fedbiomed #1210).
 * Each input coordinate is at most quantization_range, so n·quantization_range < modulus_range.
 */
export function checkRing(p: SecAggParams, participants: number): Result<true> {
  const worst = participants * p.quantization_range;
  if (worst >= p.modulus_range)
    return {
      ok: false,
      error:
        `${participants} participants × quantization_range ${p.quantization_range} = ${worst} does not fit ` +
        `modulus_range ${p.modulus_range}; lower quantization_range below ${Math.floor((p.modulus_range - 1) / participants)}`,
    };
  return { ok: true, value: true };
}
