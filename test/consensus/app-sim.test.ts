// The real chain application under the engine's seeded simulator: Byzantine validators with less
// than 1/3 of the power equivocate, go silent or propose conflicting blocks; honest nodes never
// commit different blocks, evidence (duplicate votes; duplicate proposals from a conflicting
// proposer) is committed and punished identically everywhere — slashed, reputation 0, jailed — and
// every honest node ends with the same stakes, reputations and powers.
import { describe, expect, it } from 'vitest';
import { runConsensusSim, type ByzantineStrategy } from '../../src/sim/consensus-sim.ts';
import { ChainSimApp } from '../../src/sim/chain-sim-app.ts';
import { encodeEvidence, offender } from '../../src/core/consensus/evidence.ts';
import { bytesToHex } from '../../src/core/bytes.ts';
import { nodeIdFromPublicKey } from '../../src/core/crypto/node-id.ts';

const SEEDS = process.env.AEGIS_LONG === '1' ? 40 : 4;

async function run(strategy: ByzantineStrategy, seed: number) {
  return runConsensusSim({
    validators: 7,
    seed,
    heights: 10,
    byzantine: [0, 1],
    powers: [10, 12, 20, 20, 25, 20, 30], // Byzantine 22 of 137 < 1/3
    strategy,
    crypto: 'fast',
    // A double-signer or conflicting proposer must end up caught: run on until evidence is committed.
    minEvidence: strategy === 'silent' ? 0 : 1,
    makeApp: (ctx) => new ChainSimApp(ctx),
  });
}

describe('chain application in the consensus simulator', () => {
  for (const strategy of ['equivocate', 'silent', 'conflict'] as const)
    it(`${strategy}: safety, identical evidence, stakes, reputations and powers on every honest node`, async () => {
      for (let seed = 1; seed <= SEEDS; seed++) {
        const r = await run(strategy, seed);
        expect(r.safetyViolations, `seed ${seed}`).toEqual([]);
        const honest = r.nodes.filter((n) => !n.byzantine);
        for (const n of honest) expect(n.committed.filter(Boolean).length, `seed ${seed}`).toBeGreaterThanOrEqual(9);
        // Every honest node holds the same final figures and the same committed evidence.
        for (const v of r.validators) expect(v).toEqual(r.validators[0]);
        const evidence = r.evidence.map((list) => list.map((e) => bytesToHex(encodeEvidence(e))));
        for (const e of evidence) expect(e).toEqual(evidence[0]);
        const byzIds = new Set(r.nodes.filter((n) => n.byzantine).map((n) => n.id));
        for (const v of r.validators[0]!) {
          if (!byzIds.has(v.id)) expect(v.jailed, `honest ${v.id} jailed (seed ${seed})`).toBe(false);
        }
        if (strategy !== 'silent') {
          expect(evidence[0]!.length, `seed ${seed}`).toBeGreaterThan(0);
          const kind = strategy === 'conflict' ? 'duplicate-proposal' : 'duplicate-vote';
          for (const e of r.evidence[0]!) expect(e.kind).toBe(kind);
          // Only Byzantine keys are accused; exactly the accused are jailed, at reputation 0, stake cut.
          const accused = new Set(r.evidence[0]!.map((e) => nodeIdFromPublicKey(offender(e))));
          const genesisPower = new Map(r.genesis.validators.map((v) => [v.id, v.power]));
          for (const id of accused) expect(byzIds.has(id)).toBe(true);
          for (const v of r.validators[0]!) {
            expect(v.jailed).toBe(accused.has(v.id));
            if (accused.has(v.id)) {
              expect(v).toMatchObject({ power: 0, reputation: 0 });
              expect(v.stake).toBeLessThan(genesisPower.get(v.id) as number);
            }
          }
        }
      }
    });
});
