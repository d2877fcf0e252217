import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import type { ConsensusView } from '../src/node/consensus-view.ts';
import { nodeId, openNodes, waitForFullMesh } from './helpers.ts';

// Consensus in real tabs: the first tab writes genesis, four more fetch it, sync and request stake
// from the faucet until all five validate; heights commit with identical block hashes; one tab is
// made to equivocate from its developer panel and every other tab shows it slashed 5%, at
// reputation 0 and jailed, while heights keep committing; a reloaded validator resumes its chain.
test.describe.configure({ mode: 'serial' });

const ROOM = `consensus-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;

let context: BrowserContext;
let pages: Page[] = [];

const view = (page: Page): Promise<ConsensusView> => page.evaluate(() => JSON.parse(JSON.stringify(window.__aegis!.consensus.view())) as ConsensusView);
const hashAt = (page: Page, h: number): Promise<string | null> => page.evaluate((height) => window.__aegis!.consensus.committedHash(height), h);

async function waitAll(ps: Page[], pred: (v: ConsensusView) => boolean, what: string, timeout = 30_000): Promise<void> {
  await expect.poll(async () => (await Promise.all(ps.map(view))).every(pred), { timeout, intervals: [200], message: what }).toBe(true);
}

/**
 * The pages are on one chain (one genesis hash), and at the highest height all of them decided they
 * hold the same block hash. Each page must still have that height in its recent commits: a page that
 * started from a snapshot above it has no hash to compare, which is not a disagreement.
 */
async function agree(ps: Page[]): Promise<number> {
  const views = await Promise.all(ps.map(view));
  expect(new Set(views.map((v) => v.genesisHash)).size).toBe(1);
  const h = Math.min(...views.map((v) => v.committedHeight));
  // A page's view can show height h a moment before its commit record for h is written (a loaded
  // machine widens that moment): wait for each page's hash, then compare them.
  for (const p of ps) await expect.poll(() => hashAt(p, h), { message: `every page holds a hash for height ${h}` }).toMatch(/^[0-9a-f]{64}$/);
  const hashes = await Promise.all(ps.map((p) => hashAt(p, h)));
  expect(new Set(hashes).size).toBe(1);
  return h;
}

test.beforeAll(async ({ browser }) => {
  context = await browser.newContext({ permissions: ['camera', 'microphone'] });
  pages = [];
  for (let i = 0; i < 5; i++) pages.push(await context.newPage());
});

test.afterAll(async () => {
  await context?.close();
});

test('the first tab writes genesis; four newcomers fetch it, request stake and become validators; heights agree', async () => {
  const first = pages[0]!;
  await openNodes([first], ROOM);
  await waitAll([first], (v) => v.phase === 'running' && v.wroteGenesis && v.committedHeight >= 2, 'first tab commits alone');
  const genesis = (await view(first)).genesisHash;
  await expect(first.getByTestId('genesis-hash')).toHaveText(genesis!);

  const newcomers = pages.slice(1);
  await openNodes(newcomers, ROOM);
  await waitForFullMesh(pages);
  await waitAll(newcomers, (v) => v.phase === 'running' && v.genesisHash === genesis && !v.wroteGenesis, 'newcomers synced to the same genesis');
  for (const p of newcomers) {
    await expect(p.getByTestId('stake-status')).toHaveAttribute('data-status', 'observer');
    await p.getByTestId('request-stake').click();
  }
  const ids = await Promise.all(pages.map(nodeId));
  await waitAll(pages, (v) => v.validators.filter((r) => r.inSet).length === 5, 'five validators everywhere');
  for (const p of pages) await expect(p.getByTestId('stake-status')).toHaveAttribute('data-status', 'validator');
  const rows = (await view(first)).validators;
  expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort());
  for (const r of rows) expect(Math.abs(r.share - 0.2)).toBeLessThan(0.01);

  const h0 = Math.max(...(await Promise.all(pages.map(view))).map((v) => v.committedHeight));
  await waitAll(pages, (v) => v.committedHeight >= h0 + 3, 'heights keep committing');
  await agree(pages);
});

test('a tab told to equivocate is slashed 5%, set to reputation 0 and jailed on every other tab; the chain goes on', async () => {
  const culprit = pages[3]!;
  const culpritId = await nodeId(culprit);
  const honest = pages.filter((p) => p !== culprit);
  await culprit.getByText('Developer: misbehave').click();
  // Controlled by the store, which follows the service a moment later: click, then see it checked.
  await culprit.getByTestId('misbehave-equivocate').click();
  await expect(culprit.getByTestId('misbehave-equivocate')).toBeChecked();

  for (const p of honest) {
    const row = p.locator(`[data-validator="${culpritId}"]`);
    // The product commits the first double vote in the next block (checked below); the time allows
    // for a loaded 2-core CI machine.
    await expect(row).toHaveAttribute('data-jailed', 'true', { timeout: 40_000 });
    await expect(row).toHaveAttribute('data-stake', '950');
    await expect(row).toHaveAttribute('data-reputation', '0');
    await expect(p.locator(`[data-testid="evidence"] [data-offender="${culpritId}"]`)).toHaveAttribute('data-kind', 'duplicate-vote');
  }
  await culprit.getByTestId('misbehave-none').click();
  await expect(culprit.getByTestId('misbehave-none')).toBeChecked();
  const v = await view(honest[0]!);
  expect(v.validators.filter((r) => r.inSet)).toHaveLength(4);
  expect(v.evidence.filter((e) => e.offender === culpritId)).toHaveLength(1);
  expect(v.evidence[0]).toMatchObject({ kind: 'duplicate-vote', slashed: 50, stakeAfter: 950 });
  // Promptly: the block after the offence carries it, or one or two later if rounds failed under load.
  expect(v.evidence[0]!.committedHeight - v.evidence[0]!.offenceHeight).toBeLessThanOrEqual(3);

  const h = Math.max(...(await Promise.all(honest.map(view))).map((x) => x.committedHeight));
  await waitAll(honest, (x) => x.committedHeight >= h + 3, 'heights after the slash');
  await agree(honest);
});

test('a reloaded validator resumes on the same chain and keeps committing', async () => {
  const tab = pages[1]!;
  const before = await view(tab);
  await tab.reload();
  await tab.waitForFunction(() => window.__aegis?.consensus !== undefined, undefined, { timeout: 20_000 });
  await waitAll([tab], (v) => v.phase === 'running', 'reloaded tab running');
  const after = await view(tab);
  expect(after.genesisHash).toBe(before.genesisHash);
  expect(after.wroteGenesis).toBe(false);
  expect(after.committedHeight).toBeGreaterThanOrEqual(before.committedHeight);
  expect(after.self.status).toBe('validator');
  const live = pages.filter((p) => p !== pages[3]);
  const h = Math.max(...(await Promise.all(live.map(view))).map((x) => x.committedHeight));
  await waitAll(live, (x) => x.committedHeight >= h + 3, 'heights after the reload');
  await agree(live);
});
