// Quorum certificates: precommits for one block at one height and round whose signers hold more
// than 2/3 of the height's total power. Anyone who knows the validator set and chain id can check one.
import { bytesEqual } from '../bytes.ts';
import { ED25519_SIGNATURE_BYTES, type Verifier } from '../crypto/ed25519.ts';
import { err, ok, type Result } from '../result.ts';
import { HASH_BYTES, voteSignBytes } from './sign-bytes.ts';
import { indexOfValidator, isQuorum } from './validator-set.ts';
import { duplicateVoteEvidence } from './vote-set.ts';
import { VoteType, type DuplicateVoteEvidence, type Hash, type QuorumCertificate, type Validator, type ValidatorSet, type Vote } from './types.ts';

/**
 * Checks, in this order, and names the first failure: height/round shape, block hash length,
 * indices in range and strictly ascending (so each signer counts once), signature lengths, power
 * 3·signed > 2·total, then every signature over the precommit sign bytes.
 */
export async function verifyQuorumCertificate(
  qc: QuorumCertificate,
  set: ValidatorSet,
  chainId: string,
  verifier: Verifier,
): Promise<Result<void>> {
  if (!Number.isSafeInteger(qc.height) || qc.height < 0) return err('qc height invalid');
  if (!Number.isInteger(qc.round) || qc.round < 0) return err('qc round invalid');
  if (qc.blockHash.length !== HASH_BYTES) return err('qc block hash must be 32 bytes');
  let signed = 0;
  let prev = -1;
  for (const s of qc.signatures) {
    const i = s.validatorIndex;
    if (!Number.isInteger(i) || i < 0 || i >= set.validators.length) return err(`qc index ${i} out of range`);
    if (i <= prev) return err(`qc index ${i} not strictly ascending (duplicate or out of order)`);
    if (s.signature.length !== ED25519_SIGNATURE_BYTES) return err(`qc signature of index ${i} must be 64 bytes`);
    prev = i;
    signed += (set.validators[i] as Validator).power;
  }
  if (!isQuorum(signed, set.totalPower)) return err(`qc power ${signed} of ${set.totalPower} is not more than 2/3`);
  const msg = voteSignBytes(chainId, VoteType.Precommit, qc.height, qc.round, qc.blockHash);
  const valid = await Promise.all(
    qc.signatures.map((s) =>
      verifier.verify((set.validators[s.validatorIndex] as Validator).publicKey, msg, s.signature),
    ),
  );
  const bad = valid.indexOf(false);
  if (bad >= 0) return err(`qc signature of index ${(qc.signatures[bad] as { validatorIndex: number }).validatorIndex} invalid`);
  return ok(undefined);
}

/**
 * A QC from collected precommits (already signature-checked): those for `blockHash` at
 * (height, round) by members of `set`, each signer once, ascending. Null without a quorum.
 */
export function buildQuorumCertificate(
  set: ValidatorSet,
  height: number,
  round: number,
  blockHash: Hash,
  precommits: Iterable<Vote>,
): QuorumCertificate | null {
  const byIndex = new Map<number, Uint8Array>();
  for (const v of precommits) {
    if (v.type !== VoteType.Precommit || v.height !== height || v.round !== round) continue;
    if (v.blockHash === null || !bytesEqual(v.blockHash, blockHash)) continue;
    const i = indexOfValidator(set, v.validator);
    if (i >= 0 && !byIndex.has(i)) byIndex.set(i, v.signature);
  }
  const indices = [...byIndex.keys()].sort((a, b) => a - b);
  let power = 0;
  for (const i of indices) power += (set.validators[i] as Validator).power;
  if (!isQuorum(power, set.totalPower)) return null;
  return {
    height,
    round,
    blockHash: blockHash.slice(),
    signatures: indices.map((i) => ({ validatorIndex: i, signature: byIndex.get(i) as Uint8Array })),
  };
}

/**
 * `qc` with every further signer among `precommits` (already signature-checked) of its height, round
 * and block: a superset of qc's signers, qc's own signatures kept. Returns qc itself when nobody new
 * signed. For the next block's last commit (precommits that arrived after the decision).
 */
export function extendQuorumCertificate(set: ValidatorSet, qc: QuorumCertificate, precommits: Iterable<Vote>): QuorumCertificate {
  const byIndex = new Map(qc.signatures.map((s) => [s.validatorIndex, s.signature]));
  for (const v of precommits) {
    if (v.type !== VoteType.Precommit || v.height !== qc.height || v.round !== qc.round) continue;
    if (v.blockHash === null || !bytesEqual(v.blockHash, qc.blockHash)) continue;
    const i = indexOfValidator(set, v.validator);
    if (i >= 0 && !byIndex.has(i)) byIndex.set(i, v.signature);
  }
  if (byIndex.size === qc.signatures.length) return qc;
  const indices = [...byIndex.keys()].sort((a, b) => a - b);
  return { ...qc, signatures: indices.map((i) => ({ validatorIndex: i, signature: byIndex.get(i) as Uint8Array })) };
}

/** Power of the QC's signers in `set` (for the application's reputation rule, or display). */
export function signedPower(qc: QuorumCertificate, set: ValidatorSet): number {
  let p = 0;
  for (const s of qc.signatures) p += set.validators[s.validatorIndex]?.power ?? 0;
  return p;
}

/**
 * Two QCs for one height and round naming different blocks: every validator in both signed two
 * precommits, so each common signer yields DuplicateVoteEvidence. If quorums are > 2/3, the common
 * signers hold > 1/3 of the power — the accountability of a safety violation. (QCs of different rounds
 * need the rounds' prevotes to assign blame, which a QC alone does not carry: returns [].)
 */
export function evidenceFromConflictingCommits(
  set: ValidatorSet,
  a: QuorumCertificate,
  b: QuorumCertificate,
): { evidence: DuplicateVoteEvidence[]; power: number } {
  if (a.height !== b.height || a.round !== b.round || bytesEqual(a.blockHash, b.blockHash)) return { evidence: [], power: 0 };
  const sigB = new Map(b.signatures.map((s) => [s.validatorIndex, s.signature]));
  const evidence: DuplicateVoteEvidence[] = [];
  let power = 0;
  for (const s of a.signatures) {
    const other = sigB.get(s.validatorIndex);
    const v = set.validators[s.validatorIndex];
    if (other === undefined || v === undefined) continue;
    const vote = (blockHash: Hash, signature: Uint8Array): Vote => ({
      type: VoteType.Precommit,
      height: a.height,
      round: a.round,
      blockHash,
      validator: v.publicKey,
      signature,
    });
    evidence.push(duplicateVoteEvidence(vote(a.blockHash, s.signature), vote(b.blockHash, other)));
    power += v.power;
  }
  return { evidence, power };
}
