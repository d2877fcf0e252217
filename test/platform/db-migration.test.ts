// IndexedDB v1 → v2: a database written by the first release (identities and leases only) opened
// by the current code keeps its identities — the node keeps its key, so its peers and its chain
// still know it — and gains the audit-log and chain stores, usable at once. The v1 database is
// created here by hand with the v1 schema, under fake-indexeddb.
import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { nobleEd25519 } from '../../src/core/crypto/ed25519.ts';
import { AuditLog } from '../../src/core/ledger/audit-log.ts';
import { DB_VERSION, openAegisDB } from '../../src/platform/db.ts';
import { claimIdentity } from '../../src/platform/identity-store.ts';
import { IdbLogStorage } from '../../src/platform/idb-log-storage.ts';

const key = (v: number): Uint8Array => new Uint8Array(32).fill(v);

/** Exactly what version 1 of src/platform/db.ts created, with two identities and a lease in it. */
async function createV1(name: string): Promise<void> {
  const db = await openDB(name, 1, {
    upgrade(d) {
      d.createObjectStore('identities', { keyPath: 'slot' });
      d.createObjectStore('leases', { keyPath: 'slot' });
    },
  });
  await db.put('identities', { slot: 0, secretKey: key(11), createdAtMs: 1_600_000_000_000 });
  await db.put('identities', { slot: 1, secretKey: key(22), createdAtMs: 1_600_000_000_001 });
  await db.put('leases', { slot: 1, holder: 'old-page', expiresAtMs: 1 });
  db.close();
}

describe('IndexedDB migration v1 → v2', () => {
  it('keeps every identity and lease, adds the log and chain stores, and the tab claims its old key', async () => {
    await createV1('aegis-v1-migration');
    expect(DB_VERSION).toBe(2);
    const db = await openAegisDB('aegis-v1-migration');
    expect(db.version).toBe(2);
    expect([...db.objectStoreNames].sort()).toEqual(['chain', 'identities', 'leases', 'logEntries', 'logHeads', 'logNodes']);
    expect(await db.getAll('identities')).toEqual([
      { slot: 0, secretKey: key(11), createdAtMs: 1_600_000_000_000 },
      { slot: 1, secretKey: key(22), createdAtMs: 1_600_000_000_001 },
    ]);
    expect(await db.get('leases', 1)).toEqual({ slot: 1, holder: 'old-page', expiresAtMs: 1 });

    // The identity store hands the tab its v1 key, not a fresh one (raw-seed path here; the move to a
    // non-extractable CryptoKey is identity-key-at-rest.test.ts).
    const held = await claimIdentity({ db, locks: null, session: null, keyPairs: null, randomSecretKey: () => key(99), now: () => 1_700_000_000_000, pageToken: 'new-page' });
    try {
      expect(held.slot).toBe(0);
      expect(held.key).toEqual({ kind: 'raw-seed', secretKey: key(11) });
    } finally {
      held.release();
    }

    // The new stores work: a log opens, appends and reopens under that identity.
    if (held.key.kind !== 'raw-seed') throw new Error('expected the raw seed');
    const signer = await nobleEd25519.signer(held.key.secretKey);
    const clock = { now: () => 1_700_000_000_000 };
    const opened = await AuditLog.open({ storage: await IdbLogStorage.open(db, 'me'), signer, verifier: nobleEd25519, clock });
    if (!opened.ok) throw new Error(opened.error);
    await opened.value.append({ kind: 'stake', timeMs: 1, event: 'stake', height: 1, amount: 5, total: 5 });
    await opened.value.signHead();
    db.close();

    const again = await openAegisDB('aegis-v1-migration');
    expect((await again.getAll('identities')).map((r) => r.slot)).toEqual([0, 1]);
    const reopened = await AuditLog.open({ storage: await IdbLogStorage.open(again, 'me'), signer, verifier: nobleEd25519, clock });
    expect(reopened.ok && reopened.value.size).toBe(1);
    again.close();
  });
});
