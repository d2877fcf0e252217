import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { MessageType } from '../src/core/net/message-types.ts';
import { bytesToHex } from '../src/core/bytes.ts';
import { publicKeyFromSecret } from '../src/core/crypto/ed25519.ts';
import { nodeIdFromPublicKey } from '../src/core/crypto/node-id.ts';
import { connectedIds, nodeId, openNodes, snapshot, storedIdentities, waitForFullMesh, type StoredIdentity } from './helpers.ts';

// One network of 6 tabs across 2 browser contexts (separate profiles), shared by the steps below.
test.describe.configure({ mode: 'serial' });

const ROOM = `e2e-${Date.now().toString(36)}`;
let contexts: BrowserContext[] = [];
let pages: Page[] = [];

async function newContext(browser: Browser): Promise<BrowserContext> {
  const ctx = await browser.newContext({ permissions: ['camera', 'microphone'] });
  contexts.push(ctx);
  return ctx;
}

test.beforeAll(async ({ browser }) => {
  const a = await newContext(browser);
  const b = await newContext(browser);
  pages = [];
  for (let i = 0; i < 6; i++) pages.push(await (i < 3 ? a : b).newPage());
  await openNodes(pages, ROOM);
});

test.afterAll(async () => {
  for (const c of contexts) await c.close();
  contexts = [];
});

test('6 tabs in 2 contexts form a full mesh with distinct identities', async () => {
  const ms = await waitForFullMesh(pages);
  const ids = await Promise.all(pages.map(nodeId));
  expect(new Set(ids).size).toBe(6);
  // The dashboard shows the fingerprint, the room, and every peer connected.
  await expect(pages[0]!.getByTestId('room')).toHaveText(ROOM);
  await expect(pages[0]!.locator('tr[data-status="connected"]')).toHaveCount(5);
  const snap = await snapshot(pages[0]!);
  expect(snap.formationMs).not.toBeNull();
  console.log(`mesh of 6 formed in ${ms} ms after load; node 0 formationMs=${snap.formationMs}`);
});

test('a broadcast from the dashboard reaches every tab, with per-peer delivery shown', async () => {
  const before = await Promise.all(pages.map(async (p) => (await snapshot(p)).counters.received));
  await pages[0]!.getByTestId('broadcast').click();
  await expect(pages[0]!.getByTestId('broadcast-record').first()).toHaveAttribute('data-delivered', '5');
  for (let i = 1; i < pages.length; i++) {
    await expect.poll(async () => (await snapshot(pages[i]!)).counters.received).toBeGreaterThan(before[i]!);
  }
  const rec = (await snapshot(pages[0]!)).testBroadcasts[0]!;
  expect(Object.keys(rec.deliveries).sort()).toEqual(connectedIds(await snapshot(pages[0]!)));
});

test('a tampered envelope injected through the test hook is rejected and counted', async () => {
  const target = pages[2]!;
  const targetId = await nodeId(target);
  // Watch every TestBroadcast the target delivers from now on (other traffic — consensus hellos,
  // ledger heads — keeps arriving, so the received counter alone cannot say what was delivered).
  await target.evaluate((type) => {
    const w = window as unknown as { __delivered: number; __stopWatch: () => void };
    w.__delivered = 0;
    w.__stopWatch = window.__aegis!.node.onMessage(type, () => void w.__delivered++);
  }, MessageType.TestBroadcast);
  const before = await snapshot(target);
  // Bit 600 lies inside the 40-byte body of the sealed test broadcast: structure intact, signature broken.
  const sent = await pages[1]!.evaluate((id) => window.__aegis!.sendTampered(id, 600), targetId);
  expect(sent).toBe(true);
  await expect
    .poll(async () => (await snapshot(target)).counters.rejected['bad-signature'] ?? 0)
    .toBe((before.counters.rejected['bad-signature'] ?? 0) + 1);
  const delivered = await target.evaluate(() => {
    const w = window as unknown as { __delivered: number; __stopWatch: () => void };
    w.__stopWatch();
    return w.__delivered;
  });
  expect(delivered).toBe(0);
  await expect(target.getByTestId('counter-bad-signature')).toBeVisible();
});

test('a closed tab disappears from every other tab within 5 s', async () => {
  const closing = pages[5]!;
  const goneId = await nodeId(closing);
  const rest = pages.slice(0, 5);
  const t0 = Date.now();
  await closing.close();
  await Promise.all(
    rest.map((p) =>
      expect
        .poll(async () => (await snapshot(p)).peers.some((q) => q.id === goneId), { timeout: 5000, intervals: [100] })
        .toBe(false),
    ),
  );
  const elapsed = Date.now() - t0;
  console.log(`closed tab noticed by all 5 others in ${elapsed} ms`);
  expect(elapsed).toBeLessThan(5000);
  pages = rest;
});

test('a reloaded tab keeps its identity and reconnects', async () => {
  const page = pages[0]!;
  const idBefore = await nodeId(page);
  await page.reload();
  await page.waitForFunction(() => window.__aegis !== undefined);
  expect(await nodeId(page)).toBe(idBefore);
  await waitForFullMesh(pages);
});

test('two tabs of one profile never share an identity', async () => {
  const ctx = contexts[0]!;
  const extra = await ctx.newPage();
  await openNodes([extra], ROOM);
  const ids = await Promise.all([...pages, extra].map(nodeId));
  expect(new Set(ids).size).toBe(ids.length);
  await waitForFullMesh([...pages, extra]);
  await extra.close();
});

/** A slot as a secure context must leave it: a non-extractable Ed25519 CryptoKey and the public key, no seed. */
function expectKeyAtRest(record: StoredIdentity | undefined, publicKeyHex: string): void {
  expect(record).toBeDefined();
  expect(record!.fields).toEqual(['createdAtMs', 'privateKey', 'publicKey', 'slot']);
  expect(record!.otherByteFields).toEqual({}); // no raw 32-byte seed under any name
  expect(record!.privateKey).toEqual({ isCryptoKey: true, type: 'private', extractable: false, algorithm: 'Ed25519', usages: ['sign'], exportRefused: true });
  expect(record!.publicKeyHex).toBe(publicKeyHex);
}

test('in a secure context the identity rests as a non-extractable CryptoKey: no raw seed in IndexedDB', async () => {
  const ctx = contexts[0]!;
  const mine = pages.filter((p) => p.context() === ctx);
  expect(mine.length).toBeGreaterThan(0);
  const records = await storedIdentities(mine[0]!);
  for (const page of mine) {
    const snap = await snapshot(page);
    const slot = await page.evaluate(() => Number(sessionStorage.getItem('aegis.identity-slot')));
    expectKeyAtRest(records.find((r) => r.slot === slot), snap.publicKeyHex);
    await expect(page.getByTestId('identity-info')).toContainText('key non-extractable');
  }
  // Every slot this profile ever used (including reloaded and closed tabs') is a key pair.
  for (const r of records) expect(r.otherByteFields).toEqual({});
});

test('a raw seed left by an earlier version becomes a non-extractable CryptoKey with the same node id', async () => {
  const ctx = contexts[0]!;
  const opener = pages.find((p) => p.context() === ctx)!;
  const seed = new Uint8Array(32).map((_, i) => (i * 7 + 3) & 0xff);
  const publicKey = publicKeyFromSecret(seed);
  // Put an old-format record in the lowest slot no tab holds: the next tab of this profile takes that slot.
  const slot = await opener.evaluate(async (seedBytes) => {
    const held = new Set(((await navigator.locks.query()).held ?? []).map((l) => l.name));
    let free = 0;
    while (held.has(`aegis-identity-${free}`)) free++;
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open('aegis');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction('identities', 'readwrite');
      tx.objectStore('identities').put({ slot: free, secretKey: new Uint8Array(seedBytes), createdAtMs: 1_600_000_000_000 });
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    db.close();
    return free;
  }, [...seed]);
  const fresh = await ctx.newPage();
  try {
    await openNodes([fresh], ROOM);
    expect(await fresh.evaluate(() => Number(sessionStorage.getItem('aegis.identity-slot')))).toBe(slot);
    const snap = await snapshot(fresh);
    expect(snap.publicKeyHex).toBe(bytesToHex(publicKey));
    expect(snap.id).toBe(nodeIdFromPublicKey(publicKey));
    expectKeyAtRest((await storedIdentities(fresh)).find((r) => r.slot === slot), bytesToHex(publicKey));
    // It signs with the migrated key: the mesh accepts its handshake and envelopes.
    await waitForFullMesh([...pages, fresh]);
  } finally {
    await fresh.close();
  }
});
