// Chain.extendLastCommit: a fuller QC for the last committed block replaces the last commit only
// when it is for the same height, block and round and its signers are a strict superset (old
// signatures byte for byte, new ones verified); the next proposal carries it and every validator
// accepts that block.
import { describe, expect, it } from 'vitest';
import { decodeBlock } from '../../src/core/consensus/block.ts';
import { indexOfValidator } from '../../src/core/consensus/validator-set.ts';
import type { Signer } from '../../src/core/crypto/ed25519.ts';
import type { QuorumCertificate, ValidatorSet } from '../../src/core/consensus/types.ts';
import { appKeys, LockStep, signQc, testGenesis } from './app-helpers.ts';

/** Signers whose index in `set` is in `indices`. */
const byIndex = (set: ValidatorSet, indices: readonly number[]) => (s: Signer) => indices.includes(indexOfValidator(set, s.publicKey));

async function setup(n: number, present: readonly number[]) {
  const keys = await appKeys(n);
  const net = LockStep.create(testGenesis(keys, keys.map(() => 100)), keys);
  const set = net.chains[0]!.validatorSet(1);
  const bytes = await net.step((s) => !byIndex(set, present)(s));
  const chain = net.chains[0]!;
  const hash = chain.blockHash(bytes);
  const qc = (indices: readonly number[], o: { height?: number; round?: number; hash?: Uint8Array } = {}) =>
    signQc(set, keys, o.height ?? 1, o.hash ?? hash, byIndex(set, indices), o.round ?? 0);
  return { net, chain, set, qc };
}

const signers = (q: QuorumCertificate | null) => q?.signatures.map((s) => s.validatorIndex);

describe('Chain.extendLastCommit', () => {
  it('refuses a QC for another block, height or round, a non-superset, no new signer, or an altered signature', async () => {
    const { chain, qc } = await setup(4, [0, 1, 2]);
    expect(signers(chain.lastCommit)).toEqual([0, 1, 2]);
    const refuse = async (q: QuorumCertificate, reason: string) => {
      const r = await chain.extendLastCommit(q);
      expect(r.ok, reason).toBe(false);
      if (!r.ok) expect(r.error).toContain(reason);
      expect(signers(chain.lastCommit)).toEqual([0, 1, 2]);
    };
    await refuse(await qc([0, 1, 2, 3], { hash: new Uint8Array(32).fill(7) }), 'not for the last block');
    await refuse(await qc([0, 1, 2, 3], { height: 2 }), 'not for the last block');
    await refuse(await qc([0, 1, 2, 3], { round: 1 }), 'round 1');
    await refuse(await qc([0, 1, 3]), 'not a superset');
    await refuse(await qc([0, 1, 2]), 'no new signer');
    const full = await qc([0, 1, 2, 3]);
    const forgedNew = { ...full, signatures: full.signatures.map((s) => (s.validatorIndex === 3 ? { ...s, signature: new Uint8Array(64).fill(1) } : s)) };
    await refuse(forgedNew, 'signature invalid');
    const alteredOld = { ...full, signatures: full.signatures.map((s) => (s.validatorIndex === 0 ? { ...s, signature: new Uint8Array(64).fill(1) } : s)) };
    await refuse(alteredOld, 'differs');
    const unordered = { ...full, signatures: [...full.signatures].reverse() };
    await refuse(unordered, 'out of range or order');
    expect(chain.rejected.get('last commit extension')).toBe(8);
  });

  it('a superset replaces the last commit, the next block carries it, and every validator accepts that block', async () => {
    const { net, chain, qc } = await setup(4, [0, 1, 2]);
    // Every chain extends (each would propose); the LockStep proposer's block must carry all four.
    const full = await qc([0, 1, 2, 3]);
    for (const c of net.chains) expect(await c.extendLastCommit(full)).toEqual({ ok: true, value: true });
    expect(signers(chain.lastCommit)).toEqual([0, 1, 2, 3]);
    const next = await net.step(); // checkBlock on every chain inside
    const d = decodeBlock(next);
    expect(d.ok).toBe(true);
    if (d.ok) expect(signers(d.value.body.lastCommit)).toEqual([0, 1, 2, 3]);
    // The slow validator's precommit counted: its reputation rose with everyone else's.
    const reps = [...net.chains[0]!.state.candidates.values()].map((c) => c.reputationMicros);
    expect(new Set(reps).size).toBe(1);
  });

  it('concurrent extensions: the fuller one wins whichever verifies first', async () => {
    const { chain, qc } = await setup(7, [0, 1, 2, 3, 4]);
    const [a, b] = [await qc([0, 1, 2, 3, 4, 5]), await qc([0, 1, 2, 3, 4, 5, 6])];
    const results = await Promise.all([chain.extendLastCommit(a), chain.extendLastCommit(b)]);
    expect(results[1]).toEqual({ ok: true, value: true });
    expect(signers(chain.lastCommit)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});
