// Ed25519 (RFC 8032) behind a small interface, so WebCrypto (fast, where present) and
// @noble/curves (everywhere, including insecure contexts where crypto.subtle is missing)
// are interchangeable. The noble backend lives here; the WebCrypto one in platform/.
import { ed25519 } from '@noble/curves/ed25519.js';

export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SECRET_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

/** Holds one private key and signs with it. */
export interface Signer {
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/** Checks signatures of anyone. Returns false (never throws) for malformed keys or signatures. */
export interface Verifier {
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean>;
}

/** Makes signers from a 32-byte RFC 8032 seed (the stored private key). */
export interface Ed25519Backend extends Verifier {
  readonly name: string;
  signer(secretKey: Uint8Array): Promise<Signer>;
}

function assertSecretKey(secretKey: Uint8Array): void {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== ED25519_SECRET_KEY_BYTES)
    throw new Error(`"secretKey" must be ${ED25519_SECRET_KEY_BYTES} bytes`);
}

export const nobleEd25519: Ed25519Backend = {
  name: 'noble',
  async signer(secretKey) {
    assertSecretKey(secretKey);
    const sk = secretKey.slice();
    const publicKey = ed25519.getPublicKey(sk);
    return { publicKey, sign: async (message) => ed25519.sign(message, sk) };
  },
  async verify(publicKey, message, signature) {
    if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES || signature.length !== ED25519_SIGNATURE_BYTES) return false;
    try {
      return ed25519.verify(signature, message, publicKey);
    } catch {
      return false;
    }
  },
};

export function publicKeyFromSecret(secretKey: Uint8Array): Uint8Array {
  assertSecretKey(secretKey);
  return ed25519.getPublicKey(secretKey);
}
