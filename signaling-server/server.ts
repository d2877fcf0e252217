// The signaling server: static files for the app plus a WebSocket endpoint at /signal that introduces
// the peers of a room to each other and relays their WebRTC offers, answers and candidates.
// It keeps only room membership, never logs message contents, and answers every bad frame with an
// error frame (or a close) without affecting other connections.
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isIP, isIPv4, isIPv6 } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { RawData, WebSocket } from 'ws';
import { encodeServerMessage, parseClientMessage } from './protocol.ts';
import { RateLimiter } from './rate-limit.ts';
import { COMMON_HEADERS, createStaticHandler, sendText } from './static-files.ts';
import type { StaticHandler } from './static-files.ts';
import type {
  ErrorCode,
  JoinMessage,
  Limits,
  ServerMessage,
  ServerStats,
  SignalingServer,
  SignalingServerOptions,
  SignalMessage,
} from './types.ts';

export const SIGNAL_PATH = '/signal';
export const HEALTH_PATH = '/healthz';

export const DEFAULT_LIMITS: Readonly<Limits> = {
  maxFrameBytes: 65_536,
  messagesPerSecond: 50,
  burst: 100,
  maxPeersPerRoom: 64,
  maxRooms: 1000,
  idleTimeoutMs: 30_000,
  heartbeatIntervalMs: 10_000,
  joinTimeoutMs: 10_000,
};

/** Application close codes (4000–4999 are reserved for applications by RFC 6455 §7.4.2). */
export const CLOSE_JOIN_TIMEOUT = 4000;
export const CLOSE_IDLE_TIMEOUT = 4001;
const CLOSE_POLICY = 1008;
const CLOSE_GOING_AWAY = 1001;

/** A receiver that lets this many frames pile up unread is dropped rather than buffered for. */
const MAX_BUFFERED_FRAMES = 16;
/** How long a closing socket gets to finish the close handshake before it is destroyed. */
const CLOSE_GRACE_MS = 1000;

interface Connection {
  readonly socket: WebSocket;
  readonly limiter: RateLimiter;
  /** Answered the last heartbeat ping. */
  alive: boolean;
  room: string | null;
  peerId: string | null;
  /** One join per connection, even after a leave. */
  hasJoined: boolean;
  closed: boolean;
  joinTimer: NodeJS.Timeout | null;
  idleTimer: NodeJS.Timeout | null;
}

function validateLimits(limits: Limits): void {
  for (const [name, value] of Object.entries(limits)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new RangeError(`"limits.${name}" must be a positive finite number`);
    }
  }
}

function rawDataToBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** 'HTTP://Host:80' → 'http://host:80' (as the URL parser writes it); '' for what does not parse. */
function normalizeOrigin(origin: string): string {
  try {
    return new URL(origin).origin;
  } catch {
    return '';
  }
}

/**
 * A browser page may open the socket when it was served by this server (its origin's host is the
 * one the request was sent to) or its origin is allowed; a client that sends no Origin is no browser.
 * Same-origin alone does not stop DNS rebinding; `hostAllowed` does.
 */
function originAllowed(origin: string | undefined, host: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (origin === undefined) return true;
  const normalized = normalizeOrigin(origin);
  if (normalized === '' || normalized === 'null') return false;
  if (allowed.has(normalized)) return true;
  return host !== undefined && new URL(normalized).host === host.toLowerCase();
}

/** What a DNS name (or IPv4 address) in a Host header is made of; IDN names arrive as punycode. */
const HOSTNAME_CHARS = /^[A-Za-z0-9._-]+$/;

/** 'Aegis.Test.' → 'aegis.test': lower case, without the trailing dot of a fully qualified name. */
function normalizeHostname(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/**
 * The hostname of a Host header ('Example.com.:8080' → 'example.com', '[::1]:80' → '::1'), or null
 * when the header is not a plain host[:port] (userinfo, a path, an unbracketed IPv6 address …).
 */
export function hostHeaderName(header: string): string | null {
  let name: string;
  let rest: string;
  if (header.startsWith('[')) {
    const close = header.indexOf(']');
    if (close < 0) return null;
    name = header.slice(1, close);
    if (!isIPv6(name)) return null;
    rest = header.slice(close + 1);
  } else {
    const colon = header.indexOf(':');
    name = colon < 0 ? header : header.slice(0, colon);
    rest = colon < 0 ? '' : header.slice(colon);
    if (!HOSTNAME_CHARS.test(name)) return null;
  }
  if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return null;
  return normalizeHostname(name);
}

/**
 * The name a host option, allowed origin or `allowedHosts` entry stands for, in the form
 * `hostHeaderName` returns (IDN names as the punycode browsers send), or null when it names none.
 */
function configuredHostname(name: string): string | null {
  if (/[\s/\\@?#:[\]%]/.test(name)) return null;
  let hostname: string;
  try {
    hostname = new URL(`http://${name}`).hostname;
  } catch {
    return null;
  }
  return HOSTNAME_CHARS.test(hostname) ? normalizeHostname(hostname) : null;
}

/**
 * Whether the request was sent to a name this server answers for: localhost and *.localhost
 * (browsers resolve them to loopback themselves), an IP literal, or a name the operator listed.
 * A DNS-rebinding page (evil.example re-pointed at this machine) is same-origin with the server in
 * the browser's eyes; only the Host header it sends — its own name — tells it apart.
 */
function hostAllowed(host: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (host === undefined) return false;
  const name = hostHeaderName(host);
  if (name === null) return false;
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIPv4(name) || isIPv6(name)) return true;
  return allowed.has(name);
}

function formatHost(host: string): string {
  // A wildcard bind is reachable locally through loopback.
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

export async function createSignalingServer(options: SignalingServerOptions = {}): Promise<SignalingServer> {
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  validateLimits(limits);
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new RangeError('"port" must be an integer in 0..65535');
  const staticHandler: StaticHandler | null =
    options.staticDir !== undefined ? await createStaticHandler(options.staticDir) : null;
  const maxBufferedBytes = MAX_BUFFERED_FRAMES * limits.maxFrameBytes;
  // Every joined peer fits twice over (room for sockets still joining or timing out); beyond that new
  // upgrades get 503 rather than running the process out of file descriptors.
  const maxConnections = Math.max(1024, 2 * limits.maxRooms * limits.maxPeersPerRoom);

  const connections = new Set<Connection>();
  const rooms = new Map<string, Map<string, Connection>>();
  const counters = {
    relayed: 0,
    closedForAbuse: 0,
    refusedOrigins: 0,
    refusedHosts: 0,
    errors: {} as Partial<Record<ErrorCode, number>>,
  };
  const allowedOrigins = new Set((options.allowedOrigins ?? []).map(normalizeOrigin));
  // Names besides localhost and IP literals that browser upgrades may be addressed to: the bind
  // host when it is a name, the hosts of the allowed origins, and `allowedHosts`.
  const allowedHosts = new Set<string>();
  for (const name of options.allowedHosts ?? []) {
    const hostname = configuredHostname(name);
    if (hostname === null) throw new RangeError(`"allowedHosts" entry ${JSON.stringify(name)} is not a hostname`);
    allowedHosts.add(hostname);
  }
  for (const origin of allowedOrigins) {
    if (origin === '' || origin === 'null') continue;
    allowedHosts.add(normalizeHostname(new URL(origin).hostname));
  }
  if (isIP(host) === 0) {
    const hostname = configuredHostname(host);
    if (hostname !== null) allowedHosts.add(hostname);
  }
  let closing = false;

  // ---- HTTP ----

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split(/[?#]/, 1)[0];
    if (path === HEALTH_PATH) {
      const body = JSON.stringify({ ok: true });
      res.writeHead(200, {
        ...COMMON_HEADERS,
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': Buffer.byteLength(body),
        'Cache-Control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    if (staticHandler === null) {
      sendText(res, 404, 'not found\n');
      return;
    }
    await staticHandler(req, res);
  }

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    onRequest(req, res).catch(() => {
      if (!res.headersSent) sendText(res, 500, 'internal error\n');
      else res.destroy();
    });
  };
  const httpServer: Server = options.tls
    ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handler)
    : createHttpServer(handler);

  // ---- WebSocket ----

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxFrameBytes, // ws closes oversize frames with 1009
    perMessageDeflate: false, // no decompression bombs, no per-socket zlib memory
    clientTracking: false,
  });

  function rejectUpgrade(socket: Duplex, status: number, text: string): void {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    socket.destroy();
  }

  httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '').split(/[?#]/, 1)[0];
    if (path !== SIGNAL_PATH) return rejectUpgrade(socket, 404, 'Not Found');
    if (closing || connections.size >= maxConnections) return rejectUpgrade(socket, 503, 'Service Unavailable');
    if (!originAllowed(req.headers.origin, req.headers.host, allowedOrigins)) {
      counters.refusedOrigins++;
      return rejectUpgrade(socket, 403, 'Forbidden');
    }
    if (req.headers.origin !== undefined && !hostAllowed(req.headers.host, allowedHosts)) {
      counters.refusedHosts++;
      return rejectUpgrade(socket, 403, 'Forbidden');
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws));
  });

  function countError(code: ErrorCode): void {
    counters.errors[code] = (counters.errors[code] ?? 0) + 1;
  }

  function send(conn: Connection, message: ServerMessage): void {
    const text = encodeServerMessage(message);
    if (text !== null) sendFrame(conn, text);
  }

  function sendFrame(conn: Connection, text: string): void {
    if (conn.closed || conn.socket.readyState !== conn.socket.OPEN) return;
    if (conn.socket.bufferedAmount > maxBufferedBytes) {
      // The receiver does not read; buffering for it would let two sockets exhaust our memory.
      counters.closedForAbuse++;
      dropConnection(conn, 'terminate', 'send buffer full');
      return;
    }
    conn.socket.send(text);
  }

  function sendError(conn: Connection, code: ErrorCode, message: string): void {
    countError(code);
    send(conn, { type: 'error', code, message });
  }

  function broadcast(room: Map<string, Connection>, except: Connection, message: ServerMessage): void {
    const text = encodeServerMessage(message);
    if (text === null) return;
    for (const other of room.values()) if (other !== except) sendFrame(other, text);
  }

  function armJoinTimer(conn: Connection): void {
    conn.joinTimer = setTimeout(() => dropConnection(conn, CLOSE_JOIN_TIMEOUT, 'join timeout'), limits.joinTimeoutMs);
  }

  function leaveRoom(conn: Connection): void {
    if (conn.room === null || conn.peerId === null) return;
    const roomName = conn.room;
    const room = rooms.get(roomName);
    const peerId = conn.peerId;
    conn.room = null;
    conn.peerId = null;
    if (!room || room.get(peerId) !== conn) return;
    room.delete(peerId);
    if (room.size === 0) rooms.delete(roomName);
    else broadcast(room, conn, { type: 'peer-left', peerId });
  }

  /**
   * Removes a connection from everything at once, so peers hear `peer-left` now rather than after a
   * close handshake. `'terminate'` destroys the socket without a close frame; `'detach'` leaves the
   * socket alone (it is closed already, or ws is closing it with its own code).
   */
  function dropConnection(conn: Connection, code: number | 'terminate' | 'detach', reason: string): void {
    if (conn.closed) return;
    leaveRoom(conn);
    conn.closed = true;
    connections.delete(conn);
    if (conn.joinTimer) clearTimeout(conn.joinTimer);
    if (conn.idleTimer) clearTimeout(conn.idleTimer);
    conn.joinTimer = null;
    conn.idleTimer = null;
    const { socket } = conn;
    if (code === 'detach') return;
    if (code === 'terminate') {
      socket.terminate();
      return;
    }
    socket.close(code, reason);
    setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
  }

  function onConnection(socket: WebSocket): void {
    const conn: Connection = {
      socket,
      limiter: new RateLimiter(limits.messagesPerSecond, limits.burst, Date.now()),
      alive: true,
      room: null,
      peerId: null,
      hasJoined: false,
      closed: false,
      joinTimer: null,
      idleTimer: null,
    };
    connections.add(conn);
    armJoinTimer(conn);
    conn.idleTimer = setTimeout(() => dropConnection(conn, CLOSE_IDLE_TIMEOUT, 'idle timeout'), limits.idleTimeoutMs);

    socket.on('error', (error: Error & { code?: string }) => {
      // ws has already closed the socket (1009 for oversize, 1007 for bad UTF-8, 1002 otherwise).
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') counters.closedForAbuse++;
      dropConnection(conn, 'detach', 'protocol error');
    });
    socket.on('close', () => dropConnection(conn, 'detach', 'closed'));
    socket.on('pong', () => {
      conn.alive = true;
    });
    // ws answers pings itself; they still count against the rate so they cannot be used to flood.
    socket.on('ping', () => {
      if (conn.limiter.check(Date.now()) === 'abuse') closeForAbuse(conn);
    });
    socket.on('message', (data: RawData, isBinary: boolean) => onMessage(conn, data, isBinary));
  }

  function closeForAbuse(conn: Connection): void {
    if (conn.closed) return;
    counters.closedForAbuse++;
    dropConnection(conn, CLOSE_POLICY, 'rate limit');
  }

  function onMessage(conn: Connection, data: RawData, isBinary: boolean): void {
    if (conn.closed) return;
    conn.idleTimer?.refresh();
    const now = Date.now();
    const decision = conn.limiter.check(now);
    if (decision === 'abuse') return closeForAbuse(conn);
    if (decision === 'limited') {
      if (conn.limiter.shouldNotify(now)) sendError(conn, 'rate-limited', 'too many messages; message dropped');
      else countError('rate-limited');
      return;
    }
    if (isBinary) return sendError(conn, 'malformed', 'binary frames are not accepted');
    const parsed = parseClientMessage(rawDataToBuffer(data).toString('utf8'));
    if (!parsed.ok) return sendError(conn, parsed.error.code, parsed.error.message);
    const message = parsed.message;
    switch (message.type) {
      case 'join':
        return onJoin(conn, message);
      case 'signal':
        return onSignal(conn, message);
      case 'ping':
        return send(conn, { type: 'pong' });
      case 'leave':
        if (conn.room === null) return sendError(conn, 'not-joined', 'not in a room');
        leaveRoom(conn);
        armJoinTimer(conn); // a connection outside any room is closed after joinTimeoutMs
        return;
    }
  }

  function onJoin(conn: Connection, { room: roomName, peerId }: JoinMessage): void {
    if (conn.hasJoined) return sendError(conn, 'already-joined', 'only one join per connection');
    let room = rooms.get(roomName);
    if (room === undefined && rooms.size >= limits.maxRooms) {
      return sendError(conn, 'too-many-rooms', 'the server has too many rooms');
    }
    // The holder of an id keeps it: a newcomer claiming it could otherwise evict any peer.
    if (room?.has(peerId)) return sendError(conn, 'id-taken', 'peer id already in this room');
    if (room !== undefined && room.size >= limits.maxPeersPerRoom) return sendError(conn, 'room-full', 'room is full');
    if (room === undefined) {
      room = new Map();
      rooms.set(roomName, room);
    }
    const peers = [...room.keys()];
    room.set(peerId, conn);
    conn.room = roomName;
    conn.peerId = peerId;
    conn.hasJoined = true;
    if (conn.joinTimer) clearTimeout(conn.joinTimer);
    conn.joinTimer = null;
    send(conn, { type: 'joined', room: roomName, peerId, peers });
    broadcast(room, conn, { type: 'peer-joined', peerId });
  }

  function onSignal(conn: Connection, { to, data }: SignalMessage): void {
    if (conn.room === null || conn.peerId === null) return sendError(conn, 'not-joined', 'join a room first');
    const target = rooms.get(conn.room)?.get(to);
    if (target === undefined || target === conn) return sendError(conn, 'unknown-peer', 'no such peer in this room');
    const text = encodeServerMessage({ type: 'signal', from: conn.peerId, data });
    if (text === null) return sendError(conn, 'malformed', '"data" cannot be relayed');
    sendFrame(target, text);
    counters.relayed++;
  }

  // ---- Heartbeat ----

  const heartbeat = setInterval(() => {
    for (const conn of [...connections]) {
      if (!conn.alive) {
        dropConnection(conn, 'terminate', 'heartbeat timeout');
        continue;
      }
      conn.alive = false;
      conn.socket.ping();
    }
  }, limits.heartbeatIntervalMs);

  // ---- Lifecycle ----

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  }).catch((error: unknown) => {
    clearInterval(heartbeat);
    throw error;
  });

  const boundPort = (httpServer.address() as AddressInfo).port;
  const authority = `${formatHost(host)}:${boundPort}`;
  const secure = options.tls !== undefined;

  async function close(): Promise<void> {
    if (closing) return;
    closing = true;
    clearInterval(heartbeat);
    const sockets = [...connections].map((c) => c.socket);
    for (const conn of [...connections]) dropConnection(conn, CLOSE_GOING_AWAY, 'server shutting down');
    // Give clients a moment to complete the close handshake, so they see 1001 rather than 1006.
    await Promise.race([
      Promise.all(sockets.map((s) => new Promise<void>((r) => (s.readyState === s.CLOSED ? r() : s.once('close', () => r()))))),
      new Promise<void>((r) => setTimeout(r, 200).unref()),
    ]);
    for (const s of sockets) s.terminate();
    wss.close();
    await new Promise<void>((resolve) => {
      httpServer.close(() => resolve());
      httpServer.closeAllConnections();
    });
  }

  function stats(): ServerStats {
    let peers = 0;
    for (const room of rooms.values()) peers += room.size;
    return {
      connections: connections.size,
      rooms: rooms.size,
      peers,
      relayed: counters.relayed,
      errors: { ...counters.errors },
      closedForAbuse: counters.closedForAbuse,
      refusedOrigins: counters.refusedOrigins,
      refusedHosts: counters.refusedHosts,
    };
  }

  return {
    url: `${secure ? 'wss' : 'ws'}://${authority}${SIGNAL_PATH}`,
    httpUrl: `${secure ? 'https' : 'http'}://${authority}`,
    port: boundPort,
    close,
    stats,
  };
}
