// The sparse graph's seed by commit-reveal with a reveal committee (graph-seed.ts): an aggregator
// that learns the honest reveals can no longer choose the graph — every reveal it drops, swaps or
// answers with another advertisement list is refused before any share leaves, and the transcript
// carries the proof.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { bytesEqual, bytesToHex } from '../../src/core/bytes.ts';
import { nodeIdFromPublicKey, type NodeId } from '../../src/core/crypto/node-id.ts';
import { decodeEnvelope } from '../../src/core/net/envelope.ts';
import { MessageType } from '../../src/core/net/message-types.ts';
import {
  advertisementListHash,
  graphSeed,
  missingReveals,
  opensCommitment,
  REVEAL_ATTEMPTS,
  REVEAL_COMMITTEE_SIZE,
  revealChain,
  revealCommittee,
} from '../../src/core/secagg/graph-seed.ts';
import { SecAggAggregator } from '../../src/core/secagg/aggregator.ts';
import { decodeBundle, decodeRevealRequest, decodeSeedReveal, encodeBundle, encodeSeedReveal } from '../../src/core/secagg/messages.ts';
import { decodeSum } from '../../src/core/secagg/encoding.ts';
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
  it('a reveal opens its commitment only as the link of its attempt; one link does not give the next', () => {
    fc.assert(
      fc.property(bytes32, fc.integer({ min: 1, max: REVEAL_ATTEMPTS }), fc.nat(255), (secret, attempt, bit) => {
        const chain = revealChain(secret);
        expect(chain).toHaveLength(REVEAL_ATTEMPTS + 1);
        const r0 = chain[0] as Uint8Array;
        const link = chain[attempt] as Uint8Array;
        expect(opensCommitment(link, attempt, r0)).toBe(true);
        for (let other = 0; other <= REVEAL_ATTEMPTS + 1; other++) if (other !== attempt) expect(opensCommitment(link, other, r0)).toBe(false);
        const flipped = link.slice();
        flipped[bit >> 3] = (flipped[bit >> 3] as number) ^ (1 << (bit & 7));
        expect(opensCommitment(flipped, attempt, r0)).toBe(false);
        // Links differ: the aggregator that saw r_1 has not seen r_2.
        expect(new Set(chain.map(bytesToHex)).size).toBe(REVEAL_ATTEMPTS + 1);
      }),
      { numRuns: 200 },
    );
  });

  it('the list hash binds round, ids and every body; the seed binds the attempt and every reveal', () => {
    fc.assert(
      fc.property(bytes32, bytes32, fc.array(bytes32, { minLength: 2, maxLength: 8 }), fc.nat(), (a, b, bodies, pick) => {
        fc.pre(!bytesEqual(a, b));
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
        const reveals = new Map(bodies.map((_, j) => [id(j), j === k ? a : b]));
        const swapped = new Map(reveals).set(id(k), b);
        expect(bytesEqual(graphSeed(h, 1, reveals), graphSeed(h, 1, swapped))).toBe(false);
        expect(bytesEqual(graphSeed(h, 1, reveals), graphSeed(h, 2, reveals))).toBe(false);
        expect(missingReveals(list.keys(), fewer)).toEqual([id(k)]);
      }),
      { numRuns: 200 },
    );
  });

  it('committees: everyone up to REVEAL_COMMITTEE_SIZE, else that many picked by the list hash and the attempt', () => {
    const rng = SeededRandom.fromSeed(3);
    const ids = Array.from({ length: 1000 }, (_, k) => id(k));
    expect(revealCommittee(rng.bytes(32), 1, ids.slice(0, 20))).toEqual(ids.slice(0, 20));
    const h = rng.bytes(32);
    const c1 = revealCommittee(h, 1, ids);
    expect(c1).toHaveLength(REVEAL_COMMITTEE_SIZE);
    expect(c1).toEqual([...c1].sort());
    expect(revealCommittee(h, 1, [...ids].reverse())).toEqual(c1); // the order given does not matter
    const overlap = (a: string[], b: string[]): number => a.filter((x) => b.includes(x)).length;
    // Another attempt or another list: another committee (32 of 1000 twice by chance: ~1 in common).
    expect(overlap(c1, revealCommittee(h, 2, ids))).toBeLessThan(8);
    expect(overlap(c1, revealCommittee(rng.bytes(32), 1, ids))).toBeLessThan(8);
    expect(() => revealCommittee(h, 0, ids)).toThrow(/"attempt" must be an integer in 1\.\.4/);
    expect(() => revealCommittee(h, REVEAL_ATTEMPTS + 1, ids)).toThrow(/"attempt"/);
  });

  it('argument errors name the field; a sparse graph without a seed is a programmer error', () => {
    expect(() => revealChain(new Uint8Array(31))).toThrow(/"secret" must be 32 bytes/);
    expect(() => advertisementListHash(new Uint8Array(15), new Map())).toThrow(/"roundId" must be 16 bytes/);
    const ids = Array.from({ length: 100 }, (_, k) => id(k));
    expect(() => roundGraph(DEFAULT_PARAMS, ids, null)).toThrow(/needs its graph seed/);
    expect(roundGraph(DEFAULT_PARAMS, ids.slice(0, 10), null).shape.complete).toBe(true);
  });

  it('one honest reveal moves the whole graph: the neighbourhoods of two seeds that differ in it barely overlap', () => {
    const ids = Array.from({ length: 200 }, (_, k) => id(k));
    const rng = SeededRandom.fromSeed(4);
    const list = advertisementListHash(rng.bytes(16), new Map(ids.map((i) => [i, rng.bytes(64)])));
    const reveals = new Map(revealCommittee(list, 1, ids).map((i) => [i, rng.bytes(32)]));
    const someone = [...reveals.keys()][7] as NodeId;
    const g1 = roundGraph(DEFAULT_PARAMS, ids, graphSeed(list, 1, reveals));
    const g2 = roundGraph(DEFAULT_PARAMS, ids, graphSeed(list, 1, new Map(reveals).set(someone, rng.bytes(32))));
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
  const isAdvertiseBundle = (body: Uint8Array): boolean => {
    const b = decodeBundle(body);
    const first = b.ok ? b.value.envelopes[0] : undefined;
    const d = first ? decodeEnvelope(first) : null;
    return d?.ok === true && d.value.type === MessageType.SecAggAdvertise;
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
      // A committee of 16 tolerates ⌊16/10⌋ = 1 missing reveal: dropping two is one too many.
      'drops two reveals (to choose the seed among more subsets than the tolerance allows)',
      (stage, to, body, ids) => (stage === 'share' && to === 0 ? rewrite(body, (es) => es.filter((e) => senderOf(e) !== ids[9] && senderOf(e) !== ids[10])) : body),
      /^graph seed: 2 of the 16 members of the attempt-1 reveal committee did not reveal \([0-9a-f]{32}, [0-9a-f]{32}\); at most 1 may be missing$/,
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
      /graph-seed reveal from [0-9a-f]{32} does not open its commitment/,
    ],
  ];
  for (const [what, tamper, refusal] of attacks)
    it(`an aggregator that ${what} is refused before participant 0 shares`, async () => {
      const o = await run(tamper);
      expect(o.participantAborts[0]).toMatch(refusal);
      expect(shared(o, 0)).toBe(false);
    });

  it('a reveal missing within the tolerance (one of 16 here) still fixes the graph: the round completes without its silent member', async () => {
    const o = await runSecAggRound({ inputs, params, seed: 8, backends, dropouts: { reveal: [9] } });
    expect(o.abortReason).toBeNull();
    expect(o.participantAborts.filter((a) => a !== null)).toEqual([]);
    expect(o.result?.contributors).toEqual(o.ids.filter((_, i) => i !== 9).sort());
    expect(o.transcript.filter((e) => decodeEnvelopeOrThrow(e).type === MessageType.SecAggSeedReveal)).toHaveLength(n - 1);
    // The decoded sum is every input but participant 9's, each clipped to ±clipping_range (8).
    const clip = (v: number): number => Math.min(v, DEFAULT_PARAMS.clipping_range);
    const want = inputs.reduce((acc, x, i) => (i === 9 ? acc : acc.map((v, j) => v + clip(x[j] as number))), [0, 0]);
    expect(Array.from(decodeSum(o.result!.sum, n - 1, o.params))).toEqual(want);
  });

  it('showing one participant another advertisement list: its reveal names that list and is refused, and that participant refuses the others\' reveals before sharing', async () => {
    // Participant 0 is shown the list without participant 9 (say, to move 0's neighbourhood).
    const o = await run((stage, to, body, all) =>
      stage === 'reveal' && to === 0 && isAdvertiseBundle(body) ? rewrite(body, (es) => es.filter((e) => senderOf(e) !== all[9])) : body,
    );
    expect(o.refusedByAggregator).toEqual([{ index: 0, error: 'graph-seed reveal names another advertisement list' }]);
    // Its reveal missing is within the tolerance; every other reveal names the real list, which 0 was not shown.
    expect(o.participantAborts[0]).toMatch(/^the graph-seed reveal from [0-9a-f]{32} names another advertisement list$/);
    expect(shared(o, 0)).toBe(false);
    expect(o.result?.contributors).toHaveLength(n - 1);
    expect(o.result?.dropped).toEqual([o.ids[0]]);
  });

  it('a transcript whose reveals were dropped, moved or taken from another list does not verify', async () => {
    const o = await run();
    const d = { x25519: backends.x25519, prg: backends.prg, verifier: backends.newVerifier() };
    const typeOf = (e: Uint8Array): number => {
      const x = decodeEnvelope(e);
      return x.ok ? x.value.type : -1;
    };
    const at = o.transcript.findIndex((e) => typeOf(e) === MessageType.SecAggSeedReveal);
    // One missing is within the tolerance of a committee of 16 — but then it is another seed, whose
    // graph the masks and shares were not made for; two missing is refused by name.
    const one = await recomputeFromTranscript(o.transcript.filter((_, i) => i !== at), d);
    expect(one.ok).toBe(false);
    const dropped = await recomputeFromTranscript(o.transcript.filter((_, i) => i !== at && i !== at + 1), d);
    expect(dropped.ok ? 'ok' : dropped.error).toMatch(/^graph seed: 2 of the 16 members of the attempt-1 reveal committee did not reveal/);
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

describe('the aggregator at the reveal stage (n = 80)', () => {
  it('takes reveals from the current committee only, asks the next committee when one falls short, and aborts after the last', async () => {
    const rng = SeededRandom.fromSeed(12);
    const inputs = Array.from({ length: 80 }, () => [rng.int(100)]);
    const quiet = await runSecAggRound({ inputs, seed: 12, backends, concurrency: 4 });
    const sent = (type: number) => quiet.sentByParticipants.filter((e) => e.type === type);
    const ads = sent(MessageType.SecAggAdvertise);
    const first = decodeSeedReveal((sent(MessageType.SecAggSeedReveal)[0] as { body: Uint8Array }).body);
    if (!first.ok) throw new Error(first.error);
    const { roundId, advertisementsHash } = first.value;
    const agg = new SecAggAggregator('ff'.repeat(16), roundId, quiet.params, { x25519: backends.x25519, prg: backends.prg, verifier: backends.newVerifier() }, quiet.ids);
    for (const env of ads) expect(agg.accept(env).ok).toBe(true);
    const opened = await agg.closeStage(0);
    expect(opened.kind === 'send' && opened.messages.map((m) => m.type)).toEqual([MessageType.SecAggAdvertiseBundle]);
    expect(agg.stage).toBe('reveal');
    const members = new Set(revealCommittee(advertisementsHash, 1, quiet.ids));
    const outsider = ads.find((e) => !members.has(nodeIdFromPublicKey(e.sender))) as (typeof ads)[number];
    const crafted = (sender: Uint8Array, attempt: number) => ({
      ...outsider,
      type: MessageType.SecAggSeedReveal,
      sender,
      body: encodeSeedReveal({ roundId, advertisementsHash, attempt, reveal: rng.bytes(32) }),
    });
    expect(agg.accept(crafted(outsider.sender, 1))).toEqual({ ok: false, error: 'graph-seed reveal from outside the current committee' });
    const member = ads.find((e) => members.has(nodeIdFromPublicKey(e.sender))) as (typeof ads)[number];
    expect(agg.accept(crafted(member.sender, 2))).toEqual({ ok: false, error: 'graph-seed reveal from outside the current committee' });
    expect(agg.accept(crafted(member.sender, 1))).toEqual({ ok: false, error: 'graph-seed reveal does not open its commitment' });
    // The real reveals of all but four members: one more than the tolerance (3 of 32), so the aggregator asks attempt 2's.
    const missing = new Set([...members].slice(0, 4));
    const real = sent(MessageType.SecAggSeedReveal).filter((e) => !missing.has(nodeIdFromPublicKey(e.sender)));
    for (const env of real) expect(agg.accept(env)).toEqual({ ok: true, value: 'accepted' });
    expect(agg.counts.revealed).toBe(REVEAL_COMMITTEE_SIZE - 4);
    for (let attempt = 2; attempt <= REVEAL_ATTEMPTS; attempt++) {
      const ev = await agg.closeStage(attempt);
      if (ev.kind !== 'send') throw new Error(`attempt ${attempt}: ${ev.kind}`);
      const request = decodeRevealRequest((ev.messages[0] as { body: Uint8Array }).body);
      expect(ev.messages[0]?.type).toBe(MessageType.SecAggRevealRequest);
      expect(request.ok && request.value.attempt).toBe(attempt);
      expect(agg.counts.revealed).toBe(0); // an earlier attempt's reveals no longer count
      expect(agg.accept(real[0] as (typeof real)[number]).ok).toBe(false);
    }
    const last = await agg.closeStage(9);
    expect(last.kind).toBe('aborted');
    expect(agg.abortReason).toMatch(new RegExp(`^graph seed: ${REVEAL_COMMITTEE_SIZE} of the ${REVEAL_COMMITTEE_SIZE} members of the attempt-${REVEAL_ATTEMPTS} reveal committee did not reveal .*; at most 3 may be missing$`));
  });
});

