// Simulator building blocks: the seeded PRNG, the virtual clock, summary statistics.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../src/sim/seeded-random.ts';
import { percentileSorted, summarize } from '../src/sim/stats.ts';
import { VirtualClock } from '../src/sim/virtual-clock.ts';

describe('SeededRandom', () => {
  it('is xoshiro128** (reference sequence from state 1,2,3,4)', () => {
    const r = SeededRandom.fromState([1, 2, 3, 4]);
    expect(Array.from({ length: 6 }, () => r.uint32())).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  it('keeps its seeding fixed (every simulation result depends on it)', () => {
    const r = SeededRandom.fromSeed(0);
    expect([r.uint32(), r.uint32(), r.uint32(), r.uint32()]).toEqual([2287692775, 999326473, 891270237, 868967914]);
    const f = SeededRandom.fromSeed(42).fork('node:1');
    expect([f.uint32(), f.uint32()]).toEqual([3991756479, 1972701966]);
    expect(SeededRandom.fromSeed(2 ** 53 - 1).uint32()).toBe(3781430984);
  });

  it('gives the same stream for the same seed and different streams for nearby seeds', () => {
    fc.assert(
      fc.property(fc.nat(), (seed) => {
        const a = SeededRandom.fromSeed(seed).bytes(32);
        expect(SeededRandom.fromSeed(seed).bytes(32)).toEqual(a);
        expect(SeededRandom.fromSeed(seed + 1).bytes(32)).not.toEqual(a);
      }),
      { numRuns: 200 },
    );
  });

  it('forks by label only: independent of how far the parent has been drawn', () => {
    const parent = SeededRandom.fromSeed(7);
    const early = parent.fork('link:1').bytes(16);
    parent.bytes(1000);
    expect(parent.fork('link:1').bytes(16)).toEqual(early);
    expect(parent.fork('link:2').bytes(16)).not.toEqual(early);
    expect(parent.fork('link:1').fork('x').bytes(16)).not.toEqual(early);
    expect(SeededRandom.fromSeed(8).fork('link:1').bytes(16)).not.toEqual(early);
  });

  it('draws floats in [0, 1) and integers in [0, n)', () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 2 ** 32 }), (seed, n) => {
        const r = SeededRandom.fromSeed(seed);
        for (let i = 0; i < 20; i++) {
          const f = r.float();
          expect(f >= 0 && f < 1).toBe(true);
          const k = r.int(n);
          expect(Number.isInteger(k) && k >= 0 && k < n).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('is roughly uniform (chi-squared over 16 buckets)', () => {
    const r = SeededRandom.fromSeed(123);
    const buckets = new Array<number>(16).fill(0);
    const draws = 160_000;
    for (let i = 0; i < draws; i++) buckets[Math.floor(r.float() * 16)]!++;
    const expected = draws / 16;
    const chi2 = buckets.reduce((s, b) => s + (b - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(37.7); // p = 0.001 for 15 degrees of freedom
  });

  it('fills byte arrays of any length', () => {
    const r = SeededRandom.fromSeed(5);
    for (const n of [0, 1, 3, 4, 5, 33]) expect(r.bytes(n)).toHaveLength(n);
  });

  it('rejects bad arguments (programmer errors throw with the field named)', () => {
    expect(() => SeededRandom.fromSeed(-1)).toThrow(/"seed"/);
    expect(() => SeededRandom.fromSeed(1.5)).toThrow(/"seed"/);
    expect(() => SeededRandom.fromSeed(1).int(0)).toThrow(/"n"/);
    expect(() => SeededRandom.fromState([0, 0, 0, 0])).toThrow(/"words"/);
  });
});

describe('VirtualClock', () => {
  it('fires timers by due time, then in the order they were set', () => {
    const clock = new VirtualClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b@20'), 20);
    clock.setTimeout(() => fired.push('a@10'), 10);
    clock.setTimeout(() => fired.push('c@20'), 20);
    clock.setTimeout(() => fired.push('z@0'), -5); // negative delays fire now
    clock.setTimeout(() => fired.push('d@20'), 20);
    const times: number[] = [];
    while (clock.runNext()) times.push(clock.now());
    expect(fired).toEqual(['z@0', 'a@10', 'b@20', 'c@20', 'd@20']);
    expect(times).toEqual([1000, 1010, 1020, 1020, 1020]);
  });

  it('orders any schedule like a stable sort by due time', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 200 }), (delays) => {
        const clock = new VirtualClock();
        const fired: number[] = [];
        delays.forEach((d, i) => clock.setTimeout(() => fired.push(i), d));
        while (clock.runNext());
        const expected = delays.map((d, i) => ({ d, i })).sort((x, y) => x.d - y.d || x.i - y.i).map((x) => x.i);
        expect(fired).toEqual(expected);
      }),
    );
  });

  it('lets timers set timers, and cancelled timers never fire', () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    const h = clock.setTimeout(() => fired.push('cancelled'), 5);
    clock.setTimeout(() => {
      fired.push('outer');
      clock.setTimeout(() => fired.push('inner'), 0);
    }, 5);
    clock.clearTimeout(h);
    clock.clearTimeout(h); // twice is harmless
    expect(clock.pending).toBe(1);
    while (clock.runNext());
    expect(fired).toEqual(['outer', 'inner']);
    expect(clock.pending).toBe(0);
    expect(clock.peek()).toBeUndefined();
  });

  it('advances only up to the next due timer', () => {
    const clock = new VirtualClock();
    clock.setTimeout(() => {}, 100);
    clock.advanceTo(100);
    expect(clock.now()).toBe(100);
    expect(() => clock.advanceTo(50)).toThrow(/before now/);
    clock.setTimeout(() => {}, 10);
    expect(() => clock.advanceTo(200)).toThrow(/due at 100/); // advanceTo never fires timers
  });

  it('gives components views whose timers can be silenced', () => {
    const clock = new VirtualClock();
    let alive = true;
    const view = clock.view(() => alive);
    const fired: number[] = [];
    view.setTimeout(() => fired.push(1), 10);
    view.setTimeout(() => fired.push(2), 20);
    clock.setTimeout(() => {
      alive = false;
    }, 15);
    while (clock.runNext());
    expect(fired).toEqual([1]);
    expect(view.now()).toBe(20);
  });
});

describe('stats', () => {
  it('takes nearest-rank percentiles', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentileSorted(sorted, 0.5)).toBe(50);
    expect(percentileSorted(sorted, 0.99)).toBe(99);
    expect(percentileSorted(sorted, 1)).toBe(100);
    expect(percentileSorted([], 0.5)).toBeNaN();
    expect(summarize([3, 1, 2])).toEqual({ count: 3, min: 1, mean: 2, p50: 2, p99: 3, max: 3 });
  });
});
