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

/** What the tab's `identities` store holds, read straight from IndexedDB (no app code involved). */
export interface StoredIdentity {
  slot: number;
  fields: string[];
  /** Byte length of every Uint8Array/ArrayBuffer field other than `publicKey` (a raw seed would show as 32). */
  otherByteFields: Record<string, number>;
  privateKey: { isCryptoKey: boolean; type: string; extractable: boolean; algorithm: string; usages: string[]; exportRefused: boolean } | null;
  publicKeyHex: string | null;
}

export async function storedIdentities(page: Page): Promise<StoredIdentity[]> {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open('aegis');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    try {
      const records = await new Promise<Record<string, unknown>[]>((resolve, reject) => {
        const req = db.transaction('identities', 'readonly').objectStore('identities').getAll();
        req.onsuccess = () => resolve(req.result as Record<string, unknown>[]);
        req.onerror = () => reject(req.error);
      });
      const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
      return Promise.all(
        records.map(async (r) => {
          const otherByteFields: Record<string, number> = {};
          for (const [k, v] of Object.entries(r)) {
            if (k === 'publicKey') continue;
            if (v instanceof Uint8Array) otherByteFields[k] = v.length;
            else if (v instanceof ArrayBuffer) otherByteFields[k] = v.byteLength;
          }
          const pk = r['privateKey'];
          let privateKey: StoredIdentity['privateKey'] = null;
          // CryptoKey is [SecureContext]: an insecure page has no such global.
          if (typeof CryptoKey !== 'undefined' && pk instanceof CryptoKey) {
            const exportRefused = await crypto.subtle.exportKey('pkcs8', pk).then(
              () => false,
              () => true,
            );
            privateKey = { isCryptoKey: true, type: pk.type, extractable: pk.extractable, algorithm: pk.algorithm.name, usages: [...pk.usages], exportRefused };
          } else if (pk !== undefined) {
            privateKey = { isCryptoKey: false, type: typeof pk, extractable: true, algorithm: '', usages: [], exportRefused: false };
          }
          const pub = r['publicKey'];
          return {
            slot: r['slot'] as number,
            fields: Object.keys(r).sort(),
            otherByteFields,
            privateKey,
            publicKeyHex: pub instanceof Uint8Array ? hex(pub) : null,
          };
        }),
      );
    } finally {
      db.close();
    }
  });
}
