// Merkle tree hash over a list of byte strings: the audit log's RFC 9162 §2.1.1 hashing
// (core/ledger/merkle.ts), so one verifier checks block roots, state roots and log proofs alike.
import { leafHash, rootFromLeafHashes } from '../ledger/merkle.ts';

export { leafHash };

/** Root of the tree over `leaves` in the given order (callers sort where order is not meaningful). */
export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  return rootFromLeafHashes(leaves.map(leafHash));
}
