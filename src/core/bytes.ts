// Byte helpers shared by every layer. Kept tiny: noble provides hex and concat.
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';

export { bytesToHex, concatBytes, hexToBytes, utf8ToBytes };

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

interface Utf8Decoder {
  decode(bytes: Uint8Array): string;
}
// TextDecoder is an Encoding-standard global in every host we run in (page, worker, Node);
// `fatal` makes invalid UTF-8 throw instead of silently becoming U+FFFD.
const decoder: Utf8Decoder = new (
  globalThis as unknown as { TextDecoder: new (label: string, opts: { fatal: boolean }) => Utf8Decoder }
).TextDecoder('utf-8', { fatal: true });

/** Strict UTF-8 decode; throws on invalid input (callers inside decoders catch it). */
export function utf8Decode(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Compare two byte strings lexicographically (for deterministic ordering). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return (globalThis as unknown as { btoa(s: string): string }).btoa(s);
}
