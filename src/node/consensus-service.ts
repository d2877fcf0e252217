// Runs the chain on a node: the ConsensusDriver (Tendermint, message types 32–36) over the chain
// application (Chain), plus what a browser network needs around them (types 40–45):
//
// Genesis. A node with a stored chain for its room resumes it. Otherwise it broadcasts a hello
// without genesis and waits `genesisWaitMs` for peers to send theirs. Offers must all carry the same
// genesis (else the tie-break rule below picks one and the conflict is shown); `?genesis=HASH`
// (pinnedGenesis) accepts only that one and never writes or switches. With no offer, the node
// writes genesis — unless a peer that also has none started earlier (then it waits for that peer,
// at most three waits): chain id = room + genesis time (base 36), this node the only validator with
// `faucetAmount` staked, DEV_PARAMS (faucet on).
// Two genesis files (two tabs that wrote one at the same moment, or two partitions): every node
// announces its genesis hash and time in a hello every few seconds; the genesis with the EARLIEST
// time wins, then the LOWEST hash. A node that hears a losing genesis sends the winner to its
// holder; the holder of the losing one drops its chain (stake on it included), clears its storage
// and joins the winner like a newcomer. Deterministic, so every node converges on one chain.
// The switch is automatic only while this node's chain is its own: not started, or within
// `genesisStartupWindowMs` (30 s) of start with this node its only validator (a lone writer that
// met another lone writer). Afterwards any tab could take over a running network by offering a
// genesis dated earlier, so a different genesis is refused, counted and shown ("another network's
// genesis offered by X, refused"); only the user can switch (`switchToOfferedGenesis`, a dashboard
// button). A newcomer choosing among offers takes the genesis most peers offered, then the tie-break.
//
// Joining. A newcomer asks the peers that offered genesis for a sync: the set-change certificates
// from genesis and a certified snapshot of the latest state (light-client.ts), checks them, starts
// at the snapshot's height and follows blocks from there (the driver fetches the few commits it
// missed). It is an observer with no power until its own transactions are committed: faucet (if
// the network has one; the dashboard's "Request stake"), join, bond. With the faucet off it joins
// by itself and needs a transfer. Power comes only from bonded stake, so tabs without stake add none.
//
// Cadence. Empty blocks are allowed; the proposer of round 0 waits until `commitTimeoutMs` (1 s)
// after the last commit before proposing (CometBFT's timeout_commit), so heights advance about
// once a second and visibly, not as fast as the links allow.
//
// Persistence (ChainStorage, the IndexedDB `chain` store keyed by room): genesis, certificates, the
// latest certified snapshot (rewritten every commit) and the recent blocks. A reload resumes from the
// snapshot after re-checking it from genesis; a store that fails the check is cleared and the node
// re-syncs from peers. A double-sign guard (sign-guard.ts) keeps a reloaded validator from signing a
// second vote for a position it already signed.
import { bytesEqual, bytesToHex, compareBytes } from '../core/bytes.ts';
import type { TimerHandle } from '../core/clock.ts';
import type { Signer, Verifier } from '../core/crypto/ed25519.ts';
import type { NodeId } from '../core/crypto/node-id.ts';
import type { Envelope } from '../core/net/envelope.ts';
import { MessageType } from '../core/net/message-types.ts';
import { Chain, type AggregationChecker, type CommitInfo } from '../core/consensus/chain.ts';
import {
  decodeEvidenceMessage,
  decodeGenesisMessage,
  decodeHello,
  decodeSyncRequest,
  decodeSyncResponse,
  decodeTxMessage,
  encodeEvidenceMessage,
  encodeGenesisMessage,
  encodeHello,
  encodeSyncRequest,
  encodeSyncResponse,
  encodeTxMessage,
  MAX_SYNC_RESPONSE_BYTES,
} from '../core/consensus/chain-messages.ts';
import { ConsensusDriver, type BatchVerifier, type ConsensusTransport } from '../core/consensus/consensus-driver.ts';
import { decodeBlock } from '../core/consensus/block.ts';
import type { BlockPersistence } from '../core/consensus/block-store.ts';
import { offenceKey } from '../core/consensus/evidence.ts';
import { decodeGenesis, encodeGenesis, genesisHash, makeGenesis, DEFAULT_PARAMS, type ConsensusParams, type Genesis } from '../core/consensus/genesis.ts';
import { syncFromCertificates, type CertifiedSnapshot, type SetChangeCertificate } from '../core/consensus/light-client.ts';
import { proposerOf } from '../core/consensus/proposer-selection.ts';
import type { TimeoutParams } from '../core/consensus/tendermint.ts';
import { encodeTransaction, signTransaction, type TxPayload } from '../core/consensus/transactions.ts';
import type { ConsensusApp, Evidence, SplitViewEvidence, Vote } from '../core/consensus/types.ts';
import { decodeVote } from '../core/consensus/vote-codec.ts';
import type { AppState } from '../core/consensus/app-state.ts';
import type { AegisNode } from './aegis-node.ts';
import { MemoryChainStorage, RoomChainStore, type ChainStorage } from './chain-storage.ts';
import {
  canUseFaucet,
  driverDrops,
  stakeStatus,
  validatorRows,
  voteBars,
  type CommitRecord,
  type ConsensusPhase,
  type ConsensusView,
  type EvidenceRecord,
  type ForkRecord,
} from './consensus-view.ts';
import { MisbehavingTransport, type Misbehaviour } from './misbehave.ts';
import { guardedSigner } from './sign-guard.ts';
import { nodeIdFromPublicKey } from '../core/crypto/node-id.ts';
import { Listeners, countRefusal } from './listeners.ts';

/**
 * Parameters of a development network (what a tab writes as genesis): the faucet on, and windows
 * short enough that reputation, downtime and jailing show within a minute of blocks.
 */
export const DEV_PARAMS: Partial<ConsensusParams> = {
  faucetEnabled: true,
  validatorSetIntervalBlocks: 20,
  downtimeWindowBlocks: 30,
  downtimeJailBlocks: 30,
  evidenceMaxAgeBlocks: 100,
  blockWindow: 200,
};

export interface ConsensusServiceOptions {
  /** The node's identity signer (the service signs votes, proposals and transactions with it). */
  signer: Signer;
  verifier: Verifier;
  /** Batched signature checks for consensus messages (WebCrypto or a worker); default: `verifier`. */
  batchVerifier?: BatchVerifier;
  /** Name of the verification backend, for the dashboard. */
  verifyBackend?: string;
  /** Default: in memory (nothing survives a restart). */
  storage?: ChainStorage;
  /** Room (network) name: the storage namespace and the start of the chain id. */
  room: string;
  /**
   * With the network's faucet on, request stake (faucet, join, bond) by itself once running, as the
   * dashboard's "Request stake" would (default false; the browser turns it on unless `?autostake=0`).
   */
  autoStake?: boolean;
  /** Hex genesis hash: accept only this genesis (never write one, never switch). */
  pinnedGenesis?: string | null;
  genesisParams?: Partial<ConsensusParams>;
  genesisWaitMs?: number;
  /** After start, how long a chain with only this node as validator may still switch genesis by itself (default 30 s). */
  genesisStartupWindowMs?: number;
  commitTimeoutMs?: number;
  helloIntervalMs?: number;
  timeouts?: TimeoutParams;
  /** Monotonic ms (performance.now) to time signature checks. */
  wallMs?: () => number;
  /** Hooks for the audit log: this node's own signed votes, and every committed block. */
  onOwnVote?: (v: Vote) => void;
  onCommit?: (c: CommitInfo) => void;
}

const MAX_COMMITS_KEPT = 120;
const MAX_EVIDENCE_KEPT = 50;
const SYNC_RETRY_MS = 3000;
const TX_REGOSSIP_MS = 4000;
/** How long a new tab waits for peers to offer a genesis before writing its own. */
const DEFAULT_GENESIS_WAIT_MS = 2000;

/** What the tie-break between two genesis files compares. */
export interface GenesisKey {
  timeMs: number;
  hash: Uint8Array;
}

/** The tie-break between two genesis files: earliest time, then lowest hash. Negative: `a` wins. */
export function compareGenesis(a: GenesisKey, b: GenesisKey): number {
  return a.timeMs - b.timeMs || compareBytes(a.hash, b.hash);
}

interface HeldGenesis {
  genesis: Genesis;
  bytes: Uint8Array;
  hash: Uint8Array;
  hex: string;
}

/** A held genesis's tie-break key (a hello carries the same two fields). */
const genesisKey = (h: HeldGenesis): GenesisKey => ({ timeMs: h.genesis.timeMs, hash: h.hash });

function holdGenesis(bytes: Uint8Array): HeldGenesis | null {
  const g = decodeGenesis(bytes);
  if (!g.ok) return null;
  const hash = genesisHash(bytes);
  return { genesis: g.value, bytes, hash, hex: bytesToHex(hash) };
}

export class ConsensusService {
  private phase: ConsensusPhase = 'starting';
  private detail = '';
  private held: HeldGenesis | null = null;
  private wroteGenesis = false;
  private conflicts = 0;
  /** The last different genesis refused after start-up, kept so the user can choose to switch to it. */
  private foreign: { held: HeldGenesis; from: NodeId; refused: number } | null = null;
  private chain: Chain | null = null;
  /**
   * Bumped when this node drops its chain for a winning genesis: a commit of the dropped chain
   * still in flight (the driver stops, an awaited commitBlock does not) must neither write into the
   * store the winner's chain now uses nor show up among this node's commits.
   */
  private generation = 0;
  private driver: ConsensusDriver | null = null;
  private readonly store: RoomChainStore;
  private readonly transport: MisbehavingTransport;
  private readonly listeners = new Listeners();
  private readonly changed = (): void => this.listeners.notify();
  private timers: TimerHandle[] = [];
  private startedAtMs = 0;
  private stopped = false;
  /** Genesis offers while waiting: peer → genesis. */
  private readonly offers = new Map<NodeId, HeldGenesis>();
  /** Peers still without genesis, and when they started (the earliest of them writes genesis). */
  private readonly waitingPeers = new Map<NodeId, number>();
  private waits = 0;
  /** Peers whose hello named a genesis while this node waited for one. */
  private readonly announcedGenesis = new Set<NodeId>();
  private syncFrom: NodeId[] = [];
  private lastCommitAtMs = 0;
  private readonly commits: CommitRecord[] = [];
  private readonly evidence: EvidenceRecord[] = [];
  /** Fork alarms: another valid commit for a height this node decided (≥ 1/3 of the power double-signed). */
  private readonly forks: ForkRecord[] = [];
  /** This node's transactions not yet committed, by nonce (re-gossiped until they are). */
  private readonly ownTxs = new Map<number, Uint8Array>();
  /** Evidence this node submitted (from its audit log), by offence key: re-gossiped until committed. */
  private readonly ownEvidence = new Map<string, Evidence>();
  private nextNonce = 0;
  /** Messages of this service refused, by reason. */
  readonly refused: Record<string, number> = {};
  /** Listeners beside the options' hooks (the audit log connects here: consensus-ledger.ts). */
  readonly hooks: { ownVote: ((v: Vote) => void)[]; commit: ((c: CommitInfo) => void)[] } = { ownVote: [], commit: [] };
  private readonly signer: Signer;
  /** Checks aggregation results against their transcripts (chain-rounds.ts); none: results refused. */
  private aggregationChecker: AggregationChecker | null = null;

  constructor(
    private readonly node: AegisNode,
    private readonly o: ConsensusServiceOptions,
  ) {
    if (!bytesEqual(o.signer.publicKey, node.publicKey)) throw new Error('"signer" must be the node\'s identity');
    this.signer = o.signer;
    this.store = new RoomChainStore(o.storage ?? new MemoryChainStorage(), o.room);
    this.transport = new MisbehavingTransport({
      node,
      signer: o.signer,
      random: node.random,
      chainId: () => this.held?.genesis.chainId ?? '',
      variantBlock: (h, r) => (this.chain ? this.chain.proposeVariant(h, r) : Promise.reject(new Error('no chain'))),
      blockHash: (b) => (this.chain ? this.chain.blockHash(b) : new Uint8Array(32)),
    });
    for (const t of [MessageType.ConsensusProposal, MessageType.ConsensusVote, MessageType.ConsensusEvidence, MessageType.ConsensusCommit, MessageType.ConsensusStatus, MessageType.ConsensusDecided])
      node.onMessage(t, (env, from) => this.driver?.receive(from, env.type, env.body));
    const on = (type: number, fn: (env: Envelope, from: NodeId) => Promise<void> | void): void => {
      node.onMessage(type, (env, from) => node.schedule(() => (this.stopped ? undefined : fn(env, from))));
    };
    on(MessageType.ChainHello, (env, from) => this.onHello(env.body, from));
    on(MessageType.ChainGenesis, (env, from) => this.onGenesis(env.body, from));
    on(MessageType.ChainSyncRequest, (env, from) => this.onSyncRequest(env.body, from));
    on(MessageType.ChainSyncResponse, (env, from) => this.onSyncResponse(env.body, from));
    on(MessageType.ChainTransaction, (env) => this.onTransaction(env.body));
    on(MessageType.ChainEvidence, (env) => this.onEvidenceMessage(env.body));
  }

  // ---- lifecycle --------------------------------------------------------------------------------

  /** Resumes a stored chain or looks for the network's genesis. */
  async start(): Promise<void> {
    this.startedAtMs = Math.floor(this.node.clock.now());
    this.every(this.o.helloIntervalMs ?? 3000, () => this.sendHello());
    this.every(TX_REGOSSIP_MS, () => this.regossipOwnTxs());
    this.every(TX_REGOSSIP_MS, () => this.regossipOwnEvidence());
    const loaded = await this.store.load();
    if (loaded.ok && loaded.value !== null) {
      const l = loaded.value;
      const held = holdGenesis(l.genesisBytes);
      const pinnedOk = this.pinned === null || held?.hex === this.pinned;
      if (held !== null && pinnedOk) {
        const resumed = await this.resume(held, l.certificates, l.snapshot);
        if (resumed) return;
      }
    }
    if (loaded.ok && loaded.value !== null) await this.store.clear();
    if (!loaded.ok) {
      this.count('stored chain unreadable');
      await this.store.clear();
    }
    this.waitForGenesis();
  }

  stop(): void {
    this.stopped = true;
    this.driver?.stop();
    for (const t of this.timers) this.node.clock.clearTimeout(t);
    this.timers = [];
  }

  /** Resolves once everything written so far is stored. */
  flushed(): Promise<void> {
    return this.store.flushed();
  }

  subscribe(listener: () => void): () => void {
    return this.listeners.subscribe(listener);
  }

  private count(reason: string): void {
    countRefusal(this.refused, reason);
  }

  private every(ms: number, f: () => void): void {
    const tick = (): void => {
      if (this.stopped) return;
      f();
      this.timers.push(this.node.clock.setTimeout(tick, ms));
    };
    this.timers.push(this.node.clock.setTimeout(tick, ms));
  }

  private after(ms: number, f: () => void): void {
    this.timers.push(this.node.clock.setTimeout(() => !this.stopped && f(), ms));
  }

  private get pinned(): string | null {
    return this.o.pinnedGenesis ? this.o.pinnedGenesis.toLowerCase() : null;
  }

  private setPhase(phase: ConsensusPhase, detail = ''): void {
    this.phase = phase;
    this.detail = detail;
    this.changed();
  }

  // ---- genesis ------------------------------------------------------------------------------------

  private sendHello(): void {
    const body = encodeHello({
      genesisHash: this.held?.hash ?? null,
      genesisTimeMs: this.held?.genesis.timeMs ?? 0,
      height: this.chain?.height ?? 0,
      startedAtMs: this.startedAtMs,
    });
    void this.node.broadcast(MessageType.ChainHello, body);
  }

  private waitForGenesis(): void {
    this.setPhase('waiting-for-genesis', this.pinned ? `waiting for a peer with genesis ${this.pinned.slice(0, 16)}…` : 'asking peers for the network\'s genesis');
    this.sendHello();
    const wait = this.o.genesisWaitMs ?? DEFAULT_GENESIS_WAIT_MS;
    // Links may still be opening: ask again a few times during the wait.
    for (const f of [0.25, 0.5, 0.75]) this.after(wait * f, () => this.phase === 'waiting-for-genesis' && this.sendHello());
    this.after(wait, () => this.decideGenesis());
  }

  private decideGenesis(): void {
    if (this.phase !== 'waiting-for-genesis') return;
    this.waits++;
    const offered = [...this.offers.values()];
    if (offered.length > 0) {
      const distinct = new Map(offered.map((g) => [g.hex, g]));
      let choice: HeldGenesis | undefined;
      if (this.pinned !== null) choice = distinct.get(this.pinned);
      else {
        if (distinct.size > 1) this.conflicts += distinct.size - 1;
        // Most offering peers first: one peer's genesis dated earlier must not pull every newcomer away.
        const peersOf = (g: HeldGenesis): number => offered.filter((o) => o.hex === g.hex).length;
        choice = [...distinct.values()].sort((a, b) => peersOf(b) - peersOf(a) || compareGenesis(genesisKey(a), genesisKey(b)))[0];
      }
      if (choice !== undefined) {
        const c = choice;
        this.syncFrom = [...this.offers].filter(([, g]) => g.hex === c.hex).map(([id]) => id);
        void this.adopt(c);
        return;
      }
    }
    const earlier = [...this.waitingPeers].some(([id, t]) => t < this.startedAtMs || (t === this.startedAtMs && id < this.node.id));
    // Someone announced a genesis, or room members are there but no link is open yet: its offer is
    // on the way, so wait (a few times) rather than start a second chain.
    const pendingOffer = this.announcedGenesis.size > 0 || (this.node.roomMembers().length > 0 && this.node.connectedPeers().length === 0);
    if (this.pinned !== null || ((earlier || pendingOffer) && this.waits < 5)) {
      this.sendHello();
      this.after(this.o.genesisWaitMs ?? DEFAULT_GENESIS_WAIT_MS, () => this.decideGenesis());
      if (this.pinned === null) this.detail = pendingOffer ? 'a peer has a genesis; waiting for its offer' : 'a peer that started earlier writes genesis; waiting for it';
      this.changed();
      return;
    }
    void this.writeGenesis();
  }

  private async writeGenesis(): Promise<void> {
    const p: ConsensusParams = { ...DEFAULT_PARAMS, ...DEV_PARAMS, ...this.o.genesisParams };
    const timeMs = Math.floor(this.node.clock.now());
    const g = makeGenesis({
      chainId: `${this.o.room.slice(0, 48)}-${timeMs.toString(36)}`,
      timeMs,
      validators: [{ publicKey: this.node.publicKey, stake: p.faucetAmount > 0 ? p.faucetAmount : 1000 }],
      params: p,
    });
    const held = holdGenesis(encodeGenesis(g)) as HeldGenesis;
    this.wroteGenesis = true;
    this.held = held;
    await this.store.saveGenesis(held.bytes);
    await this.startChain(new Chain(this.chainOptions(held.genesis)), held);
  }

  /** A genesis was chosen: fetch certificates and a snapshot from the peers that hold it. */
  private async adopt(held: HeldGenesis): Promise<void> {
    this.held = held;
    this.setPhase('syncing', `genesis ${held.hex.slice(0, 16)}…: asking ${this.syncFrom.length} peer(s) for a certified snapshot`);
    await this.store.saveGenesis(held.bytes);
    this.requestSync();
  }

  private requestSync(): void {
    if (this.phase !== 'syncing' || this.held === null) return;
    for (const peer of this.syncFrom) void this.node.sendTo(peer, MessageType.ChainSyncRequest, encodeSyncRequest(this.held.hash)).catch(() => undefined);
    this.after(SYNC_RETRY_MS, () => this.requestSync());
  }

  private onHello(body: Uint8Array, from: NodeId): void {
    const d = decodeHello(body);
    if (!d.ok) return this.count('malformed hello');
    const h = d.value;
    if (h.genesisHash === null) {
      this.waitingPeers.set(from, h.startedAtMs);
      if (this.held !== null && this.phase === 'running') this.sendGenesisTo(from);
      return;
    }
    this.waitingPeers.delete(from);
    if (this.phase === 'waiting-for-genesis' && !this.announcedGenesis.has(from)) {
      // It has a genesis but our request may have gone out before the link opened: ask again.
      this.announcedGenesis.add(from);
      this.sendHello();
    }
    if (this.held === null || this.phase !== 'running' || bytesEqual(h.genesisHash, this.held.hash)) return;
    // Theirs loses: tell them about ours (they switch). Theirs wins: they tell us.
    if (compareGenesis(genesisKey(this.held), { timeMs: h.genesisTimeMs, hash: h.genesisHash }) < 0) {
      this.conflicts++;
      this.sendGenesisTo(from);
      this.changed();
    }
  }

  private sendGenesisTo(peer: NodeId): void {
    if (this.held === null) return;
    void this.node.sendTo(peer, MessageType.ChainGenesis, encodeGenesisMessage(this.held.bytes)).catch(() => undefined);
  }

  private async onGenesis(body: Uint8Array, from: NodeId): Promise<void> {
    const d = decodeGenesisMessage(body);
    const held = d.ok ? holdGenesis(d.value) : null;
    if (held === null) return this.count('malformed genesis');
    if (this.phase === 'waiting-for-genesis') {
      this.offers.set(from, held);
      this.changed();
      return;
    }
    if (this.held === null || held.hex === this.held.hex) {
      if (this.phase === 'syncing' && this.held !== null && held.hex === this.held.hex && !this.syncFrom.includes(from)) this.syncFrom.push(from);
      return;
    }
    this.conflicts++;
    if (this.pinned !== null || compareGenesis(genesisKey(held), genesisKey(this.held)) >= 0) {
      this.count('losing genesis offered');
      this.changed();
      return;
    }
    if (!this.mayStillSwitchGenesis()) {
      // A running network is not handed over to whoever offers an earlier genesis: the user decides.
      this.foreign = { held, from, refused: (this.foreign?.held.hex === held.hex ? this.foreign.refused : 0) + 1 };
      this.count("another network's genesis refused");
      this.changed();
      return;
    }
    await this.dropChainFor(held, from);
  }

  /** Start-up only: no chain yet, or a chain this node runs alone, started moments ago. */
  private mayStillSwitchGenesis(): boolean {
    const chain = this.chain;
    if (chain === null || chain.height === 0) return true;
    if (this.node.clock.now() - this.startedAtMs > (this.o.genesisStartupWindowMs ?? 30_000)) return false;
    let set;
    try {
      set = chain.validatorSet(chain.height + 1);
    } catch {
      return false;
    }
    return set.validators.length === 1 && bytesEqual(set.validators[0]?.publicKey ?? new Uint8Array(0), this.node.publicKey);
  }

  /**
   * The user's choice (dashboard): leave this chain (stake on it included) for the refused genesis
   * last offered, syncing from the peer that offered it. False when none was offered.
   */
  async switchToOfferedGenesis(): Promise<boolean> {
    const f = this.foreign;
    if (f === null || this.pinned !== null || this.stopped) return false;
    this.foreign = null;
    await this.dropChainFor(f.held, f.from);
    return true;
  }

  /** Our genesis lost: drop this chain and join `held` like a newcomer. */
  private async dropChainFor(held: HeldGenesis, from: NodeId): Promise<void> {
    this.generation++;
    this.driver?.stop();
    this.driver = null;
    this.chain = null;
    this.wroteGenesis = false;
    this.ownTxs.clear();
    this.ownEvidence.clear();
    this.nextNonce = 0;
    this.commits.length = 0;
    this.evidence.length = 0;
    await this.store.clear();
    this.syncFrom = [from];
    await this.adopt(held);
  }

  // ---- sync -------------------------------------------------------------------------------------

  private onSyncRequest(body: Uint8Array, from: NodeId): void {
    const d = decodeSyncRequest(body);
    if (!d.ok) return this.count('malformed sync request');
    if (this.chain === null || this.held === null || !bytesEqual(d.value, this.held.hash)) return this.count('sync request for another genesis');
    const res = encodeSyncResponse({ genesisHash: this.held.hash, certificates: this.chain.certificates(), snapshot: this.chain.snapshot() });
    // Over the type's bound the envelope would be dropped on the way: say why here instead.
    if (res.length > MAX_SYNC_RESPONSE_BYTES) return this.count('sync refused: certificates and state exceed the 8 MiB sync response bound');
    void this.node.sendTo(from, MessageType.ChainSyncResponse, res).catch(() => undefined);
  }

  private async onSyncResponse(body: Uint8Array, from: NodeId): Promise<void> {
    if (this.phase !== 'syncing' || this.held === null) return;
    const d = decodeSyncResponse(body);
    if (!d.ok) return this.count('malformed sync response');
    const held = this.held;
    if (!bytesEqual(d.value.genesisHash, held.hash)) return this.count('sync response for another genesis');
    const { certificates, snapshot } = d.value;
    if (snapshot === null) {
      if (!(await this.startAtGenesis(held, certificates))) this.count('sync response: certificates without a snapshot');
      return;
    }
    const ok = await this.resumeFrom(held, certificates, snapshot);
    if (!ok) {
      this.count('sync response does not verify');
      this.syncFrom = this.syncFrom.filter((p) => p !== from);
      return;
    }
    await this.store.saveCertificates(certificates);
    await this.store.saveSnapshot(snapshot);
  }

  /** A stored chain: re-check it from genesis and go on from its snapshot. */
  private async resume(held: HeldGenesis, certs: readonly SetChangeCertificate[], snapshot: CertifiedSnapshot | null): Promise<boolean> {
    this.held = held;
    const ok = snapshot === null ? await this.startAtGenesis(held, certs) : await this.resumeFrom(held, certs, snapshot);
    // A stored chain that does not check out is dropped either way: hellos must not name its genesis.
    if (!ok) this.held = null;
    return ok;
  }

  /**
   * No snapshot (a stored chain or a peer's chain that has not committed one yet): start at genesis.
   * False, starting nothing, when set-change certificates came with it (they need a snapshot).
   */
  private async startAtGenesis(held: HeldGenesis, certs: readonly SetChangeCertificate[]): Promise<boolean> {
    if (certs.length > 0) return false;
    await this.startChain(new Chain(this.chainOptions(held.genesis)), held);
    return true;
  }

  private async resumeFrom(held: HeldGenesis, certs: readonly SetChangeCertificate[], snapshot: CertifiedSnapshot): Promise<boolean> {
    const state = await syncFromCertificates(held.genesis, certs, snapshot, this.o.verifier);
    if (!state.ok || this.phase === 'running') return false;
    const chain = new Chain(this.chainOptions(held.genesis), { state: state.value, header: snapshot.header, qc: snapshot.qc, certificates: certs });
    await this.startChain(chain, held);
    return true;
  }

  private chainOptions(genesis: Genesis) {
    const generation = this.generation;
    const live = (): boolean => generation === this.generation;
    const persistence: BlockPersistence = {
      putBlock: (b) => (live() ? this.store.putBlock(b) : undefined),
      deleteBlock: (h) => (live() ? this.store.deleteBlock(h) : undefined),
      putCertificate: (c) => (live() ? this.store.putCertificate(c) : undefined),
      deleteCertificate: (h) => (live() ? this.store.deleteCertificate(h) : undefined),
    };
    return {
      genesis,
      verifier: this.o.verifier,
      publicKey: this.node.publicKey,
      // Block times are integer ms (the simulator's virtual clock is not).
      clock: { now: () => Math.floor(this.node.clock.now()), setTimeout: this.node.clock.setTimeout.bind(this.node.clock), clearTimeout: this.node.clock.clearTimeout.bind(this.node.clock) },
      persistence,
      checkAggregation: (r: Parameters<AggregationChecker>[0]) => (this.aggregationChecker ? this.aggregationChecker(r) : Promise.resolve(false)),
      onCommit: (c: CommitInfo) => (live() ? this.onChainCommit(c) : this.count('commit of a dropped chain ignored')),
    };
  }

  private async startChain(chain: Chain, held: HeldGenesis): Promise<void> {
    if (this.stopped) return;
    this.chain = chain;
    this.held = held;
    const guard = await this.store.signPosition();
    const app: ConsensusApp = {
      validatorSet: (h) => chain.validatorSet(h),
      // timeout_commit: round 0 of a height is proposed no sooner than commitTimeoutMs after the last commit.
      proposeBlock: async (h, r) => {
        const wait = r === 0 ? this.lastCommitAtMs + (this.o.commitTimeoutMs ?? 1000) - this.node.clock.now() : 0;
        if (wait > 0) await new Promise<void>((resolve) => this.timers.push(this.node.clock.setTimeout(resolve, wait)));
        return chain.proposeBlock(h, r);
      },
      // The round (fresh proposals only) lets the chain check the header names that round's proposer.
      validateBlock: (h, b, r) => chain.validateBlock(h, b, r),
      blockHash: (b) => chain.blockHash(b),
      commitBlock: (h, b, qc) => chain.commitBlock(h, b, qc),
      // Precommits arriving during the commit wait join the next block's last commit (reputation, downtime).
      extendLastCommit: (qc) => chain.extendLastCommit(qc),
    };
    const transport: ConsensusTransport = {
      broadcast: (type, body) => {
        if (type === MessageType.ConsensusVote && (this.o.onOwnVote || this.hooks.ownVote.length > 0)) {
          const v = decodeVote(body);
          if (v.ok && bytesEqual(v.value.validator, this.node.publicKey)) {
            this.o.onOwnVote?.(v.value);
            for (const f of this.hooks.ownVote) f(v.value);
          }
        }
        this.transport.broadcast(type, body);
      },
      send: (to, type, body) => this.transport.send(to, type, body),
    };
    this.driver = new ConsensusDriver({
      chainId: held.genesis.chainId,
      app,
      signer: guardedSigner(this.signer, guard, this.store, () => this.count('signature withheld by the double-sign guard')),
      verifier: this.o.verifier,
      ...(this.o.batchVerifier ? { batchVerifier: this.o.batchVerifier } : {}),
      clock: this.node.clock,
      transport,
      ...(this.o.timeouts ? { timeouts: this.o.timeouts } : {}),
      onEvidence: (e) => void this.submitEvidenceInternal(e, false),
      // The double-signers' evidence arrives through onEvidence too (pooled while they are validators).
      onFork: (a) => {
        this.forks.push({
          height: a.height,
          ourHash: bytesToHex(a.ours.blockHash),
          theirHash: bytesToHex(a.theirs.blockHash),
          from: a.from,
          doubleSigners: a.evidence.map((e) => nodeIdFromPublicKey(e.voteA.validator)),
          doubleSignedPower: a.doubleSignedPower,
          totalPower: a.totalPower,
        });
        if (this.forks.length > MAX_EVIDENCE_KEPT) this.forks.shift();
        this.changed();
      },
      onCommitted: () => this.changed(),
      onChange: () => this.changed(),
      ...(this.o.wallMs ? { wallMs: this.o.wallMs } : {}),
    });
    this.nextNonce = chain.state.accounts.get(bytesToHex(this.node.publicKey))?.nonce ?? 0;
    this.setPhase('running', this.wroteGenesis ? 'wrote genesis: first node of this network' : `synced at height ${chain.height}`);
    this.driver.start(chain.height + 1);
    this.sendHello();
    // With the faucet off there is nothing to request: join as a candidate by ourselves.
    const observer = stakeStatus(chain.state, this.node.publicKey, this.ownTxs.size) === 'observer';
    if (!chain.state.params.faucetEnabled && observer) void this.submitOwn([{ kind: 'join' }]);
    else if (this.o.autoStake === true && observer && canUseFaucet(chain.state, this.node.publicKey))
      this.requestStake().catch(() => this.count('automatic stake request failed'));
  }

  private onChainCommit(c: CommitInfo): void {
    const now = this.node.clock.now();
    this.lastCommitAtMs = now;
    const round = c.qc.round;
    this.commits.push({
      height: c.height,
      hash: bytesToHex(c.hash),
      round,
      latencyMs: Math.max(0, now - c.header.timeMs),
      atMs: now,
      transactions: c.transactions,
      evidence: c.evidence,
    });
    if (this.commits.length > MAX_COMMITS_KEPT) this.commits.shift();
    const slashes = c.events.filter((e) => e.kind === 'slash');
    for (const e of c.events) {
      if (e.kind === 'evidence') {
        const s = slashes.find((x) => x.kind === 'slash' && bytesEqual(x.validator, e.offender));
        this.evidence.push({
          kind: e.evidence.kind,
          offender: nodeIdFromPublicKey(e.offender),
          offenceHeight: e.evidence.kind === 'duplicate-vote' ? e.evidence.voteA.height : e.evidence.kind === 'duplicate-proposal' ? e.evidence.proposalA.height : 0,
          committedHeight: c.height,
          slashed: s?.kind === 'slash' ? s.burned : 0,
          stakeAfter: s?.kind === 'slash' ? s.stake : 0,
        });
      } else if (e.kind === 'slash' && e.reason === 'downtime') {
        this.evidence.push({ kind: 'downtime', offender: nodeIdFromPublicKey(e.validator), offenceHeight: c.height, committedHeight: c.height, slashed: e.burned, stakeAfter: e.stake });
      }
    }
    if (this.evidence.length > MAX_EVIDENCE_KEPT) this.evidence.splice(0, this.evidence.length - MAX_EVIDENCE_KEPT);
    const nonce = c.state.accounts.get(bytesToHex(this.node.publicKey))?.nonce ?? 0;
    for (const n of this.ownTxs.keys()) if (n < nonce) this.ownTxs.delete(n);
    this.nextNonce = Math.max(this.nextNonce, nonce);
    const snap = this.chain?.snapshot();
    if (snap) void this.store.saveSnapshot(snap);
    this.o.onCommit?.(c);
    for (const f of this.hooks.commit) f(c);
    this.changed();
  }

  // ---- transactions and evidence -------------------------------------------------------------------

  private async submitOwn(payloads: readonly TxPayload[]): Promise<void> {
    const chain = this.chain;
    if (chain === null || this.held === null) throw new Error('the chain has not started yet');
    const chainId = this.held.genesis.chainId;
    for (const payload of payloads) {
      const nonce = this.nextNonce++;
      const tx = await signTransaction(chainId, this.signer, nonce, payload);
      const bytes = encodeTransaction(tx);
      this.ownTxs.set(nonce, bytes);
      await chain.submitTransaction(tx);
      void this.node.broadcast(MessageType.ChainTransaction, encodeTxMessage(bytes));
    }
    this.changed();
  }

  private regossipOwnTxs(): void {
    if (this.chain === null) return;
    for (const bytes of this.ownTxs.values()) {
      void this.chain.submitTransaction(bytes);
      void this.node.broadcast(MessageType.ChainTransaction, encodeTxMessage(bytes));
    }
  }

  /**
   * Faucet → join → bond: this tab's way to stake (the dashboard's "Request stake"). Bonds the
   * faucet payout plus any balance. Throws if the chain is not running or the faucet cannot pay.
   */
  async requestStake(): Promise<void> {
    const chain = this.chain;
    if (chain === null) throw new Error('the chain has not started yet');
    const s = chain.state;
    const me = bytesToHex(this.node.publicKey);
    if (!canUseFaucet(s, this.node.publicKey)) throw new Error(s.params.faucetEnabled ? 'the faucet paid this node recently' : 'this network has no faucet');
    const balance = s.accounts.get(me)?.balance ?? 0;
    const payloads: TxPayload[] = [{ kind: 'faucet' }];
    if (!s.candidates.has(me)) payloads.push({ kind: 'join' });
    payloads.push({ kind: 'bond', amount: balance + s.params.faucetAmount });
    await this.submitOwn(payloads);
  }

  /** Any signed transaction payload of this node (transfer, unbond, unjail, ...). */
  submit(payload: TxPayload): Promise<void> {
    return this.submitOwn([payload]);
  }

  private async onTransaction(body: Uint8Array): Promise<void> {
    const d = decodeTxMessage(body);
    if (!d.ok) return this.count('malformed transaction');
    if (this.chain === null) return;
    const r = await this.chain.submitTransaction(d.value);
    if (!r.ok && !r.error.startsWith('tx stale')) this.count(r.error.split(':')[0] ?? r.error);
  }

  private async onEvidenceMessage(body: Uint8Array): Promise<void> {
    const d = decodeEvidenceMessage(body);
    if (!d.ok) return this.count('malformed evidence');
    await this.submitEvidenceInternal(d.value, false);
  }

  /** Split-view evidence from the audit log: checked, pooled, gossiped until a block carries it. */
  async submitEvidence(e: SplitViewEvidence): Promise<boolean> {
    const pooled = await this.submitEvidenceInternal(e, true);
    if (pooled) this.ownEvidence.set(offenceKey(e), e);
    return pooled;
  }

  /**
   * Only this node's own submissions are broadcast, and only when new to its pool. Evidence from a
   * peer is not re-broadcast: the overlay already floods that envelope to every node, and a
   * re-broadcast is a new envelope, so echoing each copy multiplied the copies on every hop (an
   * exponential storm that blocked every tab's main thread).
   */
  private async submitEvidenceInternal(e: Evidence, gossip: boolean): Promise<boolean> {
    if (this.chain === null) return false;
    const r = await this.chain.submitEvidence(e);
    if (!r.ok) {
      if (!r.error.startsWith('evidence already')) this.count(r.error.split(':')[0] ?? r.error);
      return false;
    }
    if (gossip) void this.node.broadcast(MessageType.ChainEvidence, encodeEvidenceMessage(e));
    this.changed();
    return true;
  }

  /** Peers that joined or missed it get our evidence again, until a block carries it or it is dropped. */
  private regossipOwnEvidence(): void {
    const chain = this.chain;
    if (chain === null) return;
    for (const [key, e] of this.ownEvidence) {
      if (!chain.hasPendingEvidence(key)) this.ownEvidence.delete(key);
      else void this.node.broadcast(MessageType.ChainEvidence, encodeEvidenceMessage(e));
    }
  }

  /** The chain rounds' transcript check (chain.ts `checkAggregation`), for every chain this service runs. */
  setAggregationChecker(fn: AggregationChecker | null): void {
    this.aggregationChecker = fn;
  }

  // ---- developer switch ----------------------------------------------------------------------------

  setMisbehaviour(mode: Misbehaviour): void {
    this.transport.mode = mode;
    this.changed();
  }

  // ---- reading ------------------------------------------------------------------------------------

  get state(): AppState | null {
    return this.chain?.state ?? null;
  }

  get chainApp(): Chain | null {
    return this.chain;
  }

  get consensusDriver(): ConsensusDriver | null {
    return this.driver;
  }

  get genesisHashHex(): string | null {
    return this.held?.hex ?? null;
  }

  /** Hash (hex) this node committed at `height`, while still in its recent history. */
  committedHash(height: number): string | null {
    return this.commits.find((c) => c.height === height)?.hash ?? null;
  }

  view(): ConsensusView {
    const chain = this.chain;
    const d = this.driver;
    const snap = d?.machine.snapshot() ?? null;
    const set = d?.machine.validatorSet ?? null;
    const votes = d?.machine.heightVotes ?? null;
    const state = chain?.state ?? null;
    const round = snap?.round ?? 0;
    const proposer = set !== null && snap !== null && snap.height >= 0 ? proposerOf(set, round) : null;
    const me = this.node.publicKey;
    const rows = state === null ? [] : validatorRows(state, me);
    const mine = rows.find((r) => r.self);
    const p = state?.params ?? null;
    return {
      phase: this.phase,
      detail: this.detail,
      chainId: this.held?.genesis.chainId ?? null,
      genesisHash: this.held?.hex ?? null,
      genesisTimeMs: this.held?.genesis.timeMs ?? null,
      wroteGenesis: this.wroteGenesis,
      pinned: this.pinned !== null,
      genesisConflicts: this.conflicts,
      foreignGenesis: this.foreign === null ? null : { from: this.foreign.from, hash: this.foreign.held.hex, timeMs: this.foreign.held.genesis.timeMs, refused: this.foreign.refused },
      height: snap?.height ?? 0,
      committedHeight: chain?.height ?? 0,
      round,
      step: snap === null ? '' : snap.decided ? 'commit' : snap.step,
      proposer: proposer?.id ?? null,
      proposerIsSelf: proposer !== null && bytesEqual(proposer.publicKey, me),
      totalPower: set?.totalPower ?? 0,
      prevotes: voteBars(votes?.prevotes(round) ?? null),
      precommits: voteBars(votes?.precommits(round) ?? null),
      commits: this.commits.slice(-60),
      validators: rows,
      evidence: this.evidence.slice().reverse(),
      forks: this.forks.slice().reverse(),
      pendingTransactions: chain?.pending.transactions ?? 0,
      pendingEvidence: chain?.pending.evidence ?? 0,
      self: {
        id: this.node.id,
        status: state === null ? 'observer' : stakeStatus(state, me, this.ownTxs.size),
        balance: state?.accounts.get(bytesToHex(me))?.balance ?? 0,
        stake: mine?.stake ?? 0,
        power: mine?.power ?? 0,
        faucetEnabled: p?.faucetEnabled ?? false,
        faucetAmount: p?.faucetAmount ?? 0,
        canRequestStake: state !== null && canUseFaucet(state, me) && this.ownTxs.size === 0,
      },
      misbehaviour: this.transport.mode,
      misbehaviourActs: this.transport.acts,
      dropped: { ...driverDrops(d), ...this.refused },
      verify: { count: d?.verifyCount ?? 0, wallMs: d?.verifyWallMs ?? 0, backend: this.o.verifyBackend ?? 'verifier' },
    };
  }

  /** Block bytes of a recent height this node committed (tests compare them across nodes). */
  recentBlock(height: number): Uint8Array | null {
    return this.chain?.blocks.get(height)?.bytes ?? null;
  }

  /** Header time of a recent block (for latency figures). */
  blockTimeMs(height: number): number | null {
    const b = this.recentBlock(height);
    if (b === null) return null;
    const d = decodeBlock(b);
    return d.ok ? d.value.header.timeMs : null;
  }

  /** The pinned or current genesis hash as bytes (for building links that pin it). */
  genesisHashBytes(): Uint8Array | null {
    return this.held ? this.held.hash.slice() : null;
  }
}
