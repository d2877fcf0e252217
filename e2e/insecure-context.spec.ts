import { expect, test } from '@playwright/test';
import type { RoundView } from '../src/node/secagg-service.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH, E2E_PORT } from './browser-flags.ts';
import { nodeId, storedIdentities, waitForFullMesh } from './helpers.ts';

// A tab opened over plain http from a name that is not localhost is an insecure context for real:
// no crypto.subtle in the page AND in its workers (fallback.spec.ts removes it with an init script,
// which never reaches a worker). The host resolver maps the made-up name aegis.test to the loopback
// test server, so nothing leaves the machine. The node must sign with noble, the worker must still
// mask (noble's AES-CTR), and a 3-tab secure-aggregation round must give the exact sum.
const HOST = 'aegis.test';
test.use({
  baseURL: `http://${HOST}:${E2E_PORT}`,
  launchOptions: { executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, `--host-resolver-rules=MAP ${HOST} 127.0.0.1`] },
});

// On the quantization grid (multiples of 2^-18), so the decoded sum is exact.
const INPUTS = [
  [1.5, -2, 3.25],
  [0.5, 4, -1],
  [-0.75, 1, 0.125],
];
const SUM = [1.25, 3, 2.375];

test('insecure context (http://aegis.test): noble in the page, masking still in the worker, exact 3-tab sum', async ({ browser }) => {
  const context = await browser.newContext({ permissions: ['camera', 'microphone'] });
  try {
    const pages = await Promise.all([0, 1, 2].map(() => context.newPage()));
    const room = `insecure-${Date.now().toString(36)}`;
    await Promise.all(pages.map((p) => p.goto(`/?room=${room}`)));
    await Promise.all(
      pages.map((p) => p.waitForFunction(() => window.__aegis !== undefined && window.__aegisEngine !== undefined, undefined, { timeout: 20_000 })),
    );

    for (const page of pages) {
      expect(new URL(page.url()).host).toBe(`${HOST}:${E2E_PORT}`);
      const env = await page.evaluate(async () => {
        // Ask a fresh worker what it has: the engine's worker is a module worker of the same origin.
        const probe = new Worker(URL.createObjectURL(new Blob(['postMessage({ secure: self.isSecureContext, subtle: typeof crypto.subtle })'])));
        const inWorker = await new Promise<{ secure: boolean; subtle: string }>((resolve) => (probe.onmessage = (e) => resolve(e.data)));
        probe.terminate();
        const engine = window.__aegisEngine?.engine as { ready?: Promise<string> } | undefined;
        const secagg = (window.__aegis as unknown as { secagg?: { engine?: unknown } }).secagg;
        return {
          secure: window.isSecureContext,
          subtle: typeof crypto.subtle,
          inWorker,
          engineName: await engine?.ready,
          serviceUsesIt: secagg?.engine === engine,
        };
      });
      expect(env.secure).toBe(false);
      expect(env.subtle).toBe('undefined');
      expect(env.inWorker).toEqual({ secure: false, subtle: 'undefined' });
      // The worker engine, not the page fallback, and with the PRG a host without WebCrypto has.
      expect(env.engineName).toMatch(/^worker: /);
      expect(env.engineName).toMatch(/noble/);
      expect(env.serviceUsesIt).toBe(true);
      await expect(page.getByText('Ed25519 via noble')).toBeVisible();
      // The documented limitation: noble signs from the seed, so without WebCrypto the seed is stored raw.
      await expect(page.getByTestId('identity-info')).toContainText('key stored raw');
    }
    const stored = await storedIdentities(pages[0]!);
    expect(stored).toHaveLength(3);
    for (const r of stored) {
      expect(r.fields).toEqual(['createdAtMs', 'secretKey', 'slot']);
      expect(r.otherByteFields).toEqual({ secretKey: 32 });
    }

    await waitForFullMesh(pages);
    const ids = await Promise.all(pages.map(nodeId));
    for (const [i, page] of pages.entries()) await page.evaluate((v) => window.__aegis!.secagg.setInput(v), INPUTS[i]!);
    await pages[0]!.evaluate(() => window.__aegis!.secagg.startRound({ dimension: 3, timeout: 5000 }));

    for (const [i, page] of pages.entries()) {
      const card = page.getByTestId('round-card').first();
      await expect(card).toHaveAttribute('data-stage', 'result', { timeout: 30_000 });
      await expect(card.getByTestId('round-sum')).toHaveText(SUM.join(', '));
      await expect(card.getByTestId('round-verified')).toHaveText('verified from transcript ✓');
      const [v] = await page.evaluate(() => JSON.parse(JSON.stringify(window.__aegis!.secagg.views())) as RoundView[]);
      expect(Object.values(v!.result!.sum)).toEqual(SUM); // a Float64Array, through JSON: {"0": …}
      expect(v!.result!.verified).toBe(true);
      expect([...v!.result!.contributors].sort()).toEqual([...ids].sort());
      // The vector that left this tab was masked (by the worker): not the input's encoding.
      const words = ((await card.getByTestId('masked-preview').textContent()) ?? '').split(' ').map((h) => Number.parseInt(h, 16));
      expect(words).toHaveLength(3);
      expect(words.some((w) => w > 2 ** 22), `tab ${i} sent an unmasked vector`).toBe(true);
    }
  } finally {
    await context.close();
  }
});
