// The dashboard's "broadcast a test message": gossiped to the room; every receiver routes an
// acknowledgement back point-to-point, so the sender sees delivery and latency per peer.
import { bytesToHex, utf8Decode, utf8ToBytes } from '../core/bytes.ts';
import { ByteReader, ByteWriter, safeDecode } from '../core/codec/index.ts';
import type { NodeId } from '../core/crypto/node-id.ts';
import type { Envelope } from '../core/net/envelope.ts';
import { MessageType } from '../core/net/message-types.ts';
import type { AegisNode } from './aegis-node.ts';

export interface TestBroadcastRecord {
  /** Hex of the nonce that identifies this broadcast. */
  id: string;
  text: string;
  sentAtMs: number;
  /** Peer id → one-way-and-back latency in ms (time from send until its ack arrived). */
  deliveries: Record<NodeId, number>;
}

export interface ReceivedTest {
  id: string;
  from: NodeId;
  text: string;
  atMs: number;
}

const MAX_TEXT_BYTES = 1024;
const MAX_RECORDS = 20;

export class TestMessages {
  private readonly sent: TestBroadcastRecord[] = [];
  readonly received: ReceivedTest[] = [];

  constructor(private readonly node: AegisNode) {
    node.onMessage(MessageType.TestBroadcast, (env, from) => this.onBroadcast(env, from));
    node.onMessage(MessageType.TestAck, (env, from) => this.onAck(env, from));
  }

  async broadcast(text: string): Promise<void> {
    const nonce = this.node.random.bytes(16);
    const textBytes = utf8ToBytes(text).subarray(0, MAX_TEXT_BYTES);
    const sentAtMs = this.node.clock.now();
    this.sent.unshift({ id: bytesToHex(nonce), text, sentAtMs, deliveries: {} });
    if (this.sent.length > MAX_RECORDS) this.sent.pop();
    const body = new ByteWriter().bytes(nonce).u32(textBytes.length).bytes(textBytes).finish();
    await this.node.broadcast(MessageType.TestBroadcast, body);
  }

  records(): TestBroadcastRecord[] {
    return this.sent.map((r) => ({ ...r, deliveries: { ...r.deliveries } }));
  }

  private onBroadcast(env: Envelope, from: NodeId): void {
    const parsed = safeDecode(() => {
      const r = new ByteReader(env.body);
      const nonce = r.bytes(16, 'nonce');
      const text = utf8Decode(r.varBytes(MAX_TEXT_BYTES, 'text'));
      r.end();
      return { nonce, text };
    });
    if (!parsed.ok) return;
    this.received.unshift({ id: bytesToHex(parsed.value.nonce), from, text: parsed.value.text, atMs: this.node.clock.now() });
    if (this.received.length > MAX_RECORDS) this.received.pop();
    void this.node.sendTo(env.sender, MessageType.TestAck, parsed.value.nonce.slice());
  }

  private onAck(env: Envelope, from: NodeId): void {
    if (env.body.length !== 16) return;
    const id = bytesToHex(env.body);
    const rec = this.sent.find((r) => r.id === id);
    if (rec && rec.deliveries[from] === undefined) rec.deliveries[from] = this.node.clock.now() - rec.sentAtMs;
  }
}
