// Shared helpers for the simulator tests (not a test file itself).
import { utf8ToBytes } from '../src/core/bytes.ts';
import { ByteWriter } from '../src/core/codec/index.ts';
import type { NodeId } from '../src/core/crypto/node-id.ts';
import { MessageType } from '../src/core/net/message-types.ts';
import { SimCrypto } from '../src/sim/sim-crypto.ts';
import type { DeliveryLog, SentMessage, Simulator } from '../src/sim/simulator.ts';

/** One SimCrypto for a whole test file: the WebCrypto probe runs once and verdicts are shared. */
let shared: Promise<SimCrypto> | null = null;
export function sharedCrypto(): Promise<SimCrypto> {
  shared ??= SimCrypto.create();
  return shared;
}

/** A TestBroadcast body as the dashboard builds it (nonce + text), so receivers also ack it. */
export function testBroadcastBody(text: string, nonceByte = 0): Uint8Array {
  return new ByteWriter().bytes(new Uint8Array(16).fill(nonceByte)).varBytes(utf8ToBytes(text)).finish();
}

/** Broadcast a TestBroadcast from `from` and run until every other running node delivered it. */
export async function broadcastAndWait(
  sim: Simulator,
  log: DeliveryLog,
  from: number,
  text: string,
  maxVirtualMs = 20_000,
): Promise<SentMessage> {
  const sent = await sim.broadcast(from, MessageType.TestBroadcast, testBroadcastBody(text));
  const expected = sim.running().length - 1;
  await sim.runUntil(() => log.of(sent.messageId).length >= expected, { maxVirtualMs });
  return sent;
}

/** Deliveries per node of one message, for every node of the simulation (0 where none). */
export function deliveryCounts(sim: Simulator, log: DeliveryLog, messageId: string): Map<NodeId, number> {
  const counts = new Map<NodeId, number>(sim.nodes.map((s) => [s.id, 0]));
  for (const [id, n] of log.countsByNode(messageId)) counts.set(id, n);
  return counts;
}
