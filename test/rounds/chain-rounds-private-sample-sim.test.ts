import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import type { AggregationResult } from '../../src/core/consensus/block.ts';
import { decodeSampledClaim, type SampledClaim } from '../../src/core/consensus/sampled-claim.ts';
import { MessageType } from '../../src/core/net/message-types.ts';
import { CHUNK_WORDS } from '../../src/core/secagg/masked-chunks.ts';
import { DEFAULT_PARAMS } from '../../src/core/secagg/params.ts';
import type { Simulator } from '../../src/sim/simulator.ts';
import { N, network, runUntil, tamperedRound } from './chain-network.ts';

// Validators' private samples of a sampled claim. The public sample is one chunk of three
// (sampledChunks = 1), so every checking node draws the other two itself, after the claim is public,
// and asks the aggregator for their openings: a sum wrong only off the public sample is refused by
// every honest validator, and an aggregator that does not answer has its claim refused.

const DIM = 2 * CHUNK_WORDS + 100; // 3 chunks, the last one short
const ROUND_PARAMS = { dimension: DIM, timeout: 4000, min_contributors: 3 };
const INPUTS = Array.from({ length: N }, (_, i) => Array.from({ length: DIM }, (_, j) => ((i * 31 + j * 7) % 64) / 8 - 4));
const SCALE = DEFAULT_PARAMS.quantization_range / (2 * DEFAULT_PARAMS.clipping_range);
const WANT = Array.from({ length: DIM }, (_, j) => INPUTS.reduce((s, x) => s + (x[j]! + DEFAULT_PARAMS.clipping_range) * SCALE, 0) >>> 0);
const OPTIONS = { maxShipBytes: 1024, sampledChunks: 1 };

/** Counts every message sent (broadcast or direct) by type, and keeps the sampled claims. */
function watch(sim: Simulator): { sent: Map<number, number>; claims: SampledClaim[] } {
  const sent = new Map<number, number>();
  const claims: SampledClaim[] = [];
  for (const s of sim.nodes) {
    const broadcast = s.node.broadcast.bind(s.node);
    s.node.broadcast = (type, body) => {
      sent.set(type, (sent.get(type) ?? 0) + 1);
      if (type === MessageType.ChainRoundSampledClaim) {
        const d = decodeSampledClaim(body);
        if (d.ok) claims.push(d.value);
      }
      return broadcast(type, body);
    };
    const sendTo = s.node.sendTo.bind(s.node);
    s.node.sendTo = (to, type, body) => {
      sent.set(type, (sent.get(type) ?? 0) + 1);
      return sendTo(to, type, body);
    };
  }
  return { sent, claims };
}

describe('chain rounds: validators\' private samples of a sampled claim', () => {
  it('an honest round commits on 1 public + 2 private chunks, one request and one answer per checking node', async () => {
    const { sim, tabs } = await network(INPUTS, OPTIONS);
    const { sent } = watch(sim);
    const roundHex = await tabs[1]!.rounds.open(ROUND_PARAMS);
    await runUntil(sim, () => tabs.every((t) => t.rounds.view(roundHex)?.receipt !== null), 120_000);
    const aggregator = tabs[0]!.rounds.view(roundHex)!.aggregator!;
    for (const [i, t] of tabs.entries())
      if (sim.get(i).id !== aggregator) expect(t.rounds.view(roundHex)).toMatchObject({ claimChecked: true, claimDetail: expect.stringMatching(/1 public \+ 2 private sampled chunks/) });
    expect(sent.get(MessageType.ChainRoundSampledClaim)).toBe(1);
    expect(sent.get(MessageType.ChainRoundOpeningsRequest)).toBe(N - 1);
    expect(sent.get(MessageType.ChainRoundOpenings)).toBe(N - 1);
    const commit = tabs[0]!.commits.find((c) => c.results.some((r) => bytesToHex(r.roundId) === roundHex))!;
    expect(Array.from((commit.results[0] as AggregationResult).sum)).toEqual(WANT);
    for (const t of tabs) expect(Object.keys(t.rounds.refused).filter((k) => k.includes('openings'))).toEqual([]);
    // A re-check after the verdict memo is gone re-verifies the kept claim: the public chunk and the private ones.
    for (const [i, t] of tabs.entries()) {
      if (sim.get(i).id === aggregator) continue;
      (t.rounds as unknown as { verdicts: Map<string, unknown> }).verdicts.clear();
      expect(await t.rounds.checkResult(commit.results[0] as AggregationResult)).toEqual({ ok: true, value: true });
      // Another result under the same root — wrong only on chunks this node's private sample did not
      // draw, which the aggregator learnt when asked — is not vouched for by the kept claim.
      const other = { ...(commit.results[0] as AggregationResult), sum: (commit.results[0] as AggregationResult).sum.slice() };
      other.sum[DIM - 1] = ((other.sum[DIM - 1] as number) + 1) >>> 0;
      expect(await t.rounds.checkResult(other)).toEqual({ ok: false, error: 'another result under a root checked by sampling (its private chunks are known to the aggregator)' });
    }
  }, 120_000);

  it('a sum wrong only on a chunk the public sample leaves out is refused by every honest validator and never commits', async () => {
    const { sim, tabs } = await network(INPUTS, OPTIONS);
    const { claims } = watch(sim);
    const { roundHex, honest } = await tamperedRound(sim, tabs, ROUND_PARAMS, (r) => {
      r.tamperUnsampledResults = true;
    });
    // The claim's public chunk is right; the sum is off on another chunk only.
    expect(claims.length).toBe(1);
    const claim = claims[0]!;
    expect(claim.indices.length).toBe(1);
    const publicChunk = claim.indices[0]!;
    const wrong = Array.from(claim.result.sum)
      .map((w, j) => (w === WANT[j] ? -1 : Math.floor(j / CHUNK_WORDS)))
      .filter((c) => c >= 0);
    expect(wrong.length).toBe(1);
    expect(wrong[0]).not.toBe(publicChunk);
    for (const t of honest) {
      expect(t.rounds.view(roundHex)).toMatchObject({ claimChecked: false, claimDetail: expect.stringMatching(new RegExp(`sum differs on sampled chunk ${wrong[0]}`)) });
      expect(t.rounds.refused['sampled claim does not check']).toBe(1);
    }
    expect(tabs.every((t) => t.commits.every((c) => c.results.every((r) => bytesToHex(r.roundId) !== roundHex)))).toBe(true);
    expect(tabs[0]!.consensus.state!.rounds.get(roundHex)?.completed).toBe(false);
  }, 120_000);

  it('an aggregator that does not answer opening requests has its claim refused after the timeout; nothing commits', async () => {
    const { sim, tabs } = await network(INPUTS, OPTIONS);
    const { sent } = watch(sim);
    const { roundHex, honest } = await tamperedRound(sim, tabs, ROUND_PARAMS, (r) => {
      r.withholdOpenings = true;
    });
    expect(sent.get(MessageType.ChainRoundOpeningsRequest)).toBe(N - 1);
    expect(sent.get(MessageType.ChainRoundOpenings)).toBeUndefined();
    for (const t of honest) {
      expect(t.rounds.view(roundHex)).toMatchObject({ claimChecked: false, claimDetail: 'sampled claim refused: no openings for the private sample from the aggregator' });
      expect(t.rounds.refused['sampled claim: no openings from the aggregator']).toBe(1);
    }
    expect(tabs.every((t) => t.commits.every((c) => c.results.every((r) => bytesToHex(r.roundId) !== roundHex)))).toBe(true);
    expect(tabs[0]!.consensus.state!.rounds.get(roundHex)?.completed).toBe(false);
  }, 120_000);
});
