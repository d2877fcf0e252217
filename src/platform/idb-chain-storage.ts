// ChainStorage (node/chain-storage.ts) over the IndexedDB `chain` store (db.ts v2): string keys,
// byte values. One short transaction per call; the node queues its writes in commit order.
import type { IDBPDatabase } from 'idb';
import type { ChainStorage } from '../node/chain-storage.ts';
import type { AegisDB } from './db.ts';

export function idbChainStorage(db: IDBPDatabase<AegisDB>): ChainStorage {
  return {
    get: (key) => db.get('chain', key),
    put: async (key, value) => {
      await db.put('chain', value, key);
    },
    delete: (key) => db.delete('chain', key),
    // '\uffff' sorts after every character a key uses, so the range is exactly the prefix.
    keys: (prefix) => db.getAllKeys('chain', IDBKeyRange.bound(prefix, `${prefix}\uffff`)),
  };
}
