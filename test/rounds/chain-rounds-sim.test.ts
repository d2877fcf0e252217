import { describe, expect, it } from 'vitest';
import { bytesEqual, bytesToHex, hexToBytes } from '../../src/core/bytes.ts';
import { decodeBlock, type AggregationResult } from '../../src/core/consensus/block.ts';
import { verifyQuorumCertificate } from '../../src/core/consensus/qc.ts';
import { nodeIdFromPublicKey } from '../../src/core/crypto/node-id.ts';
import type { ReceiptEntry } from '../../src/core/ledger/entry.ts';
import { checkReceipt } from '../../src/core/ledger/receipt-check.ts';
import { verifyExportedLog } from '../../src/core/ledger/verify.ts';
import { MessageType } from '../../src/core/net/message-types.ts';
import { encodeRoundOpen } from '../../src/core/secagg/messages.ts';
import { DEFAULT_PARAMS } from '../../src/core/secagg/params.ts';
import { entriesOf, N, network, runUntil, tamperedRound } from './chain-network.ts';

// Chain rounds end to end on unmodified AegisNodes over the seeded in-memory network (virtual time):
// 4 validators run consensus, secure aggregation and their audit logs; a round is opened by a
// transaction, aggregated by the node the chain designated, checked by every validator against its
// transcript, committed, and each contributor records a receipt.

const ROUND_PARAMS = { dimension: 3, timeout: 2000, min_contributors: 3 };
/** Inputs on the fixed-point grid (clipping 8, 2^22 steps: multiples of 2^-18), so encoding is exact. */
const INPUTS = [
  [1, 2, 3],
  [10, -2.5, 0.25],
  [-1, 0.5, 2],
  [4, 4, -4],
];
const SCALE = DEFAULT_PARAMS.quantization_range / (2 * DEFAULT_PARAMS.clipping_range);

describe('secure-aggregation rounds through the chain', () => {
  it('open by transaction, designated aggregator, a dropout after ShareKeys: the exact survivors\' sum commits, every contributor holds a receipt that checks, the dropped node none; tampered claims are refused and the chain moves on', async () => {
    const { sim, tabs } = await network(INPUTS);

    // Node `dropper` loses its masked input on the way (it sent its shares; it stays up).
    let dropper = -1;
    sim.nodes.forEach((s, i) => {
      const node = s.node;
      const send = node.sendTo.bind(node);
      node.sendTo = (to, type, body) =>
        i === dropper && type === MessageType.SecAggMaskedInput ? node.seal(type, body, typeof to === 'string' ? node.publicKeyOf(to) : to) : send(to, type, body);
    });

    const roundHex = await tabs[1]!.rounds.open(ROUND_PARAMS);
    await runUntil(sim, () => tabs.every((t) => t.rounds.view(roundHex)?.status === 'open'), 20_000);
    const aggregatorId = tabs[0]!.rounds.view(roundHex)!.aggregator!;
    const aggIndex = sim.nodes.findIndex((s) => s.id === aggregatorId);
    // The chain's choice: the proposer of the block that committed the transaction, the same on every node.
    const openCommit = tabs[0]!.commits.find((c) => c.events.some((e) => e.kind === 'round-opened'))!;
    expect(nodeIdFromPublicKey(openCommit.header.proposer)).toBe(aggregatorId);
    for (const t of tabs) expect(t.rounds.view(roundHex)).toMatchObject({ aggregator: aggregatorId, aggregatorIsSelf: t === tabs[aggIndex] });
    dropper = (aggIndex + 1) % N;

    // Nobody else may open this round: refused locally...
    const other = tabs[(aggIndex + 2) % N]!;
    expect(await other.secagg.openChainRound(hexToBytes(roundHex))).toMatchObject({ ok: false, error: expect.stringMatching(/designated/) });
    // ...and an Open for a chain round from a node that is not its aggregator is refused by participants,
    // also when it arrives while the transaction is gossiped but not committed yet (it is held till then).
    const fakeRound = new Uint8Array(16).fill(0xab);
    const params = { ...DEFAULT_PARAMS, ...ROUND_PARAMS };
    for (const t of tabs) t.secagg.announceChainRound(fakeRound);
    await sim.nodes[(aggIndex + 2) % N]!.node.broadcast(MessageType.SecAggOpen, encodeRoundOpen({ roundId: fakeRound, params }));
    await sim.runFor(500);
    for (const t of tabs) expect(t.secagg.views().some((v) => v.roundId === bytesToHex(fakeRound))).toBe(false);
    for (const t of tabs) t.secagg.expectChainRound(fakeRound, aggregatorId, params);

    const contributors = tabs.filter((_, i) => i !== dropper);
    await runUntil(sim, () => contributors.every((t) => t.rounds.view(roundHex)?.receipt !== null) && tabs[dropper]!.rounds.view(roundHex)?.status === 'committed', 90_000);

    for (const t of tabs.filter((x) => x !== other)) expect(t.secagg.refused['chain round opened by a node that is not its aggregator']).toBe(1);
    expect(tabs.every((t) => t.secagg.views().find((v) => v.roundId === bytesToHex(fakeRound))?.participantStage !== 'advertised')).toBe(true);

    // The committed result: the exact ring sum of the survivors' encodings, the same block everywhere.
    const resultCommit = tabs[0]!.commits.find((c) => c.results.some((r) => bytesToHex(r.roundId) === roundHex))!;
    const result = resultCommit.results[0] as AggregationResult;
    const survivors = INPUTS.filter((_, i) => i !== dropper);
    const want = [0, 1, 2].map((j) => survivors.reduce((s, x) => s + (x[j]! + DEFAULT_PARAMS.clipping_range) * SCALE, 0) >>> 0);
    expect(Array.from(result.sum)).toEqual(want);
    expect(result.contributors.map(bytesToHex)).toEqual(contributors.map((_, k) => sim.nodes.filter((_, i) => i !== dropper)[k]!.id).sort());
    expect(result.dropouts.map(bytesToHex)).toEqual([sim.get(dropper).id]);
    for (const t of tabs) expect(t.consensus.committedHash(resultCommit.height)).toBe(bytesToHex(resultCommit.hash));
    expect(tabs[0]!.consensus.state!.rounds.get(roundHex)?.completed).toBe(true);

    // Every contributor's receipt, read back from its exported log, checks; the whole log audits with QCs.
    const chain = tabs[0]!.consensus.chainApp!;
    const block = decodeBlock(chain.blocks.get(resultCommit.height)!.bytes);
    if (!block.ok) throw new Error(block.error);
    const validators = chain.validatorSet(resultCommit.height);
    for (const t of contributors) {
      const id = sim.nodes[tabs.indexOf(t)]!.id;
      expect(t.rounds.view(roundHex)!.receipt!.height).toBe(resultCommit.height);
      const receipts = (await entriesOf(t)).filter((e): e is ReceiptEntry => e.kind === 'receipt');
      expect(receipts.length).toBe(1);
      const ctx = { chainId: chain.state.chainId, verifier: sim.crypto, block: block.value, validators, contributor: id };
      expect(await checkReceipt(receipts[0]!, ctx)).toEqual({ ok: true, value: true });
      // Another contributor's receipt is not this node's.
      const notMine = contributors.find((x) => x !== t)!;
      expect((await checkReceipt(receipts[0]!, { ...ctx, contributor: sim.nodes[tabs.indexOf(notMine)]!.id })).ok).toBe(false);
      const verdict = await verifyExportedLog(await t.ledger.exportLog(), {
        verifier: sim.crypto,
        checkReceiptQc: (r) => verifyQuorumCertificate(r.qc, chain.validatorSet(r.height), chain.state.chainId, sim.crypto),
      });
      expect(verdict.failures).toEqual([]);
      expect(verdict.receiptQcs).toBe('checked');
    }
    // The dropped node: its contribution is in its log, but no receipt.
    const dropped = await entriesOf(tabs[dropper]!);
    expect(dropped.some((e) => e.kind === 'contribution' && bytesEqual(e.roundId, hexToBytes(roundHex)))).toBe(true);
    expect(dropped.some((e) => e.kind === 'receipt')).toBe(false);
    expect(tabs[dropper]!.rounds.view(roundHex)!.receiptDetail).toMatch(/dropped out/);

    // A second round whose aggregator tampers with the sum it claims.
    dropper = -1;
    // Wait until the tampering aggregator proposed its result and a later height committed after that.
    const { roundHex: second, badIndex, honest, refusedAt } = await tamperedRound(sim, tabs, ROUND_PARAMS);
    for (const t of honest) {
      expect(t.rounds.view(second)).toMatchObject({ claimChecked: false, claimDetail: expect.stringMatching(/sum differs/) });
      expect(t.rounds.refused['claim does not match its transcript']).toBe(1);
    }
    const h = Math.max(...refusedAt.flat());
    const decided = tabs[0]!.commits.find((c) => c.height === h)!;
    // The honest proposer's block of a later round decided that height; no result for the round committed.
    expect(decided.qc.round).toBeGreaterThanOrEqual(1);
    expect(nodeIdFromPublicKey(decided.header.proposer)).not.toBe(sim.get(badIndex).id);
    expect(tabs.every((t) => t.commits.every((c) => c.results.every((r) => bytesToHex(r.roundId) !== second)))).toBe(true);
    expect(tabs[0]!.consensus.state!.rounds.get(second)?.completed).toBe(false);
  }, 120_000);
});
