// Tendermint consensus as a deterministic state machine: Buchman, Kwon, Milosevic, "The latest gossip
// on BFT consensus" (arXiv:1807.04938), Algorithm 1. Line numbers below ("l.22") are the paper's.
// Events in (start height, proposal, vote, block validated, value to propose, timeout); outputs out
// (sign-and-broadcast proposal/vote, schedule timeout, ask the app for a value or a validity check,
// decide with a QC, evidence). No I/O, no clock, no signatures here: the driver signs what this
// machine asks to broadcast and feeds it back as a received message, and hands in only votes and
// proposals whose signatures it has checked. Values are named by block hash ("id(v)" in the paper).
//
// Deviations, each for a practical reason:
// - valid(v) is asynchronous (the app may re-check aggregation results): a proposal's validity is
//   requested once and rules needing it wait for the answer; the propose timeout still runs.
// - getValue() (l.16) is asynchronous: the proposer asks for a value and proposes when it arrives,
//   if still in that round's propose step.
// - After deciding (l.49–54) the machine stops; the driver commits the block and calls startHeight
//   for h+1 with the validator set the commit produced (the paper moves on at once).
// - For l.36 and l.49 the block may come from any proposal of proposer(h, r) for that round (a faulty
//   proposer may send several); l.22/l.28 use the first one received, as CometBFT does.
// - valid(v) has two strengths. A fresh proposal (validRound −1, l.22) is checked for its round: the
//   block must name proposer(h, r) as its proposer ('validate' carries the round), so a faulty
//   proposer cannot pass its block off as another validator's. A re-proposal (l.28), and the blocks
//   of l.36/l.49, are checked without the round: the block names the proposer of the round it was
//   first proposed in, and the +2/3 prevotes (or precommits) for it show that more than 1/3 of the
//   power, so at least one correct validator, checked it with that round.
// - Not in Alg. 1: a second signed proposal of proposer(h, r) for round r with another block is
//   output as duplicate-proposal evidence (once per round), also after deciding, as double votes are.
import { bytesEqual } from '../bytes.ts';
import { proposerIndex } from './proposer-selection.ts';
import { buildQuorumCertificate } from './qc.ts';
import { indexOfValidator } from './validator-set.ts';
import { HeightVotes, NIL, voteKey, type VoteKey } from './vote-set.ts';
import {
  VoteType,
  type EngineEvidence,
  type Hash,
  type Proposal,
  type QuorumCertificate,
  type ValidatorSet,
  type Vote,
} from './types.ts';

/** Timeout of a step in round r is base + deltaMs·r (linear growth, the paper's partial-synchrony assumption). */
export interface TimeoutParams {
  readonly proposeMs: number;
  readonly prevoteMs: number;
  readonly precommitMs: number;
  readonly deltaMs: number;
}

export const DEFAULT_TIMEOUTS: TimeoutParams = { proposeMs: 3000, prevoteMs: 1000, precommitMs: 1000, deltaMs: 500 };

export type Step = 'propose' | 'prevote' | 'precommit';

/** Votes further ahead than this many rounds are not stored (a faulty validator could invent rounds). */
export const MAX_ROUNDS_AHEAD = 64;
/** Distinct blocks kept per round from its proposer (a faulty proposer may send several). */
const MAX_BLOCKS_PER_ROUND = 4;
/**
 * Bytes of blocks kept for rounds ahead of the current one. A faulty validator is proposer of many of
 * the next MAX_ROUNDS_AHEAD rounds and could otherwise park 4 blocks of up to 4 MiB in each (hundreds
 * of MiB in a tab); a correct proposer's block for a round this node has not reached is re-sent.
 */
export const MAX_BLOCK_BYTES_AHEAD = 16 * 1024 * 1024;

export type EngineOutput =
  | { kind: 'request-value'; height: number; round: number }
  | { kind: 'propose'; height: number; round: number; polRound: number; block: Uint8Array; blockHash: Hash }
  | { kind: 'vote'; type: VoteType; height: number; round: number; blockHash: Hash | null }
  | { kind: 'schedule-timeout'; step: Step; height: number; round: number; delayMs: number }
  /** `round` present: a fresh proposal of that round, whose block must name proposer(height, round). */
  | { kind: 'validate'; height: number; block: Uint8Array; blockHash: Hash; round?: number }
  | { kind: 'decide'; height: number; round: number; block: Uint8Array; blockHash: Hash; qc: QuorumCertificate }
  | { kind: 'evidence'; evidence: EngineEvidence };

export type VoteStatus = 'added' | 'duplicate' | 'capped' | 'conflict' | 'not-validator' | 'wrong-height' | 'round-too-far' | 'decided';
export type ProposalStatus = 'added' | 'duplicate' | 'not-proposer' | 'wrong-height' | 'round-too-far' | 'decided' | 'hash-mismatch';

interface Value {
  readonly block: Uint8Array;
  readonly hash: Hash;
  readonly key: VoteKey;
}

interface RoundProposal extends Value {
  readonly polRound: number;
  /** Key of the validity answer l.22/l.28 wait for (validityKey). */
  readonly validityKey: string;
  /** The signed proposal itself: a second one for the round with another block is evidence. */
  readonly signed: Proposal;
}

/** Validity is asked per block, and per (block, round) for fresh proposals (see the header). */
const validityKey = (key: VoteKey, freshRound?: number): string => (freshRound === undefined ? key : `${key}@${freshRound}`);

export interface EngineSnapshot {
  height: number;
  round: number;
  step: Step;
  lockedRound: number;
  validRound: number;
  proposerIndex: number;
  decided: boolean;
}

export class Tendermint {
  private h = -1;
  private r = 0;
  private stepP: Step = 'propose';
  private set: ValidatorSet | null = null;
  private votes: HeightVotes | null = null;
  private selfIndex = -1;
  private lockedValue: Value | null = null;
  private lockedRound = -1;
  private validValue: Value | null = null;
  private validRound = -1;
  private decided = false;
  /** First proposal of proposer(h, r) per round (l.22, l.28). */
  private readonly proposals = new Map<number, RoundProposal>();
  /** Every block (bounded) proposer(h, r) proposed per round (l.36, l.49). */
  private readonly blocks = new Map<number, Map<VoteKey, Value>>();
  /** By validityKey: the block alone, or the block as a fresh proposal of one round. */
  private readonly validity = new Map<string, boolean | 'pending'>();
  /** "for the first time" guards of l.34, l.36, l.47, per round. */
  private readonly once = { prevoteTimeout: new Set<number>(), lock: new Set<number>(), precommitTimeout: new Set<number>() };
  /** Rounds whose proposer was caught proposing two blocks (reported once per round). */
  private readonly duplicateProposals = new Set<number>();
  private awaitingValueFor: number | null = null;
  private out: EngineOutput[] = [];

  constructor(
    /** This node's public key; a node not in the height's set observes and decides but never votes. */
    private readonly selfKey: Uint8Array,
    private readonly timeouts: TimeoutParams = DEFAULT_TIMEOUTS,
  ) {}

  get height(): number {
    return this.h;
  }

  get round(): number {
    return this.r;
  }

  get validatorSet(): ValidatorSet | null {
    return this.set;
  }

  get heightVotes(): HeightVotes | null {
    return this.votes;
  }

  snapshot(): EngineSnapshot {
    return {
      height: this.h,
      round: this.r,
      step: this.stepP,
      lockedRound: this.lockedRound,
      validRound: this.validRound,
      proposerIndex: this.set === null ? -1 : proposerIndex(this.set, this.r),
      decided: this.decided,
    };
  }

  /** l.52–54 (and initialisation l.1–10): a new height with its validator set, then StartRound(0). */
  startHeight(height: number, set: ValidatorSet): EngineOutput[] {
    if (!Number.isSafeInteger(height) || height < 0 || height <= this.h) throw new Error(`"height" must increase, got ${height} after ${this.h}`);
    this.h = height;
    this.set = set;
    // Past an equivocator's vote cap, votes for blocks proposed at this height still count.
    this.votes = new HeightVotes(set, height, (key) => this.proposedAtHeight(key));
    this.selfIndex = indexOfValidator(set, this.selfKey);
    this.lockedValue = null;
    this.lockedRound = -1;
    this.validValue = null;
    this.validRound = -1;
    this.decided = false;
    this.proposals.clear();
    this.blocks.clear();
    this.validity.clear();
    this.once.prevoteTimeout.clear();
    this.once.lock.clear();
    this.once.precommitTimeout.clear();
    this.duplicateProposals.clear();
    this.startRound(0);
    return this.drain();
  }

  /** A proposal whose signature the driver checked, with its block bytes and their hash (app.blockHash). */
  onProposal(p: Proposal, block: Uint8Array, computedHash: Hash): ProposalStatus {
    const set = this.set;
    if (set === null || p.height !== this.h) return 'wrong-height';
    if (p.round > this.r + MAX_ROUNDS_AHEAD) return this.decided ? 'decided' : 'round-too-far';
    if (!bytesEqual(computedHash, p.blockHash)) return 'hash-mismatch';
    const pi = proposerIndex(set, p.round);
    if (!bytesEqual(set.validators[pi]?.publicKey ?? new Uint8Array(0), p.proposer)) return 'not-proposer';
    this.noteDuplicateProposal(p);
    // Counts for nothing once decided (a second proposal was still evidence, above).
    if (this.decided) return 'decided';
    const key = voteKey(p.blockHash);
    let inRound = this.blocks.get(p.round);
    if (inRound === undefined) this.blocks.set(p.round, (inRound = new Map()));
    if (inRound.has(key) || inRound.size >= MAX_BLOCKS_PER_ROUND) return 'duplicate';
    if (p.round > this.r && this.blockBytesAhead() + block.length > MAX_BLOCK_BYTES_AHEAD) return 'round-too-far';
    const value: Value = { block, hash: p.blockHash, key };
    inRound.set(key, value);
    const freshRound = p.polRound === -1 ? p.round : undefined;
    if (!this.proposals.has(p.round)) this.proposals.set(p.round, { ...value, polRound: p.polRound, validityKey: validityKey(key, freshRound), signed: p });
    this.votes?.noteHeard(p.round, pi);
    this.requestValidity(value, freshRound);
    this.evaluate();
    return 'added';
  }

  /** A vote whose signature the driver checked. */
  onVote(v: Vote): VoteStatus {
    const votes = this.votes;
    if (votes === null || v.height !== this.h) return 'wrong-height';
    if (this.decided) {
      // Counts for nothing now, but until the commit is applied a second vote is still evidence
      // (the driver keeps this tally for late votes afterwards): a double vote arriving in that gap
      // was lost, and under load the gap is where an equivocator's precommits land.
      const late = v.round > this.r + MAX_ROUNDS_AHEAD ? null : votes.add(v);
      if (late?.kind !== 'conflict') return 'decided';
      this.out.push({ kind: 'evidence', evidence: late.evidence });
      return 'conflict';
    }
    if (v.round > this.r + MAX_ROUNDS_AHEAD) return 'round-too-far';
    const res = votes.add(v);
    if (res.kind === 'conflict') {
      this.out.push({ kind: 'evidence', evidence: res.evidence });
      this.evaluate();
      return 'conflict';
    }
    if (res.kind === 'not-validator' || res.kind === 'wrong-set') return 'not-validator';
    if (res.kind === 'duplicate' || res.kind === 'capped') return res.kind;
    this.evaluate();
    return 'added';
  }

  /** The app's answer to a 'validate' output (pass back its `round`, if it had one). */
  onValidated(height: number, blockHash: Hash, valid: boolean, round?: number): void {
    if (height !== this.h || this.decided) return;
    const key = voteKey(blockHash);
    const vk = validityKey(key, round);
    if (this.validity.get(vk) !== 'pending') return;
    this.validity.set(vk, valid);
    // Valid as a fresh proposal of a round is the stronger check: valid as a block too.
    if (valid && round !== undefined && this.validity.get(key) !== true) this.validity.set(key, true);
    this.evaluate();
  }

  /** The app's answer to 'request-value' (getValue(), l.16): propose it if still in that propose step. */
  onValue(height: number, round: number, block: Uint8Array, blockHash: Hash): void {
    if (height !== this.h || round !== this.r || this.stepP !== 'propose' || this.awaitingValueFor !== round || this.decided) return;
    this.awaitingValueFor = null;
    // Our own value is valid by construction (and names us, the proposer of this round).
    this.validity.set(voteKey(blockHash), true);
    this.validity.set(validityKey(voteKey(blockHash), round), true);
    this.out.push({ kind: 'propose', height, round, polRound: -1, block, blockHash }); // l.17
  }

  /**
   * A certificate for this height from a peer that already decided (the driver checked the QC against
   * this height's set and the block against its hash): +2/3 precommits for v, as l.49 needs, carried
   * in one message for a node that missed the round's messages.
   */
  onCommitCertificate(height: number, block: Uint8Array, blockHash: Hash, qc: QuorumCertificate): void {
    if (height !== this.h || this.decided || qc.height !== height || !bytesEqual(qc.blockHash, blockHash)) return;
    this.decided = true;
    this.out.push({ kind: 'decide', height, round: qc.round, block, blockHash, qc });
  }

  /** l.57–67. */
  onTimeout(step: Step, height: number, round: number): void {
    if (height !== this.h || round !== this.r || this.decided) return;
    if (step === 'propose' && this.stepP === 'propose') {
      this.vote(VoteType.Prevote, null); // l.59
      this.stepP = 'prevote'; // l.60
    } else if (step === 'prevote' && this.stepP === 'prevote') {
      this.vote(VoteType.Precommit, null); // l.63
      this.stepP = 'precommit'; // l.64
    } else if (step === 'precommit') {
      this.startRound(this.r + 1); // l.67
    }
    this.evaluate();
  }

  /** Outputs produced since the last call, in order. */
  drain(): EngineOutput[] {
    const o = this.out;
    this.out = [];
    return o;
  }

  // ---- internals ----

  /** A second signed proposal of the round's proposer naming another block: duplicate-proposal evidence. */
  private noteDuplicateProposal(p: Proposal): void {
    const first = this.proposals.get(p.round)?.signed;
    if (first === undefined || bytesEqual(first.blockHash, p.blockHash) || this.duplicateProposals.has(p.round)) return;
    this.duplicateProposals.add(p.round);
    this.out.push({ kind: 'evidence', evidence: { kind: 'duplicate-proposal', proposalA: first, proposalB: p } });
  }

  private isProposer(round: number): boolean {
    return this.set !== null && this.selfIndex >= 0 && proposerIndex(this.set, round) === this.selfIndex;
  }

  private timeout(step: Step, round: number): void {
    const base = step === 'propose' ? this.timeouts.proposeMs : step === 'prevote' ? this.timeouts.prevoteMs : this.timeouts.precommitMs;
    this.out.push({ kind: 'schedule-timeout', step, height: this.h, round, delayMs: base + this.timeouts.deltaMs * round });
  }

  private vote(type: VoteType, blockHash: Hash | null): void {
    if (this.selfIndex < 0) return; // observers do not vote
    this.out.push({ kind: 'vote', type, height: this.h, round: this.r, blockHash });
  }

  private requestValidity(v: Value, freshRound?: number): void {
    const vk = validityKey(v.key, freshRound);
    if (this.validity.has(vk)) return;
    this.validity.set(vk, 'pending');
    this.out.push(
      freshRound === undefined
        ? { kind: 'validate', height: this.h, block: v.block, blockHash: v.hash }
        : { kind: 'validate', height: this.h, block: v.block, blockHash: v.hash, round: freshRound },
    );
  }

  /** valid(v) for l.36 and l.49, asked for on first need (the block may have come with a fresh proposal only). */
  private blockValid(v: Value): boolean {
    const valid = this.validity.get(v.key);
    if (valid === undefined) this.requestValidity(v);
    return valid === true;
  }

  /** l.11–21 StartRound. */
  private startRound(round: number): void {
    this.r = round; // l.12
    this.stepP = 'propose'; // l.13
    this.awaitingValueFor = null;
    if (this.isProposer(round)) {
      // l.14
      if (this.validValue !== null) {
        // l.15, l.17: re-propose the value we saw +2/3 prevote for, with its round as proof of lock.
        const v = this.validValue;
        this.out.push({ kind: 'propose', height: this.h, round, polRound: this.validRound, block: v.block, blockHash: v.hash });
      } else {
        this.awaitingValueFor = round; // l.16 getValue()
        this.out.push({ kind: 'request-value', height: this.h, round });
        // Not in Alg. 1, where getValue() is synchronous: if the app never answers (its proposeBlock
        // failed), the round must still end, so the proposer arms the timeout too (l.57 prevotes nil).
        this.timeout('propose', round);
      }
    } else {
      this.timeout('propose', round); // l.19
    }
  }

  private blockBytesAhead(): number {
    let bytes = 0;
    for (const [round, inRound] of this.blocks) if (round > this.r) for (const v of inRound.values()) bytes += v.block.length;
    return bytes;
  }

  private proposedAtHeight(key: VoteKey): boolean {
    for (const inRound of this.blocks.values()) if (inRound.has(key)) return true;
    return false;
  }

  private blockOf(round: number, key: VoteKey): Value | undefined {
    return this.blocks.get(round)?.get(key);
  }

  /** Applies upon-rules until none fires. Each rule changes state or a guard, so this terminates. */
  private evaluate(): void {
    for (let guard = 0; guard < 10_000 && !this.decided && this.applyOneRule(); guard++);
  }

  private applyOneRule(): boolean {
    const votes = this.votes;
    const set = this.set;
    if (votes === null || set === null) return false;
    const r = this.r;

    // l.49–54: +2/3 precommits for id(v) in any round r', with v from proposer(h, r'), valid(v) → decide.
    for (const pr of votes.roundsWithPrecommits()) {
      const pc = votes.precommits(pr);
      const key = pc.quorumKey();
      if (key === null || key === NIL) continue;
      const v = this.blockOf(pr, key);
      if (v === undefined) continue;
      if (!this.blockValid(v)) continue; // l.50; pending answers re-run evaluate()
      const qc = buildQuorumCertificate(set, this.h, pr, v.hash, pc.votes());
      if (qc === null) continue;
      this.decided = true; // l.51
      this.out.push({ kind: 'decide', height: this.h, round: pr, block: v.block, blockHash: v.hash, qc });
      return false;
    }

    // l.55–56: f+1 validators heard from in a higher round → StartRound(that round).
    const skip = votes.skipTarget(r);
    if (skip !== null) {
      this.startRound(skip);
      return true;
    }

    const p = this.proposals.get(r);
    if (this.stepP === 'propose' && p !== undefined) {
      const valid = this.validity.get(p.validityKey);
      if (p.polRound === -1) {
        // l.22–27
        if (valid === true || valid === false) {
          const ok = valid && (this.lockedRound === -1 || this.lockedValue?.key === p.key); // l.23
          this.vote(VoteType.Prevote, ok ? p.hash : null); // l.24 / l.26
          this.stepP = 'prevote'; // l.27
          return true;
        }
      } else if (p.polRound < r && votes.prevotes(p.polRound).hasQuorumFor(p.key)) {
        // l.28–33
        if (valid === true || valid === false) {
          const ok = valid && (this.lockedRound <= p.polRound || this.lockedValue?.key === p.key); // l.29
          this.vote(VoteType.Prevote, ok ? p.hash : null); // l.30 / l.32
          this.stepP = 'prevote'; // l.33
          return true;
        }
      }
    }

    // l.34–35: +2/3 prevotes for anything while in prevote, first time → prevote timeout.
    if (this.stepP === 'prevote' && !this.once.prevoteTimeout.has(r) && votes.prevotes(r).hasQuorumAny()) {
      this.once.prevoteTimeout.add(r);
      this.timeout('prevote', r);
      return true;
    }

    // l.36–43: a valid proposal of this round with +2/3 prevotes for it, step ≥ prevote, first time.
    if (this.stepP !== 'propose' && !this.once.lock.has(r)) {
      const key = votes.prevotes(r).quorumKey();
      const v = key === null || key === NIL ? undefined : this.blockOf(r, key);
      if (v !== undefined && this.blockValid(v)) {
        this.once.lock.add(r);
        if (this.stepP === 'prevote') {
          this.lockedValue = v; // l.38
          this.lockedRound = r; // l.39
          this.vote(VoteType.Precommit, v.hash); // l.40
          this.stepP = 'precommit'; // l.41
        }
        this.validValue = v; // l.42
        this.validRound = r; // l.43
        return true;
      }
    }

    // l.44–46: +2/3 prevotes for nil while in prevote → precommit nil.
    if (this.stepP === 'prevote' && votes.prevotes(r).hasQuorumFor(NIL)) {
      this.vote(VoteType.Precommit, null); // l.45
      this.stepP = 'precommit'; // l.46
      return true;
    }

    // l.47–48: +2/3 precommits for anything, first time → precommit timeout.
    if (!this.once.precommitTimeout.has(r) && votes.precommits(r).hasQuorumAny()) {
      this.once.precommitTimeout.add(r);
      this.timeout('precommit', r);
      return true;
    }
    return false;
  }
}
