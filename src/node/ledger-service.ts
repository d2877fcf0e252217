// LedgerService: a node's own audit log (core/ledger AuditLog) over any LogStorage — IndexedDB in
// a tab, memory in the simulator and tests — wired to the overlay:
//   - opens and self-checks the log at start; a log that fails the check is shown and never
//     appended to (status "failed");
//   - `record` queues entries; each batch of records that arrive together is one append (one
//     IndexedDB transaction). Head policy: a head is signed once HEAD_EVERY_ENTRIES entries of this
//     node's own activity are unsigned, or HEAD_AFTER_MS after the first of them. Peer heads this
//     node writes down are passive: they are covered by the next head but never cause one, or
//     every head would make every peer sign a head, forever;
//   - gossips its latest signed head on change and every GOSSIP_INTERVAL_MS; keeps the last head
//     seen per peer (split-view.ts), asks for a consistency proof when a head of another size
//     arrives, and writes each new peer head into its own log;
//   - two heads of one peer that no proof reconciles become evidence: proven by the heads alone
//     (same size, different roots; or one previous head, two successors) it goes to the injected
//     `submitEvidence`; a failed or missing proof between different sizes is only "suspected"
//     (it stands until the peer publishes a proof; consensus does not punish it);
//   - relays heads: a new head of a peer that came from that peer is re-broadcast under this
//     node's envelope when it is written (so at most once per peer per window). A node that sends
//     one head to some peers and another to the rest (hop limit 1, so nobody forwards them) is
//     caught: each side hears the other's head from a relay. Relayed heads are not relayed again;
//   - hostile peers cannot grow the log or memory without limit: heads are taken only from room
//     members and overlay peers, at most one head per peer is written per PEER_HEAD_INTERVAL_MS
//     (newer heads still reach the split-view monitor in memory), per-peer state is bounded
//     (PEERS_KEPT, least recently seen forgotten), and an audit stops at AUDIT_MAX_BYTES;
//   - answers peers' requests for heads, entries (paged, with inclusion proofs) and consistency
//     proofs, and audits a peer with the same requests (ledger-audit.ts).
import { BoundedMap } from '../core/bounded-map.ts';
import { bytesEqual, bytesToHex } from '../core/bytes.ts';
import type { TimerHandle } from '../core/clock.ts';
import type { QuorumCertificate, SplitViewEvidence, VoteType } from '../core/consensus/types.ts';
import type { Signer, Verifier } from '../core/crypto/ed25519.ts';
import { sha256 } from '../core/crypto/hash.ts';
import { nodeIdFromPublicKey, type NodeId } from '../core/crypto/node-id.ts';
import { AuditLog } from '../core/ledger/audit-log.ts';
import { encodeEntry, type LogEntry, type ReceiptBlockProof, type StakeEventKind, type TranscriptInclusion } from '../core/ledger/entry.ts';
import { exportLog, type ExportChain, type ExportedLog } from '../core/ledger/export.ts';
import {
  decodeConsistencyRequest,
  decodeConsistencyResponse,
  decodeEntriesRequest,
  decodeEntriesResponse,
  decodeHeadsRequest,
  decodeHeadsResponse,
  decodeLedgerHead,
  encodeConsistencyRequest,
  encodeConsistencyResponse,
  encodeEntriesRequest,
  encodeEntriesResponse,
  encodeHeadsRequest,
  encodeHeadsResponse,
  encodeLedgerHead,
  ENTRY_PAGE_BYTES,
  MAX_ENTRIES_PER_PAGE,
  type ConsistencyAnswer,
  type EntryWithProof,
  type SizePair,
} from '../core/ledger/ledger-messages.ts';
import type { Hash } from '../core/ledger/merkle.ts';
import { checkSplitViewEvidence, SplitViewMonitor, type HeadObservation } from '../core/ledger/split-view.ts';
import type { LogStorage } from '../core/ledger/storage.ts';
import { parseTreeHead, type SignedTreeHead } from '../core/ledger/tree-head.ts';
import type { ReceiptQcCheck } from '../core/ledger/verify.ts';
import type { Envelope } from '../core/net/envelope.ts';
import { MessageType } from '../core/net/message-types.ts';
import { err, ok, type Result } from '../core/result.ts';
import { maskedInputCommitment, maskedInputParts } from '../core/secagg/contribution-commitment.ts';
import { commitTranscript, contributorInclusion } from '../core/secagg/transcript-root.ts';
import type { AegisNode } from './aegis-node.ts';
import { auditPeer, TOO_LARGE, type AuditReport } from './ledger-audit.ts';
import { forkedHead } from './ledger-fork.ts';
import { PendingRequests } from './ledger-requests.ts';
import { summarizeBytes, summarizeDecoded, type EntrySummary } from './ledger-summary.ts';
import { Listeners, countRefusal } from './listeners.ts';

export const HEAD_EVERY_ENTRIES = 16;
export const HEAD_AFTER_MS = 2000;
export const GOSSIP_INTERVAL_MS = 5000;
export const REQUEST_TIMEOUT_MS = 10_000;
/** At most one head per peer is written into the log per this window (a peer signs far less often). */
export const PEER_HEAD_INTERVAL_MS = 30_000;
/** Peers whose heads are tracked in memory (room sizes are far below it). */
export const PEERS_KEPT = 4096;
/** An audit downloads at most this much of a peer's log (entries, proofs, heads). */
export const AUDIT_MAX_BYTES = 64 * 1024 * 1024;
/** Entry summaries kept in memory for the dashboard (older ones are read from storage by page). */
const RECENT_KEPT = 200;
const EVIDENCE_KEPT = 50;
const AUDITS_KEPT = 10;
/** Records appended per commit at most (a larger burst becomes several commits). */
const MAX_BATCH = 1000;

/** What the service needs of a node (AegisNode has it; tests may pass a stub). */
export type LedgerNode = Pick<AegisNode, 'id' | 'publicKey' | 'clock' | 'broadcast' | 'sendTo' | 'onMessage' | 'schedule' | 'publicKeyOf'> &
  Partial<Pick<AegisNode, 'roomMembers' | 'connectedPeers'>>;

/** Storage with a running byte count (MemoryLogStorage, IdbLogStorage). */
export type MeasuredLogStorage = LogStorage & { readonly bytesStored: number };

export interface LedgerServiceOptions {
  node: LedgerNode;
  /** The node's own identity key: heads are signed with it, so peers match them to the sender. */
  signer: Signer;
  verifier: Verifier;
  storage: MeasuredLogStorage;
  /** Proven split-view evidence goes here (consensus puts it in a block). */
  submitEvidence?: (e: SplitViewEvidence) => void;
  /** Checks receipts' QCs in audits (validator sets from the consensus light client). */
  checkReceiptQc?: ReceiptQcCheck;
  headEveryEntries?: number;
  headAfterMs?: number;
  gossipIntervalMs?: number;
  requestTimeoutMs?: number;
  /**
   * Whether heads from this node are taken (default: a room member or a linked peer, when the node
   * can say; a node that cannot — a test stub — takes every sender).
   */
  isPeer?: (id: NodeId) => boolean;
  peerHeadIntervalMs?: number;
  peersKept?: number;
  auditMaxBytes?: number;
}

/** Entries as callers hand them over: the time is filled in from the node's clock if absent. */
export type NewEntry = LogEntry extends infer E ? (E extends LogEntry ? Omit<E, 'timeMs'> & { timeMs?: number } : never) : never;

export interface HeadView {
  size: number;
  rootHex: string;
  timeMs: number;
}

export interface EvidenceView {
  peer: NodeId;
  /** proven: by the two signed heads alone (submitted for penalty); suspected: unreconciled sizes. */
  status: 'proven' | 'suspected';
  reason: string;
  atMs: number;
  headA: HeadView;
  headB: HeadView;
  /** Handed to `submitEvidence` (only proven evidence, and only once a callback is set). */
  submitted: boolean;
}

export interface AuditView {
  peer: NodeId;
  atMs: number;
  elapsedMs: number;
  ok: boolean;
  checks: string[];
  failures: string[];
  entries: number;
  heads: number;
  receiptQcs: AuditReport['receiptQcs'];
}

export interface ReplicaEstimate {
  bytes: number;
  /** How the figure was estimated, in words. */
  basis: string;
}

export interface LedgerSnapshot {
  status: 'opening' | 'ready' | 'failed';
  /** Why the log failed its start-up check (or a later storage error). */
  error: string | null;
  size: number;
  head: HeadView | null;
  /** Entries appended since the latest signed head. */
  unsigned: number;
  /** The latest entries, newest first. */
  recent: EntrySummary[];
  storage: { selfBytes: number; replica: ReplicaEstimate };
  evidence: EvidenceView[];
  audits: AuditView[];
  /** The peer being audited now, if any. */
  auditing: NodeId | null;
  /** Peer messages refused, by reason. */
  refused: Record<string, number>;
  /** Conflicting heads this node signed with the developer tool "Fork my log". */
  forks: number;
  /** Peer heads not written (yet) because that peer's last one is younger than the window. */
  peerHeadsDeferred: number;
  /** Peers whose heads are tracked in memory: last head, head awaiting a proof, written head (each bounded). */
  peersTracked: { last: number; pending: number; recorded: number };
}

const headView = (h: SignedTreeHead): HeadView => ({ size: h.size, rootHex: bytesToHex(h.root), timeMs: h.timeMs });

/**
 * What start-up keeps of the stored log, gathered while AuditLog.open checks it, so each stored
 * entry is read and decoded once. Applied (loadState) only once the log has passed its check.
 */
class StoredState {
  /** The last head written of each peer, in first-written order. */
  readonly lastPeerHead = new Map<string, { peer: Uint8Array; head: Uint8Array }>();
  /** This node's commitment per round (hex round id). */
  readonly contributions = new Map<string, Hash>();
  /** The latest RECENT_KEPT entries: entry i at i % RECENT_KEPT. */
  private readonly tail: LogEntry[] = [];
  private size = 0;

  readonly add = (index: number, e: LogEntry): void => {
    if (e.kind === 'peer-head') this.lastPeerHead.set(bytesToHex(e.peer), { peer: e.peer, head: e.head });
    else if (e.kind === 'contribution') this.contributions.set(bytesToHex(e.roundId), e.commitment);
    this.tail[index % RECENT_KEPT] = e;
    this.size = index + 1;
  };

  /** Summaries of the latest RECENT_KEPT entries, newest first. */
  recent(): EntrySummary[] {
    const out: EntrySummary[] = [];
    for (let i = this.size - 1; i >= Math.max(0, this.size - RECENT_KEPT); i--) out.push(summarizeDecoded(i, this.tail[i % RECENT_KEPT] as LogEntry));
    return out;
  }
}

interface PeerHeadQueue {
  running: boolean;
  next: Uint8Array | null;
  /** `next` came from its owner (not relayed): relay it once written. */
  fromOwner: boolean;
}

interface RecordedPeerHead {
  hex: string;
  atMs: number;
}

/** A head not written (nor relayed) yet because its peer's last one is younger than the window. */
interface DeferredPeerHead {
  peer: Uint8Array;
  head: Uint8Array;
  hex: string;
  relay: boolean;
}

export class LedgerService {
  private log: AuditLog | null = null;
  private status: LedgerSnapshot['status'] = 'opening';
  private error: string | null = null;
  private readonly monitor: SplitViewMonitor;
  private readonly requests: PendingRequests;
  private readonly listeners = new Listeners();
  private readonly changed = (): void => this.listeners.notify();
  private readonly pending: { entry: LogEntry; passive: boolean; resolve: (r: Result<number>) => void }[] = [];
  private flushing = false;
  private unsignedActive = 0;
  private headTimer: TimerHandle | null = null;
  private gossipTimer: TimerHandle | null = null;
  private recent: EntrySummary[] = [];
  private readonly evidence: EvidenceView[] = [];
  private readonly evidenceKeys = new Set<string>();
  private readonly audits: AuditView[] = [];
  private auditing: NodeId | null = null;
  private forks = 0;
  private peerHeadsDeferred = 0;
  /** Peers with heads being observed now (an entry lives only while its queue runs). */
  private readonly peerQueues = new Map<string, PeerHeadQueue>();
  /** The last head of each peer written into this log (so a re-gossiped head is not written twice), and when. */
  private readonly recordedPeerHeads: BoundedMap<string, RecordedPeerHead>;
  /** The newest head per peer waiting for the window (written on the next gossip tick after it). */
  private readonly deferredPeerHeads: BoundedMap<string, DeferredPeerHead>;
  /** This node's commitment per round it contributed to (hex round id), for receipts. */
  private readonly contributions = new Map<string, Hash>();
  private readonly replicaSources: (() => ReplicaEstimate)[] = [];
  private readonly unsubscribers: (() => void)[] = [];
  readonly refused: Record<string, number> = {};
  private submit: ((e: SplitViewEvidence) => void) | null;
  private checkReceiptQc: ReceiptQcCheck | undefined;
  private exportChain: (() => ExportChain | undefined) | undefined;
  private readonly cfg: Required<
    Pick<LedgerServiceOptions, 'headEveryEntries' | 'headAfterMs' | 'gossipIntervalMs' | 'requestTimeoutMs' | 'peerHeadIntervalMs' | 'peersKept' | 'auditMaxBytes'>
  >;

  private constructor(private readonly opts: LedgerServiceOptions) {
    const peersKept = opts.peersKept ?? PEERS_KEPT;
    this.monitor = new SplitViewMonitor(opts.verifier, peersKept);
    this.recordedPeerHeads = new BoundedMap(peersKept);
    this.deferredPeerHeads = new BoundedMap(peersKept);
    this.submit = opts.submitEvidence ?? null;
    this.checkReceiptQc = opts.checkReceiptQc;
    this.cfg = {
      headEveryEntries: opts.headEveryEntries ?? HEAD_EVERY_ENTRIES,
      headAfterMs: opts.headAfterMs ?? HEAD_AFTER_MS,
      gossipIntervalMs: opts.gossipIntervalMs ?? GOSSIP_INTERVAL_MS,
      requestTimeoutMs: opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
      peerHeadIntervalMs: opts.peerHeadIntervalMs ?? PEER_HEAD_INTERVAL_MS,
      peersKept,
      auditMaxBytes: opts.auditMaxBytes ?? AUDIT_MAX_BYTES,
    };
    this.requests = new PendingRequests(opts.node.clock, this.cfg.requestTimeoutMs);
  }

  /** Open and check the log, then join the protocol. Never throws for a bad log: see `snapshot().status`. */
  static async start(opts: LedgerServiceOptions): Promise<LedgerService> {
    const s = new LedgerService(opts);
    await s.open();
    return s;
  }

  private async open(): Promise<void> {
    const { node } = this.opts;
    const stored = new StoredState();
    let opened: Result<AuditLog>;
    try {
      opened = await AuditLog.open({ storage: this.opts.storage, signer: this.opts.signer, verifier: this.opts.verifier, clock: node.clock }, stored.add);
    } catch (e) {
      opened = err(`storage: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (!opened.ok) {
      this.status = 'failed';
      this.error = `the stored log failed its start-up check: ${opened.error}`;
      this.changed();
      return;
    }
    const log = opened.value;
    this.log = log;
    await this.loadState(stored);
    if (log.head === null) await log.signHead(); // the first head, so peers have something to compare with
    this.status = 'ready';
    const on = (type: number, fn: (env: Envelope, from: NodeId) => Promise<void> | void): void => {
      this.unsubscribers.push(node.onMessage(type, (env, from) => node.schedule(() => fn(env, from))));
    };
    // Head observation may wait for a proof from the peer: it must not hold the node's work queue.
    this.unsubscribers.push(node.onMessage(MessageType.LedgerHead, (env, from) => this.onHead(env, from)));
    on(MessageType.LedgerConsistencyRequest, (env, from) => this.onConsistencyRequest(env, from));
    on(MessageType.LedgerHeadsRequest, (env, from) => this.onHeadsRequest(env, from));
    on(MessageType.LedgerEntriesRequest, (env, from) => this.onEntriesRequest(env, from));
    for (const t of [MessageType.LedgerConsistencyResponse, MessageType.LedgerHeadsResponse, MessageType.LedgerEntriesResponse])
      this.unsubscribers.push(node.onMessage(t, (env, from) => this.onResponse(env, from)));
    this.armGossip();
    this.changed();
  }

  /** Recent summaries, peer heads already written (the split-view monitor resumes from them), contributions. */
  private async loadState(stored: StoredState): Promise<void> {
    for (const [key, commitment] of stored.contributions) this.contributions.set(key, commitment);
    this.recent = stored.recent();
    for (const [key, { peer, head }] of stored.lastPeerHead) {
      const o = await this.monitor.observe(peer, head);
      if (o.kind === 'recorded') this.recordedPeerHeads.set(key, { hex: bytesToHex(head), atMs: -Infinity });
    }
  }

  stop(): void {
    for (const u of this.unsubscribers.splice(0)) u();
    if (this.headTimer !== null) this.opts.node.clock.clearTimeout(this.headTimer);
    if (this.gossipTimer !== null) this.opts.node.clock.clearTimeout(this.gossipTimer);
    this.headTimer = this.gossipTimer = null;
    this.requests.cancelAll();
  }

  subscribe(listener: () => void): () => void {
    return this.listeners.subscribe(listener);
  }

  private refuse(reason: string): void {
    countRefusal(this.refused, reason);
    this.changed();
  }

  /** The consensus integration wires these once its engine runs. */
  setSubmitEvidence(fn: ((e: SplitViewEvidence) => void) | null): void {
    this.submit = fn;
  }

  setReceiptQcCheck(fn: ReceiptQcCheck | undefined): void {
    this.checkReceiptQc = fn;
  }

  /** The chain's genesis and certificates for exports, so `aegis verify` checks receipts' QCs offline. */
  setExportChain(fn: (() => ExportChain | undefined) | undefined): void {
    this.exportChain = fn;
  }

  /** Something that knows how much a full replica would store (secure aggregation, blocks). */
  addReplicaSource(source: () => ReplicaEstimate): void {
    this.replicaSources.push(source);
  }

  get auditLog(): AuditLog | null {
    return this.log;
  }

  // ---- recording -------------------------------------------------------------------------------

  /**
   * Append an entry (serialised with every other append; entries recorded together share one
   * commit). Resolves to its index, or an error if the log is not usable. A malformed entry is a
   * programmer error and throws here, naming the field.
   */
  record(entry: NewEntry): Promise<Result<number>> {
    return this.enqueue(entry, entry.kind === 'peer-head');
  }

  private enqueue(input: NewEntry, passive: boolean): Promise<Result<number>> {
    const entry = { ...input, timeMs: input.timeMs ?? Math.max(0, Math.floor(this.opts.node.clock.now())) } as LogEntry;
    encodeEntry(entry); // throws on a malformed entry, before it can spoil a batch
    if (this.status !== 'ready') return Promise.resolve(err(this.error ?? `the log is ${this.status}`));
    return new Promise((resolve) => {
      this.pending.push({ entry, passive, resolve });
      if (!this.flushing) {
        this.flushing = true;
        queueMicrotask(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    const log = this.log as AuditLog;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, MAX_BATCH);
      try {
        const first = await log.appendMany(batch.map((b) => b.entry));
        batch.forEach((b, i) => {
          b.resolve(ok(first + i));
          // Only the newest RECENT_KEPT are kept: older entries of a large batch are not summarised.
          if (i >= batch.length - RECENT_KEPT) this.recent.unshift(summarizeDecoded(first + i, b.entry));
          if (!b.passive) this.unsignedActive++;
        });
        if (this.recent.length > RECENT_KEPT) this.recent.length = RECENT_KEPT;
      } catch (e) {
        const reason = `storage: ${e instanceof Error ? e.message : String(e)}`;
        this.error = reason;
        for (const b of batch) b.resolve(err(reason));
      }
    }
    this.flushing = false;
    this.changed();
    if (this.unsignedActive >= this.cfg.headEveryEntries) void this.signAndGossip();
    else if (this.unsignedActive > 0 && this.headTimer === null)
      this.headTimer = this.opts.node.clock.setTimeout(() => void this.signAndGossip(), this.cfg.headAfterMs);
  }

  /** Sign a head over everything appended so far and gossip it (no-op if nothing is new). */
  async signAndGossip(): Promise<SignedTreeHead | null> {
    if (this.headTimer !== null) this.opts.node.clock.clearTimeout(this.headTimer);
    this.headTimer = null;
    const log = this.log;
    if (log === null || this.status !== 'ready') return null;
    this.unsignedActive = 0;
    const before = log.head;
    let head: SignedTreeHead;
    try {
      head = await log.signHead();
    } catch (e) {
      this.error = `signing a head: ${e instanceof Error ? e.message : String(e)}`;
      this.changed();
      return null;
    }
    if (head !== before) await this.gossipHead(head);
    this.changed();
    return head;
  }

  private async gossipHead(head: Pick<SignedTreeHead, 'bytes'>): Promise<void> {
    try {
      await this.opts.node.broadcast(MessageType.LedgerHead, encodeLedgerHead({ head: head.bytes }));
    } catch {
      // not connected yet: the periodic gossip sends it later
    }
  }

  private armGossip(): void {
    const clock = this.opts.node.clock;
    this.gossipTimer = clock.setTimeout(() => {
      const head = this.log?.head;
      if (head) void this.gossipHead(head);
      void this.flushDeferredHeads(null);
      this.armGossip();
    }, this.cfg.gossipIntervalMs);
  }

  /** A contribution this node made: `envelope` is the SecAggMaskedInput exactly as signed and sent. */
  recordContribution(roundId: Uint8Array, envelope: Uint8Array): Promise<Result<number>> {
    const parts = maskedInputParts(envelope);
    if (!parts.ok) return Promise.resolve(err(`masked input: ${parts.error}`));
    if (!bytesEqual(parts.value.statement.roundId, roundId)) return Promise.resolve(err('masked input of another round'));
    const commitment = maskedInputCommitment(roundId, parts.value.statement);
    this.contributions.set(bytesToHex(roundId), commitment);
    return this.record({ kind: 'contribution', roundId, commitment });
  }

  /** A vote this node cast (consensus hook). */
  recordVote(v: { voteType: VoteType; height: number; round: number; blockHash: Hash | null; timeMs?: number }): Promise<Result<number>> {
    return this.record({ kind: 'vote', ...v });
  }

  /** A stake, slash, reputation or jail change the chain applied to this node (consensus hook). */
  recordStakeEvent(s: { event: StakeEventKind; height: number; amount: number; total: number; timeMs?: number }): Promise<Result<number>> {
    return this.record({ kind: 'stake', ...s });
  }

  /**
   * A finalized aggregation this node contributed to (consensus hook): the block, its QC, and
   * either the path of this node's commitment under the transcript's commitment root, or the
   * transcript envelopes to compute it from (secagg/transcript-root.ts).
   */
  recordReceipt(r: {
    roundId: Uint8Array;
    height: number;
    blockHash: Hash;
    qc: QuorumCertificate;
    /** Header and result item with its path under the results root (receipt-check.ts receiptBlockProof). */
    block: ReceiptBlockProof;
    transcript: TranscriptInclusion | readonly Uint8Array[];
    timeMs?: number;
  }): Promise<Result<number>> {
    let inclusion: TranscriptInclusion;
    if (Array.isArray(r.transcript)) {
      const mine = this.contributions.get(bytesToHex(r.roundId));
      if (mine === undefined) return Promise.resolve(err('this node recorded no contribution to that round'));
      const tc = commitTranscript(r.roundId, r.transcript as readonly Uint8Array[]);
      if (!tc.ok) return Promise.resolve(err(`transcript: ${tc.error}`));
      const inc = contributorInclusion(tc.value, this.opts.node.id);
      if (inc === null || !bytesEqual(inc.commitment, mine)) return Promise.resolve(err("this node's commitment is not in the round's transcript"));
      inclusion = inc;
    } else inclusion = r.transcript as TranscriptInclusion;
    const { transcript: _t, ...rest } = r;
    return this.record({ kind: 'receipt', ...rest, transcript: inclusion });
  }

  // ---- heads from peers: split-view detection ------------------------------------------------------

  private onHead(env: Envelope, from: NodeId): void {
    // Before any decoding or signature check: a stranger's heads cost nothing but this count.
    if (!this.isPeer(from)) return this.refuse('head from a node that is not a room member or peer');
    const m = decodeLedgerHead(env.body);
    if (!m.ok) return this.refuse(`malformed head: ${m.error}`);
    // The head names its owner (its signature is checked against that key by the monitor): the
    // sender is the owner, or a peer relaying the owner's head.
    const parsed = parseTreeHead(m.value.head);
    if (!parsed.ok) return this.refuse(`malformed head: ${parsed.error}`);
    const owner = parsed.value.publicKey;
    if (bytesEqual(owner, this.opts.node.publicKey)) return;
    const fromOwner = bytesEqual(owner, env.sender);
    if (!fromOwner && !this.isPeer(nodeIdFromPublicKey(owner))) return this.refuse('relayed head of a node that is not a room member or peer');
    this.observeHead(owner, m.value.head, fromOwner);
  }

  private isPeer(id: NodeId): boolean {
    if (this.opts.isPeer !== undefined) return this.opts.isPeer(id);
    const { roomMembers, connectedPeers } = this.opts.node;
    if (roomMembers === undefined && connectedPeers === undefined) return true;
    return (roomMembers?.call(this.opts.node) ?? []).includes(id) || (connectedPeers?.call(this.opts.node) ?? []).includes(id);
  }

  /** Observe heads of one peer one at a time (a proof round trip in between); only the newest waits. */
  private observeHead(peer: Uint8Array, head: Uint8Array, fromOwner: boolean): void {
    if (this.status !== 'ready') return;
    const key = bytesToHex(peer);
    const q = this.peerQueues.get(key) ?? { running: false, next: null, fromOwner: false };
    this.peerQueues.set(key, q);
    q.next = head;
    q.fromOwner = fromOwner;
    if (q.running) return;
    q.running = true;
    void (async () => {
      while (q.next !== null) {
        const h = q.next;
        const relay = q.fromOwner;
        q.next = null;
        try {
          await this.handleObservation(peer, h, await this.monitor.observe(peer, h), relay);
        } catch (e) {
          this.refuse(`head handling failed: ${String(e)}`);
        }
      }
      q.running = false;
      this.peerQueues.delete(key);
    })();
  }

  private async handleObservation(peer: Uint8Array, head: Uint8Array, o: HeadObservation, relay: boolean): Promise<void> {
    const peerId = nodeIdFromPublicKey(peer);
    switch (o.kind) {
      case 'invalid':
        return this.refuse(`invalid head: ${o.reason}`);
      case 'same':
        // A head deferred by the window is written once the window has passed.
        return this.flushDeferredHeads(bytesToHex(peer));
      case 'recorded':
      case 'consistent':
        await this.writePeerHead(peer, head, relay);
        return;
      case 'need-proof': {
        const answers = await this.askConsistency(peerId, [{ size1: o.size1, size2: o.size2 }]);
        const a = answers?.[0];
        const next = a && a.proof !== null && a.size1 === o.size1 && a.size2 === o.size2 ? this.monitor.resolve(peer, a.proof) : this.monitor.unanswered(peer);
        return this.handleObservation(peer, head, next, relay);
      }
      case 'split-view':
        await this.writePeerHead(peer, head, false);
        return this.onSplitView(peerId, o.evidence, o.reason);
    }
  }

  /** Write a peer's head into the log (and relay it), or defer it if that peer's last write is too recent. */
  private async writePeerHead(peer: Uint8Array, head: Uint8Array, relay: boolean): Promise<void> {
    const key = bytesToHex(peer);
    const hex = bytesToHex(head);
    const rec = this.recordedPeerHeads.get(key);
    if (rec?.hex === hex) return;
    const nowMs = this.opts.node.clock.now();
    if (rec !== undefined && nowMs - rec.atMs < this.cfg.peerHeadIntervalMs) {
      const d = this.deferredPeerHeads.get(key);
      if (d?.hex !== hex) {
        this.peerHeadsDeferred++;
        this.changed();
      }
      this.deferredPeerHeads.set(key, { peer, head, hex, relay: relay || (d?.hex === hex && d.relay) });
      return;
    }
    this.deferredPeerHeads.delete(key);
    this.recordedPeerHeads.set(key, { hex, atMs: nowMs });
    if (relay) void this.gossipHead({ bytes: head });
    await this.enqueue({ kind: 'peer-head', peer, head }, true);
  }

  /** Write deferred heads (of one peer, or all) whose window has passed. */
  private async flushDeferredHeads(only: string | null): Promise<void> {
    const nowMs = this.opts.node.clock.now();
    const due = [...this.deferredPeerHeads.entries()].filter(([key]) => {
      const rec = this.recordedPeerHeads.get(key);
      return (only === null || key === only) && (rec === undefined || nowMs - rec.atMs >= this.cfg.peerHeadIntervalMs);
    });
    for (const [, d] of due) await this.writePeerHead(d.peer, d.head, d.relay);
  }

  private async onSplitView(peer: NodeId, e: SplitViewEvidence, reason: string): Promise<void> {
    const key = bytesToHex(sha256(new Uint8Array([...e.headA, ...e.headB])));
    if (this.evidenceKeys.has(key)) return;
    this.evidenceKeys.add(key);
    const verdict = await checkSplitViewEvidence(e, this.opts.verifier);
    if (!verdict.valid) return this.refuse(`split-view evidence does not check: ${verdict.reason}`);
    const a = parseTreeHead(e.headA);
    const b = parseTreeHead(e.headB);
    if (!a.ok || !b.ok) return;
    const proven = verdict.proven !== 'unreconciled';
    const view: EvidenceView = {
      peer,
      status: proven ? 'proven' : 'suspected',
      reason: `${reason}${proven ? '' : ' (suspected: stands until the peer publishes a proof that verifies)'}`,
      atMs: this.opts.node.clock.now(),
      headA: headView(a.value),
      headB: headView(b.value),
      submitted: false,
    };
    if (proven && this.submit !== null) {
      try {
        this.submit(e);
        view.submitted = true;
      } catch (error) {
        view.reason += ` (submitting failed: ${String(error)})`;
      }
    }
    this.evidence.unshift(view);
    if (this.evidence.length > EVIDENCE_KEPT) this.evidence.length = EVIDENCE_KEPT;
    this.changed();
  }

  // ---- requests this node sends --------------------------------------------------------------------

  private async ask(peer: NodeId, type: number, responseType: number, body: (requestId: number) => Uint8Array): Promise<Uint8Array | null> {
    const { requestId, response } = this.requests.open(peer, responseType);
    try {
      await this.opts.node.sendTo(peer, type, body(requestId));
    } catch {
      // unknown or unreachable peer: the request times out
    }
    return response;
  }

  private async askConsistency(peer: NodeId, pairs: SizePair[]): Promise<ConsistencyAnswer[] | null> {
    const b = await this.ask(peer, MessageType.LedgerConsistencyRequest, MessageType.LedgerConsistencyResponse, (requestId) =>
      encodeConsistencyRequest({ requestId, pairs }),
    );
    const r = b === null ? null : decodeConsistencyResponse(b);
    if (r !== null && !r.ok) this.refuse(`malformed consistency response: ${r.error}`);
    return r?.ok && r.value.answers.length === pairs.length ? r.value.answers : null;
  }

  private onResponse(env: Envelope, from: NodeId): void {
    // The request id sits right after the version byte in every response.
    if (env.body.length < 5) return this.refuse('malformed response: too short');
    const requestId = new DataView(env.body.buffer, env.body.byteOffset).getUint32(1);
    if (!this.requests.settle(requestId, from, env.type, env.body)) this.refuse('unexpected response');
  }

  /** Fetch a peer's log and verify all of it; the verdict is kept for the dashboard. */
  async auditPeer(peer: NodeId, peerKey?: Uint8Array): Promise<AuditView> {
    const key = peerKey ?? this.opts.node.publicKeyOf(peer);
    const started = this.opts.node.clock.now();
    const t0 = now();
    this.auditing = peer;
    this.changed();
    let report: AuditReport;
    if (key === undefined) report = { ok: false, checks: [], failures: ['no known public key for this peer'], entries: 0, heads: 0, receiptQcs: 'no-receipts', latest: null };
    else {
      const parse = <T>(b: Uint8Array | null, dec: (b: Uint8Array) => Result<T>, what: string): T | null => {
        if (b === null) return null;
        const r = dec(b);
        if (!r.ok) this.refuse(`malformed ${what}: ${r.error}`);
        return r.ok ? r.value : null;
      };
      report = await auditPeer(
        key,
        {
          heads: async (from, max) =>
            parse(
              await this.ask(peer, MessageType.LedgerHeadsRequest, MessageType.LedgerHeadsResponse, (requestId) => encodeHeadsRequest({ requestId, from, max })),
              decodeHeadsResponse,
              'heads response',
            ),
          entries: async (from, to, proofTreeSize) =>
            parse(
              await this.ask(peer, MessageType.LedgerEntriesRequest, MessageType.LedgerEntriesResponse, (requestId) =>
                encodeEntriesRequest({ requestId, from, to, proofTreeSize }),
              ),
              decodeEntriesResponse,
              'entries response',
            ),
          consistency: async (pairs) => {
            const answers = await this.askConsistency(peer, pairs);
            return answers === null ? null : { requestId: 0, answers };
          },
        },
        {
          verifier: this.opts.verifier,
          maxBytes: this.cfg.auditMaxBytes,
          ...(this.checkReceiptQc ? { checkReceiptQc: this.checkReceiptQc } : {}),
          ...(this.monitor.lastHead(key) ? { lastSeen: this.monitor.lastHead(key) as SignedTreeHead } : {}),
        },
      );
      if (report.latest !== null) this.observeHead(key, report.latest.bytes, false);
      if (report.failures.some((f) => f.startsWith(TOO_LARGE))) this.refuse(`audit stopped: ${TOO_LARGE}`);
    }
    const view: AuditView = {
      peer,
      atMs: started,
      elapsedMs: Math.round((now() - t0) * 10) / 10,
      ok: report.ok,
      checks: report.checks,
      failures: report.failures,
      entries: report.entries,
      heads: report.heads,
      receiptQcs: report.receiptQcs,
    };
    this.audits.unshift(view);
    if (this.audits.length > AUDITS_KEPT) this.audits.length = AUDITS_KEPT;
    this.auditing = null;
    this.changed();
    return view;
  }

  // ---- requests this node answers ------------------------------------------------------------------

  private async onConsistencyRequest(env: Envelope, from: NodeId): Promise<void> {
    const log = this.log;
    const m = decodeConsistencyRequest(env.body);
    if (!m.ok) return this.refuse(`malformed consistency request: ${m.error}`);
    if (log === null) return;
    const answers: ConsistencyAnswer[] = [];
    for (const p of m.value.pairs) {
      const provable = p.size1 > 0 && p.size1 <= p.size2 && p.size2 <= log.size;
      answers.push({ ...p, proof: provable ? await log.consistencyProof(p.size1, p.size2) : null });
    }
    await this.reply(from, MessageType.LedgerConsistencyResponse, encodeConsistencyResponse({ requestId: m.value.requestId, answers }));
  }

  private async onHeadsRequest(env: Envelope, from: NodeId): Promise<void> {
    const log = this.log;
    const m = decodeHeadsRequest(env.body);
    if (!m.ok) return this.refuse(`malformed heads request: ${m.error}`);
    if (log === null) return;
    const heads = await log.heads();
    const page = heads.slice(m.value.from, m.value.from + m.value.max).map((h) => h.bytes);
    const fromIdx = Math.min(m.value.from, heads.length);
    await this.reply(from, MessageType.LedgerHeadsResponse, encodeHeadsResponse({ requestId: m.value.requestId, total: heads.length, from: fromIdx, heads: page }));
  }

  private async onEntriesRequest(env: Envelope, from: NodeId): Promise<void> {
    const log = this.log;
    const m = decodeEntriesRequest(env.body);
    if (!m.ok) return this.refuse(`malformed entries request: ${m.error}`);
    if (log === null) return;
    const { requestId, proofTreeSize } = m.value;
    const proofs = proofTreeSize > 0 && proofTreeSize <= log.size;
    const limit = Math.min(m.value.to, proofs ? proofTreeSize : log.size, m.value.from + MAX_ENTRIES_PER_PAGE);
    const bytes = m.value.from < limit ? await log.entryBytes(m.value.from, limit) : [];
    const entries: EntryWithProof[] = [];
    let budget = ENTRY_PAGE_BYTES;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i] as Uint8Array;
      if (entries.length > 0 && b.length > budget) break;
      budget -= b.length;
      entries.push({ bytes: b, proof: [] });
    }
    if (proofs) {
      const list = await Promise.all(entries.map((_, i) => log.inclusionProof(m.value.from + i, proofTreeSize)));
      list.forEach((p, i) => ((entries[i] as EntryWithProof).proof = p));
    }
    await this.reply(from, MessageType.LedgerEntriesResponse, encodeEntriesResponse({ requestId, from: m.value.from, proofTreeSize: proofs ? proofTreeSize : 0, entries }));
  }

  private async reply(to: NodeId, type: number, body: Uint8Array): Promise<void> {
    try {
      await this.opts.node.sendTo(to, type, body);
    } catch {
      // the requester left: nothing to do
    }
  }

  // ---- dashboard ------------------------------------------------------------------------------------

  snapshot(): LedgerSnapshot {
    const log = this.log;
    const head = log?.head ?? null;
    const estimates = this.replicaSources.map((f) => f());
    const replica: ReplicaEstimate = {
      bytes: estimates.reduce((n, e) => n + e.bytes, 0),
      basis: estimates.length > 0 ? estimates.map((e) => e.basis).join('; ') : 'nothing seen yet',
    };
    return {
      status: this.status,
      error: this.error,
      size: log?.size ?? 0,
      head: head ? headView(head) : null,
      unsigned: log ? log.size - (head?.size ?? 0) : 0,
      recent: this.recent.slice(),
      storage: { selfBytes: this.opts.storage.bytesStored, replica },
      evidence: this.evidence.map((e) => ({ ...e })),
      audits: this.audits.map((a) => ({ ...a })),
      auditing: this.auditing,
      refused: { ...this.refused },
      forks: this.forks,
      peerHeadsDeferred: this.peerHeadsDeferred,
      peersTracked: { ...this.monitor.tracked, recorded: this.recordedPeerHeads.size },
    };
  }

  /** Summaries of entries [from, to) read from storage (the dashboard's pages of a long log). */
  async entriesPage(from: number, to: number): Promise<EntrySummary[]> {
    const log = this.log;
    if (log === null) return [];
    const end = Math.min(to, log.size);
    if (from >= end) return [];
    const bytes = await log.entryBytes(from, end);
    return bytes.map((b, i) => summarizeBytes(from + i, b));
  }

  /** The export file (`aegis verify FILE` checks it). Signs a head first if entries are unsigned. */
  async exportLog(): Promise<ExportedLog> {
    if (this.log === null) throw new Error(this.error ?? 'the log is not open');
    await this.signAndGossip();
    return exportLog(this.log, this.exportChain?.());
  }

  /**
   * Developer tool: sign a second head of the latest size over a rewritten last entry and gossip
   * it right after the real one, so every peer holds two heads of one size with different roots.
   * The fork is never stored: this node's own log stays as it was.
   */
  async forkLog(): Promise<Result<{ real: HeadView; forked: HeadView }>> {
    const log = this.log;
    if (log === null) return err(this.error ?? 'the log is not open');
    const real = (await this.signAndGossip()) ?? log.head;
    if (real === null || real.size === 0) return err('the log is empty: there is no entry to rewrite');
    const forked = await forkedHead(log, real, this.opts.signer);
    await this.gossipHead(real);
    await this.gossipHead(forked);
    this.forks++;
    this.changed();
    return ok({ real: headView(real), forked: headView(forked) });
  }
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());
