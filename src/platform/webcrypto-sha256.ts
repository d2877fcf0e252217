// SHA-256 through WebCrypto: native, ~1 GB/s against ~40 MB/s for noble's JavaScript, so the
// secure-aggregation worker hashes multi-MB envelopes (message ids, transcript hashes) with it where
// `crypto.subtle` exists. Checked against noble on a known input before use; null where missing.
import { bytesEqual } from '../core/bytes.ts';
import { sha256 } from '../core/crypto/hash.ts';

export type AsyncSha256 = (data: Uint8Array) => Promise<Uint8Array>;

export function webCryptoSha256(subtle: SubtleCrypto): AsyncSha256 {
  return async (data) =>
    new Uint8Array(await subtle.digest('SHA-256', data.buffer instanceof ArrayBuffer ? (data as Uint8Array<ArrayBuffer>) : new Uint8Array(data)));
}

/** WebCrypto's SHA-256 if this context has it and it agrees with noble's; null otherwise. */
export async function detectWebCryptoSha256(): Promise<AsyncSha256 | null> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return null;
  try {
    const digest = webCryptoSha256(subtle);
    const probe = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff);
    return bytesEqual(await digest(probe), sha256(probe)) ? digest : null;
  } catch {
    return null;
  }
}
