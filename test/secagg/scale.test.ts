// Secure aggregation at scale, seeded: up to 200 participants with the sparse SecAgg+ graph
// (complete_graph_max = 64), dropouts at every stage, a malicious aggregator at n = 96 audited
// through every honest participant's outgoing messages, a round over the network simulator, and
// `aegis sim secagg` run in-process. WebCrypto backends (same outputs as noble, 10-20x faster).
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import type { NodeId } from '../../src/core/crypto/node-id.ts';
import type { PrgBackend } from '../../src/core/crypto/prg.ts';
import type { X25519Backend } from '../../src/core/crypto/x25519.ts';
import { decodeEnvelope, type Envelope } from '../../src/core/net/envelope.ts';
import { MessageType } from '../../src/core/net/message-types.ts';
import { decodeSum, quantizationStep } from '../../src/core/secagg/encoding.ts';
import { decodeBundle, decodeConsistencySig, decodeIdList, encodeBundle, encodeIdList } from '../../src/core/secagg/messages.ts';
import { DEFAULT_PARAMS } from '../../src/core/secagg/params.ts';
import { holdersOf, roundGraph, survivorListHash, type RoundGraph } from '../../src/core/secagg/transcript.ts';
import { decodeAdvertiseKeys, decodeSeedReveal } from '../../src/core/secagg/messages.ts';
import { advertisementListHash, graphSeed, REVEAL_COMMITTEE_SIZE, revealCommittee } from '../../src/core/secagg/graph-seed.ts';
import { nodeIdFromPublicKey } from '../../src/core/crypto/node-id.ts';
import { runSimSecagg, type SimSecaggReport } from '../../src/cli/sim-secagg.ts';
import { SecAggService } from '../../src/node/secagg-service.ts';
import { fastBackends, runSecAggRound, SECAGG_STAGES, type SecAggBackends, type SecAggRoundOutcome, type SecAggStage } from '../../src/sim/secagg-round.ts';
import { SeededRandom } from '../../src/sim/seeded-random.ts';
import { Simulator } from '../../src/sim/simulator.ts';
import { revealedByOwner, type Revealed } from './audit.ts';

let backends: SecAggBackends;
beforeAll(async () => {
  backends = await fastBackends();
});

// Inputs on the quantization grid (clipping_range 8 = 2^3, quantization_range 2^22: a step is
// 2^-18) encode without rounding, and their sums are exact in doubles: compare with toEqual.
const step = quantizationStep(DEFAULT_PARAMS);
const gridInputs = (seed: number, n: number, m: number): number[][] => {
  const rng = SeededRandom.fromSeed(seed).fork('inputs');
  return Array.from({ length: n }, () => Array.from({ length: m }, () => (rng.int(2001) - 1000) * step * 1024));
};

function plainSum(inputs: number[][], who: readonly number[]): number[] {
  const out = new Array<number>(inputs[0]?.length ?? 0).fill(0);
  for (const i of who) (inputs[i] as number[]).forEach((v, j) => (out[j] = (out[j] as number) + v));
  return out;
}

function decoded(o: SecAggRoundOutcome): number[] {
  if (!o.result) throw new Error(`round aborted: ${o.abortReason}`);
  return Array.from(decodeSum(o.result.sum, o.result.contributors.length, o.params));
}

/** Who went silent at or before the mask stage, or aborted on its own: not in the sum. */
function expectedContributors(n: number, dropouts: Partial<Record<SecAggStage, number[]>>): number[] {
  const early = new Set([...(dropouts.advertise ?? []), ...(dropouts.reveal ?? []), ...(dropouts.share ?? []), ...(dropouts.mask ?? [])]);
  return Array.from({ length: n }, (_, i) => i).filter((i) => !early.has(i));
}

/** The neighbour graph from advertisement and (sparse rounds) reveal envelopes, as anyone who saw them can rebuild it. */
function graphFrom(advertisements: readonly Envelope[], reveals: readonly Envelope[]): RoundGraph {
  const bodies = new Map<NodeId, Uint8Array>();
  let roundId: Uint8Array | null = null;
  for (const env of advertisements) {
    const a = decodeAdvertiseKeys(env.body);
    if (!a.ok) throw new Error(a.error);
    roundId = a.value.roundId;
    bodies.set(nodeIdFromPublicKey(env.sender), env.body);
  }
  if (!roundId) throw new Error('nobody advertised');
  const params = { ...DEFAULT_PARAMS, dimension: 2 }; // the graph depends on n and the graph parameters only
  if (reveals.length === 0) return roundGraph(params, bodies.keys(), null);
  // The reveals of the last attempt fixed the graph.
  const decodedReveals = reveals.map((env) => {
    const r = decodeSeedReveal(env.body);
    if (!r.ok) throw new Error(r.error);
    return { id: nodeIdFromPublicKey(env.sender), ...r.value };
  });
  const attempt = Math.max(...decodedReveals.map((r) => r.attempt));
  const opened = new Map(decodedReveals.filter((r) => r.attempt === attempt).map((r) => [r.id, r.reveal]));
  return roundGraph(params, bodies.keys(), graphSeed(advertisementListHash(roundId, bodies), attempt, opened));
}

/** Attempt `attempt`'s reveal committee, from the advertisements the participants sent. */
function committeeOf(o: SecAggRoundOutcome, attempt: number): NodeId[] {
  const bodies = new Map<NodeId, Uint8Array>();
  let roundId: Uint8Array = new Uint8Array(0);
  for (const env of o.sentByParticipants.filter((e) => e.type === MessageType.SecAggAdvertise)) {
    const a = decodeAdvertiseKeys(env.body);
    if (!a.ok) throw new Error(a.error);
    roundId = a.value.roundId;
    bodies.set(nodeIdFromPublicKey(env.sender), env.body);
  }
  return revealCommittee(advertisementListHash(roundId, bodies), attempt, bodies.keys());
}

/** The round's neighbour graph, rebuilt from what the participants sent. */
function graphOf(o: SecAggRoundOutcome): RoundGraph {
  const sent = (type: number): Envelope[] => o.sentByParticipants.filter((e) => e.type === type);
  return graphFrom(sent(MessageType.SecAggAdvertise), sent(MessageType.SecAggSeedReveal));
}

/** The graph of a sparse round, from the advertise and reveal bundles the aggregator sends out (they are public). */
function graphOfBundles(advertiseBundle: Uint8Array, revealBundle: Uint8Array): RoundGraph {
  const envelopes = (body: Uint8Array): Envelope[] => {
    const b = decodeBundle(body);
    if (!b.ok) throw new Error(b.error);
    return b.value.envelopes.map((e) => {
      const d = decodeEnvelope(e);
      if (!d.ok) throw new Error(d.error);
      return d.value;
    });
  };
  return graphFrom(envelopes(advertiseBundle), envelopes(revealBundle));
}

/** No honest holder reveals both kinds for one owner, and no owner has both secrets rebuildable. */
function expectNoInputComputable(o: SecAggRoundOutcome, t: number): Map<NodeId, Revealed> {
  const revealed = revealedByOwner(o);
  for (const [owner, r] of revealed) {
    for (const [holder, kinds] of r.byHolder) expect(kinds.size, `${holder} revealed both shares of ${owner}`).toBe(1);
    expect(r.selfSeed >= t && r.maskKey >= t, `both secrets of ${owner} rebuildable`).toBe(false);
  }
  return revealed;
}

describe('secure aggregation at scale (in-memory driver, sparse graph)', () => {
  it('n = 200, dropouts at every stage: the exact sum of those who sent masked inputs', async () => {
    const n = 200;
    const inputs = gridInputs(21, n, 6);
    const dropouts = { advertise: [3, 150], share: [7, 8], mask: [20, 61, 199], consistency: [0, 100], unmask: [42, 43, 44] };
    const o = await runSecAggRound({ inputs, dropouts, seed: 21, backends, concurrency: 4 });
    expect(o.shape).toMatchObject({ complete: false, degree: 56, threshold: 39 });
    const counted = expectedContributors(n, dropouts);
    expect(o.maskedInputFrom).toEqual(counted);
    expect(o.result?.contributors).toEqual(counted.map((i) => o.ids[i]).sort());
    expect(decoded(o)).toEqual(plainSum(inputs, counted));
  });

  it('property: random dropouts at every stage give the exact sum, or an abort that names the missing threshold', async () => {
    let exact = 0;
    let aborted = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 65, max: 200 }),
        fc.integer({ min: 1, max: 2 ** 31 }),
        fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 5, maxLength: 5 }),
        async (n, seed, counts) => {
          // Up to 12 silent per stage: usually within t = ⌊2(k+1)/3⌋ + 1 of every neighbourhood, sometimes not.
          const rng = SeededRandom.fromSeed(seed).fork('dropouts');
          const pool = Array.from({ length: n }, (_, i) => i);
          const dropouts: Partial<Record<SecAggStage, number[]>> = {};
          // Every stage but the graph-seed reveal (silence there costs attempts, not shares: tested on its own below).
          SECAGG_STAGES.filter((stage) => stage !== 'reveal').forEach(
            (stage, k) => (dropouts[stage] = Array.from({ length: counts[k] as number }, () => pool.splice(rng.int(pool.length), 1)[0] as number)),
          );
          const inputs = gridInputs(seed, n, 3);
          const started = performance.now();
          const o = await runSecAggRound({ inputs, dropouts, seed, backends, concurrency: 4 });
          expect(performance.now() - started).toBeLessThan(20_000);
          if (o.result) {
            exact++;
            const counted = expectedContributors(n, dropouts);
            expect(o.result.contributors).toEqual(counted.map((i) => o.ids[i]).sort());
            expect(decoded(o)).toEqual(plainSum(inputs, counted));
          } else {
            aborted++;
            // Beyond the threshold: nothing released, and the reason says which secret fell short.
            const m = /only (\d+) (?:self-seed|mask-key) shares of .*, threshold is (\d+)/.exec(o.abortReason ?? '');
            expect(m, o.abortReason ?? 'no reason').not.toBeNull();
            expect(Number(m?.[1])).toBeLessThan(Number(m?.[2]));
          }
        },
      ),
      { numRuns: 4, seed: 20261124 },
    );
    expect(exact + aborted).toBe(4);
    expect(exact).toBeGreaterThan(0);
  });

  it('silent at the graph-seed reveal: up to 3 of a committee are tolerated, 4 cost an attempt (the next committee fixes the graph, the sum stays exact); four short committees abort before any share leaves; a complete-graph round just leaves them out', async () => {
    const n = 80;
    const inputs = gridInputs(6, n, 2);
    // Silence at the reveal leaves the advertisement list as it was: learn the committees from a quiet run.
    const quiet = await runSecAggRound({ inputs, seed: 6, backends, concurrency: 4 });
    const committees = [1, 2, 3, 4].map((attempt) => committeeOf(quiet, attempt).map((id) => quiet.ids.indexOf(id)));
    const [c1, c2, c3, c4] = committees as [number[], number[], number[], number[]];
    expect(c1).toHaveLength(REVEAL_COMMITTEE_SIZE);
    const revealsOf = (x: SecAggRoundOutcome, attempt: number): number =>
      x.transcript.filter((e) => {
        const d = decodeEnvelope(e);
        const r = d.ok && d.value.type === MessageType.SecAggSeedReveal ? decodeSeedReveal(d.value.body) : null;
        return r?.ok === true && r.value.attempt === attempt;
      }).length;
    const onlyFirst = (k: number): number[] => c1.filter((i) => !c2.includes(i)).slice(0, k);
    for (const [silent, attempt] of [
      [onlyFirst(3), 1], // within the tolerance: the first committee fixes the graph
      [onlyFirst(4), 2], // one too many: the next committee does
    ] as const) {
      const o = await runSecAggRound({ inputs, dropouts: { reveal: silent }, seed: 6, backends, concurrency: 4 });
      expect(revealsOf(o, attempt)).toBe(REVEAL_COMMITTEE_SIZE - (attempt === 1 ? silent.length : 0));
      expect(revealsOf(o, 3 - attempt)).toBe(0);
      const counted = expectedContributors(n, { reveal: silent });
      expect(o.result?.contributors).toEqual(counted.map((i) => o.ids[i]).sort());
      expect(decoded(o)).toEqual(plainSum(inputs, counted));
    }

    // Four silent members in each of the four committees: nothing fixes the graph.
    const silent = [...new Set([c1, c2, c3, c4].flatMap((c) => c.slice(0, 4)))];
    const short = await runSecAggRound({ inputs, dropouts: { reveal: silent }, seed: 6, backends, concurrency: 4 });
    expect(short.result).toBeNull();
    expect(short.abortedIn).toBe('reveal');
    expect(short.abortReason).toMatch(/^graph seed: \d+ of the 32 members of the attempt-4 reveal committee did not reveal \(.*\); at most 3 may be missing$/);
    expect(new Set(short.sentByParticipants.map((e) => e.type))).toEqual(new Set([MessageType.SecAggAdvertise, MessageType.SecAggSeedReveal]));

    const small = gridInputs(6, 20, 2);
    const complete = await runSecAggRound({ inputs: small, dropouts: { reveal: [3] }, seed: 6, backends });
    expect(complete.shape?.complete).toBe(true);
    expect(complete.sentByParticipants.filter((e) => e.type === MessageType.SecAggSeedReveal)).toEqual([]);
    const kept = expectedContributors(20, { reveal: [3] });
    expect(complete.result?.contributors).toEqual(kept.map((i) => complete.ids[i]).sort());
    expect(decoded(complete)).toEqual(plainSum(small, kept));
  });

  it('beyond the threshold (40 of 100 silent before unmasking) the round aborts with a reason and releases nothing', async () => {
    const n = 100;
    const unmask = Array.from({ length: 40 }, (_, i) => 2 * i);
    const o = await runSecAggRound({ inputs: gridInputs(5, n, 2), dropouts: { unmask }, seed: 5, backends, concurrency: 4 });
    expect(o.result).toBeNull();
    expect(o.abortedIn).toBe('unmask');
    expect(o.abortReason).toMatch(/only \d+ self-seed shares of [0-9a-f]+, threshold is 33/);
  });
});

describe('a malicious aggregator at n = 96 with the sparse graph', () => {
  const n = 96;
  const inputs = gridInputs(77, n, 2);

  /** Survivor list bodies: decoded, rewritten per participant. */
  const withoutIds = (body: Uint8Array, drop: ReadonlySet<NodeId>): Uint8Array => {
    const l = decodeIdList(body);
    if (!l.ok) throw new Error(l.error);
    return encodeIdList({ roundId: l.value.roundId, ids: l.value.ids.filter((id) => !drop.has(bytesToHex(id))) });
  };

  it('(a) showing different survivor lists is refused by every participant, and nothing is revealed', async () => {
    // Node 95 is left out of the list shown to the first half of the participants; all signatures are relayed.
    const o = await runSecAggRound({
      inputs,
      seed: 77,
      backends,
      concurrency: 4,
      tamper: (stage, to, body, ids) => (stage === 'consistency' && to < n / 2 ? withoutIds(body, new Set([ids[95] as NodeId])) : body),
    });
    expect(o.shape?.complete).toBe(false);
    expect(o.result).toBeNull();
    for (const [i, reason] of o.participantAborts.entries())
      expect(reason, `participant ${i}`).toMatch(/shown a different survivor list|not on the survivor list/);
    expect(o.sentByParticipants.filter((e) => e.type === MessageType.SecAggUnmask)).toEqual([]);
  });

  /**
   * (b) Shows survivor X as dropped to some of X's neighbours (group A) and as surviving to everyone
   * else (group B), and hands each participant only the consistency signatures on the list it saw,
   * so A would reveal X's mask-key shares and B its self-seed shares. `extraA` non-neighbours of X
   * join A to give it enough signatures.
   */
  async function splitAttack(extraA: number): Promise<{ o: SecAggRoundOutcome; x: NodeId; groupA: Set<number>; t: number }> {
    const x = 10;
    let groupA = new Set<number>();
    let graph: RoundGraph | null = null;
    let advertiseBundle: Uint8Array | null = null;
    const listShown = new Map<number, Uint8Array>();
    const o = await runSecAggRound({
      inputs,
      seed: 77,
      backends,
      concurrency: 4,
      tamper: (stage, to, body, ids) => {
        if (stage === 'reveal') advertiseBundle ??= body;
        if (stage === 'share' && graph === null && advertiseBundle) {
          // Once every reveal is in, the neighbour graph is public: rebuild it, as the aggregator can.
          graph = graphOfBundles(advertiseBundle, body);
          const xNeighbours = [...(graph.neighbours.get(ids[x] as NodeId) ?? [])].sort().map((id) => ids.indexOf(id));
          const others = ids.map((_, i) => i).filter((i) => i !== x && !xNeighbours.includes(i));
          groupA = new Set([...xNeighbours.filter((_, k) => k % 2 === 0), ...others.slice(0, extraA)]);
        }
        if (stage === 'consistency' && groupA.has(to)) {
          const shown = withoutIds(body, new Set([ids[x] as NodeId]));
          listShown.set(to, shown);
          return shown;
        }
        if (stage === 'consistency') listShown.set(to, body);
        if (stage === 'unmask') {
          // Only the signatures on exactly the list this participant saw.
          const l = decodeIdList(listShown.get(to) as Uint8Array);
          const b = decodeBundle(body);
          if (!l.ok || !b.ok) throw new Error('bad list or bundle');
          const want = bytesToHex(survivorListHash(l.value.roundId, l.value.ids.map(bytesToHex)));
          const envelopes = b.value.envelopes.filter((e) => {
            const d = decodeEnvelope(e);
            const c = d.ok ? decodeConsistencySig(d.value.body) : null;
            return !!c?.ok && bytesToHex(c.value.survivorsHash) === want;
          });
          return encodeBundle({ roundId: b.value.roundId, envelopes });
        }
        return body;
      },
    });
    return { o, x: o.ids[x] as NodeId, groupA, t: (o.shape as { threshold: number }).threshold };
  }

  it('(b) asking for both shares of one node: the half shown it dropped is too few, refuses, and reveals nothing', async () => {
    const { o, x, groupA, t } = await splitAttack(0);
    expect(t).toBe(33); // k = 48 neighbours, 49 shares per secret
    expect(groupA.size).toBeLessThan(t);
    for (const i of groupA) expect(o.participantAborts[i], `participant ${i}`).toMatch(/only \d+ consistency signatures, threshold is 33/);
    expect(o.result).toBeNull();
    const revealed = expectNoInputComputable(o, t);
    expect(revealed.get(x)?.maskKey ?? 0).toBe(0);
    expect(revealed.get(x)?.selfSeed ?? 0).toBeLessThan(t);
  });

  it('(b′) padding the dropped-story group with 30 non-holders of X no longer helps: signatures count per secret, so X\'s holders in it refuse', async () => {
    const { o, x, groupA, t } = await splitAttack(30);
    // Under a global count (at least t signatures from anyone) group A would pass: it has ≥ t members.
    expect(groupA.size).toBeGreaterThanOrEqual(t);
    // But a participant counts, for each secret it would reveal a share of, only that secret's holders.
    const holdersOfX = new Set(holdersOf(x, graphOf(o)));
    const aHoldingX = [...groupA].filter((i) => holdersOfX.has(o.ids[i] as NodeId));
    expect(aHoldingX.length).toBeGreaterThan(0);
    expect(aHoldingX.length).toBeLessThan(t);
    for (const i of aHoldingX)
      expect(o.participantAborts[i], `participant ${i}`).toMatch(new RegExp(`only \\d+ consistency signatures, threshold is ${t} \\(counting the holders of `));
    const revealed = expectNoInputComputable(o, t);
    expect(revealed.get(x)?.maskKey ?? 0).toBe(0);
    for (const r of revealed.values()) expect(r.maskKey).toBe(0);
    expect(o.result).toBeNull();
    expect(graphOf(o).shape.threshold).toBe(t);
  });
});

describe('SecAggService over the network simulator', () => {
  it('30 nodes, sparse graph (num_shares 11): the reveal stage runs over the network, a node that crashes after ShareKeys is left out, every other node gets the exact, verified sum', async () => {
    const started = performance.now();
    const sim = await Simulator.create({ nodes: 30, seed: 12 });
    await sim.runUntilFormed({ maxVirtualMs: 60_000 });
    // WebCrypto through the simulator's ordered gate, so results come back in request order.
    const gated = <T extends object>(backend: T): T =>
      new Proxy(backend, {
        get(target, key, receiver) {
          const v = Reflect.get(target, key, receiver) as unknown;
          return typeof v === 'function' ? (...args: unknown[]) => sim.crypto.gate.run(() => (v as (...a: unknown[]) => Promise<unknown>).apply(target, args)) : v;
        },
      });
    const deps = { x25519: gated<X25519Backend>(backends.x25519), prg: gated<PrgBackend>(backends.prg), verifier: sim.crypto };
    const services = sim.nodes.map((s) => new SecAggService(s.node, deps));
    const inputs = gridInputs(12, 30, 4);
    services.forEach((svc, i) => svc.setInput(inputs[i] as number[]));
    let roundId = '';
    // Every node is expected: by default startRound expects only the aggregator's direct links,
    // which in a partial mesh (here 8 of 29 peers) would close the advertise stage without the rest.
    const everyone = sim.nodes.map((s) => s.id);
    sim.at(0, async () => {
      roundId = await (services[0] as SecAggService).startRound({ dimension: 4, timeout: 3000, num_shares: 11 }, everyone);
    });
    const crashed = 29;
    let didCrash = false;
    await sim.runUntil(
      () => {
        const v = services[crashed]?.views()[0];
        if (!didCrash && v?.participantStage === 'shared') {
          sim.crash(crashed);
          didCrash = true;
        }
        return services.slice(0, crashed).every((s) => s.views()[0]?.result || s.views()[0]?.abortReason);
      },
      { maxVirtualMs: 120_000 },
    );
    expect(didCrash).toBe(true);
    const want = plainSum(inputs, Array.from({ length: crashed }, (_, i) => i));
    for (const svc of services.slice(0, crashed)) {
      const v = svc.views().find((r) => r.roundId === roundId);
      expect(v?.abortReason ?? null).toBeNull();
      expect(v?.result?.verified).toBe(true);
      expect(v?.result?.contributors.length).toBe(crashed);
      expect(Array.from(v?.result?.sum ?? [])).toEqual(want);
      expect(v?.stageLog.some((e) => e.stage === 'revealed' || e.stage.startsWith('reveal'))).toBe(true);
    }
    expect(services[0]?.views()[0]?.aggregatorCounts).toMatchObject({ advertised: 30, revealed: 30, masked: crashed });
    expect(performance.now() - started).toBeLessThan(30_000);
  });
});

describe('aegis sim secagg, in-process', () => {
  const run = async (): Promise<SimSecaggReport & Record<string, unknown>> => {
    let out = '';
    await runSimSecagg({ nodes: 80, dim: 5, seed: 9, dropouts: { share: 1, mask: 2, unmask: 1 }, json: true }, (t) => (out += t));
    return JSON.parse(out) as SimSecaggReport & Record<string, unknown>;
  };

  it('prints JSON whose decoded sum equals the plain sum of the counted inputs, identically for a seed (timings aside)', async () => {
    const a = await run();
    const b = await run();
    expect(a.ok).toBe(true);
    expect(a.graph).toEqual({ complete: false, k: 46, t: 32, sharesPerSecret: 47 });
    // The values in effect, not 0 for "automatic".
    expect(a.params).toMatchObject({ num_shares: 47, reconstruction_threshold: 32, auto: true });
    expect(a.sum).toEqual(a.expectedSum);
    expect(a.contributors.length).toBe(77);
    expect([...a.contributors, ...a.dropped].sort((p, q) => p - q)).toEqual(Array.from({ length: 80 }, (_, i) => i));
    expect(a.bytesPerClient.plainInput).toBe(20);
    expect(a.bytesPerClient.sent.median).toBeGreaterThan(a.bytesPerClient.plainInput);
    for (const stage of SECAGG_STAGES) expect(a.timesMs.stages[stage]).toBeGreaterThan(0);
    const { timesMs: _ta, ...restA } = a;
    const { timesMs: _tb, ...restB } = b;
    expect(restB).toEqual(restA);
  });
});

describe('a participant checks only the signatures it relies on (n = 130: k = 52, so most nodes are neither neighbours nor holders)', () => {
  const n = 130;
  const inputs = gridInputs(31, n, 2);
  /** The bundle with the signature of `victim`'s envelope corrupted (its last byte flipped). */
  const forge = (body: Uint8Array, victim: NodeId): Uint8Array => {
    const b = decodeBundle(body);
    if (!b.ok) throw new Error(b.error);
    let hits = 0;
    const envelopes = b.value.envelopes.map((e) => {
      const d = decodeEnvelope(e);
      if (!d.ok || nodeIdFromPublicKey(d.value.sender) !== victim) return e;
      hits++;
      const forged = e.slice();
      forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 1;
      return forged;
    });
    if (hits !== 1) throw new Error(`${victim} is not in the bundle once`);
    return encodeBundle({ roundId: b.value.roundId, envelopes });
  };

  it('a forged entry it never uses is ignored; a forged neighbour key, committee reveal or holder signature is refused', async () => {
    // The graph is fixed only once every reveal is out, so learn it from an untampered run of the
    // same seed: forging a signature changes no body, so the tampered run has the same graph.
    const quiet = await runSecAggRound({ inputs, seed: 31, backends, concurrency: 4 });
    const g = graphOf(quiet);
    // Who each tampered participant gets a forged entry from, and whether it relies on that entry.
    const victims = new Map<number, NodeId>();
    const o = await runSecAggRound({
      inputs,
      seed: 31,
      backends,
      concurrency: 4,
      tamper: (stage, to, body, ids) => {
        const neighbours = (i: number): ReadonlySet<NodeId> => g.neighbours.get(ids[i] as NodeId) ?? new Set();
        const nonNeighbour = (i: number): NodeId => ids.find((id) => id !== ids[i] && !neighbours(i).has(id)) as NodeId;
        const neighbour = (i: number): NodeId => [...neighbours(i)].sort()[0] as NodeId;
        // The advertise bundle (before the reveal): participant 0 gets a non-neighbour's advertisement
        // forged (only hashed into the list), participant 1 a neighbour's (its keys encrypt shares and
        // derive masks). The reveal bundle (a committee: every reveal makes the seed): participant 5
        // gets a committee member's reveal forged.
        const committeeMember = (): NodeId => committeeOf(quiet, 1)[0] as NodeId;
        const forgedFor: Partial<Record<SecAggStage, Record<number, (i: number) => NodeId>>> = {
          reveal: { 0: nonNeighbour, 1: neighbour },
          share: { 5: committeeMember },
        };
        const pick = forgedFor[stage]?.[to];
        if (pick) {
          victims.set(to, pick(to));
          return forge(body, pick(to));
        }
        if (stage === 'unmask' && (to === 2 || to === 3)) {
          const relevant = new Set<NodeId>();
          for (const owner of [...(g.neighbours.get(ids[to] as NodeId) ?? []), ids[to] as NodeId])
            for (const h of holdersOf(owner, g)) relevant.add(h);
          // Participant 2: a survivor that holds none of the secrets 2 reveals shares of.
          // Participant 3: a holder of one of them.
          const v =
            to === 2
              ? ids.find((id, i) => i > 5 && !relevant.has(id))
              : [...(g.neighbours.get(ids[3] as NodeId) ?? [])].sort().find((id) => ids.indexOf(id) > 5);
          if (!v) throw new Error(`no victim for participant ${to}`);
          victims.set(to, v);
          return forge(body, v);
        }
        return body;
      },
    });
    expect(o.shape).toMatchObject({ complete: false, degree: 52 });
    expect(victims.size).toBe(5);
    expect(o.participantAborts[0]).toBeNull();
    expect(o.participantAborts[1]).toMatch(/advertise or reveal bundle holds a forged signature/);
    expect(o.participantAborts[2]).toBeNull();
    expect(o.participantAborts[3]).toMatch(/consistency bundle holds a forged signature/);
    expect(o.participantAborts[5]).toMatch(/advertise or reveal bundle holds a forged signature/);
    // 1 and 5 refused before sharing (dropouts before ShareKeys); 3 refused after its masked input (counted).
    const counted = Array.from({ length: n }, (_, i) => i).filter((i) => i !== 1 && i !== 5);
    expect(o.result?.contributors).toEqual(counted.map((i) => o.ids[i]).sort());
    expect(decoded(o)).toEqual(plainSum(inputs, counted));
  });
});
