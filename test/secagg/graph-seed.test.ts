// The sparse graph's seed by commit-reveal (graph-seed.ts): an aggregator that learns the honest
// reveals can no longer choose the graph — every reveal it drops, swaps or answers with another
// advertisement list is refused before any share leaves, and the transcript carries the proof.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { bytesEqual, bytesToHex } from '../../src/core/bytes.ts';
import { nodeIdFromPublicKey, type NodeId } from '../../src/core/crypto/node-id.ts';
import { decodeEnvelope } from '../../src/core/net/envelope.ts';
import { MessageType } from '../../src/core/net/message-types.ts';
import { advertisementListHash, commitGraphSeedShare, graphSeed, missingReveals } from '../../src/core/secagg/graph-seed.ts';
import { decodeBundle, encodeBundle } from '../../src/core/secagg/messages.ts';
import { DEFAULT_PARAMS } from '../../src/core/secagg/params.ts';
import { recomputeFromTranscript, roundGraph } from '../../src/core/secagg/transcript.ts';
import { fastBackends, runSecAggRound, type SecAggBackends, type SecAggRoundSetup, type SecAggStage } from '../../src/sim/secagg-round.ts';
import { SeededRandom } from '../../src/sim/seeded-random.ts';

let backends: SecAggBackends;
beforeAll(async () => {
  backends = await fastBackends();
});

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const id = (k: number): NodeId => k.toString(16).padStart(32, '0');

describe('graph seed primitives', () => {
  it('commitments bind the reveal; the list hash binds round, ids and every body; the seed binds every reveal', () => {
    fc.assert(
      fc.property(bytes32, bytes32, fc.array(bytes32, { minLength: 2, maxLength: 8 }), fc.nat(), (a, b, bodies, pick) => {
        fc.pre(!bytesEqual(a, b));
        expect(bytesEqual(commitGraphSeedShare(a), commitGraphSeedShare(b))).toBe(false);
        const round = new Uint8Array(16);
        const list = new Map(bodies.map((body, k) => [id(k), body]));
        const h = advertisementListHash(round, list);
        const k = pick % bodies.length;
        // Another body for one advertiser, one advertiser left out, another round: another list.
        const other = new Map(list).set(id(k), a);
        if (!bytesEqual(a, list.get(id(k)) as Uint8Array)) expect(bytesEqual(advertisementListHash(round, other), h)).toBe(false);
        const fewer = new Map(list);
        fewer.delete(id(k));
        expect(bytesEqual(advertisementListHash(round, fewer), h)).toBe(false);
        expect(bytesEqual(advertisementListHash(new Uint8Array(16).fill(1), list), h)).toBe(false);
        // The seed changes with any one reveal.
        const reveals = new Map(bodies.map((_, j) => [id(j), j === k ? a : b]));
        const swapped = new Map(reveals).set(id(k), b);
        expect(bytesEqual(graphSeed(h, reveals), graphSeed(h, swapped))).toBe(false);
        expect(missingReveals(list.keys(), fewer)).toEqual([id(k)]);
      }),
      { numRuns: 200 },
    );
  });

  it('argument errors name the field; a sparse graph without a seed is a programmer error', () => {
    expect(() => commitGraphSeedShare(new Uint8Array(31))).toThrow(/"reveal" must be 32 bytes/);
    expect(() => advertisementListHash(new Uint8Array(15), new Map())).toThrow(/"roundId" must be 16 bytes/);
    const ids = Array.from({ length: 100 }, (_, k) => id(k));
    expect(() => roundGraph(DEFAULT_PARAMS, ids, null)).toThrow(/needs its graph seed/);
    expect(roundGraph(DEFAULT_PARAMS, ids.slice(0, 10), null).shape.complete).toBe(true);
  });

  it('one honest reveal moves the whole graph: the neighbourhoods of two seeds that differ in it barely overlap', () => {
    const ids = Array.from({ length: 200 }, (_, k) => id(k));
    const rng = SeededRandom.fromSeed(4);
    const list = advertisementListHash(rng.bytes(16), new Map(ids.map((i) => [i, rng.bytes(64)])));
    const reveals = new Map(ids.map((i) => [i, rng.bytes(32)]));
    const g1 = roundGraph(DEFAULT_PARAMS, ids, graphSeed(list, reveals));
    const g2 = roundGraph(DEFAULT_PARAMS, ids, graphSeed(list, new Map(reveals).set(id(7), rng.bytes(32))));
    let same = 0;
    let total = 0;
    for (const i of ids) {
      const a = g1.neighbours.get(i) as Set<NodeId>;
      for (const v of g2.neighbours.get(i) as Set<NodeId>) same += a.has(v) ? 1 : 0;
      total += a.size;
    }
    // k / (n − 1) ≈ 0.2 of the pairs coincide by chance; a graph the aggregator could hold fixed would be 1.
    expect(g1.shape.complete).toBe(false);
    expect(same / total).toBeLessThan(0.35);
  });
});

describe('a malicious aggregator and the reveal stage (n = 16, k = 6: sparse)', () => {
  const n = 16;
  const params = { num_shares: 7 };
  const rng = SeededRandom.fromSeed(8);
  const inputs = Array.from({ length: n }, () => [rng.int(100), rng.int(100)]);
  const run = (tamper?: SecAggRoundSetup['tamper']) => runSecAggRound({ inputs, params, seed: 8, backends, ...(tamper ? { tamper } : {}) });
  /** The bundle `body` with `edit` applied to its envelopes. */
  const rewrite = (body: Uint8Array, edit: (envelopes: Uint8Array[]) => Uint8Array[]): Uint8Array => {
    const b = decodeBundle(body);
    if (!b.ok) throw new Error(b.error);
    return encodeBundle({ roundId: b.value.roundId, envelopes: edit(b.value.envelopes) });
  };
  const senderOf = (e: Uint8Array): NodeId => {
    const d = decodeEnvelope(e);
    if (!d.ok) throw new Error(d.error);
    return nodeIdFromPublicKey(d.value.sender);
  };
  const shared = (o: Awaited<ReturnType<typeof run>>, i: number): boolean =>
    o.sentByParticipants.some((e) => e.type === MessageType.SecAggShareKeys && nodeIdFromPublicKey(e.sender) === o.ids[i]);

  it('honest: the round runs the reveal stage and its transcript recomputes to the sum', async () => {
    const o = await run();
    expect(o.shape).toMatchObject({ complete: false, degree: 6, threshold: 5 });
    expect(o.sentByParticipants.filter((e) => e.type === MessageType.SecAggSeedReveal)).toHaveLength(n);
    const r = await recomputeFromTranscript(o.transcript, { x25519: backends.x25519, prg: backends.prg, verifier: backends.newVerifier() });
    expect(r.ok && Array.from(r.value.sum)).toEqual(Array.from(o.result?.sum ?? []));
  });

  const attacks: Array<[string, (stage: SecAggStage, to: number, body: Uint8Array, ids: readonly NodeId[]) => Uint8Array, RegExp]> = [
    [
      'drops one reveal (to choose the seed among subsets)',
      (stage, to, body, ids) => (stage === 'share' && to === 0 ? rewrite(body, (es) => es.filter((e) => senderOf(e) !== ids[9])) : body),
      /1 advertiser did not reveal a graph-seed share \([0-9a-f]{32}\): a sparse round needs every one/,
    ],
    [
      'replaces a reveal with another of the same sender (a second try at the seed)',
      (stage, to, body, ids) => {
        if (stage !== 'share' || to !== 0) return body;
        // Another validly signed reveal cannot be made without 9's key; a changed reveal fails its commitment or signature.
        return rewrite(body, (es) =>
          es.map((e) => {
            if (senderOf(e) !== ids[9]) return e;
            const forged = e.slice();
            forged[forged.length - 70] = (forged[forged.length - 70] as number) ^ 1; // inside the revealed bytes
            return forged;
          }),
        );
      },
      /graph-seed reveal from [0-9a-f]{32} does not match its commitment|forged signature/,
    ],
  ];
  for (const [what, tamper, refusal] of attacks)
    it(`an aggregator that ${what} is refused before participant 0 shares`, async () => {
      const o = await run(tamper);
      expect(o.participantAborts[0]).toMatch(refusal);
      expect(shared(o, 0)).toBe(false);
    });

  it('showing one participant another advertisement list: its reveal names that list, and neither the aggregator nor the others can use it', async () => {
    // Participant 0 is shown the list without participant 9 (say, to move 0's neighbourhood).
    let ids: readonly NodeId[] = [];
    const o = await run((stage, to, body, all) => {
      ids = all;
      return stage === 'reveal' && to === 0 ? rewrite(body, (es) => es.filter((e) => senderOf(e) !== all[9])) : body;
    });
    expect(o.refusedByAggregator).toEqual([{ index: 0, error: 'graph-seed reveal names another advertisement list' }]);
    expect(o.result).toBeNull();
    expect(o.abortedIn).toBe('reveal');
    expect(o.abortReason).toMatch(new RegExp(`did not reveal a graph-seed share \\(${ids[0]}\\)`));
    expect(o.sentByParticipants.filter((e) => e.type === MessageType.SecAggShareKeys)).toEqual([]);
  });

  it('a transcript whose reveals were dropped, swapped for another list or mixed into a complete round does not verify', async () => {
    const o = await run();
    const d = { x25519: backends.x25519, prg: backends.prg, verifier: backends.newVerifier() };
    const typeOf = (e: Uint8Array): number => {
      const x = decodeEnvelope(e);
      return x.ok ? x.value.type : -1;
    };
    const at = o.transcript.findIndex((e) => typeOf(e) === MessageType.SecAggSeedReveal);
    const dropped = await recomputeFromTranscript(o.transcript.filter((_, i) => i !== at), d);
    expect(dropped.ok ? 'ok' : dropped.error).toBe(`1 advertiser did not reveal a graph-seed share (${senderOf(o.transcript[at] as Uint8Array)}): a sparse round needs every one`);
    // A reveal moved after the masked inputs is out of order.
    const moved = [...o.transcript.filter((_, i) => i !== at), o.transcript[at] as Uint8Array];
    const r = await recomputeFromTranscript(moved, d);
    expect(r.ok ? 'ok' : r.error).toMatch(/out of order/);
    // A reveal from another round of the same participants (another list) is refused by name.
    const other = await runSecAggRound({ inputs, params, seed: 8, backends, dropouts: { advertise: [15] } });
    const foreign = other.sentByParticipants.find((e) => e.type === MessageType.SecAggSeedReveal && bytesToHex(e.sender) === bytesToHex(decodeEnvelopeOrThrow(o.transcript[at] as Uint8Array).sender));
    if (!foreign) throw new Error('no foreign reveal');
    const swapped = o.transcript.map((e, i) => (i === at ? foreign.bytes : e));
    const s = await recomputeFromTranscript(swapped, d);
    expect(s.ok ? 'ok' : s.error).toMatch(/graph-seed reveal from [0-9a-f]{32} names another advertisement list/);
  });
});

function decodeEnvelopeOrThrow(e: Uint8Array) {
  const d = decodeEnvelope(e);
  if (!d.ok) throw new Error(d.error);
  return d.value;
}
