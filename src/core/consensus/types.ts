// Public types of the consensus layer, shared by the Tendermint state machine (engine side:
// tendermint.ts, votes, proposer selection, quorum certificates) and the chain application
// (application side: blocks, transactions, stake, reputation, evidence, genesis, light client).
// Both sides may add types here; changing an existing one needs both sides in step.
import type { NodeId } from '../crypto/node-id.ts';

/** SHA-256 digest, 32 bytes. */
export type Hash = Uint8Array;

/** A validator as one height sees it. `power` is a safe non-negative integer (see power.ts). */
export interface Validator {
  readonly id: NodeId;
  readonly publicKey: Uint8Array;
  readonly power: number;
}

/**
 * The validators of one height, sorted by id; the index of a validator is its position here.
 * Build it with validator-set.ts `makeValidatorSet` (checks, sorts, hashes); carry it from one height
 * to the next with proposer-selection.ts `advanceValidatorSet` so proposer priorities carry over.
 */
export interface ValidatorSet {
  readonly validators: readonly Validator[];
  readonly totalPower: number;
  /** Commits to the ordered (publicKey, power) list; headers carry it. Priorities are not hashed. */
  readonly hash: Hash;
  /**
   * CometBFT proposer priorities aligned with `validators`, as they stand before round 0 of this
   * height is chosen (proposer-selection.ts). Safe integers; part of the application state.
   */
  readonly proposerPriorities: readonly number[];
}

export const VoteType = { Prevote: 1, Precommit: 2 } as const;
export type VoteType = (typeof VoteType)[keyof typeof VoteType];

/** A signed prevote or precommit. `blockHash` null is a vote for nil. */
export interface Vote {
  readonly type: VoteType;
  readonly height: number;
  readonly round: number;
  readonly blockHash: Hash | null;
  /** The validator's Ed25519 public key (32 bytes). */
  readonly validator: Uint8Array;
  readonly signature: Uint8Array;
}

/** A signed proposal of one block for one height and round; polRound is -1 without a proof-of-lock. */
export interface Proposal {
  readonly height: number;
  readonly round: number;
  readonly polRound: number;
  readonly blockHash: Hash;
  /** The proposer's Ed25519 public key (32 bytes). */
  readonly proposer: Uint8Array;
  readonly signature: Uint8Array;
}

/**
 * Quorum certificate: precommits for one block at one height and round whose signers hold more
 * than 2/3 of that height's total power. Verifiable by anyone who knows the validator set.
 */
export interface QuorumCertificate {
  readonly height: number;
  readonly round: number;
  readonly blockHash: Hash;
  /** Index into the height's ValidatorSet, ascending, each at most once. */
  readonly signatures: readonly { readonly validatorIndex: number; readonly signature: Uint8Array }[];
}

/** Two validly signed votes of one validator for one height, round and type with different blocks. */
export interface DuplicateVoteEvidence {
  readonly kind: 'duplicate-vote';
  readonly voteA: Vote;
  readonly voteB: Vote;
}

/**
 * Two signed tree heads of one node's audit log that no consistency proof reconciles
 * (core/ledger provides the bytes and the check).
 */
export interface SplitViewEvidence {
  readonly kind: 'split-view';
  readonly logOwner: Uint8Array;
  readonly headA: Uint8Array;
  readonly headB: Uint8Array;
}

/**
 * Two validly signed proposals of one proposer for one height and round with different blocks: a
 * correct proposer signs one proposal per round (a re-proposal in a later round is another round).
 */
export interface DuplicateProposalEvidence {
  readonly kind: 'duplicate-proposal';
  readonly proposalA: Proposal;
  readonly proposalB: Proposal;
}

export type Evidence = DuplicateVoteEvidence | DuplicateProposalEvidence | SplitViewEvidence;

/** Evidence the consensus engine finds on its own (from the votes and proposals it receives). */
export type EngineEvidence = DuplicateVoteEvidence | DuplicateProposalEvidence;

/** What the engine needs from the chain application. Blocks are opaque bytes to the engine. */
export interface ConsensusApp {
  /** Validator set that decides `height`; fixed once height − 1 is committed. */
  validatorSet(height: number): ValidatorSet;
  /** Bytes of a new block for (height, round), called only on the proposer. */
  proposeBlock(height: number, round: number): Promise<Uint8Array>;
  /**
   * Whether a proposed block is valid for `height` (may re-check aggregation results). With `round`,
   * the block came as a fresh proposal of that round (no proof-of-lock), so the proposer its header
   * names must be proposer(height, round) (proposer-selection.ts); without it, the block is judged on
   * its own (a re-proposed value keeps the header of the round it was first proposed in).
   */
  validateBlock(height: number, block: Uint8Array, round?: number): Promise<boolean>;
  /** The block's hash as headers and votes name it. */
  blockHash(block: Uint8Array): Hash;
  /** Called once per height, in order, with the decided block and its certificate. */
  commitBlock(height: number, block: Uint8Array, qc: QuorumCertificate): Promise<void>;
  /**
   * Optional: a fuller QC for the last committed block (same height, round and block, more signers),
   * built from precommits that arrived after the decision (signatures checked by the driver). The
   * next block's last commit should carry it, so validators whose precommits arrived a little after
   * the 2/3 threshold are not counted absent (CometBFT's LastCommit, collected during timeout_commit).
   */
  extendLastCommit?(qc: QuorumCertificate): Promise<unknown>;
}
