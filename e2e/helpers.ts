import type { Page } from '@playwright/test';
import type { NodeSnapshot } from '../src/node/aegis-node.ts';
import type { LedgerSnapshot } from '../src/node/ledger-service.ts';

export async function snapshot(page: Page): Promise<NodeSnapshot> {
  await page.waitForFunction(() => window.__aegis !== undefined, undefined, { timeout: 20_000 });
  return page.evaluate(() => {
    const hook = window.__aegis;
    if (!hook) throw new Error('no __aegis hook');
    return JSON.parse(JSON.stringify(hook.snapshot())) as NodeSnapshot;
  });
}

export async function nodeId(page: Page): Promise<string> {
  return (await snapshot(page)).id;
}

export function connectedIds(s: NodeSnapshot): string[] {
  return s.peers.filter((p) => p.status === 'connected').map((p) => p.id).sort();
}

/** Poll until every page is connected to exactly the others' ids. Returns the elapsed ms. */
export async function waitForFullMesh(pages: Page[], timeoutMs = 30_000): Promise<number> {
  const started = Date.now();
  const ids = await Promise.all(pages.map(nodeId));
  for (;;) {
    const snaps = await Promise.all(pages.map(snapshot));
    const done = snaps.every((s, i) => {
      const want = ids.filter((_, j) => j !== i).sort();
      return JSON.stringify(connectedIds(s)) === JSON.stringify(want);
    });
    if (done) return Date.now() - started;
    if (Date.now() - started > timeoutMs) {
      const summary = snaps.map((s) => `${s.id.slice(0, 8)}: ${s.peers.map((p) => `${p.id.slice(0, 6)}=${p.status}`).join(' ')}`);
      throw new Error(`mesh did not form in ${timeoutMs} ms:\n${summary.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function openNodes(pages: Page[], room: string): Promise<void> {
  // autostake=0: the specs drive "Request stake" themselves (and check the observer state before it).
  await Promise.all(pages.map((p) => p.goto(`/?room=${room}&autostake=0`)));
  await Promise.all(pages.map((p) => p.waitForFunction(() => window.__aegis !== undefined, undefined, { timeout: 20_000 })));
}

/** The tab's audit-log snapshot (LedgerService), once its node has started. */
export async function ledgerSnapshot(page: Page): Promise<LedgerSnapshot> {
  await page.waitForFunction(() => window.__aegis?.ledger !== undefined, undefined, { timeout: 20_000 });
  return page.evaluate(() => JSON.parse(JSON.stringify(window.__aegis!.ledger.snapshot())) as LedgerSnapshot);
}

/** Record `n` prevotes in the tab's audit log through the hook (resolves once stored). */
export async function recordVotes(page: Page, n: number, firstHeight = 1): Promise<void> {
  await page.evaluate(
    async ([count, h0]) => {
      const ledger = window.__aegis!.ledger;
      await Promise.all(Array.from({ length: count }, (_, i) => ledger.recordVote({ voteType: 1, height: h0 + i, round: 0, blockHash: new Uint8Array(32).fill((h0 + i) % 256) })));
    },
    [n, firstHeight] as const,
  );
}
