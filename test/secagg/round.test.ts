import fc from 'fast-check';
import { bytesToHex } from '../../src/core/bytes.ts';
import { describe, expect, it } from 'vitest';
import { nodeIdFromPublicKey } from '../../src/core/crypto/node-id.ts';
import { decodeEnvelope } from '../../src/core/net/envelope.ts';
import { MessageType } from '../../src/core/net/message-types.ts';
import { decodeSum } from '../../src/core/secagg/encoding.ts';
import { decodeBundle, decodeIdList, encodeBundle, encodeIdList } from '../../src/core/secagg/messages.ts';
import { DEFAULT_PARAMS } from '../../src/core/secagg/params.ts';
import { recomputeFromTranscript } from '../../src/core/secagg/transcript.ts';
import { SeededRandom } from '../../src/sim/seeded-random.ts';
import { revealedByOwner } from './audit.ts';
import { deps, runRound, STAGES, type RoundOutcome } from './round-harness.ts';

// Inputs on the quantization grid decode exactly, so sums can be compared with toEqual.
const step = (2 * DEFAULT_PARAMS.clipping_range) / DEFAULT_PARAMS.quantization_range;
const gridInputs = (rng: SeededRandom, n: number, m: number): number[][] =>
  Array.from({ length: n }, () => Array.from({ length: m }, () => (rng.int(2001) - 1000) * step * 1024));

function expectedSum(inputs: number[][], who: number[]): number[] {
  const m = inputs[0]?.length ?? 0;
  const out = new Array<number>(m).fill(0);
  for (const i of who) for (let j = 0; j < m; j++) out[j] = (out[j] as number) + (inputs[i]?.[j] as number);
  return out;
}

function decoded(o: RoundOutcome): number[] {
  if (!o.result) throw new Error(`round aborted: ${o.abortReason}`);
  return Array.from(decodeSum(o.result.sum, o.result.contributors.length, DEFAULT_PARAMS));
}

function closeTo(a: number[], b: number[]): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs((a[i] as number) - (b[i] as number))).toBeLessThan(1e-9);
}

describe('secure aggregation round (aggregator + participants, real crypto)', () => {
  it('sums 5 inputs exactly with no dropouts, and anyone can recompute it from the transcript', async () => {
    const inputs = gridInputs(SeededRandom.fromSeed(7), 5, 16);
    const o = await runRound({ inputs });
    closeTo(decoded(o), expectedSum(inputs, [0, 1, 2, 3, 4]));
    const again = await recomputeFromTranscript(o.transcript, deps(SeededRandom.fromSeed(1)));
    expect(again.ok && Array.from(again.value.sum)).toEqual(Array.from(o.result?.sum ?? []));
    // The masked vectors that left the devices are not the encoded inputs.
    for (const p of o.participants) expect(Array.from(p.maskedVector ?? [])).not.toEqual(Array.from(p.encoded));
  });

  it.each(STAGES)('is exact for the survivors when one participant drops before %s', async (stage) => {
    const inputs = gridInputs(SeededRandom.fromSeed(11), 6, 8);
    const o = await runRound({ inputs, dropouts: { [stage]: [2] } });
    // Whoever sent a masked input counts, even if it vanished afterwards.
    const counted = stage === 'consistency' || stage === 'unmask' ? [0, 1, 2, 3, 4, 5] : [0, 1, 3, 4, 5];
    expect(o.result?.contributors).toEqual(counted.map((i) => o.ids[i]).sort());
    closeTo(decoded(o), expectedSum(inputs, counted));
  });

  it('releases nothing with fewer than min_contributors masked inputs', async () => {
    const inputs = gridInputs(SeededRandom.fromSeed(3), 4, 4);
    const o = await runRound({ inputs, dropouts: { mask: [0, 1] } });
    expect(o.result).toBeNull();
    expect(o.abortReason).toMatch(/min_contributors/);
  });

  it('aborts with a reason when dropouts exceed the threshold at unmasking', async () => {
    const inputs = gridInputs(SeededRandom.fromSeed(5), 6, 4);
    // n = 6, complete graph: 6 holders per secret, t = 5; losing 2 at unmasking leaves 4 < t.
    const o = await runRound({ inputs, dropouts: { unmask: [0, 1] } });
    expect(o.result).toBeNull();
    expect(o.abortReason).toMatch(/threshold/);
  });

  it('property: random dropouts at every stage give the exact sum of those who sent masked inputs, or an abort naming the shortfall', async () => {
    let exact = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 3, max: 9 }),
        fc.integer({ min: 1, max: 1e9 }),
        fc.array(fc.tuple(fc.constantFrom(...STAGES), fc.nat(8)), { maxLength: 3 }),
        async (n, seed, drops) => {
          const inputs = gridInputs(SeededRandom.fromSeed(seed), n, 3);
          const dropouts: Partial<Record<(typeof STAGES)[number], number[]>> = {};
          for (const [stage, i] of drops) if (i < n) (dropouts[stage] ??= []).push(i);
          const o = await runRound({ inputs, dropouts, seed });
          const firstDrop = new Map<number, number>();
          for (const [k, stage] of STAGES.entries()) for (const i of dropouts[stage] ?? []) if (!firstDrop.has(i)) firstDrop.set(i, k);
          const counted = inputs.map((_, i) => i).filter((i) => (firstDrop.get(i) ?? 99) > STAGES.indexOf('mask'));
          if (counted.length < DEFAULT_PARAMS.min_contributors) {
            expect(o.result).toBeNull();
            expect(o.abortReason).toMatch(/min_contributors is 3/);
          } else if (o.result) {
            expect(o.result.contributors).toEqual(counted.map((i) => o.ids[i]).sort());
            closeTo(decoded(o), expectedSum(inputs, counted));
            exact++;
          } else {
            // Only a real threshold shortfall may stop a round with enough masked inputs.
            const m = /only (\d+) [a-z -]+(?: of [0-9a-f]+)?, (?:threshold is|min_contributors is) (\d+)/.exec(o.abortReason ?? '');
            expect(m, `abort reason: ${o.abortReason}`).not.toBeNull();
            expect(Number(m?.[1])).toBeLessThan(Number(m?.[2]));
          }
        },
      ),
      { numRuns: 25 },
    );
    expect(exact).toBeGreaterThan(0);
  });

  it('a malicious aggregator that shows different survivor lists is refused, and no honest input becomes computable', async () => {
    const inputs = gridInputs(SeededRandom.fromSeed(9), 6, 4);
    // Tell participants 0..2 that participant 5 dropped, and 3..5 that it survived: it would get
    // node 5's mask-key shares from the first group and its self-seed shares from the second.
    const o = await runRound({
      inputs,
      tamper: (stage, to, body) => {
        if (stage !== 'consistency' || to > 2) return body;
        const l = decodeIdList(body);
        if (!l.ok) throw new Error(l.error);
        return encodeIdList({ roundId: l.value.roundId, ids: l.value.ids.slice(0, -1) });
      },
    });
    expect(o.result).toBeNull();
    const refusals = o.participantAborts.filter((r) => r && /different survivor list|leaves us out/.test(r));
    expect(refusals.length).toBeGreaterThan(0);
    // Audit every honest participant's outgoing messages.
    const t = 5; // 6 holders per secret, ⌊2·6/3⌋ + 1
    for (const [owner, c] of revealedByOwner(o)) {
      for (const kinds of c.byHolder.values()) expect(kinds.size).toBe(1);
      expect(c.selfSeed >= t && c.maskKey >= t, `both secrets of ${owner} reconstructable`).toBe(false);
    }
  });

  // The reviewer's attack: survivor list "5 dropped" to 0..2 and "5 survived" to 3..5, and each group
  // shown only its own group's consistency signatures, so no one sees a conflicting list.
  const splitSurvivorAttack = (stage: string, to: number, body: Uint8Array, ids: readonly string[]): Uint8Array => {
    const groupA = to <= 2;
    if (stage === 'consistency' && groupA) {
      const l = decodeIdList(body);
      if (!l.ok) throw new Error(l.error);
      return encodeIdList({ roundId: l.value.roundId, ids: l.value.ids.filter((id) => bytesToHex(id) !== ids[5]) });
    }
    if (stage === 'unmask') {
      const b = decodeBundle(body);
      if (!b.ok) throw new Error(b.error);
      const mine = b.value.envelopes.filter((e) => {
        const d = decodeEnvelope(e);
        const signer = d.ok ? ids.indexOf(nodeIdFromPublicKey(d.value.sender)) : -1;
        return signer >= 0 && signer <= 2 === groupA;
      });
      return encodeBundle({ roundId: b.value.roundId, envelopes: mine });
    }
    return body;
  };
  const exposed = (o: RoundOutcome, t: number): boolean => [...revealedByOwner(o).values()].some((c) => c.selfSeed >= t && c.maskKey >= t);

  it('control: with a low reconstruction_threshold and a semi-honest opt-in, the split-survivor attack exposes an input', async () => {
    const inputs = gridInputs(SeededRandom.fromSeed(21), 6, 4);
    const o = await runRound({ inputs, params: { reconstruction_threshold: 2 }, adversaryModel: 'semi-honest', tamper: splitSurvivorAttack });
    expect(exposed(o, 2)).toBe(true);
  });

  it('a round naming a threshold below the malicious-safe floor is refused by every honest participant at join (the split-survivor attack gets nothing)', async () => {
    const inputs = gridInputs(SeededRandom.fromSeed(21), 6, 4);
    const o = await runRound({ inputs, params: { reconstruction_threshold: 2 }, tamper: splitSurvivorAttack });
    expect(o.result).toBeNull();
    expect(o.participantAborts).toHaveLength(6);
    for (const r of o.participantAborts) expect(r).toMatch(/reconstruction_threshold 2 of 3 shares is below the malicious-safe floor 3/);
    expect(o.sentByParticipants).toEqual([]); // not even an advertisement
    expect(exposed(o, 2)).toBe(false);
  });

  it('a threshold safe for the smallest round but below the floor for the actual one is refused before any share leaves', async () => {
    const inputs = gridInputs(SeededRandom.fromSeed(22), 6, 4);
    // t = 3 is the floor for 3 shares (min_contributors) but not for the 6 of this round (floor 5).
    const o = await runRound({ inputs, params: { reconstruction_threshold: 3 }, tamper: splitSurvivorAttack });
    expect(o.result).toBeNull();
    expect(o.participantAborts).toHaveLength(6);
    for (const r of o.participantAborts) expect(r).toMatch(/reconstruction_threshold 3 of 6 shares is below the malicious-safe floor 5/);
    expect(o.sentByParticipants.filter((e) => e.type !== MessageType.SecAggAdvertise)).toEqual([]);
    expect(exposed(o, 3)).toBe(false);
  });

  it('a participant left out of the advertise bundle it is shown refuses to share', async () => {
    const inputs = gridInputs(SeededRandom.fromSeed(4), 4, 2);
    const o = await runRound({
      inputs,
      tamper: (stage, to, body, ids) => {
        if (stage !== 'share' || to !== 0) return body;
        const b = decodeBundle(body);
        if (!b.ok) throw new Error(b.error);
        const others = b.value.envelopes.filter((e) => {
          const d = decodeEnvelope(e);
          return d.ok && nodeIdFromPublicKey(d.value.sender) !== ids[0];
        });
        return encodeBundle({ roundId: b.value.roundId, envelopes: others });
      },
    });
    expect(o.participantAborts[0]).toMatch(/left out or altered/);
    const zeroShared = o.sentByParticipants.some((e) => e.type === MessageType.SecAggShareKeys && nodeIdFromPublicKey(e.sender) === o.ids[0]);
    expect(zeroShared).toBe(false);
  });

  it('recomputeFromTranscript rejects a transcript with any envelope altered or dropped', async () => {
    const inputs = gridInputs(SeededRandom.fromSeed(13), 4, 4);
    const o = await runRound({ inputs });
    const d = deps(SeededRandom.fromSeed(2));
    for (let i = 0; i < o.transcript.length; i++) {
      const flipped = o.transcript.map((e) => e.slice());
      const e = flipped[i] as Uint8Array;
      e[Math.floor(e.length / 2)] = (e[Math.floor(e.length / 2)] as number) ^ 1;
      expect((await recomputeFromTranscript(flipped, d)).ok).toBe(false);
    }
    // Dropping one unmask envelope either still verifies to the same sum (t shares remain) or fails.
    const typeOf = (e: Uint8Array): number => {
      const d = decodeEnvelope(e);
      return d.ok ? d.value.type : -1;
    };
    const unmaskIdx = o.transcript.findIndex((e) => typeOf(e) === MessageType.SecAggUnmask);
    const dropped = o.transcript.filter((_, i) => i !== unmaskIdx);
    const r = await recomputeFromTranscript(dropped, d);
    if (r.ok) expect(Array.from(r.value.sum)).toEqual(Array.from(o.result?.sum ?? []));
    // Dropping a masked input changes the contributor set: never the same claimed sum with the same contributors.
    const maskedIdx = o.transcript.findIndex((e) => typeOf(e) === MessageType.SecAggMaskedInput);
    const r2 = await recomputeFromTranscript(o.transcript.filter((_, i) => i !== maskedIdx), d);
    expect(r2.ok).toBe(false);
  });
});
