// The seeded simulator: N unmodified AegisNodes over the in-memory network, in virtual time.
//
// Determinism: everything random comes from one seed (forked per node, per link, per component),
// time is virtual, and the scheduler runs one event at a time: it fires the next timer, then waits
// until every node that event touched has drained its work queue (`whenIdle`) and all crypto it
// started has been released by the ordered gate (sim-crypto.ts), then one more macrotask so stray
// microtasks finish. Only then does time move on. So a seed fixes every message, every delivery
// order and every counter; only wall time varies.
//
// Typical use:
//   const sim = await Simulator.create({ nodes: 50, seed: 1 });
//   await sim.runUntilFormed({ maxVirtualMs: 60_000 });
//   const log = sim.collect(MessageType.TestBroadcast);
//   const sent = await sim.broadcast(0, MessageType.TestBroadcast, body);
//   await sim.runUntil(() => log.of(sent.messageId).length === sim.running().length - 1, { maxVirtualMs: 5_000 });
//   sim.gossipReport(sent, log);
import { bytesEqual } from '../core/bytes.ts';
import { nodeIdFromPublicKey, type NodeId } from '../core/crypto/node-id.ts';
import type { Signer } from '../core/crypto/ed25519.ts';
import type { Envelope } from '../core/net/envelope.ts';
import { LinkFrameKind } from '../core/net/link-frame.ts';
import { DEFAULT_OVERLAY, isFullMesh, type OverlayConfig } from '../core/net/overlay-policy.ts';
import { AegisNode, messageId, type AegisNodeOptions } from '../node/aegis-node.ts';
import type { MessageCounters } from '../node/counters.ts';
import { SimNetwork, type NodeTraffic, type SimNetworkAdapter, type SimNetworkOptions } from './memory-network.ts';
import { SeededRandom } from './seeded-random.ts';
import { nextMacrotask, SimCrypto, type SimCryptoOptions, type SimCryptoStats } from './sim-crypto.ts';
import { summarize, type Summary } from './stats.ts';
import { VirtualClock } from './virtual-clock.ts';

/** AegisNode knobs a simulation may set (the rest is wired by the simulator). */
export type NodeTuning = Partial<
  Pick<
    AegisNodeOptions,
    | 'gossipTtl'
    | 'heartbeatIntervalMs'
    | 'peerTimeoutMs'
    | 'handshakeTimeoutMs'
    | 'reconnectBaseMs'
    | 'reconnectMaxMs'
    | 'maxEnvelopeBytes'
    | 'sha256Large'
    | 'yieldLarge'
  >
>;

export interface SimulatorOptions {
  nodes: number;
  seed: number;
  room?: string;
  overlay?: Partial<OverlayConfig>;
  node?: NodeTuning;
  network?: SimNetworkOptions;
  /** Node i starts at a uniform random time in [0, startSpreadMs). Default 0: all at once. */
  startSpreadMs?: number;
  /** Schedule every node's start on creation (default true). */
  autoStart?: boolean;
  /** Crypto options, or an existing SimCrypto to share (its verification cache) between simulations. */
  crypto?: SimCryptoOptions | SimCrypto;
  /** Virtual time at creation (default 0). */
  epochMs?: number;
}

export type SimNodeState = 'created' | 'running' | 'crashed' | 'stopped';

/** A simulated node: a stable identity, and the AegisNode instance currently running it. */
export interface SimNode {
  readonly index: number;
  readonly id: NodeId;
  readonly publicKey: Uint8Array;
  /** The node's identity key (services that sign as the node, e.g. its audit log, use it). */
  readonly signer: Signer;
  readonly node: AegisNode;
  readonly adapter: SimNetworkAdapter;
  readonly state: SimNodeState;
  /** Bumped by every restart. */
  readonly generation: number;
}

/** Index into `sim.nodes` or a node id. */
export type NodeRef = number | NodeId;

export interface RunOptions {
  /** Give up after this much virtual time (default 60 s). */
  maxVirtualMs?: number;
  /** Evaluate the predicate at most once per this much virtual time (default: after every event). */
  pollMs?: number;
  /** Give up after this many events (default unlimited). */
  maxEvents?: number;
}

export interface Delivery {
  index: number;
  node: NodeId;
  from: NodeId;
  type: number;
  messageId: string;
  sequence: number;
  atMs: number;
}

/** Every delivery of one message type to the handlers of every node, in delivery order. */
export class DeliveryLog {
  readonly deliveries: Delivery[] = [];
  private readonly byMessage = new Map<string, Delivery[]>();
  private readonly unsubscribers: (() => void)[] = [];

  constructor(readonly type: number) {}

  /** @internal */
  attach(index: number, node: AegisNode): void {
    this.unsubscribers.push(
      node.onMessage(this.type, (env, from) => {
        const d: Delivery = {
          index,
          node: node.id,
          from,
          type: env.type,
          messageId: messageId(env.bytes),
          sequence: env.sequence,
          atMs: node.clock.now(),
        };
        this.deliveries.push(d);
        const list = this.byMessage.get(d.messageId) ?? [];
        list.push(d);
        this.byMessage.set(d.messageId, list);
      }),
    );
  }

  of(id: string): readonly Delivery[] {
    return this.byMessage.get(id) ?? [];
  }

  /** Deliveries of one message per receiving node (a correct network gives 1 each). */
  countsByNode(id: string): Map<NodeId, number> {
    const counts = new Map<NodeId, number>();
    for (const d of this.of(id)) counts.set(d.node, (counts.get(d.node) ?? 0) + 1);
    return counts;
  }

  /** Stop recording (nodes created later are not attached either). */
  stop(): void {
    for (const u of this.unsubscribers.splice(0)) u();
    this.stopped = true;
  }

  /** @internal */
  stopped = false;
}

type SimSigner = Awaited<ReturnType<SimCrypto['signer']>>;

/** An envelope a simulated node originated, and what the network did with it. */
export interface SentMessage {
  messageId: string;
  from: NodeId;
  fromIndex: number;
  type: number;
  sentAtMs: number;
  envelope: Envelope;
  /** Link frames carrying this envelope delivered to each node (first copy + duplicates). */
  copies: Map<NodeId, number>;
  /** Nodes other than the origin that forwarded it. */
  relayers: Set<NodeId>;
}

export interface GossipReport {
  messageId: string;
  from: NodeId;
  sentAtMs: number;
  /** Nodes expected to deliver it (running nodes other than the sender, unless given). */
  expected: number;
  /** Expected nodes that delivered it at least once. */
  delivered: number;
  missing: NodeId[];
  /** Nodes whose handlers saw it more than once (must be empty). */
  deliveredTwice: NodeId[];
  /** Nodes that delivered it without being expected (the sender, a node across a partition...). */
  unexpected: NodeId[];
  /** Delivery latency per node, virtual ms since the send. */
  latencyMs: Summary;
  /** Frames carrying it that reached some node. */
  copies: number;
  /** Copies beyond the first at each node (gossip redundancy). */
  duplicateCopies: number;
  relays: number;
}

export interface NodeMetrics {
  index: number;
  id: NodeId;
  state: SimNodeState;
  connected: number;
  formationMs: number | null;
  counters: MessageCounters;
  traffic: NodeTraffic;
}

export interface SimMetrics {
  virtualMs: number;
  events: number;
  formationMs: number | null;
  crypto: SimCryptoStats;
  nodes: NodeMetrics[];
}

class Slot implements SimNode {
  state: SimNodeState = 'created';
  generation = 0;
  node!: AegisNode;
  /** Authenticated peers as the node last reported them (formation tracking). */
  peers: ReadonlySet<NodeId> = new Set();
  targetMet = false;
  unsubscribe: () => void = () => {};

  constructor(
    readonly index: number,
    readonly id: NodeId,
    readonly signer: SimSigner,
    public adapter: SimNetworkAdapter,
  ) {}

  get publicKey(): Uint8Array {
    return this.signer.publicKey;
  }
}

export class Simulator {
  readonly clock: VirtualClock;
  readonly network: SimNetwork;
  readonly random: SeededRandom;
  readonly crypto: SimCrypto;
  readonly overlay: OverlayConfig;
  readonly startedAtMs: number;
  private readonly slots: Slot[] = [];
  private readonly byId = new Map<NodeId, Slot>();
  private readonly touched = new Set<Slot>();
  private readonly dirty = new Set<Slot>();
  private readonly logs: DeliveryLog[] = [];
  private readonly traced = new Map<number, SentMessage[]>();
  private eventCount = 0;
  private pendingStarts = 0;
  private targetsMet = 0;
  private graphChanged = true;
  private connectedCache = false;
  private formedAtMs: number | null = null;
  private running_ = false;
  /** True while a timer callback runs (actions scheduled with `at` may send from there). */
  private inEvent = false;
  /** First error thrown by an async action scheduled with `at`; rethrown by the run loop. */
  private actionError: { error: unknown } | null = null;

  private constructor(
    private readonly options: SimulatorOptions,
    crypto: SimCrypto,
  ) {
    this.random = SeededRandom.fromSeed(options.seed);
    this.clock = new VirtualClock(options.epochMs ?? 0);
    this.startedAtMs = this.clock.now();
    this.crypto = crypto;
    this.overlay = { ...DEFAULT_OVERLAY, ...options.overlay };
    this.network = new SimNetwork(this.clock, this.random.fork('network'), options.network ?? {}, {
      touch: (id) => {
        const s = this.byId.get(id);
        if (s) this.touched.add(s);
      },
    });
    this.network.observe({ delivered: (m) => this.traceFrame(m.to, m.bytes, true), sent: (m) => this.traceFrame(m.from, m.bytes, false) });
  }

  static async create(options: SimulatorOptions): Promise<Simulator> {
    if (!Number.isInteger(options.nodes) || options.nodes < 1) throw new Error('"nodes" must be a positive integer');
    const crypto = options.crypto instanceof SimCrypto ? options.crypto : await SimCrypto.create(options.crypto ?? {});
    const sim = new Simulator(options, crypto);
    for (let i = 0; i < options.nodes; i++) await sim.addNode();
    if (options.autoStart !== false) {
      const spread = options.startSpreadMs ?? 0;
      const startRng = sim.random.fork('start');
      for (const s of sim.slots) sim.startAt(s, spread > 0 ? startRng.float() * spread : 0);
    }
    return sim;
  }

  // ---- nodes -------------------------------------------------------------------------------

  get nodes(): readonly SimNode[] {
    return this.slots;
  }

  node(ref: NodeRef): AegisNode {
    return this.slot(ref).node;
  }

  get(ref: NodeRef): SimNode {
    return this.slot(ref);
  }

  /** Nodes currently running (started, not crashed or stopped). */
  running(): SimNode[] {
    return this.slots.filter((s) => s.state === 'running');
  }

  /** Create one more node with the next seeded identity (not started unless `start` is called). */
  async addNode(): Promise<SimNode> {
    const index = this.slots.length;
    const secretKey = this.random.fork(`identity:${index}`).bytes(32);
    const signer = await this.crypto.signer(secretKey);
    secretKey.fill(0);
    const slot = new Slot(index, nodeIdFromPublicKey(signer.publicKey), signer, this.network.adapter());
    this.slots.push(slot);
    this.byId.set(slot.id, slot);
    this.installNode(slot);
    return slot;
  }

  /** Build the AegisNode for a slot's current generation and hook it into the simulator. */
  private installNode(slot: Slot): void {
    const generation = slot.generation;
    const clock = this.clock.view(() => {
      if (slot.generation !== generation || slot.state !== 'running') return false;
      this.touched.add(slot);
      return true;
    });
    const node = new AegisNode({
      ...this.options.node,
      signer: slot.signer,
      verifier: this.crypto,
      network: slot.adapter,
      clock,
      random: this.random.fork(`node:${slot.index}/gen:${generation}`),
      room: this.options.room ?? 'sim',
      overlay: this.overlay,
    });
    slot.node = node;
    slot.unsubscribe();
    slot.unsubscribe = node.subscribe(() => {
      if (slot.generation === generation) this.dirty.add(slot);
    });
    for (const log of this.logs) if (!log.stopped) log.attach(slot.index, node);
  }

  /** Start a created node now (inside the event loop's time). */
  start(ref: NodeRef): void {
    const s = this.slot(ref);
    if (s.state !== 'created') throw new Error(`node ${s.index} is ${s.state}, not created`);
    s.state = 'running';
    this.touched.add(s);
    s.node.start();
    this.livenessChanged();
  }

  private startAt(s: Slot, delayMs: number): void {
    this.pendingStarts++;
    this.clock.setTimeout(() => {
      this.pendingStarts--;
      if (s.state === 'created') this.start(s.index);
    }, delayMs);
  }

  /** Crash a node: it goes silent at once (no goodbye); see SimNetwork.crash. */
  crash(ref: NodeRef): void {
    const s = this.slot(ref);
    if (s.state !== 'running') return;
    s.state = 'crashed';
    this.network.crash(s.id);
    this.livenessChanged();
  }

  /** Stop a node gracefully (it says goodbye on its links and leaves the room). */
  stopNode(ref: NodeRef): void {
    const s = this.slot(ref);
    if (s.state !== 'running') return;
    this.touched.add(s);
    s.node.stop();
    s.state = 'stopped';
    this.livenessChanged();
  }

  /** Bring a crashed or stopped node back: same identity, fresh AegisNode and network adapter. */
  restart(ref: NodeRef): void {
    const s = this.slot(ref);
    if (s.state !== 'crashed' && s.state !== 'stopped') throw new Error(`node ${s.index} is ${s.state}`);
    s.generation++;
    s.adapter = this.network.adapter();
    s.state = 'created';
    this.installNode(s);
    this.start(s.index);
  }

  /** Partition by node refs (see SimNetwork.partition). */
  partition(groups: readonly (readonly NodeRef[])[], options: { closeLinks?: boolean } = {}): void {
    this.network.partition(
      groups.map((g) => g.map((r) => this.slot(r).id)),
      options,
    );
  }

  heal(): void {
    this.network.heal();
  }

  // ---- running -----------------------------------------------------------------------------

  /** Virtual ms since the simulation was created. */
  get elapsedMs(): number {
    return this.clock.now() - this.startedAtMs;
  }

  get events(): number {
    return this.eventCount;
  }

  /** Run one event and everything it sets off. Returns false when nothing is scheduled. */
  async step(): Promise<boolean> {
    if (this.running_) throw new Error('the simulator is already running (await the previous run)');
    this.running_ = true;
    try {
      return await this.stepInner();
    } finally {
      this.running_ = false;
    }
  }

  private async stepInner(): Promise<boolean> {
    this.inEvent = true;
    let ran: boolean;
    try {
      ran = this.clock.runNext();
    } finally {
      this.inEvent = false;
    }
    if (!ran) return false;
    this.eventCount++;
    await this.settle();
    this.track();
    if (this.actionError) {
      const { error } = this.actionError;
      this.actionError = null;
      throw error;
    }
    return true;
  }

  /**
   * Run events until `predicate` holds (checked before the first event too). Returns whether it
   * did; on giving up, virtual time is left at the deadline.
   */
  async runUntil(predicate: () => boolean, options: RunOptions = {}): Promise<boolean> {
    if (this.running_) throw new Error('the simulator is already running (await the previous run)');
    const deadline = this.clock.now() + (options.maxVirtualMs ?? 60_000);
    const pollMs = options.pollMs ?? 0;
    const maxEvents = options.maxEvents ?? Infinity;
    this.running_ = true;
    try {
      await this.settle();
      this.track();
      if (predicate()) return true;
      let lastPoll = this.clock.now();
      for (let n = 0; n < maxEvents; n++) {
        const next = this.clock.peek();
        if (next === undefined || next > deadline) break;
        await this.stepInner();
        if (pollMs > 0 && this.clock.now() - lastPoll < pollMs) continue;
        lastPoll = this.clock.now();
        if (predicate()) return true;
      }
      if (Number.isFinite(deadline) && this.clock.now() < deadline && (this.clock.peek() ?? Infinity) >= deadline)
        this.clock.advanceTo(deadline);
      return predicate();
    } finally {
      this.running_ = false;
    }
  }

  /** Run for `ms` of virtual time. */
  async runFor(ms: number): Promise<void> {
    await this.runUntil(() => false, { maxVirtualMs: ms });
  }

  /** Run until the overlay has formed (see `isFormed`); returns the formation time or null. */
  async runUntilFormed(options: RunOptions = {}): Promise<number | null> {
    await this.runUntil(() => this.formedAtMs !== null, options);
    return this.formedAtMs;
  }

  /**
   * Schedule an action at a virtual-time offset from now: crash a node, partition, broadcast...
   * Work it starts is settled like any event; an async action's error fails the run.
   */
  at(delayMs: number, action: () => unknown): void {
    this.clock.setTimeout(() => {
      const r = action();
      if (r instanceof Promise)
        r.catch((error: unknown) => {
          this.actionError ??= { error };
        });
    }, delayMs);
  }

  /**
   * Wait until every touched node is idle, no crypto is in flight, and a macrotask has passed with
   * nothing new happening.
   */
  async settle(): Promise<void> {
    for (;;) {
      while (this.touched.size > 0) {
        const batch = [...this.touched];
        this.touched.clear();
        for (const s of batch) {
          for (let p = s.node.whenIdle(); ; ) {
            await p;
            const q = s.node.whenIdle();
            if (q === p) break;
            p = q;
          }
        }
      }
      const before = this.crypto.gate.total;
      if (this.crypto.gate.pending > 0) await this.crypto.gate.whenIdle();
      await nextMacrotask();
      if (this.touched.size === 0 && this.crypto.gate.pending === 0 && this.crypto.gate.total === before) return;
    }
  }

  // ---- formation -----------------------------------------------------------------------------

  /** Fewest peers a node needs for the overlay to count as formed (all others in full mesh, else `degreeLow`). */
  targetDegree(liveCount = this.running().length): number {
    const others = Math.max(0, liveCount - 1);
    return isFullMesh(this.overlay, others) ? others : Math.min(this.overlay.degreeLow, others);
  }

  /** Most peers a node may hold once the overlay has settled (all others in full mesh, else `degreeHigh`). */
  degreeCeiling(liveCount = this.running().length): number {
    const others = Math.max(0, liveCount - 1);
    return isFullMesh(this.overlay, others) ? others : this.overlay.degreeHigh;
  }

  /**
   * Formed: every node has started; in the graph of *mutual* authenticated links (both ends list
   * each other, so a link one side has already pruned does not count) every running node's degree
   * is within its band (all others in full mesh; `degreeLow`..`degreeHigh` in a partial mesh, so
   * surplus inbound links have been pruned); and that graph is connected.
   */
  isFormed(): boolean {
    this.track();
    return this.formedNow();
  }

  private formedNow(): boolean {
    return this.pendingStarts === 0 && this.targetsMet === this.running().length && this.isOverlayConnected();
  }

  /** Virtual ms from creation until the overlay first formed, or null. */
  get formationMs(): number | null {
    return this.formedAtMs === null ? null : this.formedAtMs - this.startedAtMs;
  }

  /** Mutual authenticated links among running nodes: id -> peers (sorted). */
  overlayGraph(): Map<NodeId, NodeId[]> {
    this.track();
    const g = new Map<NodeId, NodeId[]>();
    for (const s of this.slots) if (s.state === 'running') g.set(s.id, this.mutualPeers(s).sort());
    return g;
  }

  /** Every running node reachable from every other over mutual authenticated links. */
  isOverlayConnected(): boolean {
    this.track();
    if (!this.graphChanged) return this.connectedCache;
    const live = this.slots.filter((s) => s.state === 'running');
    let ok = true;
    const first = live[0];
    if (first) {
      const seen = new Set<Slot>([first]);
      const stack = [first];
      for (let s = stack.pop(); s; s = stack.pop()) {
        for (const p of this.mutualPeers(s)) {
          const ps = this.byId.get(p) as Slot;
          if (!seen.has(ps)) {
            seen.add(ps);
            stack.push(ps);
          }
        }
      }
      ok = seen.size === live.length;
    }
    this.connectedCache = ok;
    this.graphChanged = false;
    return ok;
  }

  private mutualPeers(s: Slot): NodeId[] {
    if (s.state !== 'running') return [];
    const out: NodeId[] = [];
    for (const p of s.peers) {
      const ps = this.byId.get(p);
      if (ps && ps.state === 'running' && ps.peers.has(s.id)) out.push(p);
    }
    return out;
  }

  private livenessChanged(): void {
    for (const s of this.slots) this.dirty.add(s);
    this.graphChanged = true;
    this.track(true);
  }

  /** Fold nodes that reported a change since the last call into the formation state. */
  private track(all = false): void {
    if (this.dirty.size === 0) return;
    const affected = new Set<Slot>();
    for (const s of this.dirty) {
      affected.add(s);
      const now = s.state === 'running' ? s.node.connectedPeers() : [];
      if (now.length === s.peers.size && now.every((p) => s.peers.has(p))) continue;
      for (const p of s.peers) affected.add(this.byId.get(p) as Slot);
      s.peers = new Set(now);
      for (const p of s.peers) {
        const ps = this.byId.get(p);
        if (ps) affected.add(ps);
      }
      this.graphChanged = true;
    }
    this.dirty.clear();
    const target = this.targetDegree();
    const ceiling = this.degreeCeiling();
    for (const s of all ? this.slots : affected) {
      const degree = this.mutualPeers(s).length;
      const met = s.state === 'running' && degree >= target && degree <= ceiling;
      if (met !== s.targetMet) {
        s.targetMet = met;
        this.targetsMet += met ? 1 : -1;
      }
    }
    if (this.formedAtMs === null && this.formedNow()) this.formedAtMs = this.clock.now();
  }

  // ---- messages ------------------------------------------------------------------------------

  /** Record every delivery of `type` on every node (including nodes restarted later). */
  collect(type: number): DeliveryLog {
    const log = new DeliveryLog(type);
    for (const s of this.slots) log.attach(s.index, s.node);
    this.logs.push(log);
    return log;
  }

  /** Have a node sign and gossip an envelope; call between runs. The message is traced. */
  async broadcast(from: NodeRef, type: number, body: Uint8Array): Promise<SentMessage> {
    const s = this.slot(from);
    return this.originate(s, () => s.node.broadcast(type, body));
  }

  /** Have a node send an envelope to one node through the overlay; call between runs. */
  async sendTo(from: NodeRef, to: NodeRef, type: number, body: Uint8Array): Promise<SentMessage> {
    const s = this.slot(from);
    const key = this.slot(to).publicKey;
    return this.originate(s, () => s.node.sendTo(key, type, body));
  }

  private async originate(s: Slot, send: () => Promise<Envelope>): Promise<SentMessage> {
    // From outside, only between runs: a send racing the event loop would not be reproducible.
    const inEvent = this.inEvent;
    if (this.running_ && !inEvent) throw new Error('send between runs, or schedule it with sim.at()');
    if (s.state !== 'running') throw new Error(`node ${s.index} is ${s.state}`);
    const sentAtMs = this.clock.now();
    const envelope = await send();
    const sent: SentMessage = {
      messageId: messageId(envelope.bytes),
      from: s.id,
      fromIndex: s.index,
      type: envelope.type,
      sentAtMs,
      envelope,
      copies: new Map(),
      relayers: new Set(),
    };
    const len = envelope.bytes.length + 2;
    const list = this.traced.get(len) ?? [];
    list.push(sent);
    this.traced.set(len, list);
    if (!inEvent) await this.settle(); // inside an event, the scheduler settles it
    return sent;
  }

  /** Stop tracing a message's copies (tracing costs a length check per frame). */
  untrace(sent: SentMessage): void {
    const len = sent.envelope.bytes.length + 2;
    const list = this.traced.get(len);
    if (!list) return;
    const i = list.indexOf(sent);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.traced.delete(len);
  }

  private traceFrame(node: NodeId, frame: Uint8Array, delivered: boolean): void {
    const list = this.traced.get(frame.length);
    if (!list || frame[0] !== LinkFrameKind.Gossip) return;
    const env = frame.subarray(2);
    for (const sent of list) {
      if (!bytesEqual(env, sent.envelope.bytes)) continue;
      if (delivered) sent.copies.set(node, (sent.copies.get(node) ?? 0) + 1);
      else if (node !== sent.from) sent.relayers.add(node);
    }
  }

  /** What became of a traced message, judged against `log` (which must collect its type). */
  gossipReport(sent: SentMessage, log: DeliveryLog, expected?: readonly NodeRef[]): GossipReport {
    const expectedIds = new Set(
      expected ? expected.map((r) => this.slot(r).id) : this.running().map((s) => s.id).filter((id) => id !== sent.from),
    );
    const counts = log.countsByNode(sent.messageId);
    const latencies: number[] = [];
    const firstAt = new Map<NodeId, number>();
    for (const d of log.of(sent.messageId)) if (!firstAt.has(d.node)) firstAt.set(d.node, d.atMs);
    for (const [id, at] of firstAt) if (expectedIds.has(id)) latencies.push(at - sent.sentAtMs);
    let copies = 0;
    let duplicateCopies = 0;
    for (const c of sent.copies.values()) copies += c;
    for (const [id, c] of sent.copies) duplicateCopies += id === sent.from ? c : c - 1;
    return {
      messageId: sent.messageId,
      from: sent.from,
      sentAtMs: sent.sentAtMs,
      expected: expectedIds.size,
      delivered: [...expectedIds].filter((id) => counts.has(id)).length,
      missing: [...expectedIds].filter((id) => !counts.has(id)),
      deliveredTwice: [...counts].filter(([, c]) => c > 1).map(([id]) => id),
      unexpected: [...counts.keys()].filter((id) => !expectedIds.has(id)),
      latencyMs: summarize(latencies),
      copies,
      duplicateCopies,
      relays: sent.relayers.size,
    };
  }

  /** Nodes that hit an internal error (AegisNode keeps running and reports it in networkDetail). */
  internalErrors(): { index: number; detail: string }[] {
    return this.slots
      .map((s) => ({ index: s.index, detail: s.node.snapshot().networkDetail }))
      .filter((e) => e.detail.startsWith('internal error'));
  }

  // ---- metrics -------------------------------------------------------------------------------

  metrics(): SimMetrics {
    this.track();
    return {
      virtualMs: this.elapsedMs,
      events: this.eventCount,
      formationMs: this.formationMs,
      crypto: this.crypto.stats(),
      nodes: this.slots.map((s) => {
        const snap = s.node.snapshot();
        return {
          index: s.index,
          id: s.id,
          state: s.state,
          connected: s.state === 'running' ? s.peers.size : 0,
          formationMs: snap.formationMs,
          counters: snap.counters,
          traffic: this.network.trafficOf(s.id),
        };
      }),
    };
  }

  private slot(ref: NodeRef): Slot {
    const s = typeof ref === 'number' ? this.slots[ref] : this.byId.get(ref);
    if (!s) throw new Error(`no such node: ${String(ref)}`);
    return s;
  }
}
