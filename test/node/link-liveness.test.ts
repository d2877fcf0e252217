// A node whose work queue is busy for seconds (in a browser: a 4 MB masked input verified and
// hashed, a worker round trip) must not take its live peers for silent. Liveness used to be stamped
// when the queue reached a message, so after peerTimeoutMs the node dropped every link and the
// messages waiting in its queue with them (e2e/round-1m.spec.ts lost a masked input that way).
import { describe, expect, it } from 'vitest';
import { MessageType } from '../../src/core/net/message-types.ts';
import { nextMacrotask } from '../../src/sim/sim-crypto.ts';
import { Simulator } from '../../src/sim/simulator.ts';
import { sharedCrypto, testBroadcastBody } from '../sim-helpers.ts';

const PEER_TIMEOUT_MS = 4_000; // AegisNode's default

/** Run virtual time without waiting for busy nodes (Simulator.runFor settles every queue first). */
async function runPastBusyQueue(sim: Simulator, ms: number): Promise<void> {
  const until = sim.clock.now() + ms;
  while ((sim.clock.peek() ?? Infinity) <= until) {
    sim.clock.runNext();
    for (let i = 0; i < 4; i++) await nextMacrotask();
  }
}

describe('link liveness while the work queue is busy', () => {
  it('keeps every link through a queue blocked for twice peerTimeoutMs, then delivers what arrived meanwhile', async () => {
    const sim = await Simulator.create({ nodes: 3, seed: 4, crypto: await sharedCrypto() });
    expect(await sim.runUntilFormed({ maxVirtualMs: 30_000 })).not.toBeNull();
    const busy = sim.get(0);
    const log = sim.collect(MessageType.TestBroadcast);
    let release = (): void => {};
    busy.node.schedule(() => new Promise<void>((r) => (release = r)));
    const sent = await sim.broadcast(1, MessageType.TestBroadcast, testBroadcastBody('while busy'));
    await runPastBusyQueue(sim, 2 * PEER_TIMEOUT_MS);
    expect(busy.node.connectedPeers()).toHaveLength(2);
    expect(busy.node.linkEvents().filter((e) => e.event === 'dropped')).toEqual([]);
    expect(log.of(sent.messageId).map((d) => d.node)).not.toContain(busy.id);
    release();
    await sim.runFor(1_000);
    expect(log.of(sent.messageId).map((d) => d.node)).toContain(busy.id);
    for (const s of sim.nodes) expect(s.node.connectedPeers()).toHaveLength(2);
  }, 30_000);
});

describe('messages that arrived before their link closed', () => {
  it('are still delivered when the queue reaches them after the link was dropped (peer left the room)', async () => {
    const sim = await Simulator.create({ nodes: 2, seed: 5, crypto: await sharedCrypto() }); // no other path
    expect(await sim.runUntilFormed({ maxVirtualMs: 30_000 })).not.toBeNull();
    const busy = sim.get(0);
    const sender = sim.get(1);
    const log = sim.collect(MessageType.TestBroadcast);
    let release = (): void => {};
    busy.node.schedule(() => new Promise<void>((r) => (release = r)));
    const sent = await sim.broadcast(1, MessageType.TestBroadcast, testBroadcastBody('last words'));
    await runPastBusyQueue(sim, 500); // it arrives and waits in the queue
    sim.crash(1);
    await runPastBusyQueue(sim, sim.network.signaling.crashDetectMs + 1_000);
    // Signaling said the sender left: the link is gone, its message still waits in the queue.
    expect(busy.node.linkEvents().some((e) => e.peer === sender.id && e.event === 'dropped')).toBe(true);
    expect(log.of(sent.messageId).map((d) => d.node)).not.toContain(busy.id);
    release();
    await sim.runFor(1_000);
    expect(log.of(sent.messageId).filter((d) => d.node === busy.id)).toHaveLength(1);
  }, 30_000);
});
