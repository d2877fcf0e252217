// X25519 key agreement (RFC 7748 §5, §6.1) behind a small interface, like ed25519.ts: WebCrypto
// (about 15x faster, see platform/webcrypto-x25519.ts) where present, @noble/curves everywhere.
// Secure aggregation uses it twice per pair of neighbours: to key the AEAD that carries Shamir
// shares, and to derive the pairwise mask seed (Bonawitz et al. 2017, §4).
import { x25519 } from '@noble/curves/ed25519.js';
import type { Random } from '../clock.ts';

export const X25519_SECRET_KEY_BYTES = 32;
export const X25519_PUBLIC_KEY_BYTES = 32;
export const X25519_SHARED_SECRET_BYTES = 32;

export interface X25519KeyPair {
  /** 32 random bytes; clamping (RFC 7748 §5, decodeScalar25519) happens inside every operation. */
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

export interface X25519Backend {
  readonly name: string;
  /** A fresh pair from the injected randomness (crypto-strong in nodes, seeded in the simulator). */
  generateKeyPair(random: Random): Promise<X25519KeyPair>;
  /** X25519(secretKey, 9): the public key (RFC 7748 §6.1). */
  publicKey(secretKey: Uint8Array): Promise<Uint8Array>;
  /**
   * X25519(secretKey, peerPublicKey). Returns null, never throws, for a peer key of the wrong size
   * or a low-order one whose result is all zeros (RFC 7748 §6.1: implementations MAY check for it;
   * we must, or a malicious peer could force a known key). A wrong-size secret key throws.
   */
  sharedSecret(secretKey: Uint8Array, peerPublicKey: Uint8Array): Promise<Uint8Array | null>;
  /**
   * `sharedSecret` with one secret key and many peers (a participant and its k neighbours, or the
   * aggregator recovering a dropped node's pairwise seeds): results in the order of the peers.
   * WebCrypto imports the private key once (in Node that import costs more than the derivation)
   * and runs the derivations concurrently.
   */
  sharedSecrets(secretKey: Uint8Array, peerPublicKeys: readonly Uint8Array[]): Promise<(Uint8Array | null)[]>;
}

export function assertX25519SecretKey(secretKey: Uint8Array): void {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== X25519_SECRET_KEY_BYTES)
    throw new Error(`"secretKey" must be ${X25519_SECRET_KEY_BYTES} bytes`);
}

/** True when every byte is zero, without an early exit (the value is secret). */
export function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < bytes.length; i++) acc |= bytes[i] as number;
  return acc === 0;
}

function nobleSharedSecret(secretKey: Uint8Array, peerPublicKey: Uint8Array): Uint8Array | null {
  if (!(peerPublicKey instanceof Uint8Array) || peerPublicKey.length !== X25519_PUBLIC_KEY_BYTES) return null;
  try {
    // noble rejects the known low-order u-coordinates before running the ladder.
    const shared = x25519.scalarMult(secretKey, peerPublicKey);
    return isAllZero(shared) ? null : shared;
  } catch {
    return null;
  }
}

export const nobleX25519: X25519Backend = {
  name: 'noble',
  async generateKeyPair(random) {
    const secretKey = random.bytes(X25519_SECRET_KEY_BYTES);
    assertX25519SecretKey(secretKey);
    return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
  },
  async publicKey(secretKey) {
    assertX25519SecretKey(secretKey);
    return x25519.getPublicKey(secretKey);
  },
  async sharedSecret(secretKey, peerPublicKey) {
    assertX25519SecretKey(secretKey);
    return nobleSharedSecret(secretKey, peerPublicKey);
  },
  async sharedSecrets(secretKey, peerPublicKeys) {
    assertX25519SecretKey(secretKey);
    return peerPublicKeys.map((peer) => nobleSharedSecret(secretKey, peer));
  },
};
