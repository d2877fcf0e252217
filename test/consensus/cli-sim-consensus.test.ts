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
});
