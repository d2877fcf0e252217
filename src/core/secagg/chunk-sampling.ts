// Which chunks of the masked vectors a validator checks when the transcript is too large to ship
// (README "Consensus" → "Aggregation results"). The indices are a function of the transcript root
// and the height that opened the round — both fixed before anyone sees them — so the aggregator
// cannot pick them after committing to its transcript:
//   seed = SHA-256("aegis/secagg/chunk-sample/v1" 0x00 ‖ transcript root ‖ u64 opened height)
//   draw j = the first 6 bytes of SHA-256(seed ‖ u32 j), big-endian, mod the chunks left
//   (a partial Fisher–Yates shuffle of 0 .. chunks − 1: `samples` distinct indices, all of them if
//   there are no more chunks than samples), returned sorted.
// What the public sample alone does not stop: the aggregator can grind — re-seal one of its own
// envelopes to get a new root and new indices — until the wrong chunks are missed (a signature and
// a root per try, about 1 / (1 − f)^s tries for a result wrong in a fraction f of the chunks). So
// each checking node also draws a private sample (`privateChunkIndices`) with its own randomness
// once the claim, and so the root, is public, and asks the aggregator for those openings
// (consensus/private-sample.ts): grinding the root cannot aim at indices drawn after it.
import { concatBytes } from '../bytes.ts';
import { randomInt, type Random } from '../clock.ts';
import { ByteWriter } from '../codec/index.ts';
import { domainTag, sha256 } from '../crypto/hash.ts';
import type { Hash } from '../ledger/merkle.ts';
import { chunkTree, chunkWords } from './masked-chunks.ts';
import type { ChunkOpening } from './transcript.ts';

/** Public chunks sampled per contributor by default: a result wrong in half its chunks passes them with 2^-16 — for a root not ground. */
export const DEFAULT_SAMPLED_CHUNKS = 16;
/** Chunks each checking node draws for itself on top of the public ones: f = 50% passes one node with 2^-8. */
export const PRIVATE_SAMPLED_CHUNKS = 8;
const SAMPLE_TAG = domainTag('aegis/secagg/chunk-sample/v1');

export function sampleChunkIndices(transcriptRoot: Hash, openedHeight: number, chunks: number, samples = DEFAULT_SAMPLED_CHUNKS): number[] {
  if (transcriptRoot.length !== 32) throw new Error('"transcriptRoot" must be 32 bytes');
  if (!Number.isInteger(chunks) || chunks < 0) throw new Error(`"chunks" must be a non-negative integer, got ${chunks}`);
  if (!Number.isInteger(samples) || samples < 1) throw new Error(`"samples" must be a positive integer, got ${samples}`);
  const seed = sha256(concatBytes(SAMPLE_TAG, transcriptRoot, new ByteWriter(8).u64(openedHeight).finish()));
  const k = Math.min(samples, chunks);
  // Partial Fisher–Yates over a sparse permutation (chunks may be large).
  const swapped = new Map<number, number>();
  const at = (i: number): number => swapped.get(i) ?? i;
  for (let j = 0; j < k; j++) {
    const h = sha256(concatBytes(seed, new ByteWriter(4).u32(j).finish()));
    const low = (((h[2] as number) << 24) | ((h[3] as number) << 16) | ((h[4] as number) << 8) | (h[5] as number)) >>> 0;
    const draw = (h[0] as number) * 2 ** 40 + (h[1] as number) * 2 ** 32 + low;
    const pick = j + (draw % (chunks - j));
    const a = at(j);
    swapped.set(j, at(pick));
    swapped.set(pick, a);
  }
  return Array.from({ length: k }, (_, j) => at(j)).sort((a, b) => a - b);
}

/**
 * A checking node's private sample: `samples` distinct chunk indices (fewer if fewer are left, none
 * if none are), none of them in `exclude` (the public ones), drawn with the node's own randomness,
 * returned sorted. O(chunks): a vector has at most 2^21 / CHUNK_WORDS = 2048 chunks.
 */
export function privateChunkIndices(random: Random, chunks: number, exclude: readonly number[], samples = PRIVATE_SAMPLED_CHUNKS): number[] {
  if (!Number.isInteger(chunks) || chunks < 0) throw new Error(`"chunks" must be a non-negative integer, got ${chunks}`);
  if (!Number.isInteger(samples) || samples < 0) throw new Error(`"samples" must be a non-negative integer, got ${samples}`);
  const excluded = new Set(exclude);
  const left = Array.from({ length: chunks }, (_, i) => i).filter((i) => !excluded.has(i));
  const k = Math.min(samples, left.length);
  for (let j = 0; j < k; j++) {
    const pick = j + randomInt(random, left.length - j);
    const a = left[j] as number;
    left[j] = left[pick] as number;
    left[pick] = a;
  }
  return left.slice(0, k).sort((a, b) => a - b);
}

/** Opens chunks of one contributor's masked vector, its chunk tree built once (the public sample, then many private ones). */
export function chunkOpener(vector: Uint32Array): (indices: readonly number[]) => ChunkOpening[] {
  const tree = chunkTree(vector);
  return (indices) => indices.map((c) => ({ words: chunkWords(vector, c).slice(), proof: tree.inclusionProof(c) }));
}
