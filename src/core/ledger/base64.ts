// Strict base64 (RFC 4648 §4, padded) for the export format and tree heads: only the canonical
// encoding of some byte string is accepted — no whitespace, no missing padding, no non-zero bits
// in the padding — so every accepted string maps to exactly one byte string and back.
import { toBase64 } from '../bytes.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const VALUE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

export { toBase64 };

/** Decode canonical base64; null for anything else. */
export function fromBase64(s: string): Uint8Array | null {
  if (typeof s !== 'string' || s.length % 4 !== 0) return null;
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    let word = 0;
    for (let j = 0; j < 4; j++) {
      const c = s.charCodeAt(i + j);
      const last = i + 4 === s.length;
      if (c === 61 /* '=' */ && last && j >= 4 - pad) {
        word <<= 6;
        continue;
      }
      const v = c < 128 ? (VALUE[c] as number) : -1;
      if (v < 0) return null;
      word = (word << 6) | v;
    }
    const bytes = [(word >>> 16) & 0xff, (word >>> 8) & 0xff, word & 0xff];
    const take = i + 4 === s.length ? 3 - pad : 3;
    // Canonical: bits under the padding must be zero.
    for (let j = take; j < 3; j++) if (bytes[j] !== 0) return null;
    for (let j = 0; j < take; j++) out[o++] = bytes[j] as number;
  }
  return out;
}
