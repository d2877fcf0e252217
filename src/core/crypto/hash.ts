import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8ToBytes } from '../bytes.ts';

export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

/** Domain-separation tag: UTF-8 label then a zero byte, so no label is a prefix of another's input. */
export function domainTag(label: string): Uint8Array {
  return concatBytes(utf8ToBytes(label), new Uint8Array([0]));
}
