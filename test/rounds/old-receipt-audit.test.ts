// Auditing a peer whose receipts are older than the heights the chain keeps validator sets for
// (evidenceMaxAgeBlocks): the tab's receipt check derives the set from genesis through the chain's
// set-change certificates (light client), so an honest peer's old receipts stay green.
import { describe, expect, it } from 'vitest';
import type { ReceiptEntry } from '../../src/core/ledger/entry.ts';
import { verifyExportedLog } from '../../src/core/ledger/verify.ts';
import { chainExportMaterial, chainReceiptCheck } from '../../src/node/chain-rounds.ts';
import type { AuditView } from '../../src/node/ledger-service.ts';
import { entriesOf, network, runUntil } from './chain-network.ts';

const ROUND_PARAMS = { dimension: 2, timeout: 2000, min_contributors: 3 };
const INPUTS = [
  [1, 2],
  [3, 4],
  [5, 6],
  [7, 8],
];
/** Validator sets are kept for this many heights; the default (100) would make the test slow. */
const MAX_AGE = 4;

describe('auditing old receipts in tabs', () => {
  it('a peer whose receipts are far older than the kept validator sets audits green, its receipts checked in full', async () => {
    const { sim, tabs } = await network(INPUTS, {}, { evidenceMaxAgeBlocks: MAX_AGE, blockWindow: MAX_AGE, validatorSetIntervalBlocks: 5 });
    const roundHex = await tabs[1]!.rounds.open(ROUND_PARAMS);
    await runUntil(sim, () => tabs.every((t) => t.rounds.view(roundHex)?.receipt != null), 60_000);
    const receiptHeight = tabs[0]!.rounds.view(roundHex)!.receipt!.height;
    const chain = tabs[2]!.consensus.chainApp!;
    await runUntil(sim, () => chain.height > receiptHeight + 5 * MAX_AGE, 120_000);
    // The chain itself no longer knows the set that decided the receipt's height.
    expect(() => chain.validatorSet(receiptHeight)).toThrow(/validator set unknown/);
    const receipts = (await entriesOf(tabs[0]!)).filter((e): e is ReceiptEntry => e.kind === 'receipt');
    expect(receipts.map((r) => r.height)).toEqual([receiptHeight]);
    expect(receipts[0]!.block).toBeDefined();

    const check = chainReceiptCheck(tabs[2]!.consensus, sim.crypto);
    expect(await check(receipts[0]!, 0)).toEqual({ ok: true, value: undefined });
    tabs[2]!.ledger.setReceiptQcCheck(check);
    let audit: AuditView | null = null;
    sim.at(0, async () => {
      audit = await tabs[2]!.ledger.auditPeer(sim.nodes[0]!.id);
    });
    await runUntil(sim, () => audit !== null, 30_000);
    expect(audit!.failures).toEqual([]);
    expect(audit!.ok).toBe(true);
    expect(audit!.receiptQcs).toBe('checked');
    expect(audit!.checks.join('\n')).toMatch(/1 of 1 receipts checked in full/);

    // The tab's export with its chain's genesis and certificates checks every receipt offline.
    tabs[0]!.ledger.setExportChain(() => chainExportMaterial(tabs[0]!.consensus.chainApp));
    const exported = await tabs[0]!.ledger.exportLog();
    expect(exported.genesis).toBeDefined();
    const offline = await verifyExportedLog(JSON.stringify(exported), { verifier: sim.crypto });
    expect(offline.failures).toEqual([]);
    expect(offline.receiptQcs).toBe('checked');
    expect(offline.receiptsFullyChecked.length).toBe(1);

    // A receipt whose result item was altered fails the same check by name.
    const r = receipts[0]!;
    const altered = { ...r, block: { ...r.block!, result: { ...r.block!.result, sumHash: r.block!.result.sumHash.map((x) => x ^ 1) } } };
    expect(await check(altered, 0)).toMatchObject({ ok: false, error: expect.stringMatching(/results root/) });
  }, 120_000);
});
