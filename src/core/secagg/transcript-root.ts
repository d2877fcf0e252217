// The transcript commitment a chain round's result names (docs/DESIGN.md, "one round, end to end",
// step 3): an RFC 9162 Merkle root (the audit log's hashing, ledger/merkle.ts) over
//   leaves 0 .. n−1  each contributor's commitment to its masked input, sorted by node id — the
//                    same 32 bytes its ContributionEntry records (contribution-commitment.ts:
//                    SHA-256(tag ‖ the statement it signed: round, sender, neighbours, length and
//                    the chunk root over its masked vector));
//   leaf n           the unmasking material: SHA-256(tag ‖ SHA-256 of every other envelope of the
//                    transcript — open, advertisements, graph-seed reveals, consistency signatures,
//                    unmask shares — in transcript order).
// Computed from the light transcript (light-transcript.ts), so the full transcript and its light
// form have the same root by construction.
// The root binds every byte recomputeFromTranscript reads, so "the result is the sum of this
// transcript" and "my input is in it" are both claims about one 32-byte value. A contributor's
// receipt is the standard inclusion proof of its commitment; leaf n is never a contributor's
// (a receipt must name a leaf below treeSize − 1).
import { bytesEqual, concatBytes } from '../bytes.ts';
import { nodeIdFromPublicKey, type NodeId } from '../crypto/node-id.ts';
import { domainTag, sha256 } from '../crypto/hash.ts';
import type { TranscriptInclusion } from '../ledger/entry.ts';
import { leafHash, type Hash } from '../ledger/merkle.ts';
import { MemoryTree } from '../ledger/tree.ts';
import { err, ok, type Result } from '../result.ts';
import { maskedInputCommitment } from './contribution-commitment.ts';
import { lightTranscript, type LightItem } from './light-transcript.ts';
import { ROUND_ID_BYTES } from './messages.ts';

const UNMASKING_TAG = domainTag('aegis/secagg/unmasking-material/v1');

export interface TranscriptCommitment {
  readonly roundId: Uint8Array;
  readonly root: Hash;
  /** Contributors (senders of a masked input), sorted; leaf i is contributors[i]'s commitment. */
  readonly contributors: readonly NodeId[];
  readonly commitments: readonly Hash[];
  /** The last leaf. */
  readonly unmaskingHash: Hash;
  /** contributors.length + 1. */
  readonly treeSize: number;
  /** Kept for inclusion proofs. */
  readonly tree: MemoryTree;
}

/**
 * Commits to a transcript (untrusted bytes: an error names the first undecodable envelope or a
 * second masked input from one sender). Does not verify signatures: recomputeFromTranscript does.
 */
export function commitTranscript(roundId: Uint8Array, transcript: readonly Uint8Array[]): Result<TranscriptCommitment> {
  if (roundId.length !== ROUND_ID_BYTES) throw new Error(`"roundId" must be ${ROUND_ID_BYTES} bytes`);
  const light = lightTranscript(transcript);
  return light.ok ? commitLightTranscript(roundId, light.value) : light;
}

/** The same commitment from the light transcript (statements instead of masked vectors). */
export function commitLightTranscript(roundId: Uint8Array, items: readonly LightItem[]): Result<TranscriptCommitment> {
  if (roundId.length !== ROUND_ID_BYTES) throw new Error(`"roundId" must be ${ROUND_ID_BYTES} bytes`);
  const masked = new Map<NodeId, Hash>();
  const others: Uint8Array[] = [UNMASKING_TAG];
  for (let i = 0; i < items.length; i++) {
    const it = items[i] as LightItem;
    if (it.kind === 'envelope') {
      others.push(sha256(it.bytes));
      continue;
    }
    const sender = nodeIdFromPublicKey(it.statement.sender);
    if (masked.has(sender)) return err(`transcript item ${i}: a second masked input from ${sender}`);
    if (!bytesEqual(it.statement.roundId, roundId)) return err(`transcript item ${i}: a masked input of another round`);
    masked.set(sender, maskedInputCommitment(roundId, it.statement));
  }
  const contributors = [...masked.keys()].sort();
  const commitments = contributors.map((id) => masked.get(id) as Hash);
  const unmaskingHash = sha256(concatBytes(...others));
  const tree = new MemoryTree();
  for (const c of commitments) tree.append(leafHash(c));
  tree.append(leafHash(unmaskingHash));
  return ok({ roundId: roundId.slice(), root: tree.root(), contributors, commitments, unmaskingHash, treeSize: tree.size, tree });
}

/** The path of `contributor`'s commitment under the root, or null if it contributed nothing. */
export function contributorInclusion(tc: TranscriptCommitment, contributor: NodeId): TranscriptInclusion | null {
  const leafIdx = tc.contributors.indexOf(contributor);
  if (leafIdx < 0) return null;
  return {
    commitment: (tc.commitments[leafIdx] as Hash).slice(),
    leafIdx,
    treeSize: tc.treeSize,
    root: tc.root.slice(),
    proof: tc.tree.inclusionProof(leafIdx),
  };
}
