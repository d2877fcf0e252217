import { expect, test } from '@playwright/test';
import { openNodes, snapshot, waitForFullMesh } from './helpers.ts';

// A phone on plain-http LAN has no crypto.subtle and no navigator.locks (insecure context).
// Remove both before any app code runs: the node must fall back to @noble and IndexedDB leases.
test('without crypto.subtle and navigator.locks the node falls back to noble and leases', async ({ browser }) => {
  const room = `fallback-${Date.now().toString(36)}`;
  const plain = await browser.newContext({ permissions: ['camera'] });
  const degraded = await browser.newContext({ permissions: ['camera'] });
  await degraded.addInitScript(() => {
    Object.defineProperty(Crypto.prototype, 'subtle', { get: () => undefined, configurable: true });
    Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined, configurable: true });
  });
  try {
    const a = await plain.newPage();
    const b = await degraded.newPage();
    const c = await degraded.newPage();
    await openNodes([a, b, c], room);
    expect(await b.evaluate(() => typeof crypto.subtle)).toBe('undefined');
    await waitForFullMesh([a, b, c]);
    await expect(b.getByText('Ed25519 via noble')).toBeVisible();
    await expect(b.getByText('lease', { exact: false }).first()).toBeVisible();
    await expect(a.getByText('Ed25519 via webcrypto')).toBeVisible();
    const ids = await Promise.all([b, c].map(async (p) => (await snapshot(p)).id));
    expect(ids[0]).not.toBe(ids[1]);
    // A broadcast signed by noble verifies under WebCrypto and vice versa.
    await b.getByTestId('broadcast').click();
    await expect(b.getByTestId('broadcast-record').first()).toHaveAttribute('data-delivered', '2');
    await a.getByTestId('broadcast').click();
    await expect(a.getByTestId('broadcast-record').first()).toHaveAttribute('data-delivered', '2');
    // Reload keeps the identity in lease mode too.
    const before = (await snapshot(b)).id;
    await b.reload();
    expect((await snapshot(b)).id).toBe(before);
  } finally {
    await plain.close();
    await degraded.close();
  }
});
