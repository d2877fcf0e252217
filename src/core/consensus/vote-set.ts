// Tallies of signature-checked votes by power. VoteSet: one (height, round, type); HeightVotes: all
// rounds of one height plus, per round, which validators were heard from at all (for the f+1 round
// skip). A second, different vote of a validator for the same (height, round, type) yields
// DuplicateVoteEvidence (both are validly signed: the driver checked them) and is COUNTED for its
// block too, as the paper counts messages ("2f+1 ⟨PREVOTE, h, r, id(v)⟩"): if only a validator's first
// vote counted, an equivocator could show different nodes different "first" votes, so one honest node
// sees +2/3 for v (and locks, and later proposes v with that proof-of-lock round) while another never
// does — liveness lost. Counting both keeps safety (quorum intersection rests on honest votes) and
// makes every honest node's tally converge once gossip delivered everything. CometBFT reaches the same
// end with peers' +2/3 claims. A validator's distinct targets are capped (memory); beyond the cap it is
// already proven Byzantine, and only its votes for nil or for a block the engine wants (one that was
// proposed at this height) still count: a flood of votes for made-up blocks must not push out its vote
// for the real one, which may be the vote that completes a proof-of-lock other honest nodes rely on.
// Power is counted once per validator per target, so the flood adds nothing to any tally.
import { bytesEqual, bytesToHex, compareBytes } from '../bytes.ts';
import { exceedsOneThird, indexOfValidator, isQuorum } from './validator-set.ts';
import { VoteType, type DuplicateVoteEvidence, type Hash, type ValidatorSet, type Vote } from './types.ts';

/** Tally key of a vote target: block hash in hex, or 'nil'. */
export type VoteKey = string;
export const NIL: VoteKey = 'nil';
export const voteKey = (blockHash: Hash | null): VoteKey => (blockHash === null ? NIL : bytesToHex(blockHash));

export type AddVoteResult =
  | { kind: 'added' }
  | { kind: 'duplicate' }
  | { kind: 'not-validator' }
  | { kind: 'wrong-set' }
  /** Beyond MAX_TARGETS_PER_VALIDATOR, for a target not wanted (yet): not counted, may be offered again. */
  | { kind: 'capped' }
  | { kind: 'conflict'; evidence: DuplicateVoteEvidence };

const sameTarget = (a: Hash | null, b: Hash | null): boolean =>
  a === null || b === null ? a === b : bytesEqual(a, b);

/** Evidence with its two votes in a canonical order (nil first, then by hash), so copies compare equal. */
export function duplicateVoteEvidence(a: Vote, b: Vote): DuplicateVoteEvidence {
  const order = (v: Vote) => v.blockHash ?? new Uint8Array(0);
  return compareBytes(order(a), order(b)) <= 0
    ? { kind: 'duplicate-vote', voteA: a, voteB: b }
    : { kind: 'duplicate-vote', voteA: b, voteB: a };
}

/** Distinct targets counted per validator per (height, round, type), besides nil and wanted blocks. */
export const MAX_TARGETS_PER_VALIDATOR = 8;

/** Whether a block is worth counting past the cap (the engine: it was proposed at this height). */
export type WantedTarget = (key: VoteKey) => boolean;

export class VoteSet {
  /** Each validator's votes, first one first, distinct targets. */
  private readonly byIndex: (Vote[] | undefined)[];
  private readonly powerByKey = new Map<VoteKey, number>();
  private anyPower = 0;
  /** Conflicting second votes already reported, one per validator. */
  private readonly reported = new Set<number>();

  constructor(
    readonly set: ValidatorSet,
    readonly height: number,
    readonly round: number,
    readonly type: VoteType,
    private readonly wanted: WantedTarget = () => false,
  ) {
    this.byIndex = new Array<Vote[] | undefined>(set.validators.length);
  }

  add(vote: Vote): AddVoteResult {
    if (vote.height !== this.height || vote.round !== this.round || vote.type !== this.type) return { kind: 'wrong-set' };
    const i = indexOfValidator(this.set, vote.validator);
    if (i < 0) return { kind: 'not-validator' };
    const power = this.set.validators[i]?.power ?? 0;
    const key = voteKey(vote.blockHash);
    const prev = this.byIndex[i];
    if (prev !== undefined) {
      if (prev.some((p) => sameTarget(p.blockHash, vote.blockHash))) return { kind: 'duplicate' };
      // Bounded past the cap too: nil plus the blocks proposed at this height.
      if (prev.length >= MAX_TARGETS_PER_VALIDATOR && key !== NIL && !this.wanted(key)) return { kind: 'capped' };
      prev.push(vote);
      this.powerByKey.set(key, (this.powerByKey.get(key) ?? 0) + power);
      if (this.reported.has(i)) return { kind: 'added' };
      this.reported.add(i);
      return { kind: 'conflict', evidence: duplicateVoteEvidence(prev[0] as Vote, vote) };
    }
    this.byIndex[i] = [vote];
    this.powerByKey.set(key, (this.powerByKey.get(key) ?? 0) + power);
    this.anyPower += power;
    return { kind: 'added' };
  }

  power(key: VoteKey): number {
    return this.powerByKey.get(key) ?? 0;
  }

  get totalVotedPower(): number {
    return this.anyPower;
  }

  /** +2/3 for this block (or nil). */
  hasQuorumFor(key: VoteKey): boolean {
    return isQuorum(this.power(key), this.set.totalPower);
  }

  /** +2/3 of power voted, for anything. */
  hasQuorumAny(): boolean {
    return isQuorum(this.anyPower, this.set.totalPower);
  }

  /** A target with +2/3, if any (at most one can have it when < 1/3 of power equivocates). */
  quorumKey(): VoteKey | null {
    for (const [key, p] of this.powerByKey) if (isQuorum(p, this.set.totalPower)) return key;
    return null;
  }

  /** Every counted vote (an equivocator's several). */
  votes(): Vote[] {
    return this.byIndex.flatMap((v) => v ?? []);
  }

  /** Whether validator `index` voted at all. */
  hasVoted(index: number): boolean {
    return this.byIndex[index] !== undefined;
  }

  /** Power per target, for display (prevote/precommit bars). */
  tally(): ReadonlyMap<VoteKey, number> {
    return this.powerByKey;
  }
}

/** Every round's votes of one height. */
export class HeightVotes {
  private readonly rounds = new Map<number, { prevotes: VoteSet; precommits: VoteSet; heard: Set<number>; heardPower: number }>();

  constructor(
    readonly set: ValidatorSet,
    readonly height: number,
    private readonly wanted: WantedTarget = () => false,
  ) {}

  private round(r: number) {
    let x = this.rounds.get(r);
    if (x === undefined) {
      x = {
        prevotes: new VoteSet(this.set, this.height, r, VoteType.Prevote, this.wanted),
        precommits: new VoteSet(this.set, this.height, r, VoteType.Precommit, this.wanted),
        heard: new Set(),
        heardPower: 0,
      };
      this.rounds.set(r, x);
    }
    return x;
  }

  add(vote: Vote): AddVoteResult {
    if (vote.height !== this.height) return { kind: 'wrong-set' };
    const r = this.round(vote.round);
    const result = (vote.type === VoteType.Prevote ? r.prevotes : r.precommits).add(vote);
    if (result.kind === 'added') this.noteHeard(vote.round, indexOfValidator(this.set, vote.validator));
    return result;
  }

  /** Records that validator `index` sent something in round r (a proposal counts, Alg. 1 l.55). */
  noteHeard(round: number, index: number): void {
    if (index < 0) return;
    const r = this.round(round);
    if (r.heard.has(index)) return;
    r.heard.add(index);
    r.heardPower += this.set.validators[index]?.power ?? 0;
  }

  prevotes(round: number): VoteSet {
    return this.round(round).prevotes;
  }

  precommits(round: number): VoteSet {
    return this.round(round).precommits;
  }

  /** Rounds above `round` from which validators with more than 1/3 of the power (f + 1) were heard. */
  skipTarget(round: number): number | null {
    let best: number | null = null;
    for (const [r, x] of this.rounds)
      if (r > round && exceedsOneThird(x.heardPower, this.set.totalPower) && (best === null || r > best)) best = r;
    return best;
  }

  /** Rounds with any precommits, for the decision rule (Alg. 1 l.49 looks at every round). */
  roundsWithPrecommits(): number[] {
    return [...this.rounds.entries()].filter(([, x]) => x.precommits.totalVotedPower > 0).map(([r]) => r);
  }
}
