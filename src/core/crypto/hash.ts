import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8ToBytes } from '../bytes.ts';

export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

/** SHA-256 of the concatenation of `parts`, streamed (no joined copy of many small pieces). */
export function sha256Parts(parts: readonly Uint8Array[]): Uint8Array {
  const h = nobleSha256.create();
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Domain-separation tag: UTF-8 label then a zero byte, so no label is a prefix of another's input. */
export function domainTag(label: string): Uint8Array {
  return concatBytes(utf8ToBytes(label), new Uint8Array([0]));
}
