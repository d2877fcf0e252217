// Page side of the `ledger-idb` bench suite: append throughput of the audit log (AuditLog over
// IdbLogStorage, the same code a tab's node runs) into a fresh IndexedDB database in this tab.
import { VoteType } from '../../src/core/consensus/types.ts';
import { AuditLog } from '../../src/core/ledger/audit-log.ts';
import type { LogEntry } from '../../src/core/ledger/entry.ts';
import { openAegisDB } from '../../src/platform/db.ts';
import { IdbLogStorage } from '../../src/platform/idb-log-storage.ts';
import { detectEd25519Backend } from '../../src/platform/webcrypto-ed25519.ts';

export interface AppendRun {
  entries: number;
  batch: number;
  ms: number;
  entriesPerSecond: number;
  bytesStored: number;
}

/** Append `count` precommit entries, `batch` per commit (1: one transaction per entry). */
async function append(count: number, batch: number): Promise<AppendRun> {
  const name = `aegis-bench-${Math.random().toString(36).slice(2)}`;
  const db = await openAegisDB(name);
  try {
    const storage = await IdbLogStorage.open(db, 'bench');
    const backend = await detectEd25519Backend();
    const signer = await backend.signer(crypto.getRandomValues(new Uint8Array(32)));
    const opened = await AuditLog.open({ storage, signer, verifier: backend, clock: { now: () => Date.now() } });
    if (!opened.ok) throw new Error(opened.error);
    const log = opened.value;
    const entry = (i: number): LogEntry => ({ kind: 'vote', timeMs: Date.now(), voteType: VoteType.Precommit, height: i + 1, round: 0, blockHash: new Uint8Array(32).fill(i % 256) });
    const t0 = performance.now();
    for (let i = 0; i < count; i += batch) {
      const n = Math.min(batch, count - i);
      if (n === 1) await log.append(entry(i));
      else await log.appendMany(Array.from({ length: n }, (_, k) => entry(i + k)));
    }
    const ms = performance.now() - t0;
    return { entries: count, batch, ms, entriesPerSecond: (count / ms) * 1000, bytesStored: storage.bytesStored };
  } finally {
    db.close();
    indexedDB.deleteDatabase(name);
  }
}

declare global {
  interface Window {
    aegisLedgerBench?: { append: typeof append };
  }
}

window.aegisLedgerBench = { append };
