// Faults in the simulated network: partitions and healing, a man in the middle, crashes and restarts.
import { describe, expect, it } from 'vitest';
import { MessageType } from '../src/core/net/message-types.ts';
import { Simulator } from '../src/sim/simulator.ts';
import { broadcastAndWait, deliveryCounts, sharedCrypto, testBroadcastBody } from './sim-helpers.ts';

// AegisNode defaults the scenarios below are timed against.
const HEARTBEAT_MS = 1_000;
const PEER_TIMEOUT_MS = 4_000;

describe('partition', () => {
  it('confines a broadcast to the sender’s side until heal; after re-formation it reaches all', async () => {
    const sim = await Simulator.create({ nodes: 40, seed: 2, crypto: await sharedCrypto() });
    expect(await sim.runUntilFormed({ maxVirtualMs: 60_000 })).not.toBeNull();
    const left = sim.nodes.slice(0, 20).map((s) => s.id);
    const right = sim.nodes.slice(20).map((s) => s.id);
    sim.partition([left, right]);
    // Long enough for every cross link to time out, and for each side to re-form on its own.
    await sim.runFor(30_000);
    expect(sim.isOverlayConnected()).toBe(false);

    const log = sim.collect(MessageType.TestBroadcast);
    const during = await sim.broadcast(0, MessageType.TestBroadcast, testBroadcastBody('partitioned'));
    await sim.runFor(5_000);
    const counts = deliveryCounts(sim, log, during.messageId);
    for (const id of left.slice(1)) expect(counts.get(id)).toBe(1);
    for (const id of right) expect(counts.get(id)).toBe(0);
    expect(counts.get(left[0] as string)).toBe(0);

    sim.heal();
    // Reconnection with back-off brings cross links back (up to reconnectMaxMs = 30 s apart).
    expect(await sim.runUntil(() => sim.isFormed(), { maxVirtualMs: 120_000, pollMs: 100 })).toBe(true);
    const after = await broadcastAndWait(sim, log, 0, 'healed');
    await sim.runFor(2_000);
    for (const [id, n] of deliveryCounts(sim, log, after.messageId)) expect(n).toBe(id === after.from ? 0 : 1);
  }, 120_000);

  it('in a full mesh, failed links across the partition come back after heal', async () => {
    const sim = await Simulator.create({ nodes: 8, seed: 3, crypto: await sharedCrypto() });
    expect(await sim.runUntilFormed({ maxVirtualMs: 30_000 })).not.toBeNull();
    sim.partition([sim.nodes.slice(0, 3).map((s) => s.id)], { closeLinks: true });
    await sim.runFor(1_000);
    expect(sim.node(0).connectedPeers().sort()).toEqual([sim.get(1).id, sim.get(2).id].sort());
    sim.heal();
    expect(await sim.runUntil(() => sim.isFormed(), { maxVirtualMs: 120_000, pollMs: 100 })).toBe(true);
    for (const s of sim.nodes) expect(s.node.connectedPeers()).toHaveLength(7);
  }, 60_000);
});

describe('man in the middle', () => {
  it('fails the channel-bound handshake on both ends and never connects the pair', async () => {
    const sim = await Simulator.create({ nodes: 4, seed: 6, crypto: await sharedCrypto() });
    const [a, b] = [sim.get(0), sim.get(1)];
    sim.network.mitm(a.id, b.id); // before any link exists
    await sim.runFor(10_000);
    expect(a.node.connectedPeers()).not.toContain(b.id);
    expect(b.node.connectedPeers()).not.toContain(a.id);
    expect(a.node.connectedPeers()).toHaveLength(2);
    expect(b.node.connectedPeers()).toHaveLength(2);
    for (const s of [a, b]) {
      const snap = s.node.snapshot();
      expect(snap.counters.rejected['handshake-failed']).toBeGreaterThanOrEqual(1);
      expect(snap.lastRejection?.detail).toMatch(/proof does not verify/);
    }
    for (const s of sim.nodes.slice(2)) expect(s.node.snapshot().counters.rejected).toEqual({});
    expect(sim.isFormed()).toBe(false);

    // Without the attacker, reconnection with back-off completes the mesh.
    sim.network.mitm(a.id, b.id, false);
    expect(await sim.runUntil(() => sim.isFormed(), { maxVirtualMs: 60_000, pollMs: 100 })).toBe(true);
    expect(a.node.connectedPeers()).toContain(b.id);
  }, 60_000);
});

describe('crash', () => {
  it('disappears from its peers’ connected lists within peerTimeoutMs + heartbeat, then from the room', async () => {
    const sim = await Simulator.create({ nodes: 30, seed: 9, crypto: await sharedCrypto() });
    expect(await sim.runUntilFormed({ maxVirtualMs: 60_000 })).not.toBeNull();
    const victim = sim.get(5);
    const neighbours = victim.node.connectedPeers().map((id) => sim.get(id));
    expect(neighbours.length).toBeGreaterThan(0);
    const linkedToVictim = () => neighbours.filter((s) => s.node.connectedPeers().includes(victim.id)).length;

    sim.crash(5);
    await sim.runFor(PEER_TIMEOUT_MS - 500);
    expect(linkedToVictim()).toBe(neighbours.length); // a crash is silent: only timeouts reveal it
    await sim.runFor(500 + HEARTBEAT_MS + 100);
    expect(linkedToVictim()).toBe(0);

    // Signaling drops the dead socket after crashDetectMs; the rest of the overlay re-forms.
    await sim.runFor(sim.network.signaling.crashDetectMs);
    for (const s of sim.running()) expect(s.node.snapshot().peers.map((p) => p.id)).not.toContain(victim.id);
    expect(await sim.runUntil(() => sim.isFormed(), { maxVirtualMs: 60_000, pollMs: 100 })).toBe(true);

    // The same identity comes back and is reachable again.
    sim.restart(5);
    expect(await sim.runUntil(() => sim.isFormed() && sim.running().length === 30, { maxVirtualMs: 60_000, pollMs: 100 })).toBe(true);
    const log = sim.collect(MessageType.TestBroadcast);
    const sent = await broadcastAndWait(sim, log, 5, 'back');
    await sim.runFor(1_000);
    for (const [id, n] of deliveryCounts(sim, log, sent.messageId)) expect(n).toBe(id === victim.id ? 0 : 1);
  }, 60_000);

  it('a gracefully stopped node says goodbye: peers drop it at once', async () => {
    const sim = await Simulator.create({ nodes: 6, seed: 1, crypto: await sharedCrypto() });
    expect(await sim.runUntilFormed({ maxVirtualMs: 30_000 })).not.toBeNull();
    const gone = sim.get(2).id;
    sim.stopNode(2);
    await sim.runFor(300);
    for (const s of sim.running()) expect(s.node.connectedPeers()).not.toContain(gone);
    expect(sim.isFormed()).toBe(true);
  }, 30_000);
});
