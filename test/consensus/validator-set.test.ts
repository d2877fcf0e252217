// Validator sets: order-independent construction and hash, explicit rejection of bad entries;
// proposer selection: frequency proportional to power (random powers), ties by id, new validators behind.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import {
  advanceValidatorSet,
  centrePriorities,
  incrementPriorities,
  proposerIndex,
  rescalePriorities,
} from '../../src/core/consensus/proposer-selection.ts';
import type { Validator } from '../../src/core/consensus/types.ts';
import { indexOfValidator, isQuorum, makeValidatorSet, tryMakeValidatorSet } from '../../src/core/consensus/validator-set.ts';
import { testKeys } from './helpers.ts';

const keys = await testKeys(12);
const vals = (powers: readonly number[]): Validator[] => powers.map((p, i) => keys[i]!.validator(p));

describe('validator set', () => {
  it('sorts by id; the hash and indices do not depend on input order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 12 }), fc.nat(), (powers, seed) => {
        const v = vals(powers);
        const shuffledInput = v.slice().sort((a, b) => ((a.publicKey[0]! ^ seed) & 0xff) - ((b.publicKey[0]! ^ seed) & 0xff));
        const a = makeValidatorSet(v);
        const b = makeValidatorSet(shuffledInput);
        expect(bytesToHex(a.hash)).toBe(bytesToHex(b.hash));
        expect(a.validators.map((x) => x.id)).toEqual([...a.validators.map((x) => x.id)].sort());
        expect(a.totalPower).toBe(powers.reduce((s, p) => s + p, 0));
        for (const x of v) expect(a.validators[indexOfValidator(a, x.publicKey)]!.id).toBe(x.id);
      }),
      { numRuns: 30 },
    );
  });

  it('hash changes with any power or key', () => {
    const a = makeValidatorSet(vals([1, 2, 3]));
    expect(bytesToHex(makeValidatorSet(vals([1, 2, 4])).hash)).not.toBe(bytesToHex(a.hash));
    expect(bytesToHex(makeValidatorSet([...vals([1, 2]), keys[5]!.validator(3)]).hash)).not.toBe(bytesToHex(a.hash));
  });

  it('rejects, naming the entry: empty, duplicate id, zero or fractional power, id not of the key, short key', () => {
    const v = vals([1, 2]);
    expect(tryMakeValidatorSet([])).toMatchObject({ ok: false, error: expect.stringContaining('empty') });
    expect(tryMakeValidatorSet([v[0]!, v[0]!])).toMatchObject({ ok: false, error: expect.stringContaining('duplicate') });
    expect(tryMakeValidatorSet([v[0]!, { ...v[1]!, power: 0 }])).toMatchObject({ ok: false, error: expect.stringContaining('validator 1: power') });
    expect(tryMakeValidatorSet([{ ...v[0]!, power: 1.5 }])).toMatchObject({ ok: false, error: expect.stringContaining('power') });
    expect(tryMakeValidatorSet([{ ...v[0]!, id: v[1]!.id }])).toMatchObject({ ok: false, error: expect.stringContaining("key's id") });
    expect(tryMakeValidatorSet([{ ...v[0]!, publicKey: new Uint8Array(31) }])).toMatchObject({ ok: false, error: expect.stringContaining('32 bytes') });
    expect(tryMakeValidatorSet([{ ...v[0]!, power: 2 ** 49 }])).toMatchObject({ ok: false, error: expect.stringContaining('total power') });
    expect(() => makeValidatorSet([v[0]!, v[0]!])).toThrow(/validators/);
  });

  it('quorum is strictly more than 2/3 in integers', () => {
    expect(isQuorum(2, 3)).toBe(false);
    expect(isQuorum(3, 4)).toBe(true);
    expect(isQuorum(200, 300)).toBe(false);
    expect(isQuorum(201, 300)).toBe(true);
  });
});

describe('proposer selection', () => {
  it('over many heights each validator proposes in proportion to its power (random powers)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 10 }), (powers) => {
        let set = makeValidatorSet(vals(powers));
        const total = set.totalPower;
        const steps = 4 * total;
        const counts = new Map<string, number>();
        for (let h = 0; h < steps; h++) {
          const id = set.validators[proposerIndex(set, 0)]!.id;
          counts.set(id, (counts.get(id) ?? 0) + 1);
          set = advanceValidatorSet(set, set.validators);
        }
        for (const v of set.validators) {
          const expected = (steps * v.power) / total;
          expect(Math.abs((counts.get(v.id) ?? 0) - expected)).toBeLessThanOrEqual(powers.length);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('rounds within one height follow the same weighted sequence, and agree with incrementPriorities', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 2, maxLength: 8 }), (powers) => {
        const set = makeValidatorSet(vals(powers));
        const rounds = 3 * set.totalPower;
        const counts = new Array<number>(powers.length).fill(0);
        for (let r = 0; r < rounds; r++) {
          const i = proposerIndex(set, r);
          counts[i]!++;
          if (r < 20) expect(incrementPriorities(set, r + 1).proposerIndex).toBe(i);
        }
        set.validators.forEach((v, i) => expect(Math.abs(counts[i]! - 3 * v.power)).toBeLessThanOrEqual(powers.length));
      }),
      { numRuns: 30 },
    );
  });

  it('breaks ties by smallest id and is deterministic', () => {
    const set = makeValidatorSet(vals([5, 5, 5]));
    expect(proposerIndex(set, 0)).toBe(0);
    expect([0, 1, 2].map((r) => proposerIndex(set, r))).toEqual([0, 1, 2]);
  });

  it('a new validator starts behind (−1.125·total) and does not propose at once', () => {
    let set = makeValidatorSet(vals([10, 10, 10]));
    for (let h = 0; h < 5; h++) set = advanceValidatorSet(set, set.validators);
    const newcomer = keys[3]!.validator(10);
    const next = advanceValidatorSet(set, [...set.validators, newcomer]);
    const ni = indexOfValidator(next, newcomer.publicKey);
    expect(next.proposerPriorities[ni]).toBe(Math.min(...next.proposerPriorities));
    expect(proposerIndex(next, 0)).not.toBe(ni);
    expect(proposerIndex(next, 1)).not.toBe(ni);
  });

  it('rescale keeps the spread within the window, centring brings the mean to [0, 1)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), { minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 2 ** 20 }), (pr, window) => {
        const p = pr.slice();
        rescalePriorities(p, window);
        expect(Math.max(...p) - Math.min(...p)).toBeLessThanOrEqual(Math.max(window, 0) + 2);
        centrePriorities(p);
        const mean = p.reduce((s, x) => s + x, 0) / p.length;
        expect(mean).toBeGreaterThanOrEqual(0);
        expect(mean).toBeLessThan(1);
      }),
    );
  });

  it('priorities stay bounded by a few times the total over long runs with changing powers', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer({ min: 1, max: 10_000 }), { minLength: 4, maxLength: 4 }), { minLength: 1, maxLength: 40 }), (powerSeq) => {
        let set = makeValidatorSet(vals([1, 1, 1, 1]));
        for (const powers of powerSeq) {
          set = advanceValidatorSet(set, vals(powers));
          for (const p of set.proposerPriorities) expect(Math.abs(p)).toBeLessThanOrEqual(3 * set.totalPower);
        }
      }),
      { numRuns: 30 },
    );
  });
});
