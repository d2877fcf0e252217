// Wires the Tendermint state machine (tendermint.ts) to the world: the chain application
// (ConsensusApp), signing and signature checks, an injected clock and an injected transport. Still
// pure: no sockets, no timers of its own. Untrusted messages are decoded, filtered cheaply (height
// window, membership, proposer, replay) before any signature work, then verified in batches — the
// queue is flushed once per tick so a worker-backed BatchVerifier sees many checks at once — and
// only then reach the state machine. Every drop is counted by reason; nothing throws.
import { bytesEqual, bytesToHex } from '../bytes.ts';
import type { Clock, TimerHandle } from '../clock.ts';
import type { Signer, Verifier } from '../crypto/ed25519.ts';
import { sha256 } from '../crypto/hash.ts';
import type { NodeId } from '../crypto/node-id.ts';
import { InFlightTimer } from '../in-flight-timer.ts';
import { MessageType } from '../net/message-types.ts';
import {
  decodeCommitMessage,
  decodeDecidedMessage,
  decodeProposalMessage,
  decodeStatusMessage,
  encodeCommitMessage,
  encodeDecidedMessage,
  MAX_DECIDED_ANNOUNCED,
  encodeProposalMessage,
  encodeStatusMessage,
  type CommitMessage,
} from './consensus-messages.ts';
import { proposerOf } from './proposer-selection.ts';
import { evidenceFromConflictingCommits, extendQuorumCertificate, verifyQuorumCertificate } from './qc.ts';
import { proposalSignBytes, proposalSignBytesOf, voteSignBytes, voteSignBytesOf } from './sign-bytes.ts';
import { Tendermint, DEFAULT_TIMEOUTS, type EngineOutput, type TimeoutParams } from './tendermint.ts';
import { indexOfValidator } from './validator-set.ts';
import { decodeVote, encodeVote } from './vote-codec.ts';
import { voteKey, type HeightVotes } from './vote-set.ts';
import { decodeEvidence, encodeEvidence } from './evidence.ts';
import type { DuplicateProposalEvidence, EngineEvidence } from './types.ts';
import type { ConsensusApp, DuplicateVoteEvidence, Proposal, QuorumCertificate, ValidatorSet, Vote } from './types.ts';

/** One piece of evidence, by its two signatures (the driver forwards each once). */
const evidenceKey = (e: EngineEvidence): string =>
  e.kind === 'duplicate-vote'
    ? `e${bytesToHex(e.voteA.signature)}${bytesToHex(e.voteB.signature)}`
    : `ep${bytesToHex(e.proposalA.signature)}${bytesToHex(e.proposalB.signature)}`;

/** Decided heights whose votes are kept to catch late double votes. */
const PAST_VOTE_HEIGHTS = 2;

export interface ConsensusTransport {
  /** To every other node (not back to this one). */
  broadcast(type: number, body: Uint8Array): void;
  send(to: NodeId, type: number, body: Uint8Array): void;
}

export interface SignatureCheck {
  readonly publicKey: Uint8Array;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
}

/** Checks many signatures at once (a worker can implement it); false for anything malformed. */
export interface BatchVerifier {
  verifyBatch(checks: readonly SignatureCheck[]): Promise<boolean[]>;
}

export function batchVerifierFrom(v: Verifier): BatchVerifier {
  return { verifyBatch: (checks) => Promise.all(checks.map((c) => v.verify(c.publicKey, c.message, c.signature))) };
}

/**
 * Two QCs, each valid for the height's validator set, for different blocks at one decided height:
 * safety is lost (≥ 1/3 of the power signed both, or the sets were forged). `evidence` names the
 * double-signers when both QCs are of one round (evidenceFromConflictingCommits); empty otherwise.
 */
export interface ForkAlarm {
  height: number;
  ours: QuorumCertificate;
  theirs: QuorumCertificate;
  /** The peer that sent the other commit. */
  from: NodeId;
  evidence: DuplicateVoteEvidence[];
  /** Power (in the height's set) of the double-signers in `evidence`. */
  doubleSignedPower: number;
  totalPower: number;
}

export interface ConsensusDriverOptions {
  chainId: string;
  app: ConsensusApp;
  signer: Signer;
  verifier: Verifier;
  /** Default: `verifier` one check at a time, concurrently. */
  batchVerifier?: BatchVerifier;
  clock: Clock;
  transport: ConsensusTransport;
  timeouts?: TimeoutParams;
  /** Messages for heights current+1 .. current+futureHeights are kept until their height starts. */
  futureHeights?: number;
  /** Bound on kept future-height messages; beyond it they are dropped and counted. */
  maxFutureMessages?: number;
  /**
   * Bound on the bytes of kept future-height messages (default 32 MiB): they are kept before any
   * signature check, and one proposal or commit may be 4 MiB.
   */
  maxFutureBytes?: number;
  /**
   * Decided blocks kept to help peers that are behind (ConsensusCommit), default 64. A node further
   * behind than this needs state sync (the application's light client), not consensus.
   */
  recentCommits?: number;
  /** Commits sent per catch-up request, and kept ahead by the receiver (default 16). */
  catchUpHeights?: number;
  /** Duplicate votes and proposals seen or received (verified): the application's evidence pool takes them. */
  onEvidence?: (e: EngineEvidence) => void;
  /**
   * While height, round and step stay unchanged this long, re-send this node's messages of the
   * current round (default 2000 ms). The paper assumes every message between correct nodes is
   * eventually delivered; a peer that was behind dropped our votes as too far ahead, and without a
   * re-send both sides can wait for each other forever (CometBFT's gossip routines do the same job).
   */
  rebroadcastMs?: number;
  /** Another node decided a different block, with a valid QC, at a height this node decided. */
  onFork?: (alarm: ForkAlarm) => void;
  /** After the application committed a height. */
  onCommitted?: (height: number, blockHash: Uint8Array, qc: QuorumCertificate) => void;
  /** After any state change (height, round, step), for dashboards. */
  onChange?: () => void;
  /** Monotonic wall time in ms (performance.now), only to measure time spent verifying. */
  wallMs?: () => number;
}

export type DriverCounter =
  | 'received'
  | 'malformed'
  | 'bad-signature'
  | 'old-height'
  | 'too-far-ahead'
  | 'future-kept'
  | 'future-dropped'
  | 'replayed'
  | 'not-validator'
  | 'not-proposer'
  | 'hash-mismatch'
  | 'round-too-far'
  | 'conflict'
  | 'capped'
  | 'bad-evidence'
  | 'bad-commit'
  | 'verified'
  | 'app-error'
  | 'catch-up-sent'
  | 'status-sent'
  | 'commit-extended'
  | 'fork';

interface Pending {
  check: SignatureCheck;
  /** Replay key, marked seen once the signature verified. */
  key: string;
  /** Delivered only while this is the current height; −1: whatever the height (evidence). */
  height: number;
  deliver: () => void;
}

interface Kept {
  from: NodeId;
  type: number;
  body: Uint8Array;
  height: number;
}

export class ConsensusDriver {
  readonly machine: Tendermint;
  readonly counters = new Map<DriverCounter, number>();
  private verifyTimer: InFlightTimer | null = null;
  /** Signatures made and checked, for benchmarks. */
  signCount = 0;
  verifyCount = 0;
  private readonly opts: Required<
    Pick<ConsensusDriverOptions, 'futureHeights' | 'maxFutureMessages' | 'maxFutureBytes' | 'recentCommits' | 'catchUpHeights'>
  >;
  private readonly statusSentAt = new Map<NodeId, number>();
  private readonly batch: BatchVerifier;
  private queue: Pending[] = [];
  private flushScheduled = false;
  private readonly seen = new Set<string>();
  private readonly inFlight = new Set<string>();
  private future: Kept[] = [];
  private futureBytes = 0;
  private readonly recent = new Map<number, CommitMessage>();
  /** The validator set of each height in `recent`: a conflicting commit's QC is checked against it. */
  private readonly recentSets = new Map<number, ValidatorSet>();
  /** Fork alarms raised, by height (one per height and other block). */
  private readonly forks = new Set<string>();
  private readonly catchUpSentAt = new Map<string, number>();
  private readonly evidenceSeen = new Set<string>();
  /** Votes of the last decided heights: a late conflicting vote for them is still evidence. */
  private readonly pastVotes = new Map<number, HeightVotes>();
  /** The last decided height's QC as last handed to the application (extended by late precommits). */
  private lastCommit: QuorumCertificate | null = null;
  private timers: TimerHandle[] = [];
  /** This node's signed messages of the current height, by round, for re-sending. */
  private own: { round: number; type: number; body: Uint8Array }[] = [];
  private rebroadcastTimer: TimerHandle | null = null;
  private lastProgress = '';
  private stopped = false;
  private committing = false;

  constructor(private readonly o: ConsensusDriverOptions) {
    this.machine = new Tendermint(o.signer.publicKey, o.timeouts ?? DEFAULT_TIMEOUTS);
    this.batch = o.batchVerifier ?? batchVerifierFrom(o.verifier);
    this.opts = {
      futureHeights: o.futureHeights ?? 2,
      maxFutureMessages: o.maxFutureMessages ?? 4096,
      maxFutureBytes: o.maxFutureBytes ?? 32 * 1024 * 1024,
      recentCommits: o.recentCommits ?? 64,
      catchUpHeights: o.catchUpHeights ?? 16,
    };
  }

  get height(): number {
    return this.machine.height;
  }

  count(c: DriverCounter, n = 1): void {
    this.counters.set(c, (this.counters.get(c) ?? 0) + n);
  }

  /** Starts consensus at `height` (the first height not yet committed). */
  start(height: number): void {
    this.enterHeight(height);
    this.armRebroadcast();
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) this.o.clock.clearTimeout(t);
    this.timers = [];
    if (this.rebroadcastTimer !== null) this.o.clock.clearTimeout(this.rebroadcastTimer);
    this.rebroadcastTimer = null;
  }

  private armRebroadcast(): void {
    const period = this.o.rebroadcastMs ?? 2000;
    this.rebroadcastTimer = this.o.clock.setTimeout(() => {
      if (this.stopped) return;
      const s = this.machine.snapshot();
      const progress = `${s.height}/${s.round}/${s.step}/${s.decided}`;
      if (progress === this.lastProgress) {
        for (const m of this.own) if (m.round >= s.round - 1) this.o.transport.broadcast(m.type, m.body);
        this.announceDecided();
      }
      this.lastProgress = progress;
      this.armRebroadcast();
    }, period);
  }

  /** An envelope body of a consensus type from `from`, already authenticated as `from`'s by the transport. */
  receive(from: NodeId, type: number, body: Uint8Array): void {
    if (this.stopped) return;
    this.count('received');
    if (type === MessageType.ConsensusVote) this.receiveVote(from, body);
    else if (type === MessageType.ConsensusProposal) this.receiveProposal(from, body);
    else if (type === MessageType.ConsensusEvidence) this.receiveEvidence(body);
    else if (type === MessageType.ConsensusCommit) this.receiveCommit(from, type, body);
    else if (type === MessageType.ConsensusDecided) this.receiveDecided(from, body);
    else if (type === MessageType.ConsensusStatus) {
      const d = decodeStatusMessage(body);
      if (!d.ok) this.count('malformed');
      else if (d.value < this.machine.height) this.sendCatchUp(from, d.value);
    } else this.count('malformed');
  }

  /** Decided block of a recent height, if still kept. */
  recentCommit(height: number): CommitMessage | undefined {
    return this.recent.get(height);
  }

  // ---- incoming ----

  /** Routes by height: past → help the sender catch up; far future → drop; near future → keep. */
  private admitHeight(from: NodeId, type: number, body: Uint8Array, height: number): boolean {
    const h = this.machine.height;
    if (height < h) {
      this.count('old-height');
      this.sendCatchUp(from, height);
      return false;
    }
    if (height === h) return true;
    const ahead = type === MessageType.ConsensusCommit ? this.opts.catchUpHeights : this.opts.futureHeights;
    if (height > h + 1) this.askForCommits(from);
    if (height > h + ahead) {
      this.count('too-far-ahead');
      return false;
    }
    if (this.future.length >= this.opts.maxFutureMessages || this.futureBytes + body.length > this.opts.maxFutureBytes) {
      this.count('future-dropped');
      return false;
    }
    this.future.push({ from, type, body, height });
    this.futureBytes += body.length;
    this.count('future-kept');
    return false;
  }

  private voteCheck(v: Vote): SignatureCheck {
    return { publicKey: v.validator, message: voteSignBytesOf(this.o.chainId, v), signature: v.signature };
  }

  private fresh(key: string): boolean {
    if (this.seen.has(key) || this.inFlight.has(key)) {
      this.count('replayed');
      return false;
    }
    return true;
  }

  private receiveVote(from: NodeId, body: Uint8Array): void {
    const d = decodeVote(body);
    if (!d.ok) return this.count('malformed');
    const v = d.value;
    const past = this.pastVotes.get(v.height);
    if (past !== undefined) return this.receivePastVote(from, v, past);
    if (!this.admitHeight(from, MessageType.ConsensusVote, body, v.height)) return;
    const set = this.machine.validatorSet;
    if (set === null || indexOfValidator(set, v.validator) < 0) return this.count('not-validator');
    // Keyed on the whole message, not the signature alone: a forgery carrying a copied signature,
    // arriving first, must not get the genuine vote dropped as a replay.
    const key = `v${bytesToHex(body)}`;
    if (!this.fresh(key)) return;
    this.enqueue({
      check: this.voteCheck(v),
      key,
      height: v.height,
      deliver: () => this.deliverVote(v, key),
    });
  }

  /** A vote for a height just decided: counts for nothing, but may prove a double vote. */
  private receivePastVote(from: NodeId, v: Vote, past: HeightVotes): void {
    this.count('old-height');
    this.sendCatchUp(from, v.height);
    if (indexOfValidator(past.set, v.validator) < 0) return;
    const key = `v${bytesToHex(encodeVote(v))}`;
    if (!this.fresh(key)) return;
    this.enqueue({
      check: this.voteCheck(v),
      key,
      height: -1,
      deliver: () => {
        const r = past.add(v);
        if (r.kind === 'added') this.extendLastCommit(v.height);
        if (r.kind === 'conflict') {
          this.count('conflict');
          this.acceptEvidence(r.evidence, `e${bytesToHex(r.evidence.voteA.signature)}${bytesToHex(r.evidence.voteB.signature)}`);
        }
      },
    });
  }

  private receiveProposal(from: NodeId, body: Uint8Array): void {
    const d = decodeProposalMessage(body);
    if (!d.ok) return this.count('malformed');
    const { proposal: p, block } = d.value;
    if (!this.admitHeight(from, MessageType.ConsensusProposal, body, p.height)) return;
    const set = this.machine.validatorSet;
    if (set === null || p.round > this.machine.round + 64) return this.count('round-too-far');
    if (!bytesEqual(proposerOf(set, p.round).publicKey, p.proposer)) return this.count('not-proposer');
    // The signature covers the block hash, not the bytes: check the bytes before the replay key is
    // taken, or a copy with other bytes arriving first would get the genuine proposal dropped as a replay.
    let hash: Uint8Array;
    try {
      hash = this.o.app.blockHash(block);
    } catch {
      return this.count('malformed');
    }
    if (!bytesEqual(hash, p.blockHash)) return this.count('hash-mismatch');
    const key = `p${bytesToHex(p.signature)}${bytesToHex(p.blockHash)}/${p.round}/${p.polRound}`;
    if (!this.fresh(key)) return;
    this.enqueue({
      check: { publicKey: p.proposer, message: proposalSignBytesOf(this.o.chainId, p), signature: p.signature },
      key,
      height: p.height,
      deliver: () => this.deliverProposal(p, block, hash, key),
    });
  }

  private receiveEvidence(body: Uint8Array): void {
    const d = decodeEvidence(body);
    if (!d.ok) return this.count('malformed');
    const e = d.value;
    // Split views are the chain application's (ChainEvidence); engines exchange what engines find.
    if (e.kind === 'split-view') return this.count('bad-evidence');
    if (e.kind === 'duplicate-proposal') return this.receiveProposalEvidence(e);
    const a = e.voteA;
    const b = e.voteB;
    if (
      !bytesEqual(a.validator, b.validator) ||
      a.height !== b.height ||
      a.round !== b.round ||
      a.type !== b.type ||
      voteKey(a.blockHash) === voteKey(b.blockHash)
    )
      return this.count('bad-evidence');
    // Only about validators of this height or the last decided ones: anyone can sign two votes with
    // a fresh key, and every node forwards the evidence it accepts (the application's pool judges
    // older evidence on its own).
    const set = this.machine.validatorSet;
    const known = (set !== null && indexOfValidator(set, a.validator) >= 0) || [...this.pastVotes.values()].some((p) => indexOfValidator(p.set, a.validator) >= 0);
    if (!known) return this.count('not-validator');
    const key = `e${bytesToHex(a.signature)}${bytesToHex(b.signature)}`;
    if (this.evidenceSeen.has(key) || !this.fresh(key)) return;
    let okCount = 0;
    for (const v of [a, b])
      this.enqueue({
        check: this.voteCheck(v),
        key: v === a ? key : `${key}/b`,
        height: -1,
        deliver: () => {
          if (++okCount === 2) this.acceptEvidence(e, key);
        },
      });
  }

  /** Two signed proposals of one proposer for one height and round with different blocks, filtered as above. */
  private receiveProposalEvidence(e: DuplicateProposalEvidence): void {
    const a = e.proposalA;
    const b = e.proposalB;
    if (!bytesEqual(a.proposer, b.proposer) || a.height !== b.height || a.round !== b.round || bytesEqual(a.blockHash, b.blockHash))
      return this.count('bad-evidence');
    const set = this.machine.validatorSet;
    const known = (set !== null && indexOfValidator(set, a.proposer) >= 0) || [...this.pastVotes.values()].some((p) => indexOfValidator(p.set, a.proposer) >= 0);
    if (!known) return this.count('not-validator');
    const key = evidenceKey(e);
    if (this.evidenceSeen.has(key) || !this.fresh(key)) return;
    let okCount = 0;
    for (const q of [a, b])
      this.enqueue({
        check: { publicKey: q.proposer, message: proposalSignBytesOf(this.o.chainId, q), signature: q.signature },
        key: q === a ? key : `${key}/b`,
        height: -1,
        deliver: () => {
          if (++okCount === 2) this.acceptEvidence(e, key);
        },
      });
  }

  private receiveCommit(from: NodeId, type: number, body: Uint8Array): void {
    const d = decodeCommitMessage(body);
    if (!d.ok) return this.count('malformed');
    const m = d.value;
    if (m.height < this.machine.height) return this.receivePastCommit(from, m, body);
    if (!this.admitHeight(from, type, body, m.height)) return;
    const set = this.machine.validatorSet;
    if (set === null || this.machine.snapshot().decided) return;
    const checked = this.checkCommit(m, body, set);
    if (checked === null) return;
    const h = m.height;
    void checked.then((ok) => {
      if (!ok || this.stopped || this.machine.height !== h) return;
      this.machine.onCommitCertificate(h, m.block, m.qc.blockHash, m.qc);
      this.pump();
    });
  }

  /**
   * A commit for a height this node decided. The same block: nothing to do. Another block: if its QC
   * verifies against that height's set, two quorums decided differently — a fork, which only ≥ 1/3
   * Byzantine power can cause. Raise the alarm and hand the double-signers' evidence on.
   */
  private receivePastCommit(from: NodeId, m: CommitMessage, body: Uint8Array): void {
    this.count('old-height');
    const ours = this.recent.get(m.height);
    const set = this.recentSets.get(m.height);
    if (ours === undefined || set === undefined || bytesEqual(ours.qc.blockHash, m.qc.blockHash)) return;
    const forkKey = `${m.height}/${bytesToHex(m.qc.blockHash)}`;
    if (this.forks.has(forkKey)) return;
    const checked = this.checkCommit(m, body, set);
    if (checked === null) return;
    void checked.then((ok) => {
      if (!ok || this.stopped || this.forks.has(forkKey)) return;
      this.forks.add(forkKey);
      this.count('fork');
      const { evidence, power } = evidenceFromConflictingCommits(set, ours.qc, m.qc);
      this.o.onFork?.({ height: m.height, ours: ours.qc, theirs: m.qc, from, evidence, doubleSignedPower: power, totalPower: set.totalPower });
      for (const e of evidence) this.acceptEvidence(e, `e${bytesToHex(e.voteA.signature)}${bytesToHex(e.voteB.signature)}`);
    });
  }

  /**
   * A commit's block must hash to what its QC names, and its QC must verify against `set`. Each
   * distinct commit is checked once: a peer replaying one (good or forged) must not make this node
   * verify its signatures again and again. Null: refused (counted) or already seen.
   */
  private checkCommit(m: CommitMessage, body: Uint8Array, set: ValidatorSet): Promise<boolean> | null {
    let hash: Uint8Array;
    try {
      hash = this.o.app.blockHash(m.block);
    } catch {
      this.count('malformed');
      return null;
    }
    if (!bytesEqual(hash, m.qc.blockHash)) {
      this.count('bad-commit');
      return null;
    }
    const key = `c${bytesToHex(sha256(body))}`;
    if (!this.fresh(key)) return null;
    this.seen.add(key);
    return this.timed(() => verifyQuorumCertificate(m.qc, set, this.o.chainId, this.o.verifier)).then((r) => {
      this.verifyCount += m.qc.signatures.length;
      if (!r.ok) this.count('bad-commit');
      return r.ok;
    });
  }

  /** A peer's recent decisions: where one differs from ours, ask that peer for its commit (receivePastCommit judges it). */
  private receiveDecided(from: NodeId, body: Uint8Array): void {
    const d = decodeDecidedMessage(body);
    if (!d.ok) return this.count('malformed');
    const differs = d.value.find((e) => {
      const ours = this.recent.get(e.height);
      return ours !== undefined && !bytesEqual(ours.qc.blockHash, e.blockHash) && !this.forks.has(`${e.height}/${bytesToHex(e.blockHash)}`);
    });
    if (differs === undefined) return;
    const now = this.o.clock.now();
    const k = `fork/${from}`;
    const last = this.catchUpSentAt.get(k);
    if (last !== undefined && now - last < 1000) return;
    this.catchUpSentAt.set(k, now);
    this.o.transport.send(from, MessageType.ConsensusStatus, encodeStatusMessage(differs.height));
  }

  /** Our last few decisions, to every peer: how a fork between two parts of the network comes to light. */
  private announceDecided(): void {
    const top = this.machine.height - 1;
    const entries = [];
    for (let h = top; h > top - MAX_DECIDED_ANNOUNCED; h--) {
      const m = this.recent.get(h);
      if (m !== undefined) entries.push({ height: h, blockHash: m.qc.blockHash });
    }
    if (entries.length > 0) this.o.transport.broadcast(MessageType.ConsensusDecided, encodeDecidedMessage(entries));
  }

  /** Fork alarms raised so far. */
  get forkCount(): number {
    return this.forks.size;
  }

  private enqueue(p: Pending): void {
    this.inFlight.add(p.key);
    this.queue.push(p);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.o.clock.setTimeout(() => void this.flush(), 0);
    }
  }

  /** Wall time with a signature batch in flight (needs `wallMs`): overlapping batches count once. */
  get verifyWallMs(): number {
    return this.verifyTimer?.busyMs ?? 0;
  }

  private timed<T>(f: () => Promise<T>): Promise<T> {
    const wallMs = this.o.wallMs;
    if (wallMs === undefined) return f();
    this.verifyTimer ??= new InFlightTimer(wallMs);
    return this.verifyTimer.time(f);
  }

  /** Verifies everything queued in one batch, then hands the good ones to the machine in arrival order. */
  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const items = this.queue;
    this.queue = [];
    if (items.length === 0 || this.stopped) return;
    this.verifyCount += items.length;
    const verdicts = await this.timed(() => this.batch.verifyBatch(items.map((p) => p.check)));
    items.forEach((p, i) => {
      this.inFlight.delete(p.key);
      if (verdicts[i] !== true) return this.count('bad-signature');
      this.seen.add(p.key);
      this.count('verified');
      if (this.stopped || (p.height !== this.machine.height && p.height !== -1)) return;
      p.deliver();
    });
    this.pump();
  }

  private deliverVote(v: Vote, key: string): void {
    const s = this.machine.onVote(v);
    if (s === 'conflict' || s === 'not-validator' || s === 'round-too-far') this.count(s);
    if (s === 'round-too-far' || s === 'capped') {
      // Not counted now but may count later (the round comes closer, the block gets proposed): a
      // re-send must not be dropped as a replay.
      this.seen.delete(key);
      if (s === 'capped') this.count(s);
    }
  }

  private deliverProposal(p: Proposal, block: Uint8Array, hash: Uint8Array, key: string): void {
    const s = this.machine.onProposal(p, block, hash);
    if (s === 'hash-mismatch' || s === 'not-proposer' || s === 'round-too-far') this.count(s);
    if (s === 'round-too-far') this.seen.delete(key); // the proposer's re-send must count later
  }

  private acceptEvidence(e: EngineEvidence, key: string): void {
    if (this.evidenceSeen.has(key)) return;
    this.evidenceSeen.add(key);
    if (this.evidenceSeen.size > 10_000) this.evidenceSeen.clear();
    this.o.onEvidence?.(e);
    // Gossip until committed is the pool's job; the driver forwards what it learns once.
    this.o.transport.broadcast(MessageType.ConsensusEvidence, encodeEvidence(e));
  }

  /** A peer is more than a height ahead: ask it (at most once a second) for the commits we miss. */
  private askForCommits(from: NodeId): void {
    const now = this.o.clock.now();
    const last = this.statusSentAt.get(from);
    if (last !== undefined && now - last < 1000) return;
    if (this.statusSentAt.size > 4096) this.statusSentAt.clear();
    this.statusSentAt.set(from, now);
    this.count('status-sent');
    this.o.transport.send(from, MessageType.ConsensusStatus, encodeStatusMessage(this.machine.height));
  }

  private sendCatchUp(to: NodeId, height: number): void {
    const now = this.o.clock.now();
    for (let h = height; h < height + this.opts.catchUpHeights; h++) {
      const m = this.recent.get(h);
      if (m === undefined) return;
      const k = `${to}/${h}`;
      const last = this.catchUpSentAt.get(k);
      if (last !== undefined && now - last < 1000) continue;
      this.catchUpSentAt.set(k, now);
      if (this.catchUpSentAt.size > 4096) this.catchUpSentAt.clear();
      this.count('catch-up-sent');
      this.o.transport.send(to, MessageType.ConsensusCommit, encodeCommitMessage(m));
    }
  }

  // ---- outputs of the state machine ----

  private pump(): void {
    if (this.stopped) return;
    const outs = this.machine.drain();
    for (const o of outs) this.handle(o);
    if (outs.length > 0) this.o.onChange?.();
  }

  private fail(): void {
    this.count('app-error');
  }

  private handle(o: EngineOutput): void {
    const { app, clock } = this.o;
    switch (o.kind) {
      case 'request-value':
        app.proposeBlock(o.height, o.round).then(
          (block) => {
            if (this.stopped) return;
            this.machine.onValue(o.height, o.round, block, app.blockHash(block));
            this.pump();
          },
          () => this.fail(),
        );
        return;
      case 'propose':
        void this.signProposal(o.height, o.round, o.polRound, o.block, o.blockHash);
        return;
      case 'vote':
        void this.signVote(o);
        return;
      case 'schedule-timeout': {
        const t = clock.setTimeout(() => {
          if (this.stopped) return;
          this.machine.onTimeout(o.step, o.height, o.round);
          this.pump();
        }, o.delayMs);
        this.timers.push(t);
        return;
      }
      case 'validate':
        app.validateBlock(o.height, o.block, o.round).then(
          (valid) => {
            if (this.stopped) return;
            this.machine.onValidated(o.height, o.blockHash, valid, o.round);
            this.pump();
          },
          () => {
            this.fail();
            this.machine.onValidated(o.height, o.blockHash, false, o.round);
            this.pump();
          },
        );
        return;
      case 'decide':
        void this.commit(o.height, o.block, o.blockHash, o.qc);
        return;
      case 'evidence':
        this.acceptEvidence(o.evidence, evidenceKey(o.evidence));
        return;
    }
  }

  private async signProposal(height: number, round: number, polRound: number, block: Uint8Array, blockHash: Uint8Array): Promise<void> {
    const signature = await this.o.signer.sign(proposalSignBytes(this.o.chainId, height, round, polRound, blockHash));
    this.signCount++;
    if (this.stopped || height !== this.machine.height) return;
    const proposal: Proposal = { height, round, polRound, blockHash, proposer: this.o.signer.publicKey, signature };
    this.seen.add(`p${bytesToHex(signature)}${bytesToHex(blockHash)}/${round}/${polRound}`);
    const body = encodeProposalMessage({ proposal, block });
    this.own.push({ round, type: MessageType.ConsensusProposal, body });
    this.o.transport.broadcast(MessageType.ConsensusProposal, body);
    if (polRound >= 0) this.relayProofOfLock(round, polRound, blockHash);
    this.machine.onProposal(proposal, block, blockHash);
    this.pump();
  }

  /**
   * A re-proposal's proof-of-lock (the +2/3 prevotes of polRound for the block) goes out with it, as
   * CometBFT's vote gossip sends a proposal's POL prevotes: a peer that missed or could not count one
   * of them (an equivocator's vote past its cap, sent before the block was proposed) cannot check l.28
   * otherwise, and validators locked on the block would wait for it forever.
   */
  private relayProofOfLock(round: number, polRound: number, blockHash: Uint8Array): void {
    const votes = this.machine.heightVotes;
    if (votes === null) return;
    for (const v of votes.prevotes(polRound).votes()) {
      if (v.blockHash === null || !bytesEqual(v.blockHash, blockHash)) continue;
      const body = encodeVote(v);
      this.own.push({ round, type: MessageType.ConsensusVote, body });
      this.o.transport.broadcast(MessageType.ConsensusVote, body);
    }
  }

  private async signVote(o: Extract<EngineOutput, { kind: 'vote' }>): Promise<void> {
    const signature = await this.o.signer.sign(voteSignBytes(this.o.chainId, o.type, o.height, o.round, o.blockHash));
    this.signCount++;
    if (this.stopped || o.height !== this.machine.height) return;
    const vote: Vote = { type: o.type, height: o.height, round: o.round, blockHash: o.blockHash, validator: this.o.signer.publicKey, signature };
    const body = encodeVote(vote);
    this.seen.add(`v${bytesToHex(body)}`);
    this.own.push({ round: o.round, type: MessageType.ConsensusVote, body });
    this.o.transport.broadcast(MessageType.ConsensusVote, body);
    this.machine.onVote(vote);
    this.pump();
  }

  private async commit(height: number, block: Uint8Array, blockHash: Uint8Array, qc: QuorumCertificate): Promise<void> {
    if (this.committing) return;
    this.committing = true;
    try {
      await this.o.app.commitBlock(height, block, qc);
    } catch {
      // A block +2/3 precommitted that the application cannot apply is a bug or a fault we cannot
      // repair here; stop rather than diverge.
      this.fail();
      this.committing = false;
      this.stop();
      return;
    }
    this.committing = false;
    if (this.stopped) return;
    this.recent.set(height, { height, block, qc });
    this.recent.delete(height - this.opts.recentCommits);
    const decidedSet = this.machine.validatorSet;
    if (decidedSet !== null) this.recentSets.set(height, decidedSet);
    this.recentSets.delete(height - this.opts.recentCommits);
    const votes = this.machine.heightVotes;
    if (votes !== null) this.pastVotes.set(height, votes);
    this.pastVotes.delete(height - PAST_VOTE_HEIGHTS);
    this.lastCommit = qc;
    // Precommits that arrived while the block was being applied.
    this.extendLastCommit(height);
    this.o.onCommitted?.(height, blockHash, qc);
    this.enterHeight(height + 1);
    this.announceDecided();
  }

  /**
   * Precommits for the decided block that arrive after the decision (and before the next block is
   * proposed) still count: the application gets a fuller QC for the next block's last commit, as
   * CometBFT's LastCommit, so a validator that is merely a little slower than the first 2/3 is not
   * counted absent (reputation, downtime). Only the last decided height, its decision round and block.
   */
  private extendLastCommit(height: number): void {
    const last = this.lastCommit;
    const extend = this.o.app.extendLastCommit;
    if (last === null || last.height !== height || extend === undefined) return;
    const past = this.pastVotes.get(height);
    if (past === undefined) return;
    const qc = extendQuorumCertificate(past.set, last, past.precommits(last.round).votes());
    if (qc === last) return;
    this.lastCommit = qc;
    this.count('commit-extended');
    extend.call(this.o.app, qc).catch(() => this.fail());
  }

  private enterHeight(height: number): void {
    for (const t of this.timers) this.o.clock.clearTimeout(t);
    this.timers = [];
    this.seen.clear();
    this.own = [];
    this.queue = this.queue.filter((p) => p.height >= height || p.height === -1);
    let set;
    try {
      set = this.o.app.validatorSet(height);
    } catch {
      this.fail();
      this.stop();
      return;
    }
    const outs = this.machine.startHeight(height, set);
    for (const o of outs) this.handle(o);
    this.o.onChange?.();
    const kept = this.future;
    this.future = [];
    this.futureBytes = 0;
    for (const k of kept) {
      if (k.height === height) this.receive(k.from, k.type, k.body);
      else if (k.height > height) {
        this.future.push(k);
        this.futureBytes += k.body.length;
      }
    }
  }
}
