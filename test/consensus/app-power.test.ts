import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MICROS, DEFAULT_PARAMS } from '../../src/core/consensus/genesis.ts';
import { capPowers, computeValidatorPowers, rawPower, reputationMultiplierMicros, type PowerCandidate } from '../../src/core/consensus/power.ts';

fc.configureGlobal({ ...fc.readConfigureGlobal(), defaultSizeToMaxWhenMaxSpecified: true });

const key = (i: number): Uint8Array => {
  const k = new Uint8Array(32);
  new DataView(k.buffer).setUint32(0, i);
  return k;
};

const candidatesArb = (min: number, max: number): fc.Arbitrary<PowerCandidate[]> =>
  fc
    .array(
      fc.record({
        stake: fc.oneof(fc.integer({ min: 0, max: 1_000 }), fc.integer({ min: 0, max: 2 ** 40 })),
        reputationMicros: fc.integer({ min: 0, max: MICROS }),
        jailed: fc.boolean(),
      }),
      { minLength: min, maxLength: max },
    )
    .map((cs) => cs.map((c, i) => ({ ...c, publicKey: key(i) })));

const params = { ...DEFAULT_PARAMS };

describe('power = stake × reputation multiplier, capped', () => {
  it('multiplier runs from r_min at reputation 0 to exactly 1 at reputation 1', () => {
    expect(reputationMultiplierMicros(0, 500_000)).toBe(500_000);
    expect(reputationMultiplierMicros(MICROS, 500_000)).toBe(MICROS);
    expect(reputationMultiplierMicros(500_000, 500_000)).toBe(750_000);
    expect(rawPower(1000, 500_000, 500_000)).toBe(750);
    expect(() => reputationMultiplierMicros(MICROS + 1, 0)).toThrow(/reputationMicros/);
  });

  it('power never exceeds stake and grows (weakly) with stake and with reputation', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 50 }),
        fc.integer({ min: 0, max: MICROS }),
        fc.integer({ min: 0, max: MICROS }),
        fc.integer({ min: 0, max: MICROS }),
        (stake, r1, r2, floor) => {
          const [lo, hi] = r1 <= r2 ? [r1, r2] : [r2, r1];
          const p = rawPower(stake, lo, floor);
          expect(p).toBeLessThanOrEqual(stake);
          expect(rawPower(stake, hi, floor)).toBeGreaterThanOrEqual(p);
          expect(rawPower(stake + 1, lo, floor)).toBeGreaterThanOrEqual(p);
          expect(Number.isSafeInteger(p)).toBe(true);
        },
      ),
    );
  });

  it('with 4 or more validators no validator reaches 1/3 of the total, whatever stakes and reputations', () => {
    fc.assert(
      fc.property(candidatesArb(4, 40), fc.integer({ min: 1, max: 333_333 }), (cs, share) => {
        const out = computeValidatorPowers(cs, { ...params, maxPowerShareMicros: share });
        if (out.length < 4) return;
        const total = out.reduce((s, v) => s + v.power, 0);
        for (const v of out) {
          expect(3 * v.power).toBeLessThan(total);
          // Share cap: power · 10^6 ≤ share · total, in exact integers.
          const c = Math.max(share, Math.floor(MICROS / out.length) + 1);
          expect(BigInt(v.power) * BigInt(MICROS) <= BigInt(c) * BigInt(total)).toBe(true);
        }
      }),
    );
  });

  it('reputation alone cannot lift one validator to 1/3: everyone else at reputation 0, it at 1', () => {
    // Stakes from 2: a stake of 1 at reputation 0 (multiplier 0.5) rounds to power 0, which leaves the
    // set altogether — with [4, 1, 1, 1] the first is then the whole set, by stake, not reputation.
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 2, max: 2 ** 40 }), { minLength: 4, maxLength: 30 }), (stakes) => {
        const cs = stakes.map((stake, i) => ({ publicKey: key(i), stake, reputationMicros: i === 0 ? MICROS : 0, jailed: false }));
        const out = computeValidatorPowers(cs, params);
        const total = out.reduce((s, v) => s + v.power, 0);
        const first = out.find((v) => v.publicKey[3] === 0);
        expect(first).toBeDefined();
        expect(3 * (first?.power ?? 0)).toBeLessThan(total);
      }),
    );
  });

  it('the cap keeps order, only lowers, leaves sets with no dominant validator alone', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 45 }), { minLength: 0, maxLength: 50 }), (raw) => {
        const capped = capPowers(raw, 300_000);
        expect(capped.length).toBe(raw.length);
        raw.forEach((r, i) => {
          expect(capped[i]).toBeLessThanOrEqual(r);
          if (r > 0) expect(capped[i]).toBeGreaterThan(0);
        });
        for (let i = 0; i < raw.length; i++)
          for (let j = 0; j < raw.length; j++) if ((raw[i] as number) <= (raw[j] as number)) expect(capped[i]).toBeLessThanOrEqual(capped[j] as number);
      }),
    );
    expect(capPowers([10, 10, 10, 10], 300_000)).toEqual([10, 10, 10, 10]);
    // Three or fewer: no distribution avoids 1/3, left alone.
    expect(capPowers([1000, 1, 1], 300_000)).toEqual([1000, 1, 1]);
    // maxShare too small for the set size (8 × 0.1 < 1): the smallest feasible share applies.
    const eight = capPowers([100, 1, 1, 1, 1, 1, 1, 1], 100_000);
    expect(eight).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    // One whale among four: capped down to the level L with L ≤ 0.3·(L + 3).
    expect(capPowers([1000, 1, 1, 1], 300_000)).toEqual([1, 1, 1, 1]);
    expect(capPowers([1000, 10, 10, 10, 10], 300_000)).toEqual([17, 10, 10, 10, 10]);
  });

  it('jailed, below-minimum and zero-power candidates are out; the top maxValidators by power are in', () => {
    const cs: PowerCandidate[] = [
      { publicKey: key(1), stake: 100, reputationMicros: MICROS, jailed: true },
      { publicKey: key(2), stake: 5, reputationMicros: MICROS, jailed: false },
      { publicKey: key(3), stake: 0, reputationMicros: MICROS, jailed: false },
      { publicKey: key(4), stake: 50, reputationMicros: MICROS, jailed: false },
      { publicKey: key(5), stake: 60, reputationMicros: MICROS, jailed: false },
    ];
    const out = computeValidatorPowers(cs, { ...params, minValidatorStake: 10, maxValidators: 1 });
    expect(out.map((v) => v.publicKey[3])).toEqual([5]);
    const two = computeValidatorPowers(cs, { ...params, minValidatorStake: 1, maxValidators: 2 });
    expect(two.map((v) => v.publicKey[3])).toEqual([4, 5]);
  });

  it('is deterministic: candidate order does not change the result', () => {
    fc.assert(
      fc.property(candidatesArb(0, 30), fc.integer(), (cs, seed) => {
        const shuffled = [...cs].sort((a, b) => ((a.stake ^ seed) % 7) - ((b.stake ^ seed) % 7));
        expect(computeValidatorPowers(shuffled, params)).toEqual(computeValidatorPowers(cs, params));
      }),
    );
  });
});
