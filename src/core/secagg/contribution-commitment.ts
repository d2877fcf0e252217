// A contributor's commitment to its masked input, and the Merkle tree of a round's commitments
// (the design card, "one round, end to end", step 3). The participant computes the commitment from
// the exact SecAggMaskedInput envelope it sent; anyone holding the transcript computes the same
// value from the same bytes, so "my input was counted" is an RFC 9162 inclusion proof of the
// commitment (as the leaf) under the transcript's commitment root:
//   commitment = SHA-256("aegis/secagg/masked-input-commitment/v1" 0x00 ‖ round id ‖ envelope bytes)
//   leaves     = the commitments of the transcript's SecAggMaskedInput envelopes, in transcript order
import { bytesEqual, concatBytes } from '../bytes.ts';
import { domainTag, sha256 } from '../crypto/hash.ts';
import type { TranscriptInclusion } from '../ledger/entry.ts';
import { leafHash, type Hash } from '../ledger/merkle.ts';
import { MemoryTree } from '../ledger/tree.ts';
import { decodeEnvelope } from '../net/envelope.ts';
import { MessageType } from '../net/message-types.ts';
import { ROUND_ID_BYTES } from './messages.ts';

const COMMITMENT_TAG = domainTag('aegis/secagg/masked-input-commitment/v1');

/** The commitment to one masked input, from the envelope exactly as signed and sent. */
export function maskedInputCommitment(roundId: Uint8Array, maskedInputEnvelope: Uint8Array): Hash {
  if (roundId.length !== ROUND_ID_BYTES) throw new Error(`"roundId" must be ${ROUND_ID_BYTES} bytes`);
  return sha256(concatBytes(COMMITMENT_TAG, roundId, maskedInputEnvelope));
}

/** Commitments of every masked input in a transcript, in order (undecodable envelopes are skipped). */
export function transcriptCommitments(roundId: Uint8Array, transcript: readonly Uint8Array[]): Hash[] {
  const out: Hash[] = [];
  for (const bytes of transcript) {
    const env = decodeEnvelope(bytes);
    if (env.ok && env.value.type === MessageType.SecAggMaskedInput) out.push(maskedInputCommitment(roundId, bytes));
  }
  return out;
}

function commitmentTree(commitments: readonly Hash[]): MemoryTree {
  const tree = new MemoryTree();
  for (const c of commitments) tree.append(leafHash(c));
  return tree;
}

/** RFC 9162 root over the transcript's commitments (the leaf data is the 32-byte commitment). */
export function transcriptCommitmentRoot(roundId: Uint8Array, transcript: readonly Uint8Array[]): Hash {
  return commitmentTree(transcriptCommitments(roundId, transcript)).root();
}

/** The path of `commitment` under the transcript's commitment root, or null if it is not there. */
export function commitmentInclusion(roundId: Uint8Array, transcript: readonly Uint8Array[], commitment: Hash): TranscriptInclusion | null {
  const commitments = transcriptCommitments(roundId, transcript);
  const leafIdx = commitments.findIndex((c) => bytesEqual(c, commitment));
  if (leafIdx < 0) return null;
  const tree = commitmentTree(commitments);
  return { commitment: commitment.slice(), leafIdx, treeSize: tree.size, root: tree.root(), proof: tree.inclusionProof(leafIdx) };
}
