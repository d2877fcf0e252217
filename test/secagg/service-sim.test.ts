import { describe, expect, it } from 'vitest';
import { nobleEd25519 } from '../../src/core/crypto/ed25519.ts';
import { nobleAesCtrPrg } from '../../src/core/crypto/prg.ts';
import { nobleX25519 } from '../../src/core/crypto/x25519.ts';
import { hexToBytes } from '../../src/core/bytes.ts';
import { decodeEnvelope } from '../../src/core/net/envelope.ts';
import { decodeLinkFrame } from '../../src/core/net/link-frame.ts';
import { MessageType } from '../../src/core/net/message-types.ts';
import { encodeRoundResult } from '../../src/core/secagg/messages.ts';
import { SecAggService, type RoundView } from '../../src/node/secagg-service.ts';
import { Simulator } from '../../src/sim/simulator.ts';

const deps = { x25519: nobleX25519, prg: nobleAesCtrPrg, verifier: nobleEd25519 };

describe('SecAggService over the simulated overlay', () => {
  it('5 nodes: every node sees the exact sum, verified from the transcript; a node that crashes after ShareKeys is left out', async () => {
    const sim = await Simulator.create({ nodes: 5, seed: 3 });
    await sim.runUntilFormed({ maxVirtualMs: 30_000 });
    const services = sim.nodes.map((s) => new SecAggService(s.node, deps));
    const inputs = [
      [1, 2, 3],
      [10, 20, 30],
      [-1, 0.5, 2],
      [4, 4, 4],
      [0.25, -3, 1],
    ];
    services.forEach((svc, i) => svc.setInput(inputs[i] as number[]));
    let roundId = '';
    sim.at(0, async () => {
      roundId = await (services[0] as SecAggService).startRound({ dimension: 3, timeout: 2000, clipping_range: 50 });
    });
    // Node 4 vanishes once it has sent its shares (before its masked input).
    let crashed = false;
    await sim.runUntil(
      () => {
        const v = services[4]?.views()[0];
        if (!crashed && v && v.participantStage === 'shared') {
          sim.crash(4);
          crashed = true;
        }
        return services.slice(0, 4).every((s) => s.views()[0]?.result || s.views()[0]?.abortReason);
      },
      { maxVirtualMs: 60_000 },
    );
    expect(crashed).toBe(true);
    for (const svc of services.slice(0, 4)) {
      const v = svc.views().find((r) => r.roundId === roundId);
      expect(v?.abortReason ?? null).toBeNull();
      expect(v?.result?.verified).toBe(true);
      expect(v?.result?.contributors.length).toBe(4);
      const want = [14, 26.5, 39]; // node 4's input is not in the sum
      v?.result?.sum.forEach((s, j) => expect(Math.abs(s - (want[j] as number))).toBeLessThan((4 * 100) / 2 ** 22 + 1e-9));
    }
  });

  it('participants abandon a round whose aggregator goes silent, with a stated reason', async () => {
    const sim = await Simulator.create({ nodes: 4, seed: 5 });
    await sim.runUntilFormed({ maxVirtualMs: 30_000 });
    const services = sim.nodes.map((s) => new SecAggService(s.node, deps));
    services.forEach((svc, i) => svc.setInput([i, i + 1]));
    sim.at(0, () => (services[0] as SecAggService).startRound({ dimension: 2, timeout: 1000 }));
    let crashed = false;
    await sim.runUntil(
      () => {
        if (!crashed && services[1]?.views()[0]?.participantStage === 'shared') {
          sim.crash(0); // the aggregator vanishes mid-round
          crashed = true;
        }
        return services.slice(1).every((s) => s.views()[0]?.abortReason);
      },
      { maxVirtualMs: 30_000 },
    );
    expect(crashed).toBe(true);
    for (const svc of services.slice(1)) {
      const v = svc.views()[0];
      expect(v?.abortReason).toMatch(/abandoned: no word from the aggregator/);
      expect(v?.result).toBeNull();
    }
  });

  it('a round opened with a threshold below the malicious-safe floor is refused with its reason; a local semi-honest opt-in joins it', async () => {
    const sim = await Simulator.create({ nodes: 4, seed: 7 });
    await sim.runUntilFormed({ maxVirtualMs: 30_000 });
    const services = sim.nodes.map((s) => new SecAggService(s.node, deps));
    services.forEach((svc, i) => svc.setInput([i, i + 1]));
    (services[3] as SecAggService).setAdversaryModel('semi-honest');
    sim.at(0, () => (services[0] as SecAggService).startRound({ dimension: 2, timeout: 1000, reconstruction_threshold: 2 }));
    await sim.runUntil(() => services.every((s) => s.views()[0]?.stageLog.some((l) => l.stage === 'result')), { maxVirtualMs: 30_000 });
    for (const svc of services.slice(0, 3)) {
      const v = svc.views()[0];
      expect(v?.refusedReason).toMatch(/reconstruction_threshold 2 of 3 shares is below the malicious-safe floor 3/);
      expect(v?.participantStage).toBe('aborted');
      expect(svc.refused['round refused: threshold below the malicious-safe floor']).toBe(1);
    }
    const optedIn = (services[3] as SecAggService).views()[0];
    expect(optedIn?.refusedReason).toBeNull();
    expect(optedIn?.participantStage).not.toBe('not-joined');
    // Three of four refused: fewer than min_contributors advertised, so nothing is released.
    expect(optedIn?.result).toBeNull();
    expect(optedIn?.abortReason).toMatch(/min_contributors/);
  });

  // An aggregator that skips the check: its own result, broadcast before the round finishes, with no transcript.
  async function resultWithoutTranscript(dimension: number): Promise<Array<RoundView | undefined>> {
    const sim = await Simulator.create({ nodes: 4, seed: 9 });
    await sim.runUntilFormed({ maxVirtualMs: 30_000 });
    const services = sim.nodes.map((s) => new SecAggService(s.node, deps));
    let roundId = '';
    sim.at(0, async () => {
      roundId = await (services[0] as SecAggService).startRound({ dimension, timeout: 5000 });
    });
    await sim.runUntil(() => roundId !== '' && services.slice(1).every((s) => s.views()[0]), { maxVirtualMs: 30_000 });
    const contributors = sim.nodes.slice(1).map((s) => hexToBytes(s.node.id));
    const body = encodeRoundResult({
      roundId: hexToBytes(roundId),
      ok: true,
      reason: '',
      contributors,
      dropped: [],
      sum: new Uint32Array(dimension),
      transcriptHash: new Uint8Array(32),
      transcript: [],
    });
    sim.at(0, () => void sim.nodes[0]?.node.broadcast(MessageType.SecAggResult, body));
    await sim.runUntil(() => services.slice(1).every((s) => s.views()[0]?.result), { maxVirtualMs: 30_000 });
    return services.slice(1).map((s) => s.views()[0]);
  }

  it('a direct round result without a transcript, for a round small enough to ship one, is a failed check', async () => {
    for (const v of await resultWithoutTranscript(4)) {
      expect(v?.result?.verified).toBe(false);
      expect(v?.result?.verifyDetail).toBe('aggregator sent no transcript');
    }
  });

  it('a direct round too large to ship its transcript says it is unverified, never that consensus will check it', async () => {
    // 3 contributors × 600k words × 4 bytes = 6.9 MiB of masked inputs alone: over the ship limit.
    for (const v of await resultWithoutTranscript(600_000)) {
      expect(v?.result?.verified).toBeNull();
      expect(v?.result?.verifyDetail).toMatch(/^unverified: .* too large to ship and no consensus checks a direct round$/);
      expect(v?.result?.verifyDetail).not.toMatch(/consensus sampling/);
    }
  });
});

describe('a masked input lost with a link that dropped', () => {
  it('is sent again when the link to the aggregator comes back, and the round counts it', async () => {
    const sim = await Simulator.create({ nodes: 4, seed: 9 });
    await sim.runUntilFormed({ maxVirtualMs: 30_000 });
    const services = sim.nodes.map((s) => new SecAggService(s.node, deps));
    const inputs = [
      [1, 2],
      [3, 4],
      [5, 6],
      [7, 8],
    ];
    services.forEach((svc, i) => svc.setInput(inputs[i] as number[]));
    const [aggregator, sender] = [sim.get(0).id, sim.get(2).id];
    // Node 2's masked input to the aggregator goes down with its link, once (as a stalled WebRTC link
    // that timed out took a 4 MB masked input with it).
    let lost = 0;
    const stop = sim.network.intercept(
      (m) => {
        const f = decodeLinkFrame(m.bytes);
        const env = f.ok && f.value.kind === 'gossip' ? decodeEnvelope(f.value.envelope) : null;
        if (lost > 0 || !env?.ok || env.value.type !== MessageType.SecAggMaskedInput) return undefined;
        lost++;
        sim.at(0, () => sim.network.breakLinks(sender, aggregator, 'stalled'));
        return null;
      },
      { from: sender, to: aggregator },
    );
    let roundId = '';
    sim.at(0, async () => {
      roundId = await (services[0] as SecAggService).startRound({ dimension: 2, timeout: 20_000, clipping_range: 50 });
    });
    await sim.runUntil(() => services.every((s) => s.views()[0]?.result || s.views()[0]?.abortReason), { maxVirtualMs: 120_000 });
    stop();
    expect(lost).toBe(1);
    for (const svc of services) {
      const v = svc.views().find((r) => r.roundId === roundId);
      expect(v?.abortReason ?? null).toBeNull();
      expect(v?.result?.contributors.length).toBe(4);
      v?.result?.sum.forEach((s, j) => expect(Math.abs(s - [16, 20][j]!)).toBeLessThan(1e-3));
    }
  });
});
