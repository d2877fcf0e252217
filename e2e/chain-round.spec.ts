import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import type { ChainRoundView } from '../src/node/chain-rounds.ts';
import type { ConsensusView } from '../src/node/consensus-view.ts';
import { ledgerSnapshot, nodeId, openNodes, waitForFullMesh } from './helpers.ts';

// One round end to end in real tabs (docs/DESIGN.md): 4 tabs run the chain as validators; the
// dashboard's "Start a round" submits an open-round transaction; the chain designates the
// aggregator (the proposer of the block that commits it); every validator recomputes the claimed
// result from the transcript before voting; every tab shows the exact sum; each contributor's
// audit log holds a receipt (block QC + Merkle path of its commitment), and another tab's audit of
// that log passes with the receipts' QCs checked.
test.describe.configure({ mode: 'serial' });

const ROOM = `chain-round-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
// On the fixed-point grid (multiples of 2^-18 at clipping_range 8), so the decoded sum is exact.
const INPUTS = [
  [1.5, -2, 3.25],
  [0.5, 4, -1],
  [2, 2, 2],
  [-0.75, 1, 0.125],
];
const SUM = [3.25, 5, 4.375];

let context: BrowserContext;
let pages: Page[] = [];

const view = (page: Page): Promise<ConsensusView> => page.evaluate(() => JSON.parse(JSON.stringify(window.__aegis!.consensus.view())) as ConsensusView);
const chainRounds = (page: Page): Promise<ChainRoundView[]> => page.evaluate(() => JSON.parse(JSON.stringify(window.__aegis!.rounds.views())) as ChainRoundView[]);

async function waitAll(ps: Page[], pred: (v: ConsensusView) => boolean, what: string, timeout = 40_000): Promise<void> {
  await expect.poll(async () => (await Promise.all(ps.map(view))).every(pred), { timeout, intervals: [200], message: what }).toBe(true);
}

test.beforeAll(async ({ browser }) => {
  context = await browser.newContext({ permissions: ['camera', 'microphone'] });
  pages = [];
  for (let i = 0; i < 4; i++) pages.push(await context.newPage());
  // The first tab writes genesis; the others join it and stake from the faucet.
  await openNodes([pages[0]!], ROOM);
  await waitAll([pages[0]!], (v) => v.phase === 'running' && v.committedHeight >= 1, 'first tab runs its chain');
  await openNodes(pages.slice(1), ROOM);
  await waitForFullMesh(pages);
  await waitAll(pages, (v) => v.phase === 'running', 'every tab runs the chain');
  for (const p of pages.slice(1)) await p.evaluate(() => window.__aegis!.consensus.requestStake());
  await waitAll(pages, (v) => v.validators.filter((r) => r.inSet).length === 4, 'four validators everywhere');
});

test.afterAll(async () => {
  await context?.close();
});

test('a round opened from the dashboard through the chain: exact sum in every tab, a receipt in each contributor\'s audit log, and auditing it passes', async () => {
  const ids = await Promise.all(pages.map(nodeId));
  for (const [i, p] of pages.entries()) await p.evaluate((v) => window.__aegis!.secagg.setInput(v), INPUTS[i]!);

  const opener = pages[1]!;
  await expect(opener.getByTestId('secagg-start-mode')).toHaveAttribute('data-chain', 'true');
  await opener.getByTestId('param-timeout').fill('4000');
  await opener.getByTestId('secagg-start').click();
  await expect.poll(async () => (await chainRounds(opener)).length, { timeout: 10_000 }).toBe(1);
  const roundId = (await chainRounds(opener))[0]!.roundId;

  // The chain's choice of aggregator is the same in every tab, and it is the node that ran the round.
  const aggregatorsSeen = async (): Promise<(string | null)[]> =>
    (await Promise.all(pages.map(chainRounds))).map((rs) => rs.find((r) => r.roundId === roundId)?.aggregator ?? null);
  await expect.poll(async () => (await aggregatorsSeen()).every((a) => a !== null), { timeout: 20_000 }).toBe(true);
  const seen = await aggregatorsSeen();
  expect(new Set(seen).size).toBe(1);
  const aggregator = seen[0]!;
  expect(ids).toContain(aggregator);

  for (const p of pages) {
    const card = p.locator(`[data-testid="round-card"][data-round="${roundId}"]`);
    await expect(card).toHaveAttribute('data-stage', 'result', { timeout: 45_000 });
    await expect(card).toHaveAttribute('data-contributors', '4');
    await expect(card.getByTestId('round-sum')).toHaveText(SUM.join(', '));
    const chain = card.getByTestId('round-chain');
    await expect(chain).toHaveAttribute('data-status', 'committed', { timeout: 30_000 });
    await expect(chain.getByTestId('round-chain-aggregator')).toHaveAttribute('title', aggregator);
    const receipt = card.getByTestId('round-receipt');
    await expect(receipt).toHaveText(/^receipt recorded \(height \d+\)/, { timeout: 15_000 });
    const height = Number(await receipt.getAttribute('data-height'));
    // The receipt is in this tab's log, at the committed height, and the panel lists it.
    const snap = await ledgerSnapshot(p);
    expect(snap.recent.some((e) => e.kind === 'receipt' && e.summary.includes(`final at height ${height}`))).toBe(true);
    await expect(p.locator('[data-testid="audit-entries"] tr[data-kind="receipt"]').first()).toContainText(`final at height ${height}`, { timeout: 10_000 });
  }
  // Every tab committed the same block at the result's height.
  const heights = await Promise.all(pages.map(async (p) => (await chainRounds(p)).find((r) => r.roundId === roundId)!.resultHeight!));
  expect(new Set(heights).size).toBe(1);
  const hashes = await Promise.all(pages.map((p) => p.evaluate((h) => window.__aegis!.consensus.committedHash(h), heights[0]!)));
  expect(new Set(hashes).size).toBe(1);

  // Auditing a contributor's log from another tab passes, receipts' QCs included.
  for (const [a, b] of [
    [0, 1],
    [2, 3],
  ] as const) {
    const auditor = pages[a]!;
    // An audit reads what the peer's latest signed head covers: wait until it covers the receipt
    // (heads are signed a moment after a batch of entries, LedgerService's head policy).
    const receiptIndex = (await ledgerSnapshot(pages[b]!)).recent.find((e) => e.kind === 'receipt')?.index ?? -1;
    await expect.poll(async () => (await ledgerSnapshot(pages[b]!)).head?.size ?? 0, { timeout: 15_000 }).toBeGreaterThan(receiptIndex);
    await auditor.getByTestId('audit-peer-select').selectOption(ids[b]!);
    await auditor.getByTestId('audit-run').click();
    const verdict = auditor.getByTestId('audit-verdict').first();
    await expect(verdict).toHaveAttribute('data-ok', 'true', { timeout: 20_000 });
    await expect(verdict).toContainText('receipts');
    const audit = (await ledgerSnapshot(auditor)).audits[0]!;
    expect(audit).toMatchObject({ peer: ids[b], ok: true, failures: [], receiptQcs: 'checked' });
  }
});
