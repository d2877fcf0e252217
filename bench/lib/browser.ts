// Headless Chromium for the benchmarks: the same binary and WebRTC flags as the e2e tests
// (e2e/browser-flags.ts), one browser per bench run, a fresh context (empty IndexedDB) per measurement.
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../e2e/browser-flags.ts';
import type { NodeSnapshot } from '../../src/node/aegis-node.ts';

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

/**
 * A fresh profile with the media permission Chromium needs before it gathers host candidates.
 * tsx compiles the driver with esbuild's keepNames, which wraps named inner functions of
 * `page.evaluate` callbacks in `__name(...)`; the init script makes that helper exist in pages too.
 */
export async function newBenchContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ permissions: ['camera', 'microphone'] });
  await context.addInitScript({ content: 'globalThis.__name ??= (f) => f;' });
  return context;
}

export async function newPages(context: BrowserContext, n: number): Promise<Page[]> {
  const pages: Page[] = [];
  for (let i = 0; i < n; i++) pages.push(await context.newPage());
  return pages;
}

/** The node's snapshot, or null while the tab has not started its node yet. */
export async function trySnapshot(page: Page): Promise<NodeSnapshot | null> {
  return page.evaluate(() => {
    const hook = window.__aegis;
    return hook ? (JSON.parse(JSON.stringify(hook.snapshot())) as NodeSnapshot) : null;
  });
}

export async function snapshots(pages: readonly Page[]): Promise<(NodeSnapshot | null)[]> {
  return Promise.all(pages.map(trySnapshot));
}

export function connectedPeers(s: NodeSnapshot): NodeSnapshot['peers'] {
  return s.peers.filter((p) => p.status === 'connected');
}

export async function closeQuietly(context: BrowserContext | null): Promise<void> {
  try {
    await context?.close();
  } catch {
    // the browser may already be gone after a failure
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A short random suffix so every run joins a fresh room. */
export function freshRoom(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
