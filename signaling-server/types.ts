// Public types of the signaling server: options, limits, stats and the JSON wire messages.
// The server only introduces peers to each other; it is untrusted by clients (they authenticate each
// other over the data channel) and trusts nothing a client sends.

/** Per-connection and per-server bounds. Every one of them caps memory or work an abuser can cause. */
export interface Limits {
  /** Largest accepted frame; bigger ones close the socket with 1009. */
  maxFrameBytes: number;
  /** Token-bucket refill rate per connection. */
  messagesPerSecond: number;
  /** Token-bucket capacity per connection. */
  burst: number;
  maxPeersPerRoom: number;
  maxRooms: number;
  /** A connection that sends nothing for this long is closed (app pings count). */
  idleTimeoutMs: number;
  /** The server pings every socket this often and drops those that did not pong since the last ping. */
  heartbeatIntervalMs: number;
  /** A connection that is not in a room for this long is closed. */
  joinTimeoutMs: number;
}

export interface TlsOptions {
  key: string;
  cert: string;
}

export interface SignalingServerOptions {
  /** Default 0 (any free port). */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Directory of the built app to serve; without it only `/healthz` answers plain HTTP. */
  staticDir?: string;
  /** Serve https/wss with this PEM key and certificate. */
  tls?: TlsOptions;
  limits?: Partial<Limits>;
  /**
   * Browser origins, besides the server's own, whose pages may open the signaling socket (e.g.
   * 'https://app.example'). A browser always names the page's origin in the upgrade; one from
   * another site — any web page the user happens to visit — is refused with 403, so it cannot
   * join rooms from the user's browser. Clients that send no Origin (Node, tools) are not browsers
   * and are let through: they could claim any origin anyway. Their hosts count as `allowedHosts`.
   */
  allowedOrigins?: readonly string[];
  /**
   * DNS names, besides localhost, *.localhost and IP literals, that browser upgrades may be sent to
   * (exact names, e.g. 'aegis.example'; case and a trailing dot do not matter); a name `host` binds
   * to is included. A page whose Origin names this server can still be a DNS-rebinding attack (a
   * site the user visits re-points its own name at this machine): its Host header then carries that
   * site's name, and an upgrade to a name not listed here is refused with 403. Clients that send no
   * Origin are not checked. A name that is not a hostname throws a RangeError.
   */
  allowedHosts?: readonly string[];
}

export interface ServerStats {
  /** Open WebSocket connections. */
  connections: number;
  rooms: number;
  /** Connections that are in a room. */
  peers: number;
  /** Signal messages relayed since start. */
  relayed: number;
  /** Errors reported to clients since start, by code (every rejected message counts). */
  errors: Partial<Record<ErrorCode, number>>;
  /** Connections closed for flooding, oversize frames or a full send buffer. */
  closedForAbuse: number;
  /** Upgrades refused because a browser page of another origin asked (see `allowedOrigins`). */
  refusedOrigins: number;
  /**
   * Browser upgrades of an allowed origin refused because they were sent to a host name the server
   * does not answer for (see `allowedHosts`): DNS rebinding, or a name missing from the options.
   */
  refusedHosts: number;
}

export interface SignalingServer {
  /** ws:// or wss:// URL of the signaling endpoint. */
  readonly url: string;
  /** http:// or https:// base URL (no trailing slash). */
  readonly httpUrl: string;
  readonly port: number;
  close(): Promise<void>;
  stats(): ServerStats;
}

export type ErrorCode =
  | 'malformed'
  | 'unknown-type'
  | 'not-joined'
  | 'already-joined'
  | 'bad-room'
  | 'bad-peer-id'
  | 'id-taken'
  | 'room-full'
  | 'too-many-rooms'
  | 'unknown-peer'
  | 'rate-limited';

// Client → server.
export interface JoinMessage {
  type: 'join';
  room: string;
  peerId: string;
}
export interface SignalMessage {
  type: 'signal';
  to: string;
  /** Opaque to the server (SDP offer/answer/candidate). */
  data: unknown;
}
export interface PingMessage {
  type: 'ping';
}
export interface LeaveMessage {
  type: 'leave';
}
export type ClientMessage = JoinMessage | SignalMessage | PingMessage | LeaveMessage;

// Server → client.
export interface JoinedMessage {
  type: 'joined';
  room: string;
  peerId: string;
  /** The other peers already in the room. */
  peers: string[];
}
export interface PeerJoinedMessage {
  type: 'peer-joined';
  peerId: string;
}
export interface PeerLeftMessage {
  type: 'peer-left';
  peerId: string;
}
export interface RelayedSignalMessage {
  type: 'signal';
  from: string;
  data: unknown;
}
export interface PongMessage {
  type: 'pong';
}
export interface ErrorMessage {
  type: 'error';
  code: ErrorCode;
  message: string;
}
export type ServerMessage =
  | JoinedMessage
  | PeerJoinedMessage
  | PeerLeftMessage
  | RelayedSignalMessage
  | PongMessage
  | ErrorMessage;
