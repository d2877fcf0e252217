// The audit log's LogStorage (core/ledger/storage.ts) over IndexedDB. One append is one readwrite
// transaction over the three log stores holding only its own requests (nothing else is awaited
// inside, or the transaction would auto-commit early), so a tab killed mid-append leaves the log
// as it was before or after it. Keys start with the owner's node id: one range per identity.
import type { IDBPDatabase } from 'idb';
import type { Hash } from '../core/ledger/merkle.ts';
import type { LogBatch, LogStorage } from '../core/ledger/storage.ts';
import type { NodeKey } from '../core/ledger/tree.ts';
import type { AegisDB } from './db.ts';

const LOG_STORES = ['logEntries', 'logNodes', 'logHeads'] as const;

export class IdbLogStorage implements LogStorage {
  /** Bytes this owner's log holds (entries + tree nodes + heads), kept up to date by commit. */
  bytesStored = 0;

  private constructor(
    private readonly db: IDBPDatabase<AegisDB>,
    private readonly owner: string,
  ) {}

  static async open(db: IDBPDatabase<AegisDB>, owner: string): Promise<IdbLogStorage> {
    const s = new IdbLogStorage(db, owner);
    s.bytesStored = await s.measure();
    return s;
  }

  private entryRange(from: number, to: number): IDBKeyRange {
    return IDBKeyRange.bound([this.owner, from], [this.owner, to], false, true);
  }

  async size(): Promise<number> {
    return this.db.count('logEntries', this.entryRange(0, Number.MAX_SAFE_INTEGER));
  }

  async entries(from: number, to: number): Promise<Uint8Array[]> {
    if (to <= from) return [];
    return this.db.getAll('logEntries', this.entryRange(from, to));
  }

  async nodes(keys: readonly NodeKey[]): Promise<(Hash | undefined)[]> {
    const tx = this.db.transaction('logNodes', 'readonly');
    const out = await Promise.all(keys.map((k) => tx.store.get([this.owner, k.level, k.index])));
    await tx.done;
    return out;
  }

  async heads(): Promise<Uint8Array[]> {
    return this.db.getAll('logHeads', IDBKeyRange.bound([this.owner, 0], [this.owner, Number.MAX_SAFE_INTEGER]));
  }

  async commit(batch: LogBatch): Promise<void> {
    const tx = this.db.transaction(LOG_STORES, 'readwrite');
    const entries = tx.objectStore('logEntries');
    const nodes = tx.objectStore('logNodes');
    const heads = tx.objectStore('logHeads');
    const requests: Promise<unknown>[] = [];
    // The size check runs inside the transaction, so two writers cannot both append at one index.
    const size = await entries.count(this.entryRange(0, Number.MAX_SAFE_INTEGER));
    if (size !== batch.firstIndex) {
      tx.abort();
      await tx.done.catch(() => undefined);
      throw new Error(`"firstIndex" ${batch.firstIndex} must be the stored log size ${size}`);
    }
    let bytes = 0;
    try {
      batch.entries.forEach((e, i) => {
        requests.push(entries.add(e.slice(), [this.owner, batch.firstIndex + i]));
        bytes += e.length;
      });
      for (const n of batch.nodes) {
        requests.push(nodes.put(n.hash.slice(), [this.owner, n.level, n.index]));
        bytes += n.hash.length;
      }
      if (batch.head !== undefined) {
        const headCount = await heads.count(IDBKeyRange.bound([this.owner, 0], [this.owner, Number.MAX_SAFE_INTEGER]));
        requests.push(heads.add(batch.head.slice(), [this.owner, headCount]));
        bytes += batch.head.length;
      }
    } catch (error) {
      // A request that throws while queuing (e.g. DataCloneError) must not let the rest commit.
      tx.abort();
      await Promise.allSettled([...requests, tx.done]);
      throw error;
    }
    await Promise.all([...requests, tx.done]);
    this.bytesStored += bytes;
  }

  /** Sum of stored bytes for this owner, read once at open. */
  private async measure(): Promise<number> {
    const tx = this.db.transaction(LOG_STORES, 'readonly');
    const lower = [this.owner];
    const upper = [this.owner, []]; // arrays sort after numbers: the whole owner range
    const range = IDBKeyRange.bound(lower, upper);
    let total = 0;
    for (const name of LOG_STORES) {
      for (const v of await tx.objectStore(name).getAll(range)) total += v.length;
    }
    await tx.done;
    return total;
  }
}
