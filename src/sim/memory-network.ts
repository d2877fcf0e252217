// In-memory transport for the simulator: a `SimNetwork` world plays both the signaling server
// (rooms, join/leave notices) and the WebRTC fabric (data channels between nodes), and hands each
// node a `SimNetworkAdapter` implementing the same `Network` interface as the browser transport.
//
// Model, and where it departs from reality on purpose:
// - Links are reliable and ordered by default, like SCTP data channels: each direction is a FIFO
//   with per-message latency = link base latency + jitter, clamped so nothing overtakes.
//   `reorder` and `dropRate` exist only for fault injection.
// - Every message is copied when sent, so no node ever shares a buffer with another.
// - Each link carries synthetic DTLS fingerprints (one per end); `mitm(a, b)` makes the two ends
//   see different certificates, as when a signaling server splices itself in, so the channel-bound
//   handshake must fail.
// - Partitions cut peer-to-peer traffic (in flight too) but not signaling: members still see each
//   other and keep dialling, and those dials never open (ICE never connects).
// - A crashed node goes silent: nothing to or from it is delivered, and its peers hear of it only
//   from their own timeouts, or from signaling after `crashDetectMs` (the server's socket timeout).
// - Interceptors see every message as it is sent and may pass, drop, replace or multiply it: the
//   hook for Byzantine and on-path-attacker tests. Observers see sends, deliveries and drops.
import { bytesToHex } from '../core/bytes.ts';
import { shuffled } from '../core/clock.ts';
import type { NodeId } from '../core/crypto/node-id.ts';
import type { ChannelBinding, LinkHandlers, Network, NetworkHandlers, PeerLink } from '../node/transport.ts';
import type { SeededRandom } from './seeded-random.ts';
import type { VirtualClock } from './virtual-clock.ts';

/** How one link behaves. Defaults model a healthy WAN data channel. */
export interface LinkConditions {
  /** One-way base latency in ms. */
  latencyMs: number;
  /** Each new link adds a fixed U[0, spread) to its base latency (peers are not equidistant). */
  latencySpreadMs: number;
  /** Per-message extra delay U[0, jitter). Never reorders unless `reorder` is set. */
  jitterMs: number;
  /** Probability of silently losing a message (fault injection; real channels are reliable). */
  dropRate: number;
  /** Let jitter reorder messages (fault injection; real channels are ordered). */
  reorder: boolean;
  /** Serialisation rate per direction; Infinity for none. */
  bandwidthBytesPerSec: number;
}

export const DEFAULT_LINK_CONDITIONS: LinkConditions = {
  latencyMs: 20,
  latencySpreadMs: 30,
  jitterMs: 5,
  dropRate: 0,
  reorder: false,
  bandwidthBytesPerSec: Infinity,
};

/** Timing of the simulated signaling server and connection setup. */
export interface SignalingConditions {
  /** From `start` until the node is online and gets the member list. */
  joinDelayMs: number;
  /** Extra U[0, jitter) on each join/leave notice. */
  noticeJitterMs: number;
  /** From `stop` until the other members get `onPeerLeft`. */
  leaveNoticeDelayMs: number;
  /** From a crash until the server drops the silent socket and tells the others. */
  crashDetectMs: number;
  /** From `dial` until the data channel opens (offer/answer, ICE, DTLS). */
  connectDelayMs: number;
  connectJitterMs: number;
  /** A dial to someone not in the room fails after this long. */
  unreachableCloseMs: number;
}

export const DEFAULT_SIGNALING: SignalingConditions = {
  joinDelayMs: 40,
  noticeJitterMs: 20,
  leaveNoticeDelayMs: 50,
  crashDetectMs: 15_000,
  connectDelayMs: 120,
  connectJitterMs: 80,
  unreachableCloseMs: 100,
};

export interface SimNetworkOptions {
  link?: Partial<LinkConditions>;
  signaling?: Partial<SignalingConditions>;
}

/** A message on its way across a link, as interceptors and observers see it. */
export interface InFlightMessage {
  readonly linkId: number;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly bytes: Uint8Array;
  /** Virtual time it was sent. */
  readonly sentAtMs: number;
}

/**
 * What an interceptor does with a message: `undefined` passes it on, `null` drops it, a
 * Uint8Array replaces it, an array replaces it with zero or more messages (injection, duplication).
 * Interceptors run in the order they were added, each on the previous one's output.
 */
export type InterceptResult = undefined | null | Uint8Array | readonly Uint8Array[];
export type Interceptor = (msg: InFlightMessage) => InterceptResult;

export interface InterceptFilter {
  from?: NodeId;
  to?: NodeId;
}

export type DropReason = 'crashed' | 'partitioned' | 'loss' | 'intercepted' | 'closed';

export interface NetworkObserver {
  sent?(msg: InFlightMessage): void;
  delivered?(msg: InFlightMessage, atMs: number): void;
  dropped?(msg: InFlightMessage, reason: DropReason): void;
  /** A data channel opened between two nodes. */
  linkOpened?(link: LinkInfo): void;
  /** `by` closed its end of a link (`by` is null for a transport failure: partition, breakLinks). */
  linkClosed?(link: LinkInfo, by: NodeId | null, reason: string): void;
}

export interface NodeTraffic {
  framesSent: number;
  bytesSent: number;
  framesReceived: number;
  bytesReceived: number;
  framesDropped: number;
}

export interface LinkInfo {
  id: number;
  initiator: NodeId;
  responder: NodeId;
  state: 'connecting' | 'open' | 'closed';
  latencyMs: number;
  mitm: boolean;
}

export interface SimNetworkHooks {
  /** Called just before the network calls into a node's handlers (the scheduler waits on that node). */
  touch?(id: NodeId): void;
}

/** Synthetic certificate fingerprint in SDP form: "sha-256 AB:CD:...". */
function fakeFingerprint(bytes: Uint8Array): string {
  const hex = bytesToHex(bytes).toUpperCase();
  return `sha-256 ${hex.match(/../g)?.join(':') ?? ''}`;
}

export class SimNetwork {
  readonly link: LinkConditions;
  readonly signaling: SignalingConditions;
  private readonly rooms = new Map<string, Map<NodeId, SimNetworkAdapter>>();
  /** The live adapter per node id (a restarted node replaces its crashed one). */
  private readonly adapters = new Map<NodeId, SimNetworkAdapter>();
  private readonly allLinks = new Map<number, SimLink>();
  private readonly pairConditions = new Map<string, Partial<LinkConditions>>();
  private readonly mitmPairs = new Set<string>();
  private readonly interceptors: { fn: Interceptor; filter: InterceptFilter }[] = [];
  private readonly observers = new Set<NetworkObserver>();
  private readonly traffic = new Map<NodeId, NodeTraffic>();
  private readonly signalingRng: SeededRandom;
  private groups: Map<NodeId, number> | null = null;
  private nextLinkId = 1;

  constructor(
    readonly clock: VirtualClock,
    private readonly rng: SeededRandom,
    options: SimNetworkOptions = {},
    private readonly hooks: SimNetworkHooks = {},
  ) {
    this.link = { ...DEFAULT_LINK_CONDITIONS, ...options.link };
    this.signaling = { ...DEFAULT_SIGNALING, ...options.signaling };
    this.signalingRng = rng.fork('signaling');
  }

  /** A fresh `Network` for one node (its id is learnt at `start`). */
  adapter(): SimNetworkAdapter {
    return new SimNetworkAdapter(this);
  }

  // ---- fault injection ---------------------------------------------------------------------

  /**
   * Split the nodes into groups that cannot reach each other; nodes not listed form one more group.
   * Signaling still works. With `closeLinks`, links across groups also fail at once (both ends get
   * onClose); otherwise they go silent and the nodes' own timeouts notice.
   */
  partition(groups: readonly (readonly NodeId[])[], options: { closeLinks?: boolean } = {}): void {
    const map = new Map<NodeId, number>();
    groups.forEach((g, i) => {
      for (const id of g) {
        if (map.has(id)) throw new Error(`node ${id} is in two partition groups`);
        map.set(id, i);
      }
    });
    this.groups = map;
    if (options.closeLinks) {
      for (const l of this.allLinks.values()) {
        if (l.state !== 'closed' && this.blocked(l.a.ownerId, l.b.ownerId)) this.breakLink(l, 'network partition');
      }
    }
  }

  heal(): void {
    this.groups = null;
  }

  /** True when the current partition separates a and b. */
  blocked(a: NodeId, b: NodeId): boolean {
    if (!this.groups) return false;
    return (this.groups.get(a) ?? -1) !== (this.groups.get(b) ?? -1);
  }

  /** Silence a node: no traffic to or from it, no goodbye; signaling notices after crashDetectMs. */
  crash(id: NodeId): void {
    const a = this.adapters.get(id);
    if (!a || a.crashed) return;
    a.crashed = true;
    this.clock.setTimeout(() => {
      if (this.adapters.get(id) === a) this.leaveRoom(a, 0);
    }, this.signaling.crashDetectMs);
  }

  isCrashed(id: NodeId): boolean {
    return this.adapters.get(id)?.crashed ?? false;
  }

  /** Override link conditions between two nodes (both directions, links opened from now on). */
  setLinkConditions(a: NodeId, b: NodeId, conditions: Partial<LinkConditions>): void {
    this.pairConditions.set(pairKey(a, b), { ...this.pairConditions.get(pairKey(a, b)), ...conditions });
  }

  /** Make every link opened between a and b from now on a man-in-the-middle link (fingerprints differ). */
  mitm(a: NodeId, b: NodeId, enabled = true): void {
    if (enabled) this.mitmPairs.add(pairKey(a, b));
    else this.mitmPairs.delete(pairKey(a, b));
  }

  /** Fail every open or opening link between a and b (both ends get onClose). */
  breakLinks(a: NodeId, b: NodeId, reason = 'link failed'): number {
    let n = 0;
    for (const l of this.allLinks.values()) {
      const ends = [l.a.ownerId, l.b.ownerId];
      if (l.state !== 'closed' && ends.includes(a) && ends.includes(b)) {
        this.breakLink(l, reason);
        n++;
      }
    }
    return n;
  }

  /** Add an interceptor for messages matching `filter`; returns a function that removes it. */
  intercept(fn: Interceptor, filter: InterceptFilter = {}): () => void {
    const entry = { fn, filter };
    this.interceptors.push(entry);
    return () => {
      const i = this.interceptors.indexOf(entry);
      if (i >= 0) this.interceptors.splice(i, 1);
    };
  }

  observe(observer: NetworkObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  // ---- inspection --------------------------------------------------------------------------

  trafficOf(id: NodeId): NodeTraffic {
    return { ...this.trafficEntry(id) };
  }

  /** Links not yet closed on both ends. */
  links(): LinkInfo[] {
    return [...this.allLinks.values()].map(linkInfo);
  }

  roomMembers(room: string): NodeId[] {
    return [...(this.rooms.get(room)?.keys() ?? [])];
  }

  // ---- internals used by adapters and links --------------------------------------------------

  /** @internal */
  register(a: SimNetworkAdapter): void {
    const id = a.selfId;
    const old = this.adapters.get(id);
    if (old && old !== a && !old.crashed && !old.stopped) throw new Error(`node ${id} is already running`);
    this.adapters.set(id, a);
    this.clock.setTimeout(() => this.joinRoom(a), this.signaling.joinDelayMs);
  }

  private joinRoom(a: SimNetworkAdapter): void {
    if (!a.active) return;
    const room = this.rooms.get(a.room) ?? new Map<NodeId, SimNetworkAdapter>();
    this.rooms.set(a.room, room);
    const others = [...room.entries()].filter(([id]) => id !== a.selfId);
    room.set(a.selfId, a);
    this.call(a, (h) => h.onStatus('online'));
    // The server's member list reaches the newcomer at once, in no particular order (shuffled, or
    // every newcomer would favour the oldest members); the others hear a notice shortly after.
    for (const id of shuffled(this.signalingRng, others.map(([id]) => id))) this.call(a, (h) => h.onPeerJoined(id));
    for (const [id, other] of others) {
      this.clock.setTimeout(() => {
        if (room.get(a.selfId) === a && room.get(id) === other) this.call(other, (h) => h.onPeerJoined(a.selfId));
      }, this.signalingRng.float() * this.signaling.noticeJitterMs);
    }
  }

  /** @internal */
  leaveRoom(a: SimNetworkAdapter, delayMs: number): void {
    const room = this.rooms.get(a.room);
    if (!room || room.get(a.selfId) !== a) return;
    room.delete(a.selfId);
    for (const other of room.values()) {
      this.clock.setTimeout(
        () => this.call(other, (h) => h.onPeerLeft(a.selfId)),
        delayMs + this.signalingRng.float() * this.signaling.noticeJitterMs,
      );
    }
  }

  /** @internal */
  openLink(from: SimNetworkAdapter, peer: NodeId): SimLinkEnd {
    const id = this.nextLinkId++;
    const rng = this.rng.fork(`link:${id}`);
    const key = pairKey(from.selfId, peer);
    const cond: LinkConditions = { ...this.link, ...this.pairConditions.get(key) };
    const link = new SimLink(this, id, from, peer, cond, rng, this.mitmPairs.has(key));
    this.allLinks.set(id, link);
    const setupMs = this.signaling.connectDelayMs + rng.float() * this.signaling.connectJitterMs;
    this.clock.setTimeout(() => this.establish(link), setupMs);
    return link.a;
  }

  private establish(link: SimLink): void {
    if (link.state !== 'connecting' || link.a.closed) return; // the dialler gave up already
    const from = link.a.owner;
    const to = this.adapters.get(link.b.ownerId);
    if (!from || from.crashed || (to?.crashed ?? false) || this.blocked(link.a.ownerId, link.b.ownerId)) return; // ICE never connects
    const inRoom = to !== undefined && to.active && this.rooms.get(from.room)?.get(to.selfId) === to;
    if (!inRoom || !to) {
      link.state = 'closed';
      this.clock.setTimeout(() => this.closeEnd(link.a, 'peer unavailable'), this.signaling.unreachableCloseMs);
      return;
    }
    link.b.owner = to;
    link.state = 'open';
    to.track(link.b);
    for (const o of this.observers) o.linkOpened?.(linkInfo(link));
    this.call(to, (h) => h.onInbound(link.b));
    // Both ends open together; the responder may already have refused the link in onInbound.
    this.clock.setTimeout(() => link.a.fireOpen(), 0);
    this.clock.setTimeout(() => link.b.fireOpen(), 0);
  }

  /** @internal Queue one message from `end` to the other end of its link. */
  transmit(end: SimLinkEnd, message: Uint8Array): void {
    const link = end.link;
    const to = end.peer;
    const from = end.ownerId;
    const sentAtMs = this.clock.now();
    const tx = this.trafficEntry(from);
    tx.framesSent++;
    tx.bytesSent += message.length;
    // The receiver gets its own copy: nothing a node does to a buffer afterwards reaches another.
    const msg: InFlightMessage = { linkId: link.id, from, to: to.ownerId, bytes: message.slice(), sentAtMs };
    for (const o of this.observers) o.sent?.(msg);
    if (this.interceptors.length === 0) return this.enqueue(end, to, msg);
    let batch: InFlightMessage[] = [msg];
    for (const { fn, filter } of this.interceptors) {
      if ((filter.from !== undefined && filter.from !== msg.from) || (filter.to !== undefined && filter.to !== msg.to))
        continue;
      const next: InFlightMessage[] = [];
      for (const m of batch) {
        const r = fn(m);
        if (r === undefined) next.push(m);
        else if (r === null) this.drop(m, 'intercepted');
        else for (const b of r instanceof Uint8Array ? [r] : r) next.push({ ...m, bytes: b.slice() });
      }
      batch = next;
    }
    for (const m of batch) this.enqueue(end, to, m);
  }

  private enqueue(from: SimLinkEnd, to: SimLinkEnd, msg: InFlightMessage): void {
    const link = from.link;
    if (from.ownerCrashed) return this.drop(msg, 'crashed');
    if (this.blocked(msg.from, msg.to)) return this.drop(msg, 'partitioned');
    if (link.cond.dropRate > 0 && link.rng.chance(link.cond.dropRate)) return this.drop(msg, 'loss');
    const atMs = (from === link.a ? link.ab : link.ba).schedule(msg.sentAtMs, msg.bytes.length);
    this.clock.setTimeout(() => this.deliver(from, to, msg), atMs - msg.sentAtMs);
  }

  private deliver(from: SimLinkEnd, to: SimLinkEnd, msg: InFlightMessage): void {
    const reason = this.lossAtDelivery(from, to);
    if (reason) return this.drop(msg, reason);
    const rx = this.trafficEntry(to.ownerId);
    rx.framesReceived++;
    rx.bytesReceived += msg.bytes.length;
    for (const o of this.observers) o.delivered?.(msg, this.clock.now());
    to.fireMessage(msg.bytes);
  }

  private lossAtDelivery(from: SimLinkEnd, to: SimLinkEnd): DropReason | null {
    if (to.closed) return 'closed';
    if (to.ownerCrashed || from.ownerCrashed) return 'crashed';
    if (this.blocked(from.ownerId, to.ownerId)) return 'partitioned';
    return null;
  }

  private drop(msg: InFlightMessage, reason: DropReason): void {
    this.trafficEntry(msg.from).framesDropped++;
    for (const o of this.observers) o.dropped?.(msg, reason);
  }

  /** @internal `end` closed its side: the other side hears of it after the messages in flight. */
  closeFrom(end: SimLinkEnd, reason: string): void {
    const link = end.link;
    const peer = end.peer;
    for (const o of this.observers) o.linkClosed?.(linkInfo(link), end.ownerId, reason);
    if (link.state !== 'open' || peer.closed) {
      if (link.state === 'connecting' || peer.closed) link.state = 'closed';
      return;
    }
    const dir = end === link.a ? link.ab : link.ba;
    const nowMs = this.clock.now();
    const atMs = dir.schedule(nowMs, 0);
    this.clock.setTimeout(() => {
      // A close notice lost to a crash or partition is never heard: the peer's own timeout must notice.
      if (!this.lossAtDelivery(end, peer)) this.closeEnd(peer, reason);
    }, atMs - nowMs);
  }

  /** @internal Close one end from outside its owner (remote close, transport failure) and tell the owner. */
  closeEnd(end: SimLinkEnd, reason: string): void {
    if (end.closed) return;
    end.closed = true;
    if (end.peer.closed) end.link.state = 'closed';
    if (!end.ownerCrashed) end.fireClose(reason);
  }

  private breakLink(link: SimLink, reason: string): void {
    for (const o of this.observers) o.linkClosed?.(linkInfo(link), null, reason);
    const ends = link.state === 'open' ? [link.a, link.b] : [link.a];
    link.state = 'closed';
    for (const end of ends) this.clock.setTimeout(() => this.closeEnd(end, reason), 0);
  }

  /** @internal A closed link leaves the table (in-flight events keep their own references). */
  retire(link: SimLink): void {
    this.allLinks.delete(link.id);
  }

  /** @internal Invoke a node's network handlers, letting the scheduler know it has work. */
  call(a: SimNetworkAdapter, fn: (h: NetworkHandlers) => void): void {
    if (!a.active || !a.handlers) return;
    this.hooks.touch?.(a.selfId);
    fn(a.handlers);
  }

  /** @internal */
  touch(id: NodeId): void {
    this.hooks.touch?.(id);
  }

  private trafficEntry(id: NodeId): NodeTraffic {
    let t = this.traffic.get(id);
    if (!t) {
      t = { framesSent: 0, bytesSent: 0, framesReceived: 0, bytesReceived: 0, framesDropped: 0 };
      this.traffic.set(id, t);
    }
    return t;
  }
}

function linkInfo(l: SimLink): LinkInfo {
  return { id: l.id, initiator: l.a.ownerId, responder: l.b.ownerId, state: l.state, latencyMs: l.latencyMs, mitm: l.mitm };
}

function pairKey(a: NodeId, b: NodeId): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/** One node's view of the network: implements the transport `Network` interface. */
export class SimNetworkAdapter implements Network {
  /** @internal */ handlers: NetworkHandlers | null = null;
  /** @internal */ crashed = false;
  /** @internal */ stopped = false;
  private id: NodeId | null = null;
  private roomName = '';
  private readonly ends = new Set<SimLinkEnd>();

  constructor(private readonly net: SimNetwork) {}

  get selfId(): NodeId {
    if (this.id === null) throw new Error('network adapter not started');
    return this.id;
  }

  get room(): string {
    return this.roomName;
  }

  /** Started, not stopped, not crashed. */
  get active(): boolean {
    return this.id !== null && !this.stopped && !this.crashed;
  }

  start(self: NodeId, room: string, handlers: NetworkHandlers): void {
    if (this.id !== null) throw new Error('network adapter already started');
    this.id = self;
    this.roomName = room;
    this.handlers = handlers;
    this.net.register(this);
  }

  stop(): void {
    if (this.id === null || this.stopped) return;
    for (const end of [...this.ends]) end.close('network stopped');
    this.ends.clear();
    if (!this.crashed) this.net.leaveRoom(this, this.net.signaling.leaveNoticeDelayMs);
    this.stopped = true;
  }

  dial(peer: NodeId): PeerLink {
    if (!this.active) throw new Error('cannot dial: network not running');
    if (peer === this.selfId) throw new Error('cannot dial self');
    const end = this.net.openLink(this, peer);
    this.ends.add(end);
    return end;
  }

  /** @internal */
  track(end: SimLinkEnd): void {
    this.ends.add(end);
  }

  /** @internal */
  untrack(end: SimLinkEnd): void {
    this.ends.delete(end);
  }
}

/** Per-direction FIFO timing: delivery times never decrease unless the link may reorder. */
class Direction {
  private lastAtMs = -Infinity;
  private busyUntilMs = -Infinity;

  constructor(private readonly link: SimLink) {}

  /** Delivery time of a message of `bytes` sent now (`bytes` 0 for a close notice). */
  schedule(nowMs: number, bytes: number): number {
    const c = this.link.cond;
    let departAtMs = nowMs;
    if (bytes > 0 && Number.isFinite(c.bandwidthBytesPerSec) && c.bandwidthBytesPerSec > 0) {
      departAtMs = Math.max(departAtMs, this.busyUntilMs) + (bytes / c.bandwidthBytesPerSec) * 1000;
      this.busyUntilMs = departAtMs;
    }
    let atMs = departAtMs + this.link.latencyMs + (c.jitterMs > 0 ? this.link.rng.float() * c.jitterMs : 0);
    if (!c.reorder) atMs = Math.max(atMs, this.lastAtMs);
    this.lastAtMs = Math.max(this.lastAtMs, atMs);
    return atMs;
  }
}

/** @internal A simulated data channel: two ends, two directions. */
export class SimLink {
  private stateValue: 'connecting' | 'open' | 'closed' = 'connecting';
  readonly a: SimLinkEnd;
  readonly b: SimLinkEnd;
  readonly ab = new Direction(this);
  readonly ba = new Direction(this);
  readonly latencyMs: number;

  get state(): 'connecting' | 'open' | 'closed' {
    return this.stateValue;
  }

  set state(next: 'connecting' | 'open' | 'closed') {
    this.stateValue = next;
    if (next === 'closed') this.net.retire(this);
  }

  constructor(
    private readonly net: SimNetwork,
    readonly id: number,
    initiator: SimNetworkAdapter,
    responderId: NodeId,
    readonly cond: LinkConditions,
    readonly rng: SeededRandom,
    readonly mitm: boolean,
  ) {
    this.latencyMs = cond.latencyMs + rng.float() * cond.latencySpreadMs;
    const fpA = fakeFingerprint(rng.bytes(32));
    const fpB = fakeFingerprint(rng.bytes(32));
    // Under MITM each end negotiated DTLS with the attacker, so each sees the attacker's certificate.
    const seenByA = mitm ? fakeFingerprint(rng.bytes(32)) : fpB;
    const seenByB = mitm ? fakeFingerprint(rng.bytes(32)) : fpA;
    this.a = new SimLinkEnd(net, this, initiator.selfId, responderId, true, { localFingerprint: fpA, remoteFingerprint: seenByA });
    this.a.owner = initiator;
    // The responder's adapter is bound when the link is established (it may have restarted by then).
    this.b = new SimLinkEnd(net, this, responderId, initiator.selfId, false, { localFingerprint: fpB, remoteFingerprint: seenByB });
  }
}

type PendingEvent =
  | { kind: 'open'; binding: ChannelBinding }
  | { kind: 'message'; bytes: Uint8Array }
  | { kind: 'close'; reason: string };

/** One end of a simulated data channel (the `PeerLink` a node holds). */
export class SimLinkEnd implements PeerLink {
  /** @internal The adapter holding this end; null for a responder end not yet established. */
  owner: SimNetworkAdapter | null = null;
  /** @internal */ closed = false;
  private opened = false;
  private handlers: LinkHandlers | null = null;
  private readonly queued: PendingEvent[] = [];

  constructor(
    private readonly net: SimNetwork,
    /** @internal */ readonly link: SimLink,
    /** @internal */ readonly ownerId: NodeId,
    readonly remoteId: NodeId,
    readonly initiator: boolean,
    private readonly binding: ChannelBinding,
  ) {}

  get linkId(): number {
    return this.link.id;
  }

  /** @internal */
  get peer(): SimLinkEnd {
    return this === this.link.a ? this.link.b : this.link.a;
  }

  /** @internal */
  get ownerCrashed(): boolean {
    return this.owner?.crashed ?? false;
  }

  attach(handlers: LinkHandlers): void {
    if (this.handlers) throw new Error('link handlers already attached');
    this.handlers = handlers;
    for (const e of this.queued.splice(0)) this.dispatch(e);
  }

  send(message: Uint8Array): void {
    if (this.closed) throw new Error('link closed');
    if (!this.opened) throw new Error('link not open yet');
    this.net.transmit(this, message);
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.owner?.untrack(this);
    this.net.closeFrom(this, reason);
  }

  /** @internal */
  fireOpen(): void {
    if (this.closed || this.opened) return;
    this.opened = true;
    this.emit({ kind: 'open', binding: { ...this.binding } });
  }

  /** @internal */
  fireMessage(bytes: Uint8Array): void {
    this.emit({ kind: 'message', bytes });
  }

  /** @internal */
  fireClose(reason: string): void {
    this.owner?.untrack(this);
    this.emit({ kind: 'close', reason });
  }

  private emit(e: PendingEvent): void {
    if (!this.handlers) {
      this.queued.push(e);
      return;
    }
    this.net.touch(this.ownerId);
    this.dispatch(e);
  }

  private dispatch(e: PendingEvent): void {
    const h = this.handlers;
    if (!h) return;
    if (e.kind === 'open') h.onOpen(e.binding);
    else if (e.kind === 'message') h.onMessage(e.bytes);
    else h.onClose(e.reason);
  }
}
