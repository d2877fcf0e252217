// ChaCha20-Poly1305 AEAD (RFC 8439 §2.8) from @noble/ciphers: encrypts the Shamir shares that travel
// point to point through the aggregator. Pure JavaScript on purpose: it works in insecure contexts
// (no crypto.subtle) too, and shares are a few dozen bytes, so speed does not matter here.
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';

export const AEAD_KEY_BYTES = 32;
export const AEAD_NONCE_BYTES = 12;
export const AEAD_TAG_BYTES = 16;

const EMPTY = new Uint8Array(0);

function assertKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== AEAD_KEY_BYTES) throw new Error(`"key" must be ${AEAD_KEY_BYTES} bytes`);
}

/**
 * Encrypt and authenticate: returns ciphertext || 16-byte tag (RFC 8439 §2.8). The caller must never
 * use one (key, nonce) pair twice (§4): that reveals the XOR of the plaintexts and the Poly1305 key.
 * Wrong sizes are programmer errors and throw, naming the field.
 */
export function seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
  assertKey(key);
  if (!(nonce instanceof Uint8Array) || nonce.length !== AEAD_NONCE_BYTES)
    throw new Error(`"nonce" must be ${AEAD_NONCE_BYTES} bytes`);
  if (!(plaintext instanceof Uint8Array)) throw new Error('"plaintext" must be a Uint8Array');
  if (!(aad instanceof Uint8Array)) throw new Error('"aad" must be a Uint8Array');
  return chacha20poly1305(key, nonce, aad).encrypt(plaintext);
}

/**
 * Verify and decrypt `sealed` (ciphertext || tag). Returns null, never throws, for anything a peer
 * could have sent: a wrong tag, a truncated message, a nonce of the wrong size, or AAD that differs.
 * Only a key of the wrong size (always derived locally) is a programmer error and throws.
 */
export function open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array | null {
  assertKey(key);
  if (!(nonce instanceof Uint8Array) || nonce.length !== AEAD_NONCE_BYTES) return null;
  if (!(sealed instanceof Uint8Array) || sealed.length < AEAD_TAG_BYTES) return null;
  if (!(aad instanceof Uint8Array)) return null;
  try {
    return chacha20poly1305(key, nonce, aad).decrypt(sealed);
  } catch {
    return null;
  }
}
