// A checking node's private sample of a sampled claim (README "Consensus" → "Sampled check"): once
// the claim, and so its transcript root, is public, the node draws its own chunk indices
// (secagg/chunk-sampling.ts `privateChunkIndices`), asks the round's aggregator directly for every
// contributor's openings of them, and checks the claim on the public and private chunks together
// (`widenClaim`, then recomputeSampled). The aggregator cannot grind its root against indices drawn
// after it. Big-endian, strict:
//
// request  (type 55) = u8 version(1) ‖ round id(16) ‖ transcript root(32) ‖ u32 s ‖ s × u32 chunk index
// openings (type 56) = u8 version(1) ‖ round id(16) ‖ transcript root(32) ‖ u32 s ‖ s × u32 chunk index ‖
//                      openings (chunk-openings.ts)
// The indices are strictly ascending (one encoding per request) and at most MAX_PRIVATE_INDICES.
import { ByteReader, ByteWriter, DecodeError, safeDecode } from '../codec/index.ts';
import { err, ok, type Result } from '../result.ts';
import { ROUND_ID_BYTES } from '../secagg/messages.ts';
import type { ChunkOpening } from '../secagg/transcript.ts';
import { readOpenings, writeOpenings, type ChunkOpenings } from './chunk-openings.ts';
import type { SampledClaim } from './sampled-claim.ts';

export const PRIVATE_SAMPLE_VERSION = 1;
/** Far above PRIVATE_SAMPLED_CHUNKS: the codec's bound, not the protocol's (the aggregator answers fewer). */
export const MAX_PRIVATE_INDICES = 64;

export interface OpeningsRequest {
  readonly roundId: Uint8Array;
  readonly root: Uint8Array;
  readonly indices: readonly number[];
}

export interface Openings extends OpeningsRequest {
  /** Per contributor (node id), the opening of indices[k] at position k. */
  readonly chunks: ChunkOpenings;
}

function writeHead(w: ByteWriter, m: OpeningsRequest): void {
  if (m.roundId.length !== ROUND_ID_BYTES) throw new Error(`"roundId" must be ${ROUND_ID_BYTES} bytes`);
  if (m.root.length !== 32) throw new Error('"root" must be 32 bytes');
  if (m.indices.length > MAX_PRIVATE_INDICES) throw new Error(`${m.indices.length} indices, at most ${MAX_PRIVATE_INDICES}`);
  w.u8(PRIVATE_SAMPLE_VERSION).bytes(m.roundId).bytes(m.root).u32(m.indices.length);
  for (const i of m.indices) w.u32(i);
}

function readHead(r: ByteReader, what: string): OpeningsRequest {
  const v = r.u8('version');
  if (v !== PRIVATE_SAMPLE_VERSION) throw new DecodeError(`${what} version ${v} unsupported`);
  const roundId = r.bytes(ROUND_ID_BYTES, 'round id').slice();
  const root = r.bytes(32, 'transcript root').slice();
  const s = r.u32('index count');
  if (s > MAX_PRIVATE_INDICES) throw new DecodeError(`${s} chunk indices, at most ${MAX_PRIVATE_INDICES}`);
  const indices: number[] = [];
  for (let k = 0; k < s; k++) {
    const c = r.u32('chunk index');
    if (k > 0 && c <= (indices[k - 1] as number)) throw new DecodeError('chunk indices not strictly ascending');
    indices.push(c);
  }
  return { roundId, root, indices };
}

export function encodeOpeningsRequest(m: OpeningsRequest): Uint8Array {
  const w = new ByteWriter();
  writeHead(w, m);
  return w.finish();
}

export function decodeOpeningsRequest(bytes: Uint8Array): Result<OpeningsRequest> {
  return safeDecode(() => {
    const r = new ByteReader(bytes);
    const m = readHead(r, 'openings request');
    r.end('openings request');
    return m;
  });
}

export function encodeOpenings(m: Openings): Uint8Array {
  const w = new ByteWriter();
  writeHead(w, m);
  writeOpenings(w, m.chunks, m.indices.length);
  return w.finish();
}

export function decodeOpenings(bytes: Uint8Array): Result<Openings> {
  return safeDecode(() => {
    const r = new ByteReader(bytes);
    const head = readHead(r, 'openings');
    const chunks = readOpenings(r, head.indices.length);
    r.end('openings');
    return { ...head, chunks };
  });
}

/**
 * The claim widened by a private sample: its indices and theirs, sorted, with every contributor's
 * openings merged in that order. The private openings must name exactly the claim's contributors,
 * one opening per private index, and no index the claim already opens. (Whether each opening lies
 * under its contributor's signed chunk root is recomputeSampled's check.)
 */
export function widenClaim(claim: SampledClaim, indices: readonly number[], chunks: ChunkOpenings): Result<SampledClaim> {
  const have = new Set(claim.indices);
  if (indices.some((c) => have.has(c))) return err('a private index is one the claim already opens');
  if (chunks.size !== claim.chunks.size) return err(`openings for ${chunks.size} contributors, the claim has ${claim.chunks.size}`);
  const order = [...claim.indices.map((c, k) => ({ c, k, own: true })), ...indices.map((c, k) => ({ c, k, own: false }))].sort((a, b) => a.c - b.c);
  const merged = new Map<string, ChunkOpening[]>();
  for (const [id, pub] of claim.chunks) {
    const priv = chunks.get(id);
    if (priv === undefined) return err(`no private openings for contributor ${id}`);
    if (priv.length !== indices.length || pub.length !== claim.indices.length) return err(`openings of ${id} do not match the indices`);
    merged.set(id, order.map(({ k, own }) => (own ? pub[k] : priv[k]) as ChunkOpening));
  }
  return ok({ ...claim, indices: order.map((o) => o.c), chunks: merged });
}
