// Registry of application message types carried in envelopes. A type not listed here is dropped
// and counted as "unknown-type". Later protocols (secagg, consensus, ledger) add their ranges.
export const MessageType = {
  /** Dashboard "broadcast a test message": body = TestBroadcast. */
  TestBroadcast: 1,
  /** Point-to-point acknowledgement of a TestBroadcast back to its origin. */
  TestAck: 2,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

export interface MessageTypeInfo {
  name: string;
  maxBodyBytes: number;
  /** Broadcast types must not carry a recipient; direct types must. */
  direct: boolean;
}

export const messageTypes: ReadonlyMap<number, MessageTypeInfo> = new Map<number, MessageTypeInfo>([
  [MessageType.TestBroadcast, { name: 'test-broadcast', maxBodyBytes: 64 * 1024, direct: false }],
  [MessageType.TestAck, { name: 'test-ack', maxBodyBytes: 256, direct: true }],
]);
