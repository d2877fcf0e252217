import { describe, expect, it } from 'vitest';
import { graphShape, neighbourhoods } from '../../src/core/secagg/neighbour-graph.ts';
import { DEFAULT_PARAMS } from '../../src/core/secagg/params.ts';
import {
  binomialAtLeast,
  binomialBelow,
  exposureBound,
  shortfallBound,
  thresholdForDropout,
  toleratedDropout,
} from '../../src/core/secagg/threshold-rule.ts';
import { SeededRandom } from '../../src/sim/seeded-random.ts';

/** P(Binomial(n, a/b) < t) as an exact rational, then one rounding: the reference for the float sums. */
function exactBelow(n: number, a: bigint, b: bigint, t: number): number {
  let num = 0n;
  let choose = 1n;
  for (let i = 0; i < Math.min(t, n + 1); i++) {
    num += choose * a ** BigInt(i) * (b - a) ** BigInt(n - i);
    choose = (choose * BigInt(n - i)) / BigInt(i + 1);
  }
  const den = b ** BigInt(n);
  // Scale to keep 15 significant digits of tiny probabilities.
  const scale = 10n ** 40n;
  return Number((num * scale) / den) / 1e40;
}

/** The real graph of a round of n, and for `trials` random dropouts of an exact fraction, the secrets left with < t surviving neighbours. */
function shortNeighbourhoods(n: number, dropout: number, thresholds: readonly number[], trials: number, seed: number): number[][] {
  const shape = graphShape(n, DEFAULT_PARAMS);
  const ids = Array.from({ length: n }, (_, i) => i.toString(16).padStart(4, '0'));
  const rng = SeededRandom.fromSeed(seed);
  const out: number[][] = [];
  for (let trial = 0; trial < trials; trial++) {
    const graph = neighbourhoods(ids, rng.bytes(32), shape);
    const pool = ids.slice();
    const dropped = new Set(Array.from({ length: Math.round(dropout * n) }, () => pool.splice(rng.int(pool.length), 1)[0] as string));
    const survivorsPerOwner = ids.map((id) => [...(graph.get(id) ?? [])].filter((v) => !dropped.has(v)).length);
    out.push(thresholds.map((t) => survivorsPerOwner.filter((s) => s < t).length));
  }
  return out;
}

describe('threshold rule: binomial tails', () => {
  it('match exact rational sums, small and tiny, and the two tails add to 1', () => {
    for (const [n, a, b, t] of [
      [10, 1n, 2n, 3],
      [72, 2n, 3n, 49],
      [72, 2n, 3n, 24],
      [72, 7n, 10n, 26],
      [72, 1n, 20n, 5],
      [254, 2n, 3n, 124],
    ] as const) {
      const p = Number(a) / Number(b);
      const exact = exactBelow(n, a, b, t);
      expect(Math.abs(binomialBelow(n, p, t) - exact)).toBeLessThanOrEqual(exact * 1e-9 + 1e-300);
      expect(binomialBelow(n, p, t) + binomialAtLeast(n, p, t)).toBeCloseTo(1, 12);
    }
    expect(binomialBelow(72, 0.7, 0)).toBe(0);
    expect(binomialBelow(72, 0.7, 73)).toBe(1);
    expect(binomialAtLeast(72, 0.7, 0)).toBe(1);
    expect(() => binomialBelow(-1, 0.5, 1)).toThrow(/trials/);
    expect(() => binomialBelow(3, 1.5, 1)).toThrow(/"p"/);
  });

  it('predict how often the real SecAgg+ graph leaves a secret short at 30% dropout', () => {
    // One secret is short when fewer than t of its owner's k neighbours survive: binomial tail
    // P(Bin(72, 0.7) < t). Exactly 30% silenced is hypergeometric, a little thinner in the tails.
    const n = 1000;
    const k = graphShape(n, DEFAULT_PARAMS).degree;
    const thresholds = [45, 47, 49];
    const counts = shortNeighbourhoods(n, 0.3, thresholds, 8, 99);
    thresholds.forEach((t, j) => {
      const observed = counts.reduce((s, c) => s + (c[j] as number), 0) / (8 * n);
      const predicted = binomialBelow(k, 0.7, t);
      expect(observed, `t = ${t}`).toBeLessThanOrEqual(predicted * 1.1);
      expect(observed, `t = ${t}`).toBeGreaterThanOrEqual(predicted * 0.6);
    });
  });
});

describe('threshold rule: what the default tolerates (README "Secure aggregation")', () => {
  const n = 1000;
  const shape = graphShape(n, DEFAULT_PARAMS);

  it('n = 1000: k = 72, t = 49 tolerates 8% random dropout (shortfall ≤ 1e-6); at 30% some secret is short in every round', () => {
    expect(shape).toMatchObject({ degree: 72, threshold: 49 });
    expect(toleratedDropout(n, shape)).toBe(0.08);
    expect(shortfallBound(n, shape, 0.08)).toBeLessThanOrEqual(1e-6);
    expect(shortfallBound(n, shape, 0.081)).toBeGreaterThan(1e-6);
    expect(shortfallBound(n, shape, 0.3)).toBe(1);
    for (const [short] of shortNeighbourhoods(n, 0.3, [49], 5, 7)) expect(short).toBeGreaterThan(0);
    // Against a malicious aggregator: a split needs 2t − 73 = 25 corrupt neighbours; at 5% corrupt, ≤ 1e-11.
    expect(exposureBound(n, shape, 0.05, 'malicious')).toBeLessThan(1e-11);
  });

  it('for the reference point (33% dropout) the rule gives t = 23 of 72 (Google: 24, semi-honest), safe against corrupt clients only', () => {
    const t = thresholdForDropout(n, shape.degree, 1 / 3);
    expect(t).toBe(23);
    expect(shortfallBound(n, { degree: 72, threshold: t }, 1 / 3)).toBeLessThanOrEqual(1e-6);
    expect(shortfallBound(n, { degree: 72, threshold: t + 1 }, 1 / 3)).toBeGreaterThan(1e-6);
    for (const [short] of shortNeighbourhoods(n, 1 / 3, [t], 5, 8)) expect(short).toBe(0);
    // 5% corrupt clients pooling shares reach 23 of some neighbourhood with probability < 1e-9 …
    expect(exposureBound(n, { degree: 72, threshold: t }, 0.05, 'semi-honest')).toBeLessThan(1e-9);
    // … but 2t < k + 1: an aggregator showing two survivor lists needs no corrupt holder at all.
    expect(exposureBound(n, { degree: 72, threshold: t }, 0.05, 'malicious')).toBe(1);
  });

  it('no degree up to 254 keeps the malicious-aggregator protection at 33% dropout', () => {
    for (let k = 72; k <= 254; k += 2) {
      const t = thresholdForDropout(n, k, 1 / 3);
      expect(exposureBound(n, { degree: k, threshold: t }, 0.05, 'malicious'), `k = ${k}`).toBeGreaterThan(1e-3);
    }
  });
});
