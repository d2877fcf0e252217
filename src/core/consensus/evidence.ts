// Evidence of misbehaviour, checked before a block carrying it is voted for. Blocks carry evidence
// ahead of transactions; the application punishes each offence once (offenceKey), however many
// blocks or gossip copies name it.
//
// evidence = u8 kind ‖ body     kind 1: duplicate vote (vote-codec.ts)
//                               kind 2: split view: 32 log owner ‖ u32 len ‖ head A ‖ u32 len ‖ head B
//                               kind 3: duplicate proposal (vote-codec.ts)
// A duplicate proposal (two signed proposals of one proposer, one height and round, different blocks)
// is punished as a double sign (slashing.ts): the proposer signed two conflicting messages.
// Split-view heads are the audit log's signed tree heads; the check is pluggable (SplitViewChecker);
// the chain uses the ledger's pure checker (core/ledger/split-view.ts) through ledgerSplitViewChecker
// unless told otherwise. Without a checker, split-view evidence is refused (it cannot be judged).
import { bytesEqual, bytesToHex, compareBytes, concatBytes } from '../bytes.ts';
import { ByteReader, ByteWriter, DecodeError, safeDecode } from '../codec/index.ts';
import { ED25519_PUBLIC_KEY_BYTES, type Verifier } from '../crypto/ed25519.ts';
import { domainTag, sha256 } from '../crypto/hash.ts';
import { checkSplitViewEvidence } from '../ledger/split-view.ts';
import { err, ok, type Result } from '../result.ts';
import { proposalSignBytesOf, voteSignBytesOf } from './sign-bytes.ts';
import { indexOfValidator } from './validator-set.ts';
import { readDuplicateProposalEvidence, readDuplicateVoteEvidence, writeDuplicateProposalEvidence, writeDuplicateVoteEvidence } from './vote-codec.ts';
import type { DuplicateProposalEvidence, DuplicateVoteEvidence, Evidence, Hash, SplitViewEvidence, ValidatorSet } from './types.ts';

export const EvidenceKind = { DuplicateVote: 1, SplitView: 2, DuplicateProposal: 3 } as const;
export const MAX_TREE_HEAD_BYTES = 4096;

/** Judges split-view evidence (the ledger's pure checker); may be async. */
export type SplitViewChecker = (e: SplitViewEvidence) => boolean | Promise<boolean>;

/**
 * The ledger's checker as the chain applies it: only forks the two signed heads prove by
 * themselves (same size with different roots, or two heads naming the same parent) are punished.
 * A pair of different sizes without a consistency proof is not: the owner may still publish one.
 */
export function ledgerSplitViewChecker(verifier: Verifier): SplitViewChecker {
  return async (e) => {
    const v = await checkSplitViewEvidence(e, verifier);
    return v.valid && v.proven !== 'unreconciled';
  };
}

/**
 * A checker that remembers the evidence it accepted (by offenceKey, at most `max`), so pooled
 * evidence is judged once rather than again in every proposal and every validation of a block
 * carrying it. A split-view verdict depends on the bytes alone, never on the height; refusals are
 * not remembered (a throwing or async checker may do better next time).
 */
export function memoisedSplitViewChecker(checker: SplitViewChecker, max = 256): SplitViewChecker {
  const accepted = new Set<string>();
  return async (e) => {
    const key = offenceKey(e);
    if (accepted.has(key)) return true;
    const good = await checker(e);
    if (good) {
      if (accepted.size >= max) accepted.delete(accepted.values().next().value as string);
      accepted.add(key);
    }
    return good;
  };
}

export function writeEvidence(w: ByteWriter, e: Evidence): void {
  if (e.kind === 'duplicate-vote') {
    w.u8(EvidenceKind.DuplicateVote);
    writeDuplicateVoteEvidence(w, e);
  } else if (e.kind === 'duplicate-proposal') {
    w.u8(EvidenceKind.DuplicateProposal);
    writeDuplicateProposalEvidence(w, e);
  } else {
    if (e.logOwner.length !== ED25519_PUBLIC_KEY_BYTES) throw new Error(`"logOwner" must be 32 bytes`);
    if (e.headA.length > MAX_TREE_HEAD_BYTES || e.headB.length > MAX_TREE_HEAD_BYTES)
      throw new Error(`"headA"/"headB" must be at most ${MAX_TREE_HEAD_BYTES} bytes`);
    w.u8(EvidenceKind.SplitView).bytes(e.logOwner).varBytes(e.headA).varBytes(e.headB);
  }
}

export function readEvidence(r: ByteReader): Evidence {
  const kind = r.u8('evidence kind');
  if (kind === EvidenceKind.DuplicateVote) return readDuplicateVoteEvidence(r);
  if (kind === EvidenceKind.DuplicateProposal) return readDuplicateProposalEvidence(r);
  if (kind === EvidenceKind.SplitView) {
    const logOwner = r.bytes(ED25519_PUBLIC_KEY_BYTES, 'log owner').slice();
    const headA = r.varBytes(MAX_TREE_HEAD_BYTES, 'head A').slice();
    const headB = r.varBytes(MAX_TREE_HEAD_BYTES, 'head B').slice();
    return { kind: 'split-view', logOwner, headA, headB };
  }
  throw new DecodeError(`evidence kind ${kind} unknown`);
}

export function encodeEvidence(e: Evidence): Uint8Array {
  const w = new ByteWriter(512);
  writeEvidence(w, e);
  return w.finish();
}

export function decodeEvidence(bytes: Uint8Array): Result<Evidence> {
  return safeDecode(() => {
    const r = new ByteReader(bytes);
    const e = readEvidence(r);
    r.end('evidence');
    return e;
  });
}

/** The public key of the node the evidence accuses. */
export function offender(e: Evidence): Uint8Array {
  return e.kind === 'duplicate-vote' ? e.voteA.validator : e.kind === 'duplicate-proposal' ? e.proposalA.proposer : e.logOwner;
}

/** Height of the offence (split views have none: 0). */
export function offenceHeight(e: Evidence): number {
  return e.kind === 'duplicate-vote' ? e.voteA.height : e.kind === 'duplicate-proposal' ? e.proposalA.height : 0;
}

const SPLIT_TAG = domainTag('aegis/split-view-offence/v1');

/**
 * One offence, however it is presented: a double sign is one (validator, height, round, type) —
 * the order of the two votes does not matter; a duplicate proposal is one (proposer, height, round),
 * however many blocks it signed; a split view is the owner and the unordered pair of heads.
 */
export function offenceKey(e: Evidence): string {
  if (e.kind === 'duplicate-vote') {
    const v = e.voteA;
    return `dv:${bytesToHex(v.validator)}:${v.height}:${v.round}:${v.type}`;
  }
  if (e.kind === 'duplicate-proposal') {
    const q = e.proposalA;
    return `dp:${bytesToHex(q.proposer)}:${q.height}:${q.round}`;
  }
  const [a, b] = compareBytes(e.headA, e.headB) <= 0 ? [e.headA, e.headB] : [e.headB, e.headA];
  const pair: Hash = sha256(concatBytes(SPLIT_TAG, sha256(a), sha256(b)));
  return `sv:${bytesToHex(e.logOwner)}:${bytesToHex(pair)}`;
}

export interface EvidenceContext {
  readonly chainId: string;
  readonly verifier: Verifier;
  /** The validator set that decided `height`, or null when this node no longer knows it. */
  validatorSetAt(height: number): ValidatorSet | null;
  /** Height of the block that would carry the evidence. */
  readonly currentHeight: number;
  readonly maxAgeBlocks: number;
  readonly splitView?: SplitViewChecker | undefined;
}

/** The offence is committed, not older than maxAgeBlocks, and signed by a member of that height's set. */
function checkSigner(what: string, signer: Uint8Array, height: number, ctx: EvidenceContext): Result<true> {
  if (height >= ctx.currentHeight) return err(`${what}: offence height not yet committed`);
  if (ctx.currentHeight - height > ctx.maxAgeBlocks) return err(`${what}: older than ${ctx.maxAgeBlocks} blocks`);
  const set = ctx.validatorSetAt(height);
  if (set === null) return err(`${what}: validator set of height ${height} unknown`);
  if (indexOfValidator(set, signer) < 0) return err(`${what}: signer not in the set of height ${height}`);
  return ok(true);
}

async function verifyDuplicateVote(e: DuplicateVoteEvidence, ctx: EvidenceContext): Promise<Result<true>> {
  const { voteA: a, voteB: b } = e;
  if (!bytesEqual(a.validator, b.validator)) return err('duplicate vote: votes are from different validators');
  if (a.height !== b.height || a.round !== b.round || a.type !== b.type)
    return err('duplicate vote: votes differ in height, round or type');
  const same = a.blockHash === null ? b.blockHash === null : b.blockHash !== null && bytesEqual(a.blockHash, b.blockHash);
  if (same) return err('duplicate vote: both votes name the same block');
  const signer = checkSigner('duplicate vote', a.validator, a.height, ctx);
  if (!signer.ok) return signer;
  const [okA, okB] = await Promise.all([
    ctx.verifier.verify(a.validator, voteSignBytesOf(ctx.chainId, a), a.signature),
    ctx.verifier.verify(b.validator, voteSignBytesOf(ctx.chainId, b), b.signature),
  ]);
  if (!okA || !okB) return err('duplicate vote: a signature is invalid');
  return ok(true);
}

async function verifyDuplicateProposal(e: DuplicateProposalEvidence, ctx: EvidenceContext): Promise<Result<true>> {
  const { proposalA: a, proposalB: b } = e;
  if (!bytesEqual(a.proposer, b.proposer)) return err('duplicate proposal: proposals are from different proposers');
  if (a.height !== b.height || a.round !== b.round) return err('duplicate proposal: proposals differ in height or round');
  if (bytesEqual(a.blockHash, b.blockHash)) return err('duplicate proposal: both proposals name the same block');
  const signer = checkSigner('duplicate proposal', a.proposer, a.height, ctx);
  if (!signer.ok) return signer;
  const [okA, okB] = await Promise.all([
    ctx.verifier.verify(a.proposer, proposalSignBytesOf(ctx.chainId, a), a.signature),
    ctx.verifier.verify(b.proposer, proposalSignBytesOf(ctx.chainId, b), b.signature),
  ]);
  if (!okA || !okB) return err('duplicate proposal: a signature is invalid');
  return ok(true);
}

/** Whether the evidence proves an offence (signatures, set membership, age). Never throws. */
export async function verifyEvidence(e: Evidence, ctx: EvidenceContext): Promise<Result<true>> {
  if (e.kind === 'duplicate-vote') return verifyDuplicateVote(e, ctx);
  if (e.kind === 'duplicate-proposal') return verifyDuplicateProposal(e, ctx);
  if (bytesEqual(e.headA, e.headB)) return err('split view: both heads are identical');
  if (ctx.splitView === undefined) return err('split view: no checker configured');
  try {
    return (await ctx.splitView(e)) ? ok(true) : err('split view: heads are consistent or invalid');
  } catch {
    return err('split view: checker failed');
  }
}
