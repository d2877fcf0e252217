// Gossip over the simulated overlay: exactly-once delivery at scale, full mesh, point-to-point
// routing, and tampered envelopes rejected in transit.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LinkFrameKind } from '../src/core/net/link-frame.ts';
import { MessageType } from '../src/core/net/message-types.ts';
import { totalRejected } from '../src/node/counters.ts';
import { Simulator } from '../src/sim/simulator.ts';
import { broadcastAndWait, deliveryCounts, sharedCrypto, testBroadcastBody } from './sim-helpers.ts';

describe('gossip in a 200-node partial mesh (D=8)', () => {
  it('forms, and one broadcast reaches every node exactly once (and every ack its origin once)', async () => {
    const sim = await Simulator.create({ nodes: 200, seed: 1, crypto: await sharedCrypto() });
    const formationMs = await sim.runUntilFormed({ maxVirtualMs: 60_000 });
    expect(formationMs).not.toBeNull();
    for (const [, peers] of sim.overlayGraph()) {
      expect(peers.length).toBeGreaterThanOrEqual(sim.overlay.degreeLow);
      expect(peers.length).toBeLessThanOrEqual(sim.overlay.degreeHigh);
    }
    expect(sim.node(0).snapshot().overlayMode).toBe('partial-mesh');

    const log = sim.collect(MessageType.TestBroadcast);
    const acks = sim.collect(MessageType.TestAck);
    const sent = await broadcastAndWait(sim, log, 0, 'hello, 200');
    await sim.runUntil(() => acks.deliveries.length >= 199, { maxVirtualMs: 20_000 });
    await sim.runFor(2_000); // late duplicates would show up here

    const origin = sim.get(0).id;
    for (const [id, n] of deliveryCounts(sim, log, sent.messageId)) expect(n).toBe(id === origin ? 0 : 1);
    const report = sim.gossipReport(sent, log);
    expect(report).toMatchObject({ expected: 199, delivered: 199, missing: [], deliveredTwice: [], unexpected: [] });
    expect(report.relays).toBeGreaterThan(0);
    expect(report.latencyMs.max).toBeLessThan(2_000);

    // Every receiver acked point-to-point; only the origin delivered acks, one per receiver.
    expect(acks.deliveries.every((d) => d.node === origin)).toBe(true);
    expect(new Set(acks.deliveries.map((d) => d.from)).size).toBe(199);
    expect(acks.deliveries).toHaveLength(199);
    for (const n of sim.metrics().nodes) expect(totalRejected(n.counters)).toBe(0);
    expect(sim.internalErrors()).toEqual([]);
  }, 120_000);
});

describe('full mesh (≤ fullMeshMax nodes)', () => {
  for (const nodes of [2, 5, 12]) {
    it(`connects each of ${nodes} nodes to all the others, and gossip reaches each once`, async () => {
      const sim = await Simulator.create({ nodes, seed: nodes, crypto: await sharedCrypto() });
      expect(await sim.runUntilFormed({ maxVirtualMs: 30_000 })).not.toBeNull();
      for (const s of sim.nodes) {
        expect(s.node.connectedPeers().sort()).toEqual(sim.nodes.filter((o) => o !== s).map((o) => o.id).sort());
        expect(s.node.snapshot().overlayMode).toBe('full-mesh');
      }
      const log = sim.collect(MessageType.TestBroadcast);
      const sent = await broadcastAndWait(sim, log, nodes - 1, 'mesh');
      await sim.runFor(1_000);
      for (const [id, n] of deliveryCounts(sim, log, sent.messageId)) expect(n).toBe(id === sent.from ? 0 : 1);
    }, 60_000);
  }
});

describe('point-to-point over the overlay', () => {
  it('routes sendTo to a non-neighbour, delivered exactly once and only there', async () => {
    const sim = await Simulator.create({ nodes: 40, seed: 21, crypto: await sharedCrypto() });
    expect(await sim.runUntilFormed({ maxVirtualMs: 60_000 })).not.toBeNull();
    const neighbours = new Set(sim.node(0).connectedPeers());
    const target = sim.nodes.find((s) => s.index !== 0 && !neighbours.has(s.id));
    if (!target) throw new Error('node 0 is linked to everyone');
    const log = sim.collect(MessageType.TestAck);
    const sent = await sim.sendTo(0, target.index, MessageType.TestAck, new Uint8Array(16).fill(7));
    expect(await sim.runUntil(() => log.deliveries.length > 0, { maxVirtualMs: 10_000 })).toBe(true);
    await sim.runFor(2_000);
    expect(log.deliveries.map((d) => [d.node, d.from])).toEqual([[target.id, sim.get(0).id]]);
    expect(sent.relayers.size).toBeGreaterThan(0); // it really travelled through other nodes
    expect(sent.envelope.recipient).toEqual(target.publicKey);
  }, 60_000);
});

/** Flip one bit of the envelope inside every GOSSIP frame `from` sends (offset 2 skips kind and TTL). */
function tamper(sim: Simulator, from: number, envelopeBit: (envelopeLength: number) => number): () => void {
  return sim.network.intercept(
    (m) => {
      if (m.bytes[0] !== LinkFrameKind.Gossip) return undefined;
      const copy = m.bytes.slice();
      const bit = envelopeBit(copy.length - 2);
      copy[2 + (bit >> 3)]! ^= 1 << (bit & 7);
      return copy;
    },
    { from: sim.get(from).id },
  );
}

function rejectedSum(sim: Simulator): number {
  return sim.metrics().nodes.reduce((s, n) => s + totalRejected(n.counters), 0);
}

describe('tampered gossip', () => {
  it('is rejected as bad-signature by every neighbour, never delivered, never relayed', async () => {
    const sim = await Simulator.create({ nodes: 30, seed: 8, crypto: await sharedCrypto() });
    expect(await sim.runUntilFormed({ maxVirtualMs: 60_000 })).not.toBeNull();
    const log = sim.collect(MessageType.TestBroadcast);
    const neighbours = sim.node(0).connectedPeers();
    const untamper = tamper(sim, 0, (len) => (len - 64 - 1) * 8); // last body byte, inside the signed part
    const sent = await sim.broadcast(0, MessageType.TestBroadcast, testBroadcastBody('forged'));
    await sim.runFor(3_000);
    expect(log.of(sent.messageId)).toEqual([]);
    expect(log.deliveries).toEqual([]);
    expect(sent.relayers.size).toBe(0);
    for (const s of sim.nodes) {
      const rejected = s.node.snapshot().counters.rejected;
      expect(rejected['bad-signature'] ?? 0).toBe(neighbours.includes(s.id) ? 1 : 0);
    }
    // The same node's honest broadcasts still get through once the tampering stops.
    untamper();
    const honest = await broadcastAndWait(sim, log, 0, 'honest');
    expect(sim.gossipReport(honest, log).missing).toEqual([]);
  }, 60_000);

  it('a flipped version byte is rejected as malformed', async () => {
    const sim = await Simulator.create({ nodes: 4, seed: 2, crypto: await sharedCrypto() });
    expect(await sim.runUntilFormed({ maxVirtualMs: 30_000 })).not.toBeNull();
    const log = sim.collect(MessageType.TestBroadcast);
    tamper(sim, 0, () => 0);
    await sim.broadcast(0, MessageType.TestBroadcast, testBroadcastBody('v2?'));
    await sim.runFor(1_000);
    expect(log.deliveries).toEqual([]);
    for (const s of sim.nodes.slice(1)) expect(s.node.snapshot().counters.rejected).toEqual({ malformed: 1 });
  }, 30_000);

  it('any single flipped bit of an envelope is rejected by each neighbour and never delivered (property)', async () => {
    const sim = await Simulator.create({ nodes: 5, seed: 4, crypto: await sharedCrypto() });
    expect(await sim.runUntilFormed({ maxVirtualMs: 30_000 })).not.toBeNull();
    const log = sim.collect(MessageType.TestBroadcast);
    let k = 0;
    await fc.assert(
      fc.asyncProperty(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), async (where) => {
        const before = rejectedSum(sim);
        const untamper = tamper(sim, 0, (len) => Math.floor(where * len * 8));
        const sent = await sim.broadcast(0, MessageType.TestBroadcast, testBroadcastBody(`flip ${k++}`));
        untamper();
        await sim.runFor(500);
        expect(log.of(sent.messageId)).toEqual([]);
        expect(rejectedSum(sim) - before).toBe(4);
      }),
      { numRuns: 40 },
    );
    expect(log.deliveries).toEqual([]);
  }, 60_000);
});

describe('gossip property', () => {
  it('reaches every node of a formed network exactly once, for random sizes and seeds', async () => {
    const crypto = await sharedCrypto();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 5, max: 40 }), fc.nat(2 ** 31), async (nodes, seed) => {
        const sim = await Simulator.create({ nodes, seed, crypto });
        expect(await sim.runUntilFormed({ maxVirtualMs: 60_000 })).not.toBeNull();
        expect(sim.isOverlayConnected()).toBe(true);
        const log = sim.collect(MessageType.TestBroadcast);
        const from = seed % nodes;
        const sent = await broadcastAndWait(sim, log, from, `n=${nodes} seed=${seed}`);
        await sim.runFor(1_000);
        for (const [id, n] of deliveryCounts(sim, log, sent.messageId)) expect(n).toBe(id === sent.from ? 0 : 1);
      }),
      { numRuns: 10 },
    );
  }, 120_000);
});
