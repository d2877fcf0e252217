// Which chunks of the masked vectors a validator checks when the transcript is too large to ship
// (README "Consensus" → "Aggregation results"). The indices are a function of the transcript root
// and the height that opened the round — both fixed before anyone sees them — so the aggregator
// cannot pick them after committing to its transcript:
//   seed = SHA-256("aegis/secagg/chunk-sample/v1" 0x00 ‖ transcript root ‖ u64 opened height)
//   draw j = the first 6 bytes of SHA-256(seed ‖ u32 j), big-endian, mod the chunks left
//   (a partial Fisher–Yates shuffle of 0 .. chunks − 1: `samples` distinct indices, all of them if
//   there are no more chunks than samples), returned sorted.
// What it does not stop: the aggregator can grind — re-seal one of its own envelopes to get a new
// root and new indices — until the wrong chunks are missed; each try costs it a signature and a
// root (milliseconds), so a result wrong in a fraction f of the chunks passes after about
// 1 / (1 − f)^s tries. README says what that means for s = 16.
import { concatBytes } from '../bytes.ts';
import { ByteWriter } from '../codec/index.ts';
import { domainTag, sha256 } from '../crypto/hash.ts';
import type { Hash } from '../ledger/merkle.ts';
import { chunkTree, chunkWords } from './masked-chunks.ts';
import type { ChunkOpening } from './transcript.ts';

/** Chunks sampled per contributor by default: a result wrong in half its chunks passes with 2^-16. */
export const DEFAULT_SAMPLED_CHUNKS = 16;
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

/** The aggregator's openings of `indices` in one contributor's masked vector. */
export function openChunks(vector: Uint32Array, indices: readonly number[]): ChunkOpening[] {
  const tree = chunkTree(vector);
  return indices.map((c) => ({ words: chunkWords(vector, c).slice(), proof: tree.inclusionProof(c) }));
}
