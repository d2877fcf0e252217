import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeSum, encodeVectorWithCoins, quantizationStep } from '../../src/core/secagg/encoding.ts';
import { graphShape, neighbourhoods, seededPermutation, type GraphShape } from '../../src/core/secagg/neighbour-graph.ts';
import { checkRing, DEFAULT_PARAMS, validateParams } from '../../src/core/secagg/params.ts';
import { SeededRandom } from '../../src/sim/seeded-random.ts';

describe('SecAgg parameters', () => {
  it('accepts the defaults and names the field that is wrong', () => {
    expect(validateParams(DEFAULT_PARAMS).ok).toBe(true);
    const bad = (patch: object, field: string): void => {
      const r = validateParams({ ...DEFAULT_PARAMS, ...patch });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toContain(field);
    };
    bad({ clipping_range: 0 }, 'clipping_range'); // Flower #7633 crashed on this
    bad({ clipping_range: -1 }, 'clipping_range');
    bad({ clipping_range: Number.NaN }, 'clipping_range');
    bad({ quantization_range: 0 }, 'quantization_range');
    bad({ quantization_range: 2 ** 32 }, 'quantization_range');
    bad({ modulus_range: 2 ** 16 }, 'modulus_range');
    bad({ num_shares: 1 }, 'num_shares');
    bad({ num_shares: 5, reconstruction_threshold: 6 }, 'reconstruction_threshold');
    bad({ dimension: 0 }, 'dimension');
    bad({ min_contributors: 0 }, 'min_contributors');
  });

  it('refuses a round whose worst-case sum would wrap the ring (fedbiomed #1210)', () => {
    expect(checkRing(DEFAULT_PARAMS, 1023).ok).toBe(true); // 1023 · 2^22 < 2^32
    const r = checkRing(DEFAULT_PARAMS, 1024);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/does not fit/);
  });
});

describe('fixed-point encoding', () => {
  /** Rounding coins drawn from a seeded stream, one word per coordinate. */
  const coins = (rng: SeededRandom, n: number): Uint32Array => Uint32Array.from({ length: n }, () => Math.floor(rng.float() * 2 ** 32));

  it('round-trips the sum of many inputs within n quantization steps, clipping outliers', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.double({ min: -20, max: 20, noNaN: true }), { minLength: 4, maxLength: 4 }), { minLength: 1, maxLength: 30 }), fc.nat(), (inputs, seed) => {
        const rng = SeededRandom.fromSeed(seed);
        const sum = new Uint32Array(4);
        for (const x of inputs) {
          const e = encodeVectorWithCoins(x, DEFAULT_PARAMS, coins(rng, x.length));
          for (let i = 0; i < 4; i++) sum[i] = (sum[i] as number) + (e[i] as number);
        }
        const got = decodeSum(sum, inputs.length, DEFAULT_PARAMS);
        for (let i = 0; i < 4; i++) {
          const want = inputs.reduce((a, x) => a + Math.max(-8, Math.min(8, x[i] as number)), 0);
          expect(Math.abs((got[i] as number) - want)).toBeLessThanOrEqual(inputs.length * quantizationStep(DEFAULT_PARAMS) + 1e-9);
        }
      }),
    );
  });

  it('is unbiased: stochastic rounding averages to the exact value', () => {
    const rng = SeededRandom.fromSeed(42);
    const x = 0.3 * quantizationStep(DEFAULT_PARAMS); // 30% of the way to the next grid point
    let total = 0;
    const trials = 20_000;
    for (let i = 0; i < trials; i++) total += encodeVectorWithCoins([x], DEFAULT_PARAMS, coins(rng, 1))[0] as number;
    const mean = total / trials - DEFAULT_PARAMS.quantization_range / 2;
    expect(mean).toBeGreaterThan(0.27);
    expect(mean).toBeLessThan(0.33);
  });

  it('rejects NaN instead of encoding garbage', () => {
    expect(() => encodeVectorWithCoins([Number.NaN], DEFAULT_PARAMS, coins(SeededRandom.fromSeed(1), 1))).toThrow(/NaN/);
  });
});

describe('neighbour graph', () => {
  const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => i.toString(16).padStart(32, '0'));

  it('follows the documented rule: complete when small, k = 72, t = 49 at n = 1000', () => {
    expect(graphShape(10, DEFAULT_PARAMS)).toEqual({ degree: 9, shares: 10, threshold: 7, complete: true });
    const big = graphShape(1000, DEFAULT_PARAMS);
    expect(big.degree).toBe(72);
    expect(big.threshold).toBe(49);
    expect(big.complete).toBe(false);
  });

  it('is k-regular, symmetric, loop-free and fixed by the seed', () => {
    const seed = new Uint8Array(32).fill(7);
    const shape = graphShape(200, DEFAULT_PARAMS);
    const g = neighbourhoods(ids(200), seed, shape);
    for (const a of ids(200)) {
      const ns = g.get(a) as ReadonlySet<string>;
      expect(ns.size).toBe(shape.degree);
      expect(ns.has(a)).toBe(false);
      for (const b of ns) expect(g.get(b)?.has(a)).toBe(true);
    }
    expect(seededPermutation(ids(50), seed)).toEqual(seededPermutation(ids(50).reverse(), seed));
    expect(seededPermutation(ids(50), seed)).not.toEqual(seededPermutation(ids(50), new Uint8Array(32).fill(8)));
  });
});

/** The whole graph edge by edge, as neighbour-graph.ts built it before `neighbourhoods`: the reference its answers are checked against. */
function neighbourGraph(ids: readonly string[], seed: Uint8Array, shape: GraphShape): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const id of ids) graph.set(id, new Set());
  if (shape.complete) {
    for (const a of ids) for (const b of ids) if (a !== b) graph.get(a)?.add(b);
    return graph;
  }
  const order = seededPermutation(ids, seed);
  const n = order.length;
  const half = shape.degree / 2;
  for (let i = 0; i < n; i++) {
    for (let d = 1; d <= half; d++) {
      const a = order[i] as string;
      const b = order[(i + d) % n] as string;
      graph.get(a)?.add(b);
      graph.get(b)?.add(a);
    }
  }
  return graph;
}


describe('neighbourhoods (built on demand)', () => {
  it('answer exactly as the full neighbour graph, for complete and sparse shapes', () => {
    const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => i.toString(16).padStart(32, '0'));
    for (const [n, seedByte] of [
      [10, 1],
      [65, 2],
      [200, 3],
      [333, 4],
    ] as const) {
      const seed = new Uint8Array(32).fill(seedByte);
      const shape = graphShape(n, DEFAULT_PARAMS);
      const full = neighbourGraph(ids(n), seed, shape);
      const lazy = neighbourhoods(ids(n), seed, shape);
      for (const id of ids(n)) expect([...(lazy.get(id) ?? [])].sort()).toEqual([...(full.get(id) ?? [])].sort());
      expect(lazy.get('f'.repeat(32))).toBeUndefined();
    }
  });
});
