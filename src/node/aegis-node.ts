// AegisNode: one identity, one network adapter, one clock. It authenticates links, keeps the
// overlay (full or partial mesh), verifies and gossips signed envelopes, and exposes counters
// and peer state for the dashboard. Protocol modules plug in through `onMessage`.
import { bytesToHex, bytesEqual } from '../core/bytes.ts';
import type { Clock, Random, TimerHandle } from '../core/clock.ts';
import type { Signer, Verifier } from '../core/crypto/ed25519.ts';
import { sha256 } from '../core/crypto/hash.ts';
import { nodeIdFromPublicKey, type NodeId } from '../core/crypto/node-id.ts';
import {
  DEFAULT_MAX_ENVELOPE_BYTES,
  decodeEnvelope,
  sealEnvelope,
  verifyEnvelope,
  type Envelope,
} from '../core/net/envelope.ts';
import {
  checkHello,
  HANDSHAKE_NONCE_BYTES,
  signProof,
  verifyProof,
  type HandshakeContext,
} from '../core/net/handshake.ts';
import { decodeLinkFrame, encodeLinkFrame, type LinkFrame } from '../core/net/link-frame.ts';
import { messageTypes } from '../core/net/message-types.ts';
import { decideOverlay, DEFAULT_OVERLAY, isFullMesh, type OverlayConfig } from '../core/net/overlay-policy.ts';
import { ReplayGuard } from '../core/net/replay-guard.ts';
import { SeenCache } from '../core/net/seen-cache.ts';
import { SequenceCounter } from '../core/net/sequence.ts';
import { emptyCounters, type MessageCounters, type RejectReason } from './counters.ts';
import { TestMessages, type ReceivedTest, type TestBroadcastRecord } from './test-messages.ts';
import type { ChannelBinding, Network, NetworkStatus, PeerLink } from './transport.ts';
import { Listeners } from './listeners.ts';

export interface AegisNodeOptions {
  signer: Signer;
  verifier: Verifier;
  network: Network;
  clock: Clock;
  random: Random;
  room: string;
  overlay?: Partial<OverlayConfig>;
  /** Gossip hop limit for envelopes this node originates. */
  gossipTtl?: number;
  heartbeatIntervalMs?: number;
  /** A link silent for this long is considered dead. */
  peerTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  maxEnvelopeBytes?: number;
  /**
   * SHA-256 of envelopes of LARGE_ENVELOPE_BYTES or more (their message ids), where it does not
   * block the page: in the browser the secure-aggregation worker (a 4 MB masked input or result
   * took ~100 ms of noble on the main thread, more under load). Default: noble, in this thread.
   */
  sha256Large?: (bytes: Uint8Array) => Promise<Uint8Array>;
  /**
   * Lets the page's event loop run (a task boundary) before and after a body of LARGE_ENVELOPE_BYTES
   * or more is sealed: encoding it, signing it and sending it are then separate main-thread tasks,
   * not one block. Default: none (Node, the simulator).
   */
  yieldLarge?: () => Promise<void>;
}

/** From this size on, an envelope's message id is hashed by `sha256Large` when given. */
export const LARGE_ENVELOPE_BYTES = 64 * 1024;

export type PeerStatus = 'connecting' | 'handshaking' | 'connected' | 'backoff' | 'member';

export interface PeerInfo {
  id: NodeId;
  status: PeerStatus;
  initiator: boolean;
  rttMs: number | null;
  connectedAtMs: number | null;
  lastSeenMs: number | null;
  reconnectAttempts: number;
}

export interface NodeSnapshot {
  id: NodeId;
  publicKeyHex: string;
  room: string;
  networkStatus: NetworkStatus;
  networkDetail: string;
  overlayMode: 'full-mesh' | 'partial-mesh';
  overlayTarget: number;
  peers: PeerInfo[];
  counters: MessageCounters;
  startedAtMs: number;
  /** Time from start until the overlay first reached its target (all members in full mesh). */
  formationMs: number | null;
  testBroadcasts: TestBroadcastRecord[];
  /** Test broadcasts received from others, newest first. */
  receivedTests: ReceivedTest[];
  lastRejection: { reason: RejectReason; from: NodeId; detail: string; atMs: number } | null;
}

export type MessageHandler = (env: Envelope, from: NodeId) => void;

/** A link authenticated or dropped, with the reason (the newest LINK_EVENTS_KEPT are kept). */
export interface LinkEvent {
  atMs: number;
  peer: NodeId;
  event: 'connected' | 'dropped';
  detail: string;
}

const LINK_EVENTS_KEPT = 64;

interface LinkState {
  link: PeerLink;
  status: 'connecting' | 'handshaking' | 'connected';
  ctx: HandshakeContext | null;
  remoteKey: Uint8Array | null;
  remoteNonce: Uint8Array | null;
  openedAtMs: number;
  connectedAtMs: number | null;
  lastSeenMs: number;
  rttMs: number | null;
  pingId: number;
  closed: boolean;
}

interface Backoff {
  attempts: number;
  untilMs: number;
}

const MESSAGE_ID_BYTES = 16;

export class AegisNode {
  readonly id: NodeId;
  readonly publicKey: Uint8Array;
  private readonly opts: Required<Omit<AegisNodeOptions, 'overlay' | 'sha256Large' | 'yieldLarge'>> & Pick<AegisNodeOptions, 'sha256Large' | 'yieldLarge'> & { overlay: OverlayConfig };
  private readonly members = new Set<NodeId>();
  private readonly links = new Map<NodeId, LinkState>();
  private readonly backoff = new Map<NodeId, Backoff>();
  private readonly seen: SeenCache;
  private readonly replay = new ReplayGuard();
  private readonly sequence: SequenceCounter;
  private readonly handlers = new Map<number, MessageHandler[]>();
  private readonly linkUpHandlers = new Set<(peer: NodeId) => void>();
  private readonly listeners = new Listeners();
  private readonly changed = (): void => this.listeners.notify();
  private readonly counters = emptyCounters();
  private readonly tests: TestMessages;
  private work: Promise<void> = Promise.resolve();
  private timers: TimerHandle[] = [];
  private networkStatus: NetworkStatus = 'offline';
  private networkDetail = '';
  private startedAtMs = 0;
  private formationMs: number | null = null;
  private lastRejection: NodeSnapshot['lastRejection'] = null;
  private running = false;
  private lastOverlay: { mode: 'full-mesh' | 'partial-mesh'; target: number } = { mode: 'full-mesh', target: 0 };
  private readonly linkLog: LinkEvent[] = [];

  constructor(options: AegisNodeOptions) {
    this.opts = {
      gossipTtl: 16,
      heartbeatIntervalMs: 1000,
      peerTimeoutMs: 4000,
      handshakeTimeoutMs: 10_000,
      reconnectBaseMs: 500,
      reconnectMaxMs: 30_000,
      maxEnvelopeBytes: DEFAULT_MAX_ENVELOPE_BYTES,
      ...options,
      overlay: { ...DEFAULT_OVERLAY, ...options.overlay },
    };
    this.publicKey = options.signer.publicKey;
    this.id = nodeIdFromPublicKey(this.publicKey);
    this.seen = new SeenCache(120_000, 50_000);
    this.sequence = new SequenceCounter(options.clock);
    this.tests = new TestMessages(this);
  }

  // ---- lifecycle -------------------------------------------------------------------------

  start(): void {
    if (this.running) return;
    this.running = true;
    this.startedAtMs = this.opts.clock.now();
    this.opts.network.start(this.id, this.opts.room, {
      onPeerJoined: (id) => this.onPeerJoined(id),
      onPeerLeft: (id) => this.onPeerLeft(id),
      onInbound: (link) => this.onInbound(link),
      onStatus: (status, detail) => {
        this.networkStatus = status;
        this.networkDetail = detail ?? '';
        // Losing the signaling server does not break open data channels: keep links and members;
        // the signaling client reconciles membership when it rejoins.
        this.changed();
      },
    });
    this.tick();
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    for (const t of this.timers) this.opts.clock.clearTimeout(t);
    this.timers = [];
    for (const id of [...this.links.keys()]) this.dropLink(id, 'node stopped', { polite: true, reconnect: false });
    this.opts.network.stop();
    this.members.clear();
    this.networkStatus = 'offline';
    this.changed();
  }

  /** Resolves when all queued inbound processing has finished (the simulator waits on it). */
  whenIdle(): Promise<void> {
    return this.work;
  }

  subscribe(listener: () => void): () => void {
    return this.listeners.subscribe(listener);
  }

  onMessage(type: number, handler: MessageHandler): () => void {
    const list = this.handlers.get(type) ?? [];
    list.push(handler);
    this.handlers.set(type, list);
    return () => {
      const i = list.indexOf(handler);
      if (i >= 0) list.splice(i, 1);
    };
  }

  get clock(): Clock {
    return this.opts.clock;
  }

  get random(): Random {
    return this.opts.random;
  }

  // ---- sending ---------------------------------------------------------------------------

  /** Sign and gossip an envelope to every node in the room. */
  async broadcast(type: number, body: Uint8Array): Promise<Envelope> {
    return this.originate(type, body, undefined);
  }

  /** Sign and route an envelope to one node through the overlay. */
  async sendTo(recipient: NodeId | Uint8Array, type: number, body: Uint8Array): Promise<Envelope> {
    const key = typeof recipient === 'string' ? this.publicKeyOf(recipient) : recipient;
    if (!key) throw new Error(`no known public key for node ${String(recipient)}`);
    return this.originate(type, body, key);
  }

  /**
   * The identity key, for objects signed outside an envelope under their own domain tag (a
   * masked input's statement, secagg/masked-chunks.ts).
   */
  get identitySigner(): Signer {
    return this.opts.signer;
  }

  /** Sign an envelope without sending it (tests and developer tools build tampered copies from it). */
  async seal(type: number, body: Uint8Array, recipient?: Uint8Array): Promise<Envelope> {
    // The sequence is taken at the call, as before: the yields do not reorder seals' sequences.
    const fields = { type, sender: this.publicKey, sequence: this.sequence.next(), body, ...(recipient ? { recipient } : {}) };
    const pause = body.length >= LARGE_ENVELOPE_BYTES ? this.opts.yieldLarge : undefined;
    if (pause === undefined) return sealEnvelope(fields, this.opts.signer);
    await pause();
    const env = await sealEnvelope(fields, this.opts.signer);
    await pause();
    return env;
  }

  /** `handler` is called each time a link to a peer is authenticated: the first time, and after a drop. */
  onLinkUp(handler: (peer: NodeId) => void): () => void {
    this.linkUpHandlers.add(handler);
    return () => this.linkUpHandlers.delete(handler);
  }

  /**
   * Route an envelope this node sent before once more, byte for byte: a point-to-point message may
   * have gone down with a link that dropped. The copy keeps its sequence number, so a receiver that
   * did get the first one drops it as a replay. Returns the links it went out on.
   */
  resend(env: Envelope): number {
    return this.forward(env.bytes, this.opts.gossipTtl, env.recipient, null);
  }

  /** Send raw gossip bytes to one neighbour, bypassing signing (test hook for tampering). */
  sendRawGossip(peer: NodeId, envelopeBytes: Uint8Array): boolean {
    const st = this.links.get(peer);
    if (!st || st.status !== 'connected') return false;
    this.sendFrame(st, { kind: 'gossip', ttl: this.opts.gossipTtl, envelope: envelopeBytes });
    return true;
  }

  broadcastTest(text: string): Promise<void> {
    return this.tests.broadcast(text);
  }

  private async originate(type: number, body: Uint8Array, recipient: Uint8Array | undefined): Promise<Envelope> {
    const env = await this.seal(type, body, recipient);
    const hashing = this.largeMessageId(env.bytes);
    if (hashing === null) this.seen.add(messageId(env.bytes), this.opts.clock.now());
    this.replay.accept(bytesToHex(env.sender), env.sequence);
    this.counters.sent++;
    // Sent at once, in sealing order; a large envelope's id is remembered once hashed (an echo
    // needs whole multi-MB hops to come back, and would meet the replay guard meanwhile).
    this.forward(env.bytes, this.opts.gossipTtl, recipient, null);
    if (hashing !== null) this.seen.add(await hashing, this.opts.clock.now());
    this.changed();
    return env;
  }

  private readonly knownKeys = new Map<NodeId, Uint8Array>();

  publicKeyOf(id: NodeId): Uint8Array | undefined {
    return id === this.id ? this.publicKey : this.knownKeys.get(id);
  }

  private forward(bytes: Uint8Array, ttl: number, recipient: Uint8Array | undefined, from: NodeId | null): number {
    const targets: LinkState[] = [];
    const direct = recipient ? this.links.get(nodeIdFromPublicKey(recipient)) : undefined;
    if (direct && direct.status === 'connected') targets.push(direct);
    else for (const [id, st] of this.links) if (id !== from && st.status === 'connected') targets.push(st);
    for (const st of targets) this.sendFrame(st, { kind: 'gossip', ttl, envelope: bytes });
    return targets.length;
  }

  // ---- membership and overlay -------------------------------------------------------------

  private onPeerJoined(id: NodeId): void {
    if (id === this.id) return;
    this.members.add(id);
    this.maintainOverlay();
    this.changed();
  }

  private onPeerLeft(id: NodeId): void {
    this.members.delete(id);
    this.backoff.delete(id);
    if (this.links.has(id)) this.dropLink(id, 'peer left the room', { polite: false, reconnect: false });
    this.changed();
  }

  private tick(): void {
    if (!this.running) return;
    const now = this.opts.clock.now();
    for (const [id, st] of this.links) {
      if (st.status === 'connected') {
        if (now - st.lastSeenMs > this.opts.peerTimeoutMs) {
          this.dropLink(id, 'timeout: no traffic', { polite: false, reconnect: true });
          continue;
        }
        st.pingId = (st.pingId + 1) >>> 0;
        this.sendFrame(st, { kind: 'ping', id: st.pingId, timeMs: now });
      } else if (now - st.openedAtMs > this.opts.handshakeTimeoutMs) {
        this.dropLink(id, `timeout while ${st.status}`, { polite: false, reconnect: true });
      }
    }
    this.maintainOverlay();
    this.timers = [this.opts.clock.setTimeout(() => this.tick(), this.opts.heartbeatIntervalMs)];
  }

  private maintainOverlay(): void {
    if (!this.running) return;
    const now = this.opts.clock.now();
    const backingOff = new Set<NodeId>();
    const reconnect = new Set<NodeId>();
    for (const [id, b] of this.backoff) (b.untilMs > now ? backingOff : reconnect).add(id);
    const decision = decideOverlay(
      { self: this.id, members: this.members, linked: new Set(this.links.keys()), backingOff, reconnect },
      this.opts.overlay,
      this.opts.random,
    );
    this.lastOverlay = { mode: decision.mode, target: decision.target };
    for (const id of decision.prune) this.dropLink(id, 'pruned: above degree', { polite: true, reconnect: false });
    for (const id of decision.dial) this.dial(id);
  }

  private dial(id: NodeId): void {
    let link: PeerLink;
    try {
      link = this.opts.network.dial(id);
    } catch {
      this.scheduleBackoff(id);
      return;
    }
    this.adopt(link);
  }

  private onInbound(link: PeerLink): void {
    const id = link.remoteId;
    const existing = this.links.get(id);
    const refuse = (reason: string): void => {
      link.attach({ onOpen: () => {}, onMessage: () => {}, onClose: () => {} });
      link.close(reason);
    };
    if (existing) {
      // Glare: both sides dialled. The link initiated by the lower id wins on both ends.
      const ourOutboundWins = existing.link.initiator && existing.status !== 'connected' && this.id < id;
      if (ourOutboundWins) return refuse('glare: keeping the link initiated by the lower id');
      this.dropLink(id, 'replaced by a new inbound link', { polite: false, reconnect: false });
    } else if (!isFullMesh(this.opts.overlay, this.members.size) && this.links.size >= 2 * this.opts.overlay.degreeHigh) {
      // Partial mesh: accept above D_high (the periodic prune makes room, so late joiners still get
      // in: refusing at D_high left a 16-tab room with starved newcomers), but cap the burst an
      // early joiner would otherwise accept before its first prune.
      return refuse('at twice the degree limit');
    }
    if (!this.members.has(id)) this.members.add(id);
    this.adopt(link);
  }

  private adopt(link: PeerLink): void {
    const now = this.opts.clock.now();
    const st: LinkState = {
      link,
      status: 'connecting',
      ctx: null,
      remoteKey: null,
      remoteNonce: null,
      openedAtMs: now,
      connectedAtMs: null,
      lastSeenMs: now,
      rttMs: null,
      pingId: 0,
      closed: false,
    };
    this.links.set(link.remoteId, st);
    link.attach({
      onOpen: (binding) => this.enqueue(() => this.onLinkOpen(st, binding)),
      // Liveness is the peer's traffic as it arrives, not as the work queue reaches it: a queue busy
      // for seconds (a 4 MB masked input verified and hashed, a worker round trip) must not make a
      // live peer look silent and drop the link with the messages still queued.
      onMessage: (msg) => {
        st.lastSeenMs = this.opts.clock.now();
        this.enqueue(() => this.onLinkMessage(st, msg));
      },
      onProgress: () => {
        st.lastSeenMs = this.opts.clock.now();
      },
      onClose: (reason) => this.enqueue(async () => this.onLinkClosed(st, reason)),
    });
    this.changed();
  }

  /**
   * Run `task` on the node's serial work queue (after everything already queued). Protocol services
   * use it so their async steps are ordered with inbound traffic and `whenIdle` covers them.
   */
  schedule(task: () => Promise<void> | void): void {
    this.enqueue(task);
  }

  private enqueue(task: () => Promise<void> | void): void {
    this.work = this.work.then(task).catch((e: unknown) => {
      // A bug, not peer input (peer input never throws): keep the node alive and visible.
      this.networkDetail = `internal error: ${String(e)}`;
    });
  }

  private onLinkOpen(st: LinkState, binding: ChannelBinding): void {
    if (st.closed) return;
    st.status = 'handshaking';
    st.ctx = {
      role: st.link.initiator ? 'initiator' : 'responder',
      localFingerprint: binding.localFingerprint,
      remoteFingerprint: binding.remoteFingerprint,
      localPublicKey: this.publicKey,
      localNonce: this.opts.random.bytes(HANDSHAKE_NONCE_BYTES),
      expectedRemoteId: st.link.remoteId,
    };
    this.sendFrame(st, { kind: 'hello', publicKey: this.publicKey, nonce: st.ctx.localNonce });
    this.changed();
  }

  private onLinkClosed(st: LinkState, reason: string): void {
    if (st.closed) return;
    const id = st.link.remoteId;
    if (this.links.get(id) === st) this.dropLink(id, reason, { polite: false, reconnect: true });
  }

  private dropLink(id: NodeId, reason: string, how: { polite: boolean; reconnect: boolean }): void {
    const st = this.links.get(id);
    if (!st) return;
    this.links.delete(id);
    st.closed = true;
    this.logLink(id, 'dropped', reason);
    if (how.polite && st.status === 'connected') this.sendFrame(st, { kind: 'bye', reason });
    st.link.close(reason);
    if (how.reconnect && this.members.has(id)) this.scheduleBackoff(id);
    this.changed();
  }

  private scheduleBackoff(id: NodeId): void {
    const b = this.backoff.get(id) ?? { attempts: 0, untilMs: 0 };
    const base = Math.min(this.opts.reconnectMaxMs, this.opts.reconnectBaseMs * 2 ** b.attempts);
    b.attempts++;
    b.untilMs = this.opts.clock.now() + base * (0.5 + this.opts.random.float() * 0.5);
    this.backoff.set(id, b);
  }

  // ---- inbound frames ----------------------------------------------------------------------

  private async onLinkMessage(st: LinkState, msg: Uint8Array): Promise<void> {
    // Gossip that arrived over an authenticated link before it closed is still delivered: each
    // envelope carries its own signature, and dropping it would lose a message the peer sent whole.
    if (st.closed && (st.connectedAtMs === null || !this.running)) return;
    const from = st.link.remoteId;
    this.counters.bytesReceived += msg.length;
    const decoded = decodeLinkFrame(msg);
    if (!decoded.ok) return this.reject('malformed', from, decoded.error);
    const frame = decoded.value;
    if (st.closed) return frame.kind === 'gossip' ? this.onGossip(from, frame.ttl, frame.envelope) : undefined;
    switch (frame.kind) {
      case 'hello':
        return this.onHello(st, frame.publicKey, frame.nonce);
      case 'proof':
        return this.onProof(st, frame.signature);
      case 'bye':
        this.dropLink(from, `peer said bye: ${frame.reason}`, { polite: false, reconnect: false });
        return;
    }
    if (st.status !== 'connected') return this.reject('unauthenticated', from, `${frame.kind} before handshake`);
    switch (frame.kind) {
      case 'ping':
        this.sendFrame(st, { kind: 'pong', id: frame.id, timeMs: frame.timeMs });
        return;
      case 'pong':
        if (frame.id === st.pingId) st.rttMs = Math.max(0, this.opts.clock.now() - frame.timeMs);
        this.changed();
        return;
      case 'gossip':
        return this.onGossip(from, frame.ttl, frame.envelope);
    }
  }

  private async onHello(st: LinkState, remoteKey: Uint8Array, remoteNonce: Uint8Array): Promise<void> {
    if (!st.ctx || st.remoteKey) return this.failHandshake(st, 'unexpected HELLO');
    const check = checkHello(st.ctx, remoteKey, remoteNonce);
    if (!check.ok) return this.failHandshake(st, check.error);
    st.remoteKey = remoteKey.slice();
    st.remoteNonce = remoteNonce.slice();
    const signature = await signProof(st.ctx, this.opts.signer, st.remoteKey, st.remoteNonce);
    if (st.closed) return;
    this.sendFrame(st, { kind: 'proof', signature });
  }

  private async onProof(st: LinkState, signature: Uint8Array): Promise<void> {
    if (!st.ctx || !st.remoteKey || !st.remoteNonce || st.status === 'connected')
      return this.failHandshake(st, 'unexpected PROOF');
    const valid = await verifyProof(st.ctx, this.opts.verifier, st.remoteKey, st.remoteNonce, signature);
    if (st.closed) return;
    if (!valid) return this.failHandshake(st, 'proof does not verify against the channel fingerprints');
    const id = st.link.remoteId;
    st.status = 'connected';
    st.connectedAtMs = this.opts.clock.now();
    this.knownKeys.set(id, st.remoteKey);
    this.backoff.delete(id);
    this.logLink(id, 'connected', st.link.initiator ? 'we dialled' : 'they dialled');
    this.checkFormation();
    for (const h of this.linkUpHandlers) h(id);
    this.changed();
  }

  private failHandshake(st: LinkState, detail: string): void {
    this.reject('handshake-failed', st.link.remoteId, detail);
    this.dropLink(st.link.remoteId, `handshake failed: ${detail}`, { polite: false, reconnect: true });
  }

  private checkFormation(): void {
    if (this.formationMs !== null) return;
    const connected = [...this.links.values()].filter((s) => s.status === 'connected').length;
    const full = isFullMesh(this.opts.overlay, this.members.size);
    const target = full ? this.members.size : Math.min(this.opts.overlay.degreeLow, this.members.size);
    if (target > 0 && connected >= target) this.formationMs = this.opts.clock.now() - this.startedAtMs;
  }

  /** A large envelope's message id hashed off this thread (`sha256Large`); null: hash it here. */
  private largeMessageId(bytes: Uint8Array): Promise<string> | null {
    const hash = this.opts.sha256Large;
    if (hash === undefined || bytes.length < LARGE_ENVELOPE_BYTES) return null;
    return hash(bytes).then(
      (h) => messageIdOfHash(h),
      () => messageId(bytes), // the hasher failed (a worker that died): hash it here
    );
  }

  private async onGossip(from: NodeId, ttl: number, bytes: Uint8Array): Promise<void> {
    // Runs on the serial work queue: nothing else is handled while a large id is hashed elsewhere.
    const id = (await this.largeMessageId(bytes)) ?? messageId(bytes);
    const now = this.opts.clock.now();
    if (this.seen.has(id, now)) {
      this.counters.duplicates++;
      return;
    }
    const decoded = decodeEnvelope(bytes, this.opts.maxEnvelopeBytes);
    if (!decoded.ok) {
      this.seen.add(id, now);
      return this.reject(decoded.error.startsWith('oversize') ? 'oversize' : 'malformed', from, decoded.error);
    }
    const env = decoded.value;
    this.seen.add(id, now);
    const info = messageTypes.get(env.type);
    if (!info) return this.reject('unknown-type', from, `type ${env.type}`);
    if (env.body.length > info.maxBodyBytes)
      return this.reject('oversize', from, `${info.name} body ${env.body.length} > ${info.maxBodyBytes}`);
    if (info.direct !== (env.recipient !== undefined))
      return this.reject('malformed', from, `${info.name} ${info.direct ? 'needs' : 'must not have'} a recipient`);
    const senderHex = bytesToHex(env.sender);
    const verdict = this.replay.check(senderHex, env.sequence);
    if (verdict !== 'fresh') return this.reject('replay', from, `${verdict} sequence ${env.sequence}`);
    if (!(await verifyEnvelope(env, this.opts.verifier))) return this.reject('bad-signature', from, info.name);
    this.replay.accept(senderHex, env.sequence);
    const sender = nodeIdFromPublicKey(env.sender);
    if (!this.knownKeys.has(sender) && sender !== this.id) this.knownKeys.set(sender, env.sender.slice());
    const forMe = env.recipient === undefined || bytesEqual(env.recipient, this.publicKey);
    if (forMe) {
      this.counters.received++;
      for (const h of this.handlers.get(env.type) ?? []) h(env, sender);
    }
    const onlyForMe = env.recipient !== undefined && forMe;
    if (!onlyForMe && ttl > 1 && sender !== this.id) {
      if (this.forward(bytes, ttl - 1, env.recipient, from) > 0) this.counters.relayed++;
    }
    this.changed();
  }

  private reject(reason: RejectReason, from: NodeId, detail: string): void {
    this.counters.rejected[reason] = (this.counters.rejected[reason] ?? 0) + 1;
    this.lastRejection = { reason, from, detail, atMs: this.opts.clock.now() };
    this.changed();
  }

  private sendFrame(st: LinkState, frame: LinkFrame): void {
    const bytes = encodeLinkFrame(frame);
    this.counters.bytesSent += bytes.length;
    try {
      st.link.send(bytes);
    } catch {
      // The link died under us; its close event does the cleanup.
    }
  }

  // ---- state for the dashboard ------------------------------------------------------------

  private logLink(peer: NodeId, event: LinkEvent['event'], detail: string): void {
    this.linkLog.push({ atMs: this.opts.clock.now(), peer, event, detail });
    if (this.linkLog.length > LINK_EVENTS_KEPT) this.linkLog.shift();
  }

  /** Recent link connects and drops, oldest first (why a peer's message never arrived). */
  linkEvents(): LinkEvent[] {
    return this.linkLog.slice();
  }

  /** Every other node signaling says is in the room (linked or not). */
  roomMembers(): NodeId[] {
    return [...this.members];
  }

  connectedPeers(): NodeId[] {
    return [...this.links].filter(([, s]) => s.status === 'connected').map(([id]) => id);
  }

  snapshot(): NodeSnapshot {
    const now = this.opts.clock.now();
    const peers: PeerInfo[] = [];
    for (const id of new Set([...this.members, ...this.links.keys()])) {
      const st = this.links.get(id);
      const b = this.backoff.get(id);
      peers.push({
        id,
        status: st ? st.status : b && b.untilMs > now ? 'backoff' : 'member',
        initiator: st?.link.initiator ?? false,
        rttMs: st?.rttMs ?? null,
        connectedAtMs: st?.connectedAtMs ?? null,
        lastSeenMs: st?.lastSeenMs ?? null,
        reconnectAttempts: b?.attempts ?? 0,
      });
    }
    peers.sort((a, b) => (a.id < b.id ? -1 : 1));
    return {
      id: this.id,
      publicKeyHex: bytesToHex(this.publicKey),
      room: this.opts.room,
      networkStatus: this.networkStatus,
      networkDetail: this.networkDetail,
      overlayMode: this.lastOverlay.mode,
      overlayTarget: this.lastOverlay.target,
      peers,
      counters: { ...this.counters, rejected: { ...this.counters.rejected } },
      startedAtMs: this.startedAtMs,
      formationMs: this.formationMs,
      testBroadcasts: this.tests.records(),
      receivedTests: this.tests.received.slice(),
      lastRejection: this.lastRejection,
    };
  }
}

/** Gossip message id: the first 16 bytes of SHA-256 over the exact envelope bytes. */
export function messageId(envelopeBytes: Uint8Array): string {
  return messageIdOfHash(sha256(envelopeBytes));
}

/** The message id of an envelope whose SHA-256 is `hash`. */
export function messageIdOfHash(hash: Uint8Array): string {
  return bytesToHex(hash.subarray(0, MESSAGE_ID_BYTES));
}
