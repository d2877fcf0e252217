// X25519 (RFC 7748) over WebCrypto: ~19k derivations/s in Node and ~30k in Chromium against ~1.3k
// and ~4.7k for @noble/curves (MACHINE.md) — it matters to an aggregator recovering the pairwise
// masks of many dropped nodes. Absent in insecure contexts and some browsers, so
// `detectX25519Backend` picks it only after a known-answer self-test, else noble.
// Importing a private key costs more than a derivation (in Node ~0.5 ms, as OpenSSL recomputes the
// public key, against ~0.05 ms per concurrent derivation): use `sharedSecrets` for many peers.
import { bytesEqual, hexToBytes } from '../core/bytes.ts';
import {
  assertX25519SecretKey,
  isAllZero,
  nobleX25519,
  X25519_PUBLIC_KEY_BYTES,
  X25519_SECRET_KEY_BYTES,
  X25519_SHARED_SECRET_BYTES,
  type X25519Backend,
} from '../core/crypto/x25519.ts';
import { detectBackend } from './detect-backend.ts';

const ALGORITHM = { name: 'X25519' } as const;
/** DER PrivateKeyInfo header for an X25519 key (RFC 8410 §7, OID 1.3.101.110): the 32 secret bytes follow. */
const PKCS8_X25519_PREFIX = hexToBytes('302e020100300506032b656e04220420');
/** The base point u = 9 (RFC 7748 §4.1), little-endian. X25519(k, 9) is k's public key. */
const BASE_POINT = (() => {
  const u = new Uint8Array(X25519_PUBLIC_KEY_BYTES);
  u[0] = 9;
  return u;
})();

export function webCryptoX25519(subtle: SubtleCrypto): X25519Backend {
  let basePoint: Promise<CryptoKey> | undefined;

  async function importSecret(secretKey: Uint8Array): Promise<CryptoKey> {
    assertX25519SecretKey(secretKey);
    const pkcs8 = new Uint8Array(PKCS8_X25519_PREFIX.length + X25519_SECRET_KEY_BYTES);
    pkcs8.set(PKCS8_X25519_PREFIX);
    pkcs8.set(secretKey, PKCS8_X25519_PREFIX.length);
    try {
      return await subtle.importKey('pkcs8', pkcs8, ALGORITHM, false, ['deriveBits']);
    } finally {
      pkcs8.fill(0);
    }
  }

  /** deriveBits rejects (OperationError) when the result is all zeros; the check after it is belt and braces. */
  async function derive(privateKey: CryptoKey, publicKey: CryptoKey): Promise<Uint8Array | null> {
    try {
      const bits = new Uint8Array(
        await subtle.deriveBits({ name: 'X25519', public: publicKey }, privateKey, X25519_SHARED_SECRET_BYTES * 8),
      );
      return isAllZero(bits) ? null : bits;
    } catch {
      return null;
    }
  }

  async function importPeer(peerPublicKey: Uint8Array): Promise<CryptoKey | null> {
    if (!(peerPublicKey instanceof Uint8Array) || peerPublicKey.length !== X25519_PUBLIC_KEY_BYTES) return null;
    try {
      return await subtle.importKey('raw', new Uint8Array(peerPublicKey), ALGORITHM, false, []);
    } catch {
      return null;
    }
  }

  async function publicKey(secretKey: Uint8Array): Promise<Uint8Array> {
    const privateKey = await importSecret(secretKey);
    basePoint ??= subtle.importKey('raw', BASE_POINT, ALGORITHM, false, []);
    const result = await derive(privateKey, await basePoint);
    // Unreachable: a clamped scalar times the base point is never the identity.
    if (result === null) throw new Error('X25519 public key derivation failed');
    return result;
  }

  return {
    name: 'webcrypto',
    async generateKeyPair(random) {
      const secretKey = random.bytes(X25519_SECRET_KEY_BYTES);
      return { secretKey, publicKey: await publicKey(secretKey) };
    },
    publicKey,
    async sharedSecret(secretKey, peerPublicKey) {
      assertX25519SecretKey(secretKey);
      const peer = await importPeer(peerPublicKey);
      return peer === null ? null : derive(await importSecret(secretKey), peer);
    },
    async sharedSecrets(secretKey, peerPublicKeys) {
      assertX25519SecretKey(secretKey);
      const privateKey = await importSecret(secretKey);
      return Promise.all(
        peerPublicKeys.map(async (peerPublicKey) => {
          const peer = await importPeer(peerPublicKey);
          return peer === null ? null : derive(privateKey, peer);
        }),
      );
    },
  };
}

// RFC 7748 §6.1: Alice's and Bob's keys and their shared secret.
const SELF_TEST = {
  alicePrivate: '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a',
  alicePublic: '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
  bobPublic: 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
  shared: '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
};

async function passesSelfTest(backend: X25519Backend): Promise<boolean> {
  const alice = hexToBytes(SELF_TEST.alicePrivate);
  if (!bytesEqual(await backend.publicKey(alice), hexToBytes(SELF_TEST.alicePublic))) return false;
  const shared = await backend.sharedSecret(alice, hexToBytes(SELF_TEST.bobPublic));
  if (shared === null || !bytesEqual(shared, hexToBytes(SELF_TEST.shared))) return false;
  // The all-zero u-coordinate has order 1 or 2: it must be refused, not turned into a zero key.
  return (await backend.sharedSecret(alice, new Uint8Array(X25519_PUBLIC_KEY_BYTES))) === null;
}

/**
 * WebCrypto X25519 where the host has it and it passes a known-answer test; @noble/curves otherwise
 * (insecure contexts have no `crypto.subtle`; some browsers lack X25519 in it).
 */
export function detectX25519Backend(): Promise<X25519Backend> {
  return detectBackend(webCryptoX25519, passesSelfTest, nobleX25519);
}
