// The identity's private key at rest (src/platform/identity-store.ts, README "Identity"): with WebCrypto
// Ed25519 a slot holds a non-extractable private CryptoKey and the public key, never the seed; a raw
// seed from an earlier version becomes such a key on first load with the same public key (so the same
// node id); without WebCrypto (insecure contexts) the raw seed is stored and returned as before.
//
// IndexedDB is fake-indexeddb, which stores values with Node's structuredClone — and Node 20 clones a
// WebCrypto CryptoKey (same type, algorithm, usages, extractable: false, still signs), checked first
// below, so the real WebCrypto key pairs run here; e2e/network.spec.ts reads the record in Chromium.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../src/core/bytes.ts';
import { nobleEd25519, publicKeyFromSecret } from '../../src/core/crypto/ed25519.ts';
import { nodeIdFromPublicKey } from '../../src/core/crypto/node-id.ts';
import { openAegisDB, type IdentityRecord } from '../../src/platform/db.ts';
import { claimIdentity, identitySigner, type HeldIdentity, type IdentityStoreEnv } from '../../src/platform/identity-store.ts';
import { webCryptoIdentityKeyPairs, type IdentityKeyPairs } from '../../src/platform/webcrypto-ed25519.ts';

const subtle = globalThis.crypto.subtle;
const keyPairs = webCryptoIdentityKeyPairs(subtle);
const seed = (v: number): Uint8Array => new Uint8Array(32).fill(v);
const MESSAGE = new TextEncoder().encode('hello aegis');
let dbCounter = 0;

async function freshDb(): Promise<IdentityStoreEnv['db']> {
  return openAegisDB(`aegis-key-at-rest-${++dbCounter}-${Date.now()}`);
}

function env(db: IdentityStoreEnv['db'], pairs: IdentityKeyPairs | null, over: Partial<IdentityStoreEnv> = {}): IdentityStoreEnv {
  const remembered = new Map<string, string>();
  return {
    db,
    locks: null,
    session: { getItem: (k) => remembered.get(k) ?? null, setItem: (k, v) => void remembered.set(k, v) },
    keyPairs: pairs,
    randomSecretKey: () => {
      if (pairs) throw new Error('a raw seed must not be made when WebCrypto key pairs are available');
      return globalThis.crypto.getRandomValues(new Uint8Array(32));
    },
    now: () => Date.now(),
    pageToken: `page-${Math.random()}`,
    ...over,
  };
}

/** Claim, run `f`, release (the lease path renews on a timer until released). */
async function withClaim<T>(e: IdentityStoreEnv, f: (held: HeldIdentity) => Promise<T>): Promise<T> {
  const held = await claimIdentity(e);
  try {
    return await f(held);
  } finally {
    held.release();
  }
}

/** Every 32-byte byte array anywhere in a record other than its public key. */
function otherKeySizedBytes(record: IdentityRecord): Uint8Array[] {
  const out: Uint8Array[] = [];
  const walk = (v: unknown, path: string): void => {
    if (v instanceof Uint8Array) {
      if (path !== 'publicKey' && v.length === 32) out.push(v);
    } else if (v instanceof ArrayBuffer) {
      if (v.byteLength === 32) out.push(new Uint8Array(v));
    } else if (v !== null && typeof v === 'object' && !(v instanceof CryptoKey)) {
      for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k);
    }
  };
  walk(record, '');
  return out;
}

function expectKeyPairRecord(record: IdentityRecord | undefined, publicKey: Uint8Array): void {
  expect(record).toBeDefined();
  const r = record as IdentityRecord;
  expect(Object.keys(r).sort()).toEqual(['createdAtMs', 'privateKey', 'publicKey', 'slot']);
  expect('secretKey' in r).toBe(false);
  if ('secretKey' in r) return;
  expect(r.privateKey).toBeInstanceOf(CryptoKey);
  expect(r.privateKey.type).toBe('private');
  expect(r.privateKey.extractable).toBe(false);
  expect(r.privateKey.algorithm.name).toBe('Ed25519');
  expect(r.privateKey.usages).toEqual(['sign']);
  expect(r.publicKey).toEqual(publicKey);
  expect(otherKeySizedBytes(r)).toEqual([]);
}

describe('the identity private key at rest', () => {
  it('precondition: structuredClone (what fake-indexeddb stores with) keeps a non-extractable CryptoKey usable', async () => {
    const pair = (await subtle.generateKey('Ed25519', false, ['sign', 'verify'])) as CryptoKeyPair;
    const clone = structuredClone(pair.privateKey);
    expect(clone).toBeInstanceOf(CryptoKey);
    expect(clone.extractable).toBe(false);
    await expect(subtle.exportKey('pkcs8', clone)).rejects.toThrow();
    const sig = new Uint8Array(await subtle.sign('Ed25519', clone, MESSAGE));
    expect(await subtle.verify('Ed25519', pair.publicKey, sig, MESSAGE)).toBe(true);
  });

  it('a new identity is stored as a non-extractable CryptoKey and its public key, without a raw seed', async () => {
    const db = await freshDb();
    const held = await withClaim(env(db, keyPairs), async (h) => h);
    expect(held.slot).toBe(0);
    if (held.key.kind !== 'key-pair') throw new Error(`expected a key pair, got ${held.key.kind}`);
    expect(held.key.publicKey).toHaveLength(32);
    expectKeyPairRecord(await db.get('identities', 0), held.key.publicKey);
    await expect(subtle.exportKey('pkcs8', held.key.privateKey)).rejects.toThrow();

    // The node's signer comes from the stored CryptoKey, and its signatures verify under the public key.
    const stored = await db.get('identities', 0);
    if (!stored || 'secretKey' in stored) throw new Error('unreachable');
    const signer = await keyPairs.signer(stored);
    expect(signer.publicKey).toEqual(held.key.publicKey);
    expect(await nobleEd25519.verify(held.key.publicKey, MESSAGE, await signer.sign(MESSAGE))).toBe(true);
    db.close();
  });

  it('a second claim of the same slot returns the same identity, also from a reopened database', async () => {
    const db = await freshDb();
    const e = env(db, keyPairs);
    const first = await withClaim(e, async (h) => h);
    const again = await withClaim(e, async (h) => h); // same session: the same slot back
    expect(again.slot).toBe(first.slot);
    if (first.key.kind !== 'key-pair' || again.key.kind !== 'key-pair') throw new Error('expected key pairs');
    expect(again.key.publicKey).toEqual(first.key.publicKey);
    const signer = await keyPairs.signer(again.key);
    expect(await nobleEd25519.verify(first.key.publicKey, MESSAGE, await signer.sign(MESSAGE))).toBe(true);
    const name = db.name;
    db.close();

    const reopened = await openAegisDB(name);
    const third = await withClaim(env(reopened, keyPairs, { session: e.session }), async (h) => h);
    if (third.key.kind !== 'key-pair') throw new Error('expected a key pair');
    expect(third.key.publicKey).toEqual(first.key.publicKey);
    expect(await reopened.count('identities')).toBe(1);
    reopened.close();
  });

  it('a raw seed from an earlier version becomes a CryptoKey with the same public key and node id; the seed leaves IndexedDB', async () => {
    const db = await freshDb();
    const old = seed(7);
    const oldPublicKey = publicKeyFromSecret(old);
    await db.put('identities', { slot: 0, secretKey: old.slice(), createdAtMs: 1_600_000_000_000 });
    const seen: Uint8Array[] = [];
    const spying: IdentityKeyPairs = {
      ...keyPairs,
      importSeed: (s) => {
        seen.push(s);
        return keyPairs.importSeed(s);
      },
    };

    const held = await withClaim(env(db, spying), async (h) => h);
    if (held.key.kind !== 'key-pair') throw new Error('expected a key pair');
    expect(held.key.publicKey).toEqual(oldPublicKey);
    expect(nodeIdFromPublicKey(held.key.publicKey)).toBe(nodeIdFromPublicKey(oldPublicKey));
    const record = await db.get('identities', 0);
    expectKeyPairRecord(record, oldPublicKey);
    expect(record?.createdAtMs).toBe(1_600_000_000_000);
    // The seed read from IndexedDB was wiped once imported.
    expect(seen).toHaveLength(1);
    expect(seen[0]).toEqual(new Uint8Array(32));

    // Ed25519 is deterministic: the migrated CryptoKey signs exactly as the old seed did.
    const signer = await keyPairs.signer(held.key);
    const oldSigner = await nobleEd25519.signer(old);
    expect(await signer.sign(MESSAGE)).toEqual(await oldSigner.sign(MESSAGE));

    // The next load finds the key pair and imports nothing.
    const next = await withClaim(env(db, spying), async (h) => h);
    if (next.key.kind !== 'key-pair') throw new Error('expected a key pair');
    expect(next.key.publicKey).toEqual(oldPublicKey);
    expect(seen).toHaveLength(1);
    db.close();
  });

  it('a migration writes only over the very seed it imported (compared in the writing transaction)', async () => {
    const db = await freshDb();
    await db.put('identities', { slot: 0, secretKey: seed(1), createdAtMs: 1 });
    let swapped = false;
    // While the first seed is imported, another writer puts a different seed in the slot.
    const racing: IdentityKeyPairs = {
      ...keyPairs,
      importSeed: async (s) => {
        const pair = await keyPairs.importSeed(s);
        if (!swapped) {
          swapped = true;
          await db.put('identities', { slot: 0, secretKey: seed(2), createdAtMs: 2 });
        }
        return pair;
      },
    };
    const held = await withClaim(env(db, racing), async (h) => h);
    if (held.key.kind !== 'key-pair') throw new Error('expected a key pair');
    // Not the stale seed(1) pair: the slot's current seed(2), migrated on the retry.
    expect(held.key.publicKey).toEqual(publicKeyFromSecret(seed(2)));
    expectKeyPairRecord(await db.get('identities', 0), publicKeyFromSecret(seed(2)));
    expect((await db.get('identities', 0))?.createdAtMs).toBe(2);
    db.close();
  });

  it('a new key pair is inserted only if the slot is still empty; otherwise the existing identity is used', async () => {
    const db = await freshDb();
    const winner = await keyPairs.generate();
    const racing: IdentityKeyPairs = {
      ...keyPairs,
      generate: async () => {
        const mine = await keyPairs.generate();
        await db.put('identities', { slot: 0, privateKey: winner.privateKey, publicKey: winner.publicKey, createdAtMs: 5 });
        return mine;
      },
    };
    const held = await withClaim(env(db, racing), async (h) => h);
    if (held.key.kind !== 'key-pair') throw new Error('expected a key pair');
    expect(held.key.publicKey).toEqual(winner.publicKey);
    expect((await db.get('identities', 0))?.createdAtMs).toBe(5);
    db.close();
  });

  it('a stored pair whose halves do not match is refused rather than signing what peers reject', async () => {
    const a = await keyPairs.generate();
    const b = await keyPairs.generate();
    await expect(keyPairs.signer({ privateKey: a.privateKey, publicKey: b.publicKey })).rejects.toThrow(/does not match/);
    const verifyOnly = (await subtle.importKey('raw', new Uint8Array(a.publicKey), 'Ed25519', false, ['verify'])) as CryptoKey;
    await expect(keyPairs.signer({ privateKey: verifyOnly, publicKey: a.publicKey })).rejects.toThrow(/not an Ed25519 private/);
  });

  it('without WebCrypto (insecure context, noble) the raw seed is stored and returned, and stays the same', async () => {
    const db = await freshDb();
    const fresh = seed(42);
    const e = env(db, null, { randomSecretKey: () => fresh.slice() });
    const held = await withClaim(e, async (h) => h);
    expect(held.key).toEqual({ kind: 'raw-seed', secretKey: fresh });
    expect(await db.get('identities', 0)).toEqual({ slot: 0, secretKey: fresh, createdAtMs: expect.any(Number) });
    const again = await withClaim({ ...e, randomSecretKey: () => seed(43) }, async (h) => h);
    expect(again.slot).toBe(0);
    expect(again.key).toEqual({ kind: 'raw-seed', secretKey: fresh });
    if (again.key.kind !== 'raw-seed') throw new Error('unreachable');
    const signer = await nobleEd25519.signer(again.key.secretKey);
    expect(bytesEqual(signer.publicKey, publicKeyFromSecret(fresh))).toBe(true);
    db.close();
  });

  it('a stored CryptoKey still signs when the backend fell back to noble, as long as crypto.subtle exists', async () => {
    const db = await freshDb();
    const first = env(db, keyPairs);
    const made = await withClaim(first, async (h) => h); // stored while WebCrypto passed its self-test
    if (made.key.kind !== 'key-pair') throw new Error('expected a key pair');
    // The reload: the self-test threw once, so the backend is noble and there are no keyPairs.
    const e = env(db, null, { session: first.session, randomSecretKey: () => seed(9) });
    const held = await withClaim(e, async (h) => h);
    if (held.key.kind !== 'key-pair') throw new Error('expected the stored key pair');
    expect(held.key.publicKey).toEqual(made.key.publicKey);
    const signer = await identitySigner(held.key, nobleEd25519, null, subtle);
    expect(signer.publicKey).toEqual(made.key.publicKey);
    expect(await nobleEd25519.verify(made.key.publicKey, MESSAGE, await signer.sign(MESSAGE))).toBe(true);
    expectKeyPairRecord(await db.get('identities', 0), made.key.publicKey); // nothing rewritten as a seed

    // The fallback path checks the pair as keyPairs.signer does.
    const other = await keyPairs.generate();
    await expect(identitySigner({ kind: 'key-pair', privateKey: other.privateKey, publicKey: made.key.publicKey }, nobleEd25519, null, subtle)).rejects.toThrow(
      /cannot sign with it here: the stored identity private key does not match its public key/,
    );
    // Without crypto.subtle (plain http) the key cannot be used, and the error says why.
    await expect(identitySigner(held.key, nobleEd25519, null, undefined)).rejects.toThrow(/WebCrypto is unavailable here/);
    db.close();
  });

  it('identitySigner: a raw seed signs through the backend; a key pair through keyPairs when given', async () => {
    const raw = await identitySigner({ kind: 'raw-seed', secretKey: seed(3) }, nobleEd25519, null, undefined);
    expect(raw.publicKey).toEqual(publicKeyFromSecret(seed(3)));
    const pair = await keyPairs.importSeed(seed(4));
    const used: string[] = [];
    const spying: IdentityKeyPairs = { ...keyPairs, signer: (p) => (used.push('keyPairs'), keyPairs.signer(p)) };
    const signer = await identitySigner({ kind: 'key-pair', ...pair }, nobleEd25519, spying, subtle);
    expect(used).toEqual(['keyPairs']);
    expect(await signer.sign(MESSAGE)).toEqual(await (await nobleEd25519.signer(seed(4))).sign(MESSAGE));
  });

  it('the raw seed read for a migration is wiped also when the import or the write fails', async () => {
    for (const failure of ['import', 'write'] as const) {
      const db = await freshDb();
      await db.put('identities', { slot: 0, secretKey: seed(5), createdAtMs: 1 });
      const seen: Uint8Array[] = [];
      const failing: IdentityKeyPairs = {
        ...keyPairs,
        importSeed: async (s) => {
          seen.push(s);
          if (failure === 'import') throw new Error('import failed');
          // A value IndexedDB cannot clone: the put in putIfUnchanged throws a DataCloneError.
          return { privateKey: (() => 0) as unknown as CryptoKey, publicKey: publicKeyFromSecret(s) };
        },
      };
      await expect(claimIdentity(env(db, failing)), failure).rejects.toThrow(failure === 'import' ? /import failed/ : /clone/i);
      expect(seen, failure).toHaveLength(1);
      expect(seen[0], failure).toEqual(new Uint8Array(32));
      // The slot still holds the seed: nothing was lost, the next load migrates it.
      expect((await db.get('identities', 0)) as unknown, failure).toEqual({ slot: 0, secretKey: seed(5), createdAtMs: 1 });
      db.close();
    }
  });
});
