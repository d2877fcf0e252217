// Quorum certificates: built from collected precommits; verification rejects each kind of defect
// and names it (index range, order, duplicates, signature length, power at exactly 2/3, bad signature,
// wrong chain, round or block).
import { describe, expect, it } from 'vitest';
import { nobleEd25519 } from '../../src/core/crypto/ed25519.ts';
import { buildQuorumCertificate, verifyQuorumCertificate } from '../../src/core/consensus/qc.ts';
import { VoteType, type QuorumCertificate } from '../../src/core/consensus/types.ts';
import { makeValidatorSet } from '../../src/core/consensus/validator-set.ts';
import { CHAIN_ID, hashOf, signVote, testKeys } from './helpers.ts';

const keys = await testKeys(4);
const set = makeValidatorSet(keys.map((k) => k.validator(10)));
// Keys in the set's (id) order, so precommits[i] is by validator index i.
const ordered = set.validators.map((v) => keys.find((k) => k.validator(1).id === v.id)!);
const block = hashOf(1);
const precommits = await Promise.all(ordered.map((k) => signVote(k.signer, VoteType.Precommit, 7, 2, block)));
const verify = (qc: QuorumCertificate) => verifyQuorumCertificate(qc, set, CHAIN_ID, nobleEd25519);

describe('quorum certificate', () => {
  it('builds from precommits (ignoring other blocks, other rounds, prevotes, duplicates) and verifies', async () => {
    const noise = [
      await signVote(ordered[0]!.signer, VoteType.Precommit, 7, 2, hashOf(2)),
      await signVote(ordered[1]!.signer, VoteType.Prevote, 7, 2, block),
      await signVote(ordered[3]!.signer, VoteType.Precommit, 7, 1, block),
    ];
    const qc = buildQuorumCertificate(set, 7, 2, block, [...noise, precommits[2]!, precommits[0]!, precommits[1]!, precommits[0]!]);
    expect(qc?.signatures.map((s) => s.validatorIndex)).toEqual([0, 1, 2]);
    expect(await verify(qc!)).toEqual({ ok: true, value: undefined });
  });

  it('is not built without more than 2/3 of the power', () => {
    const uneven = makeValidatorSet(ordered.map((k, i) => k.validator(i === 3 ? 30 : 10)));
    // 3 × 10 of 60 is half: not a quorum; with the 30 it is 50/60.
    expect(buildQuorumCertificate(uneven, 7, 2, block, precommits.slice(0, 3))).toBeNull();
    expect(buildQuorumCertificate(uneven, 7, 2, block, precommits.slice(1))).not.toBeNull();
  });

  it('rejects each defect, naming it', async () => {
    const good = buildQuorumCertificate(set, 7, 2, block, precommits)!;
    const sigs = good.signatures;
    const cases: [QuorumCertificate, RegExp][] = [
      [{ ...good, signatures: [...sigs.slice(0, 3), { validatorIndex: 4, signature: sigs[3]!.signature }] }, /out of range/],
      [{ ...good, signatures: [sigs[0]!, sigs[0]!, sigs[1]!, sigs[2]!] }, /ascending/],
      [{ ...good, signatures: [sigs[1]!, sigs[0]!, sigs[2]!] }, /ascending/],
      [{ ...good, signatures: [sigs[0]!, { ...sigs[1]!, signature: sigs[1]!.signature.subarray(1) }, sigs[2]!] }, /64 bytes/],
      [{ ...good, signatures: sigs.slice(0, 2) }, /not more than 2\/3/],
      [{ ...good, signatures: [sigs[0]!, { ...sigs[1]!, signature: sigs[2]!.signature }, sigs[2]!] }, /index 1 invalid/],
      [{ ...good, round: 3 }, /invalid/],
      [{ ...good, height: 8 }, /invalid/],
      [{ ...good, blockHash: hashOf(9) }, /invalid/],
      [{ ...good, blockHash: block.subarray(1) }, /32 bytes/],
    ];
    for (const [qc, why] of cases) {
      const r = await verify(qc);
      expect(r.ok, String(why)).toBe(false);
      if (!r.ok) expect(r.error).toMatch(why);
    }
    const other = await verifyQuorumCertificate(good, set, 'other-chain', nobleEd25519);
    expect(other.ok).toBe(false);
  });

  it('exactly 2/3 of the power is not enough; one more unit is', async () => {
    const three = makeValidatorSet(ordered.slice(0, 3).map((k) => k.validator(1)));
    const votes = precommits.slice(0, 3);
    const two = buildQuorumCertificate(three, 7, 2, block, votes.slice(0, 2));
    expect(two).toBeNull();
    const all = buildQuorumCertificate(three, 7, 2, block, votes)!;
    const forged = { ...all, signatures: all.signatures.slice(0, 2) };
    expect(await verifyQuorumCertificate(forged, three, CHAIN_ID, nobleEd25519)).toMatchObject({ ok: false, error: expect.stringMatching(/2\/3/) });
    expect((await verifyQuorumCertificate(all, three, CHAIN_ID, nobleEd25519)).ok).toBe(true);
  });
});
