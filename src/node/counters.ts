// Message counters shown on the dashboard and read by tests and benchmarks.
export type RejectReason =
  | 'malformed'
  | 'oversize'
  | 'bad-signature'
  | 'replay'
  | 'unknown-type'
  | 'unauthenticated'
  | 'handshake-failed'
  | 'bad-chunk';

export interface MessageCounters {
  /** Envelopes this node originated. */
  sent: number;
  /** Envelopes delivered to this node's protocols (each at most once). */
  received: number;
  /** Envelopes forwarded on behalf of others. */
  relayed: number;
  /** Copies of already-seen envelopes (normal in gossip, not an error). */
  duplicates: number;
  rejected: Partial<Record<RejectReason, number>>;
  bytesSent: number;
  bytesReceived: number;
}

export function emptyCounters(): MessageCounters {
  return { sent: 0, received: 0, relayed: 0, duplicates: 0, rejected: {}, bytesSent: 0, bytesReceived: 0 };
}

export function totalRejected(c: MessageCounters): number {
  let n = 0;
  for (const v of Object.values(c.rejected)) n += v ?? 0;
  return n;
}
