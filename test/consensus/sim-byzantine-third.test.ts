// With Byzantine power ≥ 1/3 safety is lost, and the loss is detected: a forking proposer (two blocks,
// one per half) whose colluders double-sign prevotes and precommits, plus a partition between the
// honest halves, makes honest nodes commit different blocks at one height. Their two QCs for that
// height and round are themselves the proof: every validator in both signed two precommits, and those
// validators hold more than 1/3 of the power.
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import { nobleEd25519 } from '../../src/core/crypto/ed25519.ts';
import { proposerIndex } from '../../src/core/consensus/proposer-selection.ts';
import { evidenceFromConflictingCommits, verifyQuorumCertificate } from '../../src/core/consensus/qc.ts';
import { voteSignBytesOf } from '../../src/core/consensus/sign-bytes.ts';
import { runConsensusSim, type ConsensusSimOptions } from '../../src/sim/consensus-sim.ts';

const base: ConsensusSimOptions = { validators: 4, seed: 41, heights: 1, powers: [10, 10, 10, 10], crypto: 'ed25519', delayMs: 50 };

/** The fork attack: Byzantine nodes reach everyone, the two honest nodes are cut apart for 20 s. */
function forkRun(byzantine: number[]) {
  const honest = [0, 1, 2, 3].filter((i) => !byzantine.includes(i));
  return runConsensusSim({
    ...base,
    byzantine,
    strategy: 'fork',
    partitions: [{ atMs: 0, healAtMs: 20_000, groups: [honest.slice(0, 1), honest.slice(1)] }],
    maxVirtualMs: 30_000,
  });
}

describe('Byzantine power ≥ 1/3', () => {
  it('forks honest nodes (safety lost) and the two QCs prove > 1/3 of the power double-signed', async () => {
    const probe = await runConsensusSim(base);
    const genesis = probe.genesis;
    const proposerId = genesis.validators[proposerIndex(genesis, 0)]!.id;
    const proposer = probe.nodes.find((x) => x.id === proposerId)!.index;
    const byzantine = [proposer, (proposer + 1) % 4];
    const r = await forkRun(byzantine);

    expect(r.byzantinePower * 3).toBeGreaterThan(r.totalPower);
    const honest = r.nodes.filter((x) => !x.byzantine);
    expect(honest.every((x) => x.committed[0] !== undefined)).toBe(true);
    expect(r.safetyViolations).toEqual([0]);
    const [a, b] = honest;
    expect(a!.committed[0]).not.toBe(b!.committed[0]);

    // Each QC is genuine: it verifies against the height's set.
    const qcA = a!.qcs[0]!;
    const qcB = b!.qcs[0]!;
    for (const qc of [qcA, qcB]) expect((await verifyQuorumCertificate(qc, genesis, r.chainId, nobleEd25519)).ok).toBe(true);

    // Detection: the common signers double-signed, and they hold > 1/3 of the power — all Byzantine.
    const { evidence, power } = evidenceFromConflictingCommits(genesis, qcA, qcB);
    expect(power * 3).toBeGreaterThan(genesis.totalPower);
    const byzIds = new Set(byzantine.map((i) => r.nodes[i]!.id));
    const accused = evidence.map((e) => genesis.validators.find((v) => bytesToHex(v.publicKey) === bytesToHex(e.voteA.validator))!.id);
    expect(new Set(accused)).toEqual(byzIds);
    for (const e of evidence)
      for (const v of [e.voteA, e.voteB]) expect(await nobleEd25519.verify(v.validator, voteSignBytesOf(r.chainId, v), v.signature)).toBe(true);
  });

  it('the fork is alarmed at runtime on the honest nodes: both block hashes and the double-signers, whose evidence reaches the pool', async () => {
    const probe = await runConsensusSim(base);
    const genesis = probe.genesis;
    const proposerId = genesis.validators[proposerIndex(genesis, 0)]!.id;
    const proposer = probe.nodes.find((x) => x.id === proposerId)!.index;
    const byzantine = [proposer, (proposer + 1) % 4];
    const honestIdx = [0, 1, 2, 3].filter((i) => !byzantine.includes(i));
    const r = await runConsensusSim({
      ...base,
      byzantine,
      strategy: 'fork',
      partitions: [{ atMs: 0, healAtMs: 20_000, groups: [honestIdx.slice(0, 1), honestIdx.slice(1)] }],
      minForkAlarms: 1,
      maxVirtualMs: 60_000,
    });
    expect(r.safetyViolations).toEqual([0]);
    const honest = r.nodes.filter((x) => !x.byzantine);
    const byzKeys = new Set(byzantine.map((i) => bytesToHex(genesis.validators.find((v) => v.id === r.nodes[i]!.id)!.publicKey)));
    for (const x of honest) {
      expect(x.forks.length).toBeGreaterThanOrEqual(1);
      const a = x.forks[0]!;
      expect(a.height).toBe(0);
      expect(bytesToHex(a.ours.blockHash)).toBe(x.committed[0]);
      const other = honest.find((y) => y !== x)!;
      expect(bytesToHex(a.theirs.blockHash)).toBe(other.committed[0]);
      expect(a.doubleSignedPower * 3).toBeGreaterThan(a.totalPower);
      expect(new Set(a.evidence.map((e) => bytesToHex(e.voteA.validator)))).toEqual(byzKeys);
      expect(x.counters.fork).toBe(x.forks.length);
    }
  });

  it('the same attack with Byzantine power < 1/3 cannot fork: control', async () => {
    const probe = await runConsensusSim({ ...base, powers: [10, 10, 10, 11] });
    const genesis = probe.genesis;
    const proposerId = genesis.validators[proposerIndex(genesis, 0)]!.id;
    const proposer = probe.nodes.find((x) => x.id === proposerId)!.index;
    const r = await runConsensusSim({
      ...base,
      powers: [10, 10, 10, 11],
      heights: 2,
      byzantine: [proposer],
      strategy: 'fork',
      partitions: [{ atMs: 0, healAtMs: 5_000, groups: [[(proposer + 1) % 4], [(proposer + 2) % 4, (proposer + 3) % 4]] }],
      maxVirtualMs: 60_000,
    });
    expect(r.byzantinePower * 3).toBeLessThan(r.totalPower);
    expect(r.safetyViolations).toEqual([]);
    for (const x of r.nodes.filter((y) => !y.byzantine)) {
      expect(x.committed.length).toBeGreaterThanOrEqual(2);
      expect(x.forks).toEqual([]);
    }
  });
});
