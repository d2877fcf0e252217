// Merkle tree hash over a list of byte strings, hashed as RFC 9162 §2.1.1 (leaf = SHA-256(0x00 ‖ d),
// node = SHA-256(0x01 ‖ left ‖ right), split at the largest power of two below n, empty = SHA-256("")).
// The same hashing as the audit log (core/ledger), so one verifier checks both; kept here until the
// ledger's merkle.ts lands, then this file can re-export it.
import { sha256 } from '../crypto/hash.ts';

const LEAF = new Uint8Array([0]);
const NODE = new Uint8Array([1]);

function hashParts(prefix: Uint8Array, a: Uint8Array, b?: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + a.length + (b?.length ?? 0));
  out.set(prefix, 0);
  out.set(a, 1);
  if (b !== undefined) out.set(b, 1 + a.length);
  return sha256(out);
}

export function leafHash(data: Uint8Array): Uint8Array {
  return hashParts(LEAF, data);
}

/** Root of the tree over `leaves` in the given order (callers sort where order is not meaningful). */
export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return sha256(new Uint8Array(0));
  // Bottom-up over leaf hashes; carrying an odd last node up unchanged gives exactly RFC 9162's
  // left-heavy split (the left subtree is always the largest power of two below n).
  let level = leaves.map(leafHash);
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(hashParts(NODE, level[i] as Uint8Array, level[i + 1] as Uint8Array));
    if (level.length % 2 === 1) next.push(level[level.length - 1] as Uint8Array);
    level = next;
  }
  return level[0] as Uint8Array;
}
