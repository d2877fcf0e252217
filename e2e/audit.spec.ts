import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { nobleEd25519 } from '../src/core/crypto/ed25519.ts';
import { verifyExportedLog } from '../src/core/ledger/verify.ts';
import type { ConsensusView } from '../src/node/consensus-view.ts';
import { ledgerSnapshot, nodeId, openNodes, recordVotes, waitForFullMesh } from './helpers.ts';

// The audit log in real tabs: IndexedDB persistence across reloads and abrupt closes, auditing a
// peer from the dashboard, the export file checked by `aegis verify`, and a validator's forked log
// caught and penalised by the chain.
test.describe.configure({ mode: 'serial' });

const room = (what: string): string => `audit-${what}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;

async function newContext(browser: import('@playwright/test').Browser): Promise<BrowserContext> {
  return browser.newContext({ permissions: ['camera', 'microphone'], acceptDownloads: true });
}

test('entries survive a reload: the signed entries and head are unchanged, the next head is consistent; Export passes aegis verify', async ({ browser }) => {
  const context = await newContext(browser);
  const page = await context.newPage();
  await openNodes([page], room('reload'));
  const id = await nodeId(page);
  await recordVotes(page, 20);
  // Consensus may record this node's own votes meanwhile: compare what the signed head covers.
  const head = await page.evaluate(async () => {
    const h = await window.__aegis!.ledger.signAndGossip();
    return h ? { size: h.size, timeMs: h.timeMs } : null;
  });
  expect(head).not.toBeNull();
  const before = await ledgerSnapshot(page);
  expect(before).toMatchObject({ status: 'ready', head: { size: head!.size } });
  expect(before.size).toBeGreaterThanOrEqual(20);
  await expect(page.getByTestId('audit-head-root')).toHaveAttribute('title', before.head!.rootHex);
  const signedBefore = await page.evaluate((n) => window.__aegis!.ledger.entriesPage(0, n), head!.size);

  await page.reload();
  const after = await ledgerSnapshot(page);
  expect(await nodeId(page)).toBe(id);
  expect(after.status).toBe('ready');
  expect(after.error).toBeNull();
  expect(after.size).toBeGreaterThanOrEqual(before.head!.size);
  expect(await page.evaluate((n) => window.__aegis!.ledger.entriesPage(0, n), head!.size)).toEqual(signedBefore);
  // The head signed before the reload is still in the log, and its root is the root of those entries.
  const stillThere = await page.evaluate(
    async ([n, rootHex]) => {
      const log = window.__aegis!.ledger.auditLog!;
      const root = Array.from(await log.rootAt(n), (b) => b.toString(16).padStart(2, '0')).join('');
      const heads = await log.heads();
      return root === rootHex && heads.some((h) => h.size === n && Array.from(h.root, (b) => b.toString(16).padStart(2, '0')).join('') === rootHex);
    },
    [head!.size, before.head!.rootHex] as const,
  );
  expect(stillThere).toBe(true);

  await recordVotes(page, 3, 100);
  const size2 = await page.evaluate(async () => (await window.__aegis!.ledger.signAndGossip())?.size ?? 0);
  expect(size2).toBeGreaterThanOrEqual(head!.size + 3);

  // The Export button downloads the file; the verifier and `aegis verify` accept it, with a
  // consistency proof from the head signed before the reload onwards.
  const download = page.waitForEvent('download');
  await page.getByTestId('audit-export').click();
  const file = join(mkdtempSync(join(tmpdir(), 'aegis-audit-')), 'log.json');
  await (await download).saveAs(file);
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { consistency: { size1: number; size2: number }[] };
  expect(doc.consistency.some((c) => c.size1 === head!.size && c.size2 > head!.size)).toBe(true);
  const verdict = await verifyExportedLog(readFileSync(file, 'utf8'), { verifier: nobleEd25519 });
  expect(verdict.failures).toEqual([]);
  const out = execFileSync('node', ['bin/aegis.mjs', 'verify', file], { encoding: 'utf8' });
  expect(out).toContain('✓ valid audit log');
  await context.close();
});

test('a tab whose renderer crashes in the middle of appends: the log reopens in the same profile, passes its self-check, and holds a prefix', async ({ browser }) => {
  const context = await newContext(browser);
  const page = await context.newPage();
  const r = room('kill');
  await openNodes([page], r);
  const id = await nodeId(page);
  // One transaction per entry, as fast as the page can: the close lands in the middle of the stream.
  await page.evaluate(() => {
    const ledger = window.__aegis!.ledger;
    const w = window as unknown as { acked: number };
    w.acked = 0;
    void (async () => {
      for (let i = 0; i < 1_000_000; i++) {
        const res = await ledger.recordVote({ voteType: 2, height: i + 1, round: 77_777, blockHash: null });
        if (!res.ok) break;
        w.acked = i + 1;
      }
    })();
  });
  await page.waitForFunction(() => (window as unknown as { acked: number }).acked >= 300, undefined, { timeout: 20_000 });
  const acked = await page.evaluate(() => (window as unknown as { acked: number }).acked);
  // A real kill: the renderer process dies mid-stream (page.close, even without beforeunload, is a
  // clean shutdown that lets the page finish its work). IndexedDB lives in the browser process and
  // aborts the transaction the dead renderer left open.
  const cdp = await context.newCDPSession(page);
  const crashed = page.waitForEvent('crash', { timeout: 10_000 });
  void cdp.send('Page.crash').catch(() => undefined); // never answers: the renderer is gone
  await crashed;
  await page.close().catch(() => undefined);

  const again = await context.newPage();
  await openNodes([again], r);
  expect(await nodeId(again)).toBe(id);
  const snap = await ledgerSnapshot(again);
  expect(snap.status).toBe('ready');
  expect(snap.error).toBeNull();
  expect(snap.size).toBeGreaterThanOrEqual(acked);
  // The stream's entries (round 77777; consensus may add its own votes between them) are heights
  // 1, 2, 3, … with none missing: a prefix of what was being written.
  const summaries = await again.evaluate(async (n) => (await window.__aegis!.ledger.entriesPage(0, n)).map((e) => e.summary), snap.size);
  const heights = summaries.flatMap((s) => /height (\d+) round 77777 /.exec(s)?.slice(1).map(Number) ?? []);
  expect(heights.length).toBeGreaterThanOrEqual(acked);
  heights.forEach((h, i) => expect(h).toBe(i + 1));
  await context.close();
});

/** Slowest page.evaluate round trip seen by `view` (ms): a blocked main thread shows here. */
let slowest = 0;

async function view(page: Page): Promise<ConsensusView> {
  const started = Date.now();
  const v = await page.evaluate(() => JSON.parse(JSON.stringify(window.__aegis!.consensus.view())) as ConsensusView);
  slowest = Math.max(slowest, Date.now() - started);
  return v;
}

async function waitAll(ps: Page[], pred: (v: ConsensusView) => boolean, what: string, timeout = 30_000): Promise<void> {
  await expect.poll(async () => (await Promise.all(ps.map(view))).every(pred), { timeout, intervals: [200], message: what }).toBe(true);
}

test.describe('three tabs', () => {
  let context: BrowserContext;
  let pages: Page[] = [];
  let ids: string[] = [];

  test.beforeAll(async ({ browser }) => {
    context = await newContext(browser);
    pages = [];
    for (let i = 0; i < 3; i++) pages.push(await context.newPage());
    await openNodes(pages, room('mesh'));
    await waitForFullMesh(pages);
    ids = await Promise.all(pages.map(nodeId));
    await Promise.all(pages.map((p, i) => recordVotes(p, 5 + i)));
    await Promise.all(pages.map((p) => p.evaluate(() => window.__aegis!.ledger.signAndGossip())));
  });

  test.afterAll(async () => {
    await context?.close();
  });

  test('tab A audits tab B from the dashboard and gets a green verdict with the checks listed', async () => {
    const [a] = pages as [Page, Page, Page];
    await a.getByTestId('audit-peer-select').selectOption(ids[1]!);
    await a.getByTestId('audit-run').click();
    const verdict = a.getByTestId('audit-verdict').first();
    await expect(verdict).toHaveAttribute('data-ok', 'true');
    await expect(verdict).toContainText('✓ verified');
    await expect(verdict).toContainText(/in \d+(\.\d)? ms|in \d+\.\d+ s/);
    await expect(verdict).toContainText('inclusion proofs');
    const audits = (await ledgerSnapshot(a)).audits;
    expect(audits[0]).toMatchObject({ peer: ids[1], ok: true, failures: [] });
    expect(audits[0]!.entries).toBeGreaterThanOrEqual(6);
  });

  test('the Audit panel fits a 390 px wide screen', async () => {
    const a = pages[0]!;
    await a.setViewportSize({ width: 390, height: 800 });
    await a.getByTestId('audit-panel').scrollIntoViewIfNeeded();
    const panel = a.getByTestId('audit-panel');
    const box = await panel.boundingBox();
    expect(box).not.toBeNull();
    expect(box!.x + box!.width).toBeLessThanOrEqual(390);
    // Nothing inside sticks out of the panel except the entries table, which scrolls in its own box.
    const overflow = await panel.evaluate((el) => el.scrollWidth - el.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await expect(a.getByTestId('audit-run')).toBeVisible();
    await a.setViewportSize({ width: 1280, height: 800 });
  });

  test('tab C, a validator, forks its log from the developer panel: A and B catch it, the chain slashes, zeroes and jails C and goes on', async () => {
    const [a, b, c] = pages as [Page, Page, Page];
    // Every tab stakes from the faucet through its Consensus panel (the one that wrote genesis is a
    // validator already), so the chain outlives C's jailing: three validators, C one with power.
    await waitAll(pages, (v) => v.phase === 'running', 'every tab runs the chain');
    for (const p of pages) {
      if ((await view(p)).self.status === 'validator') continue;
      await expect(p.getByTestId('request-stake')).toBeEnabled();
      await p.getByTestId('request-stake').click();
    }
    await waitAll(pages, (v) => v.validators.filter((r) => r.inSet && r.power > 0).length === 3, 'three validators with power everywhere');
    await expect(c.getByTestId('stake-status')).toHaveAttribute('data-status', 'validator');
    const stake = (await view(a)).validators.find((r) => r.id === ids[2])!.stake;
    expect(stake).toBeGreaterThan(0);

    // Every page.evaluate from here on is timed: handling the evidence must not block a tab (an
    // evidence gossip storm once froze every tab's main thread for 20+ s).
    slowest = 0;
    await c.getByText('Developer tools').click();
    await c.getByTestId('dev-fork-log').click();
    for (const p of [a, b]) {
      const item = p.locator(`[data-testid="audit-evidence"] li[data-peer="${ids[2]}"][data-status="proven"]`);
      await expect(item).toBeVisible();
      await expect(item).toContainText('two different roots for size');
      // Handed to consensus through LedgerService.setSubmitEvidence (node/consensus-ledger.ts).
      await expect(item).toContainText('submitted to consensus');
    }
    const forker = await ledgerSnapshot(c);
    expect(forker.forks).toBe(1);
    expect(forker.evidence).toEqual([]);

    // The penalty, as A and B see the chain: slashed 5% (rounded up), reputation 0, jailed for good.
    const slashed = stake - Math.ceil(stake * 0.05);
    await waitAll([a, b], (v) => v.validators.some((r) => r.id === ids[2] && r.jailed), 'C jailed on A and B', 20_000);
    for (const p of [a, b]) {
      const v = await view(p);
      expect(v.validators.find((r) => r.id === ids[2])).toMatchObject({ stake: slashed, reputation: 0, jailed: true, tombstoned: true, power: 0, inSet: false });
      expect(v.evidence.filter((e) => e.offender === ids[2])).toEqual([expect.objectContaining({ kind: 'split-view', slashed: stake - slashed, stakeAfter: slashed })]);
      const row = p.locator(`[data-validator="${ids[2]}"]`);
      await expect(row).toHaveAttribute('data-jailed', 'true');
      await expect(row).toHaveAttribute('data-stake', String(slashed));
      await expect(row).toHaveAttribute('data-reputation', '0');
      await expect(p.locator(`[data-testid="evidence"] [data-offender="${ids[2]}"]`)).toHaveAttribute('data-kind', 'split-view');
    }
    const h = Math.max(...(await Promise.all([a, b].map(view))).map((v) => v.committedHeight));
    await waitAll(pages, (v) => v.committedHeight >= h + 3, 'heights keep committing after the slash');
    const hashes = await Promise.all(pages.map((p) => p.evaluate((height) => window.__aegis!.consensus.committedHash(height), h + 2)));
    expect(hashes[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(hashes).size).toBe(1);
    console.log(`audit e2e: slowest page.evaluate after the fork ${slowest} ms`);
    expect(slowest, 'slowest page.evaluate after the fork (ms)').toBeLessThan(3_000);
  });
});
