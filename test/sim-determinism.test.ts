// A seed fixes a whole simulated run: formation time, every delivery and its order, every counter.
import { describe, expect, it } from 'vitest';
import { nobleEd25519 } from '../src/core/crypto/ed25519.ts';
import { MessageType } from '../src/core/net/message-types.ts';
import { SimCrypto } from '../src/sim/sim-crypto.ts';
import { Simulator, type SimulatorOptions } from '../src/sim/simulator.ts';
import { broadcastAndWait, sharedCrypto } from './sim-helpers.ts';

/** Everything observable about one run, minus wall time. */
async function fingerprint(options: Omit<SimulatorOptions, 'crypto'>, crypto?: SimCrypto) {
  const sim = await Simulator.create({ ...options, crypto: crypto ?? (await sharedCrypto()) });
  const formationMs = await sim.runUntilFormed({ maxVirtualMs: 60_000 });
  const log = sim.collect(MessageType.TestBroadcast);
  const acks = sim.collect(MessageType.TestAck);
  await broadcastAndWait(sim, log, 0, 'determinism');
  await broadcastAndWait(sim, log, options.nodes - 1, 'determinism 2');
  await sim.runFor(1_000);
  const m = sim.metrics();
  return {
    formationMs,
    events: m.events,
    deliveries: log.deliveries.map((d) => [d.index, d.atMs, d.messageId]),
    acks: acks.deliveries.map((d) => [d.index, d.from, d.atMs]),
    counters: m.nodes.map((n) => [n.connected, n.counters, n.traffic]),
    graph: [...sim.overlayGraph()],
  };
}

describe('simulator determinism', () => {
  it('replays a partial-mesh run exactly for the same seed, and not for another seed', async () => {
    const a = await fingerprint({ nodes: 30, seed: 11 });
    const b = await fingerprint({ nodes: 30, seed: 11 });
    expect(a.formationMs).not.toBeNull();
    expect(b).toEqual(a);
    const c = await fingerprint({ nodes: 30, seed: 12 });
    expect(c.formationMs).not.toBeNull();
    expect(c.deliveries).not.toEqual(a.deliveries);
    expect(c.graph).not.toEqual(a.graph);
  }, 60_000);

  it('does not depend on the crypto backend or the verification cache (the gate fixes the order)', async () => {
    const options = { nodes: 14, seed: 5 };
    const webcrypto = await fingerprint(options);
    const noble = await fingerprint(options, await SimCrypto.create({ backend: nobleEd25519, verifyCache: false }));
    expect(noble).toEqual(webcrypto);
  }, 60_000);

  it('keeps the same results when nodes start at spread-out times', async () => {
    const a = await fingerprint({ nodes: 20, seed: 3, startSpreadMs: 2_000 });
    expect(a.formationMs).toBeGreaterThan(1_000);
    expect(await fingerprint({ nodes: 20, seed: 3, startSpreadMs: 2_000 })).toEqual(a);
  }, 60_000);
});

describe('simulator scheduling', () => {
  it('runs actions scheduled with at() at their virtual time, broadcasts included', async () => {
    const sim = await Simulator.create({ nodes: 6, seed: 1, crypto: await sharedCrypto() });
    expect(await sim.runUntilFormed({ maxVirtualMs: 30_000 })).not.toBeNull();
    const log = sim.collect(MessageType.TestBroadcast);
    const t0 = sim.clock.now();
    sim.at(1_000, () => sim.broadcast(2, MessageType.TestBroadcast, new Uint8Array(0)));
    sim.at(1_500, () => sim.crash(5));
    await sim.runFor(3_000);
    expect(log.deliveries).toHaveLength(5);
    for (const d of log.deliveries) expect(d.atMs).toBeGreaterThan(t0 + 1_000);
    expect(sim.get(5).state).toBe('crashed');
    expect(sim.clock.now()).toBe(t0 + 3_000);
    expect(sim.internalErrors()).toEqual([]);
  }, 30_000);

  it('fails the run when a scheduled async action fails, and refuses overlapping runs', async () => {
    const sim = await Simulator.create({ nodes: 2, seed: 1, crypto: await sharedCrypto() });
    sim.at(10, async () => {
      throw new Error('boom');
    });
    await expect(sim.runFor(100)).rejects.toThrow('boom');
    const run = sim.runFor(100);
    await expect(sim.runFor(100)).rejects.toThrow(/already running/);
    await expect(sim.broadcast(0, MessageType.TestBroadcast, new Uint8Array(0))).rejects.toThrow(/between runs/);
    await run;
  }, 30_000);

  it('gives up at the deadline with virtual time left there', async () => {
    const sim = await Simulator.create({ nodes: 3, seed: 1, crypto: await sharedCrypto() });
    expect(await sim.runUntil(() => false, { maxVirtualMs: 2_500 })).toBe(false);
    expect(sim.elapsedMs).toBe(2_500);
    expect(await sim.runUntil(() => true)).toBe(true);
    expect(sim.elapsedMs).toBe(2_500);
  }, 30_000);
});
