// Client of the signaling server (signaling-server/): joins one room, reports who is in it, relays
// opaque signals, and keeps itself connected (app-level pings, reconnect with back-off and re-join).
// The server is untrusted: every frame is validated and bad ones are dropped, never thrown.

export interface SignalingEvents {
  /** The first successful join after `start()`, with the other peers already in the room. */
  onJoined(peers: string[]): void;
  onPeerJoined(peerId: string): void;
  onPeerLeft(peerId: string): void;
  onSignal(from: string, data: unknown): void;
  /** `detail` is the server's error code or the close reason, when there is one. */
  onStatus(status: 'connecting' | 'online' | 'offline', detail?: string): void;
}

export interface SignalingClientOptions {
  url: string;
  room: string;
  peerId: string;
  events: SignalingEvents;
  /** Defaults to `globalThis.WebSocket` (browsers, Node ≥ 22); Node 20 passes `ws`'s class. */
  WebSocketImpl?: typeof WebSocket;
  /** App-level ping period; three periods without any frame from the server mean a dead link. */
  pingIntervalMs?: number;
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
}

type Status = 'connecting' | 'online' | 'offline';

const ROOM_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
const PEER_ID_PATTERN = /^[0-9a-f]{32}$/;
const isPeerId = (v: unknown): v is string => typeof v === 'string' && PEER_ID_PATTERN.test(v);
const OPEN = 1; // WebSocket.OPEN, without relying on the injected class exposing it
/** Frames a well-behaved server sends are small; bigger ones are not even parsed. */
const MAX_FRAME_CHARS = 1 << 20;
const MAX_PEERS = 4096;
const MISSED_PINGS_BEFORE_DEAD = 3;

/** Server → client frames, as far as this client uses them. */
type ServerFrame =
  | { type: 'joined'; room: string; peerId: string; peers: string[] }
  | { type: 'peer-joined'; peerId: string }
  | { type: 'peer-left'; peerId: string }
  | { type: 'signal'; from: string; data: unknown }
  | { type: 'pong' }
  | { type: 'error'; code: string };

/** Validates one frame from the server; null for anything unexpected. */
export function parseServerFrame(raw: unknown): ServerFrame | null {
  if (typeof raw !== 'string' || raw.length > MAX_FRAME_CHARS) return null;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const o = value as Record<string, unknown>;
  const get = (k: string): unknown => (Object.hasOwn(o, k) ? o[k] : undefined);
  switch (get('type')) {
    case 'joined': {
      const room = get('room');
      const peerId = get('peerId');
      const peers = get('peers');
      if (typeof room !== 'string' || !isPeerId(peerId) || !Array.isArray(peers) || peers.length > MAX_PEERS) return null;
      if (!peers.every(isPeerId)) return null;
      return { type: 'joined', room, peerId, peers: [...new Set(peers)] };
    }
    case 'peer-joined':
    case 'peer-left': {
      const peerId = get('peerId');
      return isPeerId(peerId) ? { type: get('type') as 'peer-joined' | 'peer-left', peerId } : null;
    }
    case 'signal': {
      const from = get('from');
      if (!isPeerId(from) || !Object.hasOwn(o, 'data')) return null;
      return { type: 'signal', from, data: o['data'] };
    }
    case 'pong':
      return { type: 'pong' };
    case 'error': {
      const code = get('code');
      return typeof code === 'string' && code.length <= 64 ? { type: 'error', code } : null;
    }
    default:
      return null;
  }
}

export class SignalingClient {
  private readonly url: string;
  private readonly room: string;
  private readonly peerId: string;
  private readonly events: SignalingEvents;
  private readonly WebSocketImpl: typeof WebSocket;
  private readonly pingIntervalMs: number;
  private readonly reconnectBaseMs: number;
  private readonly reconnectMaxMs: number;

  private socket: WebSocket | null = null;
  private running = false;
  private online = false;
  /** Whether `onJoined` was already reported since `start()`; later joins report differences. */
  private joinedBefore = false;
  /** Peers the consumer has been told about; kept across reconnects so they can be reconciled. */
  private readonly known = new Set<string>();
  private attempt = 0;
  private lastHeardMs = 0;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private status: Status | null = null;
  private statusDetail: string | undefined;

  constructor(opts: SignalingClientOptions) {
    if (!ROOM_PATTERN.test(opts.room)) throw new RangeError('"room" must be 1..64 of [A-Za-z0-9_.-]');
    if (!isPeerId(opts.peerId)) throw new RangeError('"peerId" must be 32 lowercase hex chars');
    const Impl = opts.WebSocketImpl ?? (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
    if (Impl === undefined) throw new TypeError('"WebSocketImpl" is required where there is no global WebSocket');
    this.url = opts.url;
    this.room = opts.room;
    this.peerId = opts.peerId;
    this.events = opts.events;
    this.WebSocketImpl = Impl;
    this.pingIntervalMs = opts.pingIntervalMs ?? 5000;
    this.reconnectBaseMs = opts.reconnectBaseMs ?? 500;
    this.reconnectMaxMs = opts.reconnectMaxMs ?? 15_000;
    for (const [name, v] of [
      ['pingIntervalMs', this.pingIntervalMs],
      ['reconnectBaseMs', this.reconnectBaseMs],
      ['reconnectMaxMs', this.reconnectMaxMs],
    ] as const) {
      if (!(v > 0)) throw new RangeError(`"${name}" must be > 0`);
    }
  }

  get isOnline(): boolean {
    return this.online;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.joinedBefore = false;
    this.known.clear();
    this.attempt = 0;
    this.connect();
  }

  /** Relays `data` to `to` through the server; false (nothing sent) unless joined. */
  signal(to: string, data: unknown): boolean {
    if (!this.online || this.socket === null || this.socket.readyState !== OPEN) return false;
    if (!isPeerId(to)) return false;
    let text: string;
    try {
      text = JSON.stringify({ type: 'signal', to, data });
    } catch {
      return false;
    }
    this.socket.send(text);
    return true;
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const socket = this.socket;
    if (socket !== null && socket.readyState === OPEN) {
      try {
        socket.send(JSON.stringify({ type: 'leave' }));
      } catch {
        // closing anyway
      }
    }
    this.dropSocket(1000, 'client stopped');
    this.known.clear();
    this.setStatus('offline', 'stopped');
  }

  private connect(): void {
    this.reconnectTimer = null;
    if (!this.running) return;
    this.setStatus('connecting');
    let socket: WebSocket;
    try {
      socket = new this.WebSocketImpl(this.url);
    } catch (e) {
      // A malformed URL or a blocked port: nothing to wait for, try again later.
      this.setStatus('offline', e instanceof Error ? e.message : 'cannot connect');
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    this.lastHeardMs = Date.now();
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.lastHeardMs = Date.now();
      socket.send(JSON.stringify({ type: 'join', room: this.room, peerId: this.peerId }));
    };
    socket.onmessage = (event: MessageEvent) => {
      if (this.socket !== socket) return;
      this.lastHeardMs = Date.now();
      const frame = parseServerFrame(event.data);
      if (frame !== null) this.onFrame(frame);
    };
    socket.onclose = (event: CloseEvent) => {
      if (this.socket !== socket) return;
      this.lostConnection(event.reason || `closed (${event.code})`);
    };
    // An error is always followed by a close event, which does the work.
    socket.onerror = () => {};
    this.watchdog = setInterval(() => this.checkLiveness(socket), this.pingIntervalMs);
  }

  private checkLiveness(socket: WebSocket): void {
    if (this.socket !== socket) return;
    if (Date.now() - this.lastHeardMs > MISSED_PINGS_BEFORE_DEAD * this.pingIntervalMs) {
      // A half-open TCP connection can take minutes to report close; do not wait for it.
      this.lostConnection('no response from server');
      return;
    }
    if (socket.readyState === OPEN) socket.send(JSON.stringify({ type: 'ping' }));
  }

  private onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'joined':
        if (frame.room !== this.room || frame.peerId !== this.peerId || this.online) return;
        return this.onJoinedFrame(frame.peers.filter((p) => p !== this.peerId));
      case 'peer-joined':
        if (!this.online || frame.peerId === this.peerId || this.known.has(frame.peerId)) return;
        this.known.add(frame.peerId);
        return this.emit(() => this.events.onPeerJoined(frame.peerId));
      case 'peer-left':
        if (!this.online || !this.known.delete(frame.peerId)) return;
        return this.emit(() => this.events.onPeerLeft(frame.peerId));
      case 'signal':
        // The server introduces every peer before relaying from it, so an unknown sender is a lie.
        if (!this.online || !this.known.has(frame.from)) return;
        return this.emit(() => this.events.onSignal(frame.from, frame.data));
      case 'pong':
        return;
      case 'error':
        // Before the join completes every error means the join failed (id-taken: the holder may be a
        // stale socket of ours the server has not yet timed out; room-full may clear): retry later.
        // Once online, errors concern single signals and leave the membership intact.
        if (!this.online) this.lostConnection(frame.code);
        return;
    }
  }

  private onJoinedFrame(peers: string[]): void {
    this.online = true;
    this.attempt = 0;
    this.setStatus('online');
    if (!this.joinedBefore) {
      this.joinedBefore = true;
      for (const p of peers) this.known.add(p);
      this.emit(() => this.events.onJoined([...peers]));
      return;
    }
    // Re-join after a reconnect: tell the consumer only what changed while we were away.
    const now = new Set(peers);
    for (const p of [...this.known]) {
      if (!now.has(p)) {
        this.known.delete(p);
        this.emit(() => this.events.onPeerLeft(p));
      }
    }
    for (const p of peers) {
      if (!this.known.has(p)) {
        this.known.add(p);
        this.emit(() => this.events.onPeerJoined(p));
      }
    }
  }

  private lostConnection(detail: string): void {
    this.dropSocket(1000, 'reconnecting');
    this.setStatus('offline', detail);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (!this.running || this.reconnectTimer !== null) return;
    // Exponential back-off with jitter in [½, 1] of the step, so peers that lost the server together
    // do not all come back in the same millisecond.
    const step = Math.min(this.reconnectMaxMs, this.reconnectBaseMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    const delayMs = step * (0.5 + Math.random() * 0.5);
    this.reconnectTimer = setTimeout(() => this.connect(), delayMs);
  }

  /** Detaches from the current socket first, so nothing it reports later is acted upon. */
  private dropSocket(code: number, reason: string): void {
    if (this.watchdog !== null) clearInterval(this.watchdog);
    this.watchdog = null;
    this.online = false;
    const socket = this.socket;
    this.socket = null;
    if (socket === null) return;
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    socket.onerror = () => {};
    try {
      socket.close(code, reason);
    } catch {
      // already closed or still connecting in an implementation that refuses close()
    }
  }

  private setStatus(status: Status, detail?: string): void {
    if (this.status === status && this.statusDetail === detail) return;
    this.status = status;
    this.statusDetail = detail;
    this.emit(() => (detail === undefined ? this.events.onStatus(status) : this.events.onStatus(status, detail)));
  }

  /** A consumer's exception must not leave this state machine half-updated; it is rethrown apart. */
  private emit(call: () => void): void {
    try {
      call();
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}
