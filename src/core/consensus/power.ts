// Voting power from stake × reputation: ONE integer rule every node applies identically.
//
//   multiplier_i = r_min + ⌊(10^6 − r_min) · rep_i / 10^6⌋          (micro-units, in [r_min, 10^6])
//   raw_i        = ⌊stake_i · multiplier_i / 10^6⌋                  (BigInt product: exact)
//   set          = the top maxValidators by raw power (ties: smaller public key first) among
//                  unjailed candidates with stake ≥ minValidatorStake and raw power > 0
//   power_i      = min(raw_i, L)   where L is the largest integer with
//                  L · 10^6 ≤ c · Σ_j min(raw_j, L)                   (water-filling cap)
//                  c = max(maxShare, ⌊10^6 / n⌋ + 1), n = validators in the set
//
// Why these two bounds:
// - Reputation only ever scales stake DOWN (multiplier ≤ 1), so power ≤ stake: a clean record cannot
//   buy power that was not staked. The floor r_min bounds how far reputation can move shares at all:
//   a coalition with stake share s holds at most s / (s + (1 − s) · r_min) of the power, however low
//   everyone else's reputation falls (s = 1/4, r_min = 1/2 → 2/5; the cap below then splits it).
// - The cap: every validator's power is at most c of the set's total, so no single validator
//   reaches 1/3 — by reputation or by stake. c is maxShare (< 1/3, default 0.3) unless n is too
//   small for it (n · maxShare ≤ 1: even equal powers exceed it), then the smallest feasible share
//   ⌊10^6/n⌋ + 1 micro-units, which is below 1/3 for n ≥ 4. g(L) = c·S(L) − L is concave with
//   g(0) = 0, so {L : g(L) ≥ 0} is an interval [0, L*] and L* is found by binary search; n·c > 1
//   makes L* ≥ 1, so nobody's power drops to 0. With 3 or fewer validators no distribution keeps
//   every share below 1/3 (BFT tolerates no fault there anyway) and the cap is not applied.
import { compareBytes } from '../bytes.ts';
import { MICROS } from './genesis.ts';

export interface PowerParams {
  readonly reputationFloorMicros: number;
  readonly maxPowerShareMicros: number;
  readonly maxValidators: number;
  readonly minValidatorStake: number;
}

export interface PowerCandidate {
  readonly publicKey: Uint8Array;
  readonly stake: number;
  readonly reputationMicros: number;
  readonly jailed: boolean;
}

export interface PoweredValidator {
  readonly publicKey: Uint8Array;
  readonly power: number;
}

const MICROS_N = BigInt(MICROS);
/** Below this many validators every distribution gives someone ≥ 1/3; the cap is not applied. */
export const MIN_CAPPED_SET = 4;

export function reputationMultiplierMicros(reputationMicros: number, floorMicros: number): number {
  if (!Number.isSafeInteger(reputationMicros) || reputationMicros < 0 || reputationMicros > MICROS)
    throw new Error(`"reputationMicros" must be an integer in 0..${MICROS}`);
  return floorMicros + Math.floor(((MICROS - floorMicros) * reputationMicros) / MICROS);
}

/** stake × multiplier, before the share cap. Never above stake. */
export function rawPower(stake: number, reputationMicros: number, floorMicros: number): number {
  if (!Number.isSafeInteger(stake) || stake < 0) throw new Error(`"stake" must be a non-negative safe integer`);
  const m = reputationMultiplierMicros(reputationMicros, floorMicros);
  return Number((BigInt(stake) * BigInt(m)) / MICROS_N);
}

/** Applies the per-validator share cap (water-filling) to raw powers; order is preserved. */
export function capPowers(raw: readonly number[], maxShareMicros: number): number[] {
  const positive = raw.filter((p) => p > 0).length;
  if (positive < MIN_CAPPED_SET) return raw.slice();
  const share = BigInt(Math.max(maxShareMicros, Math.floor(MICROS / positive) + 1));
  const fits = (level: number): boolean => {
    let s = 0n;
    const l = BigInt(level);
    for (const p of raw) s += p < level ? BigInt(p) : l;
    return l * MICROS_N <= share * s;
  };
  const max = Math.max(...raw);
  if (fits(max)) return raw.slice();
  let lo = 1; // fits(1) holds: positive · c > 10^6
  let hi = max; // !fits(hi)
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return raw.map((p) => Math.min(p, lo));
}

/** The whole rule: eligibility, top-N selection, cap. Output sorted by public key. */
export function computeValidatorPowers(candidates: readonly PowerCandidate[], p: PowerParams): PoweredValidator[] {
  const eligible = candidates
    .filter((c) => !c.jailed && c.stake >= p.minValidatorStake)
    .map((c) => ({ publicKey: c.publicKey, raw: rawPower(c.stake, c.reputationMicros, p.reputationFloorMicros) }))
    .filter((c) => c.raw > 0)
    .sort((a, b) => b.raw - a.raw || compareBytes(a.publicKey, b.publicKey))
    .slice(0, p.maxValidators)
    .sort((a, b) => compareBytes(a.publicKey, b.publicKey));
  const capped = capPowers(
    eligible.map((c) => c.raw),
    p.maxPowerShareMicros,
  );
  return eligible.map((c, i) => ({ publicKey: c.publicKey, power: capped[i] as number }));
}
