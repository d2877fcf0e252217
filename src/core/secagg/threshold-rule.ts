// What a threshold t of k + 1 shares tolerates, as binomial tails (the analysis behind Bell et al.,
// CCS 2020, §4, and Google's SecAgg+ parameter finder). Owner v's two secrets are shared among its
// k neighbours and itself; the round needs t of them from holders still there at unmasking, and an
// adversary learns v's input if it gets t of both kinds.
//
// The default rule (neighbour-graph.ts): k = 2⌈3.6·log2 n⌉, t = ⌊2(k+1)/3⌋ + 1. It is chosen for a
// MALICIOUS aggregator: splitting v's honest holders into a "v survived" and a "v dropped" group that
// each reach t needs 2t − (k+1) > (k+1)/3 corrupt holders signing both survivor lists (participant.ts,
// consistency check). The price is dropout: t of k must survive, so a 2/3 threshold tolerates a random
// dropout well below 1/3 — `toleratedDropout` says how much (8% at n = 1000, k = 72, t = 49, for a
// shortfall probability ≤ 1e-6).
// No t reaches the reference point (33% dropout at n = 1000) and keeps that split protection,
// even with k = 254: survivors (≈ 2/3 of k) would have to exceed (k + 1 + corrupt)/2 in every
// neighbourhood. So for high dropout a round must name a lower reconstruction_threshold:
// `thresholdForDropout` gives the largest t whose shortfall stays below a bound (23 of 72 at n = 1000,
// 33%, 1e-6; Google's parameter finder: 24, semi-honest). Such a t guards against corrupt clients
// pooling their shares (`exposureBound(…, 'semi-honest')`) but not against an aggregator that equivocates
// survivor lists; the dashboard default stays the malicious-secure rule.
//
// Model: each participant drops (or is corrupt) independently with the given probability; a round
// that silences an exact fraction is hypergeometric, whose tails are thinner, so the bounds hold.
import type { GraphShape } from './neighbour-graph.ts';

const LOG_FACTORIAL: number[] = [0];
function logFactorial(n: number): number {
  for (let i = LOG_FACTORIAL.length; i <= n; i++) LOG_FACTORIAL.push((LOG_FACTORIAL[i - 1] as number) + Math.log(i));
  return LOG_FACTORIAL[n] as number;
}

function logPmf(trials: number, p: number, i: number): number {
  if (p === 0) return i === 0 ? 0 : -Infinity;
  if (p === 1) return i === trials ? 0 : -Infinity;
  return logFactorial(trials) - logFactorial(i) - logFactorial(trials - i) + i * Math.log(p) + (trials - i) * Math.log1p(-p);
}

function checkArgs(trials: number, p: number): void {
  if (!Number.isSafeInteger(trials) || trials < 0) throw new Error(`"trials" must be a non-negative integer, got ${trials}`);
  if (!(p >= 0 && p <= 1)) throw new Error(`"p" must be a probability, got ${p}`);
}

/** P(X < t) for X ~ Binomial(trials, p), term by term (each term exact in log space: no 1 − x cancellation). */
export function binomialBelow(trials: number, p: number, t: number): number {
  checkArgs(trials, p);
  if (t > trials) return 1;
  let sum = 0;
  for (let i = 0; i < t; i++) sum += Math.exp(logPmf(trials, p, i));
  return Math.min(1, sum);
}

/** P(X ≥ t) for X ~ Binomial(trials, p), summed from the top. */
export function binomialAtLeast(trials: number, p: number, t: number): number {
  checkArgs(trials, p);
  if (t <= 0) return 1;
  let sum = 0;
  for (let i = t; i <= trials; i++) sum += Math.exp(logPmf(trials, p, i));
  return Math.min(1, sum);
}

/**
 * Probability that a random `dropout` leaves some secret with fewer than t holders, so the round
 * aborts: a union bound over the n owners of P(Binomial(k, 1 − dropout) < t). Only the k neighbours
 * count (the owner may be one of those who dropped).
 */
export function shortfallBound(n: number, shape: Pick<GraphShape, 'degree' | 'threshold'>, dropout: number): number {
  return Math.min(1, n * binomialBelow(shape.degree, 1 - dropout, shape.threshold));
}

/** The largest random dropout, to 0.1%, whose shortfall bound stays at or below `maxFailure`. */
export function toleratedDropout(n: number, shape: Pick<GraphShape, 'degree' | 'threshold'>, maxFailure = 1e-6): number {
  let best = 0;
  for (let permille = 1; permille < 1000; permille++) {
    if (shortfallBound(n, shape, permille / 1000) > maxFailure) break;
    best = permille / 1000;
  }
  return best;
}

/**
 * Probability (union bound over n owners) that some owner's input is exposed when each other
 * participant is corrupt with probability `corrupt`:
 *   'semi-honest': its corrupt neighbours hold t shares of both secrets;
 *   'malicious':   its corrupt neighbours reach 2t − (k+1), enough to let an aggregator that shows
 *                  different survivor lists collect t shares of each kind from its honest holders.
 */
export function exposureBound(
  n: number,
  shape: Pick<GraphShape, 'degree' | 'threshold'>,
  corrupt: number,
  adversary: 'semi-honest' | 'malicious',
): number {
  const need = adversary === 'semi-honest' ? shape.threshold : 2 * shape.threshold - (shape.degree + 1);
  return Math.min(1, n * binomialAtLeast(shape.degree, corrupt, need));
}

/** The largest t (≥ 1) whose shortfall bound at `dropout` stays at or below `maxFailure`, for degree k. */
export function thresholdForDropout(n: number, degree: number, dropout: number, maxFailure = 1e-6): number {
  let t = 1;
  while (t < degree + 1 && shortfallBound(n, { degree, threshold: t + 1 }, dropout) <= maxFailure) t++;
  return t;
}

/**
 * What a participant assumes about the aggregator. A LOCAL setting of each participant, never read
 * from the round's Open: a round naming a low reconstruction_threshold cannot talk a participant out
 * of the split-survivor-list protection.
 *   'malicious' (default): refuse a round whose t is below `maliciousThresholdFloor`.
 *   'semi-honest': accept any t (e.g. thresholdForDropout for a high-dropout round), trusting the
 *                  aggregator not to equivocate survivor lists.
 */
export type AdversaryModel = 'malicious' | 'semi-honest';

/**
 * The smallest t that keeps an equivocating aggregator out for s = k + 1 shares per secret, with up to
 * a third of a secret's holders corrupt: 2t − s > s/3, i.e. t > 2s/3, i.e. ⌊2s/3⌋ + 1 — the default rule.
 */
export function maliciousThresholdFloor(shares: number): number {
  if (!Number.isSafeInteger(shares) || shares < 1) throw new Error(`"shares" must be a positive integer, got ${shares}`);
  return Math.min(shares, Math.floor((2 * shares) / 3) + 1);
}

/** Why a participant holding `model` refuses a round of this shape, or null if it may join. */
export function thresholdRefusal(shape: Pick<GraphShape, 'shares' | 'threshold'>, model: AdversaryModel): string | null {
  if (model === 'semi-honest') return null;
  const floor = maliciousThresholdFloor(shape.shares);
  if (shape.threshold >= floor) return null;
  return (
    `refused: reconstruction_threshold ${shape.threshold} of ${shape.shares} shares is below the malicious-safe ` +
    `floor ${floor} (⌊2s/3⌋ + 1): an aggregator showing different survivor lists could collect both secrets ` +
    `of an input (opt into semi-honest mode on this node to accept)`
  );
}
