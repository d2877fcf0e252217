// The tab's IndexedDB database, typed with idb's DBSchema. Migrations go in `upgrade` by version;
// later features (the audit log) add stores in new versions without touching existing data.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';

/**
 * An identity whose private key is a WebCrypto CryptoKey made non-extractable: IndexedDB keeps it by
 * structured clone and the browser never hands its bytes out again, so a script of the origin can use
 * the key while the page is open but cannot copy it away. Secure contexts with WebCrypto Ed25519.
 */
export interface KeyPairIdentityRecord {
  slot: number;
  /** Ed25519 private key, `extractable: false`, usages ['sign']. */
  privateKey: CryptoKey;
  /** RFC 8032 32-byte public key (the node id derives from it). */
  publicKey: Uint8Array;
  createdAtMs: number;
}

/**
 * An identity stored as its raw seed: what every version wrote before key pairs (migrated to a
 * KeyPairIdentityRecord on first load where WebCrypto Ed25519 exists), and what insecure contexts
 * still write — noble signs from the seed itself, there is no CryptoKey to keep instead.
 */
export interface RawIdentityRecord {
  slot: number;
  /** RFC 8032 32-byte private seed. */
  secretKey: Uint8Array;
  createdAtMs: number;
}

export type IdentityRecord = KeyPairIdentityRecord | RawIdentityRecord;

export function isRawIdentityRecord(r: IdentityRecord): r is RawIdentityRecord {
  return 'secretKey' in r;
}

export interface LeaseRecord {
  slot: number;
  holder: string;
  expiresAtMs: number;
}

/** Audit-log keys start with the owner's node id, so each identity's log is its own key range. */
export type LogEntryKey = [owner: string, index: number];
export type LogNodeKey = [owner: string, level: number, index: number];
export type LogHeadKey = [owner: string, seq: number];

export interface AegisDB extends DBSchema {
  identities: { key: number; value: IdentityRecord };
  leases: { key: number; value: LeaseRecord };
  // v2: the audit log (core/ledger storage.ts), values are the stored bytes.
  logEntries: { key: LogEntryKey; value: Uint8Array };
  logNodes: { key: LogNodeKey; value: Uint8Array };
  logHeads: { key: LogHeadKey; value: Uint8Array };
  // v2: consensus state per network (genesis, certified snapshot, recent blocks), by string key.
  chain: { key: string; value: Uint8Array };
}

export const DB_NAME = 'aegis';
export const DB_VERSION = 2;

export function openAegisDB(name = DB_NAME): Promise<IDBPDatabase<AegisDB>> {
  return openDB<AegisDB>(name, DB_VERSION, {
    upgrade(db, oldVersion) {
      if (oldVersion < 1) {
        db.createObjectStore('identities', { keyPath: 'slot' });
        db.createObjectStore('leases', { keyPath: 'slot' });
      }
      if (oldVersion < 2) {
        db.createObjectStore('logEntries');
        db.createObjectStore('logNodes');
        db.createObjectStore('logHeads');
        db.createObjectStore('chain');
      }
    },
    // A newer version opened in another tab: let it upgrade rather than block it forever.
    blocking(_current, _blockedVersion, event) {
      (event.target as IDBDatabase).close();
    },
  });
}
