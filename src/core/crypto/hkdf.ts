// HKDF with SHA-256 (RFC 5869), from @noble/hashes. Turns X25519 outputs and mask seeds into keys,
// with an `info` label per use so no two uses of one secret ever share a key (RFC 5869 §3.2).
import { expand, extract, hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '../bytes.ts';

export const HKDF_SHA256_HASH_BYTES = 32;
/** RFC 5869 §2.3: L <= 255 * HashLen. */
export const HKDF_SHA256_MAX_OUTPUT_BYTES = 255 * HKDF_SHA256_HASH_BYTES;

function assertBytes(value: unknown, name: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new Error(`"${name}" must be a Uint8Array`);
}

function assertLength(length: number): void {
  if (!Number.isInteger(length) || length < 1 || length > HKDF_SHA256_MAX_OUTPUT_BYTES)
    throw new Error(`"length" must be an integer in [1, ${HKDF_SHA256_MAX_OUTPUT_BYTES}], got ${length}`);
}

/**
 * HKDF-Extract (RFC 5869 §2.2): PRK = HMAC-SHA256(salt, IKM). A missing or empty salt means
 * HashLen zero bytes (the two are the same HMAC key).
 */
export function hkdfExtract(ikm: Uint8Array, salt?: Uint8Array): Uint8Array {
  assertBytes(ikm, 'ikm');
  if (salt !== undefined) assertBytes(salt, 'salt');
  return extract(sha256, ikm, salt);
}

/** HKDF-Expand (RFC 5869 §2.3): `length` bytes of OKM from a pseudorandom key of >= 32 bytes. */
export function hkdfExpand(prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  assertBytes(prk, 'prk');
  assertBytes(info, 'info');
  if (prk.length < HKDF_SHA256_HASH_BYTES) throw new Error(`"prk" must be at least ${HKDF_SHA256_HASH_BYTES} bytes`);
  assertLength(length);
  return expand(sha256, prk, info, length);
}

/** Extract then expand (RFC 5869 §2): the whole HKDF-SHA256. */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array | undefined, info: Uint8Array, length: number): Uint8Array {
  assertBytes(ikm, 'ikm');
  if (salt !== undefined) assertBytes(salt, 'salt');
  assertBytes(info, 'info');
  assertLength(length);
  return hkdf(sha256, ikm, salt, info, length);
}

/**
 * HKDF-SHA256 with a textual label as `info` (UTF-8, e.g. "aegis/prg/aes-ctr/v1"). Labels name the
 * purpose and a version, so a key derived for one use is useless for any other.
 */
export function deriveKey(ikm: Uint8Array, salt: Uint8Array | undefined, info: string, length: number): Uint8Array {
  if (typeof info !== 'string') throw new Error('"info" must be a string');
  return hkdfSha256(ikm, salt, utf8ToBytes(info), length);
}
