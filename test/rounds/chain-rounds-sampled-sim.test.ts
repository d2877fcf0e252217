import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import { decodeBlock, type AggregationResult } from '../../src/core/consensus/block.ts';
import type { ReceiptEntry } from '../../src/core/ledger/entry.ts';
import { checkReceipt } from '../../src/core/ledger/receipt-check.ts';
import { MessageType } from '../../src/core/net/message-types.ts';
import { CHUNK_WORDS } from '../../src/core/secagg/masked-chunks.ts';
import { DEFAULT_PARAMS } from '../../src/core/secagg/params.ts';
import { entriesOf, N, network, runUntil, tamperedRound } from './chain-network.ts';

// A chain round whose transcript is over the ship limit (set to 1 KiB here) goes the sampled way:
// the aggregator gossips the light transcript and the sampled chunks (type 47), every validator
// checks them before pooling and voting, the result commits, receipts check; a tampered sum on a
// sampled chunk is refused.

const DIM = 2 * CHUNK_WORDS + 100; // 3 chunks, the last one short
const ROUND_PARAMS = { dimension: DIM, timeout: 4000, min_contributors: 3 };
/** Multiples of 2^-18 inside the clipping range: encoded exactly. */
const INPUTS = Array.from({ length: N }, (_, i) => Array.from({ length: DIM }, (_, j) => ((i * 31 + j * 7) % 64) / 8 - 4));
const SCALE = DEFAULT_PARAMS.quantization_range / (2 * DEFAULT_PARAMS.clipping_range);

describe('chain rounds with a transcript too large to ship: the sampled check', () => {
  it('the round commits on sampled chunks with exact sum and checked receipts; a tampered sampled chunk is refused', async () => {
    const { sim, tabs } = await network(INPUTS, { maxShipBytes: 1024 });
    const sentTypes = new Map<number, number>();
    for (const s of sim.nodes) {
      const broadcast = s.node.broadcast.bind(s.node);
      s.node.broadcast = (type, body) => {
        sentTypes.set(type, (sentTypes.get(type) ?? 0) + 1);
        return broadcast(type, body);
      };
    }

    const roundHex = await tabs[1]!.rounds.open(ROUND_PARAMS);
    await runUntil(sim, () => tabs.every((t) => t.rounds.view(roundHex)?.receipt !== null), 120_000);
    expect(sentTypes.get(MessageType.ChainRoundSampledClaim)).toBe(1);
    expect(sentTypes.get(MessageType.ChainRoundClaim)).toBeUndefined();
    const aggregator = tabs[0]!.rounds.view(roundHex)!.aggregator!;
    for (const [i, t] of tabs.entries())
      if (sim.get(i).id !== aggregator) expect(t.rounds.view(roundHex)).toMatchObject({ claimChecked: true, claimDetail: expect.stringMatching(/3 public \+ 0 private sampled chunks/) });

    const commit = tabs[0]!.commits.find((c) => c.results.some((r) => bytesToHex(r.roundId) === roundHex))!;
    const result = commit.results[0] as AggregationResult;
    const want = Array.from({ length: DIM }, (_, j) => INPUTS.reduce((s, x) => s + (x[j]! + DEFAULT_PARAMS.clipping_range) * SCALE, 0) >>> 0);
    expect(Array.from(result.sum)).toEqual(want);
    const chain = tabs[0]!.consensus.chainApp!;
    const block = decodeBlock(chain.blocks.get(commit.height)!.bytes);
    if (!block.ok) throw new Error(block.error);
    for (const [i, t] of tabs.entries()) {
      const receipts = (await entriesOf(t)).filter((e): e is ReceiptEntry => e.kind === 'receipt');
      expect(receipts.length).toBe(1);
      const ctx = { chainId: chain.state.chainId, verifier: sim.crypto, block: block.value, validators: chain.validatorSet(commit.height), contributor: sim.get(i).id };
      expect(await checkReceipt(receipts[0]!, ctx)).toEqual({ ok: true, value: true });
    }

    // The aggregator of a second round claims a sum with its first word off by one (chunk 0, sampled).
    // Until the tampering aggregator proposed its result, every honest validator refused the block and a later height committed.
    const { roundHex: second, honest } = await tamperedRound(sim, tabs, ROUND_PARAMS);
    for (const t of honest) {
      expect(t.rounds.view(second)).toMatchObject({ claimChecked: false, claimDetail: expect.stringMatching(/sum differs on sampled chunk 0/) });
      expect(t.rounds.refused['sampled claim does not check']).toBe(1);
    }
    expect(tabs.every((t) => t.commits.every((c) => c.results.every((r) => bytesToHex(r.roundId) !== second)))).toBe(true);
    expect(tabs[0]!.consensus.state!.rounds.get(second)?.completed).toBe(false);
  }, 120_000);
});
