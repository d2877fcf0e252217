// Ed25519 (RFC 8032) over WebCrypto: ~10x faster than @noble/curves for verification (MACHINE.md),
// available in Node 20, Chromium pages and workers, but missing in insecure contexts and some
// browsers. `detectEd25519Backend` picks it only after a known-answer self-test, else noble.
import {
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SECRET_KEY_BYTES,
  ED25519_SIGNATURE_BYTES,
  nobleEd25519,
  publicKeyFromSecret,
  type Ed25519Backend,
  type Signer,
} from '../core/crypto/ed25519.ts';
import { bytesEqual, bytesToHex, hexToBytes } from '../core/bytes.ts';
import { detectBackend } from './detect-backend.ts';

const ALGORITHM = { name: 'Ed25519' } as const;
/** DER PrivateKeyInfo header for an Ed25519 key (RFC 8410 §7): the 32-byte seed follows. */
const PKCS8_ED25519_PREFIX = hexToBytes('302e020100300506032b657004220420');
export const DEFAULT_VERIFY_KEY_CACHE_SIZE = 1024;

export interface WebCryptoEd25519Options {
  /** How many imported public keys to keep (least recently used are dropped). */
  maxCachedKeys?: number;
}

/** WebCrypto wants ArrayBuffer-backed views; copy only when the bytes live elsewhere (e.g. a SharedArrayBuffer). */
function bufferSource(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}

export function webCryptoEd25519(subtle: SubtleCrypto, options: WebCryptoEd25519Options = {}): Ed25519Backend {
  const maxCachedKeys = options.maxCachedKeys ?? DEFAULT_VERIFY_KEY_CACHE_SIZE;
  if (!Number.isInteger(maxCachedKeys) || maxCachedKeys < 1) throw new Error('"maxCachedKeys" must be a positive integer');
  // Map iteration is insertion order; a hit is re-inserted, so the first key is the least recently used.
  // The promise is cached (not the key) so concurrent verifications under one new key import it once.
  const verifyKeys = new Map<string, Promise<CryptoKey | null>>();

  function verifyKey(publicKey: Uint8Array): Promise<CryptoKey | null> {
    const hex = bytesToHex(publicKey);
    let key = verifyKeys.get(hex);
    if (key !== undefined) {
      verifyKeys.delete(hex);
    } else {
      // A key the platform refuses is remembered as null: it can never verify anything.
      key = subtle.importKey('raw', new Uint8Array(publicKey), ALGORITHM, false, ['verify']).catch(() => null);
      if (verifyKeys.size >= maxCachedKeys) {
        const oldest = verifyKeys.keys().next().value;
        if (oldest !== undefined) verifyKeys.delete(oldest);
      }
    }
    verifyKeys.set(hex, key);
    return key;
  }

  return {
    name: 'webcrypto',

    async signer(secretKey: Uint8Array): Promise<Signer> {
      return cryptoKeySigner(subtle, await importSeed(subtle, secretKey));
    },

    async verify(publicKey, message, signature) {
      try {
        if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES || signature.length !== ED25519_SIGNATURE_BYTES) return false;
        const key = await verifyKey(publicKey);
        if (key === null) return false;
        return await subtle.verify(ALGORITHM, key, bufferSource(signature), bufferSource(message));
      } catch {
        return false;
      }
    },
  };
}

/** An Ed25519 key pair whose private half is a non-extractable CryptoKey (what IndexedDB keeps). */
export interface Ed25519KeyPair {
  privateKey: CryptoKey;
  publicKey: Uint8Array;
}

/** Makes and converts identity key pairs; injected into the identity store (identity-store.ts). */
export interface IdentityKeyPairs {
  /** A fresh key pair; its private key was never outside WebCrypto. */
  generate(): Promise<Ed25519KeyPair>;
  /** An existing 32-byte seed as a key pair; the caller wipes the seed afterwards. */
  importSeed(secretKey: Uint8Array): Promise<Ed25519KeyPair>;
  /** A signer over a stored pair, after checking the private key really belongs to the public key. */
  signer(pair: Ed25519KeyPair): Promise<Signer>;
}

/** The seed as a non-extractable private CryptoKey (PKCS#8 is the only import format for private Ed25519 keys). */
async function importSeed(subtle: SubtleCrypto, secretKey: Uint8Array): Promise<Ed25519KeyPair> {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== ED25519_SECRET_KEY_BYTES)
    throw new Error(`"secretKey" must be ${ED25519_SECRET_KEY_BYTES} bytes`);
  // The public key is public maths; deriving it with noble keeps the private CryptoKey non-extractable.
  const publicKey = publicKeyFromSecret(secretKey);
  const pkcs8 = new Uint8Array(PKCS8_ED25519_PREFIX.length + ED25519_SECRET_KEY_BYTES);
  pkcs8.set(PKCS8_ED25519_PREFIX);
  pkcs8.set(secretKey, PKCS8_ED25519_PREFIX.length);
  try {
    return { privateKey: await subtle.importKey('pkcs8', pkcs8, ALGORITHM, false, ['sign']), publicKey };
  } finally {
    pkcs8.fill(0);
  }
}

function cryptoKeySigner(subtle: SubtleCrypto, pair: Ed25519KeyPair): Signer {
  const { privateKey } = pair;
  const publicKey = pair.publicKey.slice();
  return {
    publicKey,
    sign: async (message) => new Uint8Array(await subtle.sign(ALGORITHM, privateKey, bufferSource(message))),
  };
}

const PAIR_CHECK_MESSAGE = new TextEncoder().encode('aegis/identity-key-check/v1');

export function webCryptoIdentityKeyPairs(subtle: SubtleCrypto): IdentityKeyPairs {
  return {
    async generate() {
      // generateKey rather than importing a random seed: the private key is born inside WebCrypto, so
      // the seed is never in this page's memory at all (nothing to wipe, nothing a heap dump could show).
      // `extractable: false` applies to the private key; a public key is always exportable.
      const pair = (await subtle.generateKey(ALGORITHM, false, ['sign', 'verify'])) as CryptoKeyPair;
      const publicKey = new Uint8Array(await subtle.exportKey('raw', pair.publicKey));
      return { privateKey: pair.privateKey, publicKey };
    },
    importSeed: (secretKey) => importSeed(subtle, secretKey),
    async signer(pair) {
      const { privateKey, publicKey } = pair;
      if (
        !(privateKey instanceof CryptoKey) ||
        privateKey.type !== 'private' ||
        privateKey.algorithm.name !== ALGORITHM.name ||
        !privateKey.usages.includes('sign')
      )
        throw new Error('the stored identity key is not an Ed25519 private signing key');
      if (!(publicKey instanceof Uint8Array) || publicKey.length !== ED25519_PUBLIC_KEY_BYTES)
        throw new Error(`the stored identity public key must be ${ED25519_PUBLIC_KEY_BYTES} bytes`);
      const signer = cryptoKeySigner(subtle, pair);
      // A record whose halves do not match would sign envelopes every peer rejects: refuse it here.
      const verifyKey = await subtle.importKey('raw', bufferSource(signer.publicKey), ALGORITHM, false, ['verify']);
      const probe = await signer.sign(PAIR_CHECK_MESSAGE);
      if (!(await subtle.verify(ALGORITHM, verifyKey, bufferSource(probe), bufferSource(PAIR_CHECK_MESSAGE))))
        throw new Error('the stored identity private key does not match its public key');
      return signer;
    },
  };
}

// RFC 8032 §7.1 TEST 2: a one-byte message, so the self-test also exercises message hashing.
const SELF_TEST = {
  secretKey: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
  message: '72',
  signature:
    '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
};

async function passesSelfTest(backend: Ed25519Backend): Promise<boolean> {
  const message = hexToBytes(SELF_TEST.message);
  const expected = hexToBytes(SELF_TEST.signature);
  const signer = await backend.signer(hexToBytes(SELF_TEST.secretKey));
  const signature = await signer.sign(message);
  if (!bytesEqual(signature, expected)) return false;
  if (!(await backend.verify(signer.publicKey, message, signature))) return false;
  const forged = signature.slice();
  forged[0] = (forged[0] as number) ^ 1;
  return !(await backend.verify(signer.publicKey, message, forged));
}

/**
 * WebCrypto Ed25519 where the host has it and it passes a known-answer test; @noble/curves otherwise
 * (insecure contexts have no `crypto.subtle`; some browsers lack Ed25519 in it).
 */
export function detectEd25519Backend(): Promise<Ed25519Backend> {
  return detectBackend(webCryptoEd25519, passesSelfTest, nobleEd25519);
}
