// Which identity this tab uses. Decision (see README "Identity"): identities live in numbered
// slots in IndexedDB and a tab holds exactly one slot exclusively while it is open:
//  - secure contexts: a Web Lock per slot (`aegis-identity-<n>`), released by the browser when the tab
//    closes or reloads — two tabs of one profile can never act as the same node;
//  - insecure contexts (plain-http LAN, where navigator.locks does not exist): a lease record renewed
//    every second in an IndexedDB transaction; a slot is free once its lease lapses.
// The slot a tab held is remembered in sessionStorage, so a reload takes the same slot back and keeps
// its identity; a second tab takes the next free slot (creating its key on first use).
//
// The private key at rest: where WebCrypto Ed25519 works (`keyPairs` given), a slot holds a
// NON-EXTRACTABLE private CryptoKey and the public key — never the seed, so a script of the origin
// (an XSS, an extension) can sign while the tab is open but cannot read the key out and take it
// elsewhere. A raw-seed record from an earlier version is converted on first load, keeping its public
// key and so its node id. Without WebCrypto (insecure contexts, noble) the slot holds the raw seed.
import type { IDBPDatabase } from 'idb';
import { bytesEqual } from '../core/bytes.ts';
import { isRawIdentityRecord, type AegisDB, type KeyPairIdentityRecord, type RawIdentityRecord } from './db.ts';
import type { Ed25519Backend, Signer } from '../core/crypto/ed25519.ts';
import { webCryptoIdentityKeyPairs, type Ed25519KeyPair, type IdentityKeyPairs } from './webcrypto-ed25519.ts';

export const MAX_SLOTS = 64;
const SESSION_KEY = 'aegis.identity-slot';
const LEASE_MS = 5000;
const LEASE_RENEW_MS = 1000;

/** The held slot's key: a WebCrypto key pair, or (no WebCrypto) the raw seed noble signs with. */
export type IdentityKey = ({ kind: 'key-pair' } & Ed25519KeyPair) | { kind: 'raw-seed'; secretKey: Uint8Array };

export interface HeldIdentity {
  slot: number;
  key: IdentityKey;
  /** How exclusivity is enforced in this tab. */
  exclusivity: 'web-locks' | 'lease';
  release(): void;
}

export interface IdentityStoreEnv {
  db: IDBPDatabase<AegisDB>;
  locks: LockManager | null;
  session: Pick<Storage, 'getItem' | 'setItem'> | null;
  /**
   * WebCrypto Ed25519 key pairs, where the context has them (secure context, self-tested backend):
   * slots then hold non-extractable CryptoKeys. Null: slots hold raw seeds (noble fallback).
   */
  keyPairs: IdentityKeyPairs | null;
  /** A fresh 32-byte seed; used only without `keyPairs`. */
  randomSecretKey(): Uint8Array;
  now(): number;
  /** Unique per page load. */
  pageToken: string;
}

export async function claimIdentity(env: IdentityStoreEnv): Promise<HeldIdentity> {
  const preferred = Number(env.session?.getItem(SESSION_KEY) ?? NaN);
  const held = env.locks ? await claimWithLocks(env, preferred) : await claimWithLease(env, preferred);
  env.session?.setItem(SESSION_KEY, String(held.slot));
  try {
    const key = env.keyPairs ? await loadOrCreateKeyPair(env, env.keyPairs, held.slot) : await loadOrCreateSeed(env, held.slot);
    return { ...held, key };
  } catch (e) {
    held.release();
    throw e;
  }
}

/**
 * The node's signer for the held key: from a raw seed by the Ed25519 backend; over a stored
 * CryptoKey by `subtle.sign` — with `keyPairs` when the context has them, else with the page's
 * `subtle` whatever the backend self-test said (a self-test that threw once in a secure context
 * falls back to noble, yet the stored key still signs; the signer checks the pair before use).
 * Only without `subtle` (an insecure context) is such a key unusable: it cannot be exported.
 */
export async function identitySigner(
  key: IdentityKey,
  backend: Pick<Ed25519Backend, 'signer'>,
  keyPairs: IdentityKeyPairs | null,
  subtle: SubtleCrypto | undefined,
): Promise<Signer> {
  if (key.kind === 'raw-seed') return backend.signer(key.secretKey);
  if (keyPairs) return keyPairs.signer(key);
  if (subtle === undefined) {
    // A key pair stored while this origin had WebCrypto, opened where it has none (plain http).
    throw new Error('this identity is a WebCrypto key, and WebCrypto is unavailable here (not a secure context); its private key cannot be exported');
  }
  try {
    return await webCryptoIdentityKeyPairs(subtle).signer(key);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`this identity is a WebCrypto key, and WebCrypto Ed25519 cannot sign with it here: ${reason}`, { cause: error });
  }
}

async function loadOrCreateSeed(env: IdentityStoreEnv, slot: number): Promise<IdentityKey> {
  const fresh = env.randomSecretKey();
  // One readwrite transaction: read and, if missing, create — no await on anything else inside.
  const tx = env.db.transaction('identities', 'readwrite');
  const existing = await tx.store.get(slot);
  if (existing) {
    await tx.done;
    fresh.fill(0);
    // A key pair stored by a secure context of this origin is still usable if WebCrypto signs here.
    return isRawIdentityRecord(existing) ? { kind: 'raw-seed', secretKey: existing.secretKey } : keyPairOf(existing);
  }
  await tx.store.put({ slot, secretKey: fresh, createdAtMs: env.now() });
  await tx.done;
  return { kind: 'raw-seed', secretKey: fresh };
}

const keyPairOf = (r: KeyPairIdentityRecord): IdentityKey => ({ kind: 'key-pair', privateKey: r.privateKey, publicKey: r.publicKey });

/** How often a slot changing under us (it should not: the tab holds it exclusively) is retried. */
const MAX_KEY_ATTEMPTS = 3;

async function loadOrCreateKeyPair(env: IdentityStoreEnv, keyPairs: IdentityKeyPairs, slot: number): Promise<IdentityKey> {
  for (let attempt = 0; attempt < MAX_KEY_ATTEMPTS; attempt++) {
    const existing = await env.db.get('identities', slot);
    if (existing && !isRawIdentityRecord(existing)) return keyPairOf(existing);
    let pair: Ed25519KeyPair;
    let written: boolean;
    try {
      // WebCrypto first, outside any transaction: IndexedDB commits a transaction that waits on anything else.
      pair = existing ? await keyPairs.importSeed(existing.secretKey) : await keyPairs.generate();
      written = await putIfUnchanged(env, slot, existing, pair);
    } finally {
      // The raw seed read from IndexedDB is not left in memory, also when the import or the write failed.
      if (existing) existing.secretKey.fill(0);
    }
    if (written) return { kind: 'key-pair', ...pair };
    // Someone else changed the slot in between: start over from what it holds now.
  }
  throw new Error(`identity slot ${slot} kept changing while its key was being stored`);
}

/**
 * One readwrite transaction: store `pair` in the slot if it still holds what we read before making
 * the pair — nothing (a new identity), or the very same raw seed (a migration, compared byte by byte).
 */
async function putIfUnchanged(
  env: IdentityStoreEnv,
  slot: number,
  expected: RawIdentityRecord | undefined,
  pair: Ed25519KeyPair,
): Promise<boolean> {
  const tx = env.db.transaction('identities', 'readwrite');
  const current = await tx.store.get(slot);
  const unchanged =
    expected === undefined
      ? current === undefined
      : current !== undefined && isRawIdentityRecord(current) && bytesEqual(current.secretKey, expected.secretKey);
  if (current !== undefined && isRawIdentityRecord(current)) current.secretKey.fill(0);
  if (unchanged) {
    await tx.store.put({
      slot,
      privateKey: pair.privateKey,
      publicKey: pair.publicKey,
      createdAtMs: expected?.createdAtMs ?? env.now(),
    });
  }
  await tx.done;
  return unchanged;
}

type Held = Omit<HeldIdentity, 'key'>;

function holdLock(locks: LockManager, name: string, opts: LockOptions): Promise<(() => void) | null> {
  return new Promise((resolveHeld, rejectHeld) => {
    locks
      .request(name, opts, (lock) => {
        if (!lock) {
          resolveHeld(null);
          return undefined;
        }
        // Keep the lock until release() resolves this promise (or the page goes away).
        return new Promise<void>((releaseLock) => resolveHeld(() => releaseLock()));
      })
      .catch((e: unknown) => rejectHeld(e));
  });
}

async function claimWithLocks(env: IdentityStoreEnv, preferred: number): Promise<Held> {
  const locks = env.locks as LockManager;
  if (Number.isInteger(preferred) && preferred >= 0 && preferred < MAX_SLOTS) {
    // After a reload the previous page may still be unloading: wait briefly for our old slot.
    const signal = AbortSignal.timeout(3000);
    const release = await holdLock(locks, lockName(preferred), { signal }).catch(() => null);
    if (release) return { slot: preferred, exclusivity: 'web-locks', release };
  }
  for (let slot = 0; slot < MAX_SLOTS; slot++) {
    const release = await holdLock(locks, lockName(slot), { ifAvailable: true });
    if (release) return { slot, exclusivity: 'web-locks', release };
  }
  throw new Error(`all ${MAX_SLOTS} identity slots are in use by other tabs`);
}

const lockName = (slot: number): string => `aegis-identity-${slot}`;

async function tryLease(env: IdentityStoreEnv, slot: number): Promise<boolean> {
  const tx = env.db.transaction('leases', 'readwrite');
  const lease = await tx.store.get(slot);
  const now = env.now();
  if (lease && lease.holder !== env.pageToken && lease.expiresAtMs > now) {
    await tx.done;
    return false;
  }
  await tx.store.put({ slot, holder: env.pageToken, expiresAtMs: now + LEASE_MS });
  await tx.done;
  return true;
}

async function claimWithLease(env: IdentityStoreEnv, preferred: number): Promise<Held> {
  let slot = -1;
  if (Number.isInteger(preferred) && preferred >= 0 && preferred < MAX_SLOTS) {
    // A reloaded page's old lease lapses within LEASE_MS unless its pagehide released it.
    const deadline = env.now() + LEASE_MS + 500;
    while (env.now() < deadline) {
      if (await tryLease(env, preferred)) {
        slot = preferred;
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  for (let s = 0; slot < 0 && s < MAX_SLOTS; s++) if (await tryLease(env, s)) slot = s;
  if (slot < 0) throw new Error(`all ${MAX_SLOTS} identity slots are in use by other tabs`);
  const renew = setInterval(() => {
    void tryLease(env, slot).then((still) => {
      if (!still) clearInterval(renew); // taken over (we were presumed dead): stop claiming it
    });
  }, LEASE_RENEW_MS);
  const release = (): void => {
    clearInterval(renew);
    const tx = env.db.transaction('leases', 'readwrite');
    void tx.store.get(slot).then((lease) => {
      if (lease?.holder === env.pageToken) void tx.store.delete(slot);
    });
  };
  return { slot, exclusivity: 'lease', release };
}
