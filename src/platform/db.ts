// The tab's IndexedDB database, typed with idb's DBSchema. Migrations go in `upgrade` by version;
// later features (the audit log) add stores in new versions without touching existing data.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';

export interface IdentityRecord {
  slot: number;
  /** RFC 8032 32-byte private seed. */
  secretKey: Uint8Array;
  createdAtMs: number;
}

export interface LeaseRecord {
  slot: number;
  holder: string;
  expiresAtMs: number;
}

export interface AegisDB extends DBSchema {
  identities: { key: number; value: IdentityRecord };
  leases: { key: number; value: LeaseRecord };
}

export const DB_NAME = 'aegis';
export const DB_VERSION = 1;

export function openAegisDB(name = DB_NAME): Promise<IDBPDatabase<AegisDB>> {
  return openDB<AegisDB>(name, DB_VERSION, {
    upgrade(db, oldVersion) {
      if (oldVersion < 1) {
        db.createObjectStore('identities', { keyPath: 'slot' });
        db.createObjectStore('leases', { keyPath: 'slot' });
      }
    },
  });
}
