// The IndexedDB audit-log storage under fake-indexeddb (an in-memory implementation of the IDB
// spec): appends are atomic, each owner has its own range, the AuditLog reopens and self-checks.
// The real browser's IndexedDB is exercised end to end by the audit e2e spec.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { nobleEd25519 } from '../../src/core/crypto/ed25519.ts';
import { AuditLog } from '../../src/core/ledger/audit-log.ts';
import type { LogEntry } from '../../src/core/ledger/entry.ts';
import { openAegisDB } from '../../src/platform/db.ts';
import { IdbLogStorage } from '../../src/platform/idb-log-storage.ts';

let dbCounter = 0;
const freshDb = () => openAegisDB(`aegis-test-${dbCounter++}`);
const clock = { now: () => 1_700_000_000_000 };

function stakeEntry(i: number): LogEntry {
  return { kind: 'stake', timeMs: 1_700_000_000_000 + i, event: 'stake', height: i, amount: i + 1, total: 100 + i };
}

async function openLog(db: Awaited<ReturnType<typeof freshDb>>, owner: string, seed = 7) {
  const signer = await nobleEd25519.signer(new Uint8Array(32).fill(seed));
  const storage = await IdbLogStorage.open(db, owner);
  const log = await AuditLog.open({ storage, signer, verifier: nobleEd25519, clock });
  if (!log.ok) throw new Error(log.error);
  return { log: log.value, storage };
}

describe('IdbLogStorage', () => {
  it('stores entries, nodes and heads per owner and reopens to the same root', async () => {
    const db = await freshDb();
    const { log, storage } = await openLog(db, 'aa');
    for (let i = 0; i < 37; i++) await log.append(stakeEntry(i));
    const head = await log.signHead();
    expect(head.size).toBe(37);
    expect(await storage.size()).toBe(37);
    expect(storage.bytesStored).toBeGreaterThan(37 * 32);

    const other = await IdbLogStorage.open(db, 'bb');
    expect(await other.size()).toBe(0);
    expect(await other.heads()).toEqual([]);

    const again = await openLog(db, 'aa');
    const heads = await again.log.heads();
    expect(heads.map((h) => h.size)).toEqual([37]);
    expect(heads[0]?.root).toEqual(head.root);
    expect(again.storage.bytesStored).toBe(storage.bytesStored);
  });

  it('refuses a batch at the wrong index and writes nothing of it', async () => {
    const db = await freshDb();
    const storage = await IdbLogStorage.open(db, 'cc');
    await storage.commit({ firstIndex: 0, entries: [new Uint8Array([1])], nodes: [{ level: 0, index: 0, hash: new Uint8Array(32) }] });
    await expect(
      storage.commit({ firstIndex: 0, entries: [new Uint8Array([2])], nodes: [{ level: 0, index: 5, hash: new Uint8Array(32).fill(9) }] }),
    ).rejects.toThrow(/firstIndex/);
    expect(await storage.entries(0, 5)).toEqual([new Uint8Array([1])]);
    expect(await storage.nodes([{ level: 0, index: 5 }])).toEqual([undefined]);
  });

  it('a batch that fails midway leaves the log as it was, and the log still opens', async () => {
    const db = await freshDb();
    const { log } = await openLog(db, 'dd');
    for (let i = 0; i < 5; i++) await log.append(stakeEntry(i));
    await log.signHead();
    const storage = await IdbLogStorage.open(db, 'dd');
    // The entries are queued first; the node's value cannot be stored (DataCloneError).
    const unstorable = { slice: () => () => 0, length: 32 } as unknown as Uint8Array;
    await expect(
      storage.commit({ firstIndex: 5, entries: [new Uint8Array([1]), new Uint8Array([2])], nodes: [{ level: 0, index: 5, hash: unstorable }] }),
    ).rejects.toThrow();
    expect(await storage.size()).toBe(5);
    expect(await storage.nodes([{ level: 0, index: 5 }])).toEqual([undefined]);
    const again = await openLog(db, 'dd');
    expect((await again.log.heads()).map((h) => h.size)).toEqual([5]);
    expect(await again.log.append(stakeEntry(5))).toBe(5);
  });
});
