// `aegis sim consensus`: the report lists every node with its committed hashes, the evidence and final
// powers; same seed, same report; honest nodes agree; equivocators end up jailed.
import { describe, expect, it } from 'vitest';
import { simConsensusReport } from '../../src/cli/sim-consensus.ts';

describe('aegis sim consensus', () => {
  it('reports commits, evidence and final powers, reproducibly', async () => {
    const args = { validators: 5, byzantine: 1, strategy: 'equivocate' as const, heights: 6, seed: 11, json: true };
    const a = await simConsensusReport(args);
    const b = await simConsensusReport(args);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.nodes).toHaveLength(5);
    expect(a.nodes.filter((n) => n.byzantine)).toHaveLength(1);
    const honest = a.nodes.filter((n) => !n.byzantine);
    for (const n of honest) expect(n.committed).toEqual(honest[0]!.committed);
    expect(honest[0]!.committed).toHaveLength(6);
    const byzId = a.nodes.find((n) => n.byzantine)!.id;
    expect(a.evidence.length).toBeGreaterThan(0);
    expect(a.evidence.every((e) => e.validator === byzId)).toBe(true);
    expect(a.validators.find((v) => v.id === byzId)?.jailed).toBe(true);
    expect(a.safetyViolations).toEqual([]);
  });

  it("reports the chain's powers (share-capped stakes), not the simulator's seeded numbers", async () => {
    const args = { validators: 4, byzantine: 1, strategy: 'equivocate' as const, heights: 3, seed: 1, json: true };
    const chain = await simConsensusReport(args);
    // The test application votes with the seeded numbers themselves: what the report used to show.
    const seeded = await simConsensusReport({ ...args, app: 'test' as const });
    const sum = (ns: { power: number }[]): number => ns.reduce((t, n) => t + n.power, 0);
    for (const r of [chain, seeded]) {
      expect(r.totalPower).toBe(sum(r.nodes));
      expect(r.byzantinePower).toBe(sum(r.nodes.filter((n) => n.byzantine)));
      expect(r.byzantineAtLeastOneThird).toBe(3 * r.byzantinePower >= r.totalPower);
    }
    // Reputation starts at 1, so power ≤ stake; the share cap keeps everyone below 1/3 (n = 4).
    for (const [i, n] of chain.nodes.entries()) {
      expect(n.power).toBeGreaterThan(0);
      expect(n.power).toBeLessThanOrEqual(seeded.nodes[i]!.power);
      expect(3 * n.power).toBeLessThan(chain.totalPower);
    }
    expect(seeded.nodes.some((n) => 3 * n.power >= seeded.totalPower)).toBe(true);
    expect(chain.totalPower).toBeLessThan(seeded.totalPower);
    // Final powers are the validator table's; the jailed equivocator has none.
    for (const n of chain.nodes) expect(n.finalPower).toBe(chain.validators.find((v) => v.id === n.id)?.power ?? 0);
    expect(chain.nodes.find((n) => n.byzantine)?.finalPower).toBe(0);
  });
});
