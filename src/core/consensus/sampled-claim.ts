// The aggregator's claim for a chain round whose transcript is too large to ship (message type 47,
// net/message-types.ts): the result, the light transcript (secagg/light-transcript.ts: everything
// but the masked vectors' bytes, same transcript root) and, for every contributor, its openings of
// the chunks sampled from that root (secagg/chunk-sampling.ts), so each validator re-checks every
// mask and share and the sum on the sampled coordinates (recomputeSampled). Big-endian, strict:
//
// claim = u8 version(1) ‖ u32 len ‖ aggregation result (block.ts) ‖ light transcript ‖
//         u32 s ‖ s × u32 chunk index ‖ u32 n ‖ n × (id(16) ‖ s × (u32 m ‖ m × u32 word ‖ u8 p ‖ p × hash(32)))
import { bytesToHex, hexToBytes } from '../bytes.ts';
import { ByteReader, ByteWriter, DecodeError, safeDecode } from '../codec/index.ts';
import type { NodeId } from '../crypto/node-id.ts';
import type { Result } from '../result.ts';
import { readLightTranscript, encodeLightTranscript, type LightItem } from '../secagg/light-transcript.ts';
import { CHUNK_WORDS } from '../secagg/masked-chunks.ts';
import { MAX_IDS, readU32Vector, writeU32Vector } from '../secagg/messages.ts';
import type { ChunkOpening } from '../secagg/transcript.ts';
import { encodeResult, readPrefixedResult, type AggregationResult } from './block.ts';

export const SAMPLED_CLAIM_VERSION = 1;
const MAX_SAMPLES = 256;
/** A path in a tree of at most 2^21 / CHUNK_WORDS leaves is far shorter; 64 bounds any RFC 9162 path. */
const MAX_PROOF = 64;

export interface SampledClaim {
  readonly result: AggregationResult;
  readonly light: readonly LightItem[];
  readonly indices: readonly number[];
  /** Per contributor (node id), the opening of indices[k] at position k. */
  readonly chunks: ReadonlyMap<NodeId, readonly ChunkOpening[]>;
}

export function encodeSampledClaim(c: SampledClaim): Uint8Array {
  const w = new ByteWriter().u8(SAMPLED_CLAIM_VERSION).varBytes(encodeResult(c.result)).bytes(encodeLightTranscript(c.light));
  w.u32(c.indices.length);
  for (const i of c.indices) w.u32(i);
  w.u32(c.chunks.size);
  for (const [id, openings] of [...c.chunks].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (openings.length !== c.indices.length) throw new Error(`"chunks" of ${id} has ${openings.length} openings, not ${c.indices.length}`);
    w.bytes(hexToBytes(id));
    for (const o of openings) {
      writeU32Vector(w, o.words);
      w.u8(o.proof.length);
      for (const h of o.proof) w.bytes(h);
    }
  }
  return w.finish();
}

export function decodeSampledClaim(bytes: Uint8Array): Result<SampledClaim> {
  return safeDecode(() => {
    const r = new ByteReader(bytes);
    const v = r.u8('version');
    if (v !== SAMPLED_CLAIM_VERSION) throw new DecodeError(`sampled claim version ${v} unsupported`);
    const result = readPrefixedResult(r);
    const light = readLightTranscript(r);
    const s = r.u32('sample count');
    if (s > MAX_SAMPLES) throw new DecodeError(`${s} sampled chunks`);
    const indices: number[] = [];
    for (let i = 0; i < s; i++) indices.push(r.u32('chunk index'));
    const n = r.u32('contributor count');
    if (n > MAX_IDS) throw new DecodeError(`openings for ${n} contributors`);
    const chunks = new Map<NodeId, ChunkOpening[]>();
    for (let i = 0; i < n; i++) {
      const id = bytesToHex(r.bytes(16, 'contributor'));
      if (chunks.has(id)) throw new DecodeError(`two openings for ${id}`);
      const openings: ChunkOpening[] = [];
      for (let k = 0; k < s; k++) {
        const words = readU32Vector(r, CHUNK_WORDS);
        const p = r.u8('proof length');
        if (p > MAX_PROOF) throw new DecodeError(`proof of ${p} hashes`);
        const proof: Uint8Array[] = [];
        for (let j = 0; j < p; j++) proof.push(r.bytes(32, 'proof hash').slice());
        openings.push({ words, proof });
      }
      chunks.set(id, openings);
    }
    r.end('sampled claim');
    return { result, light, indices, chunks };
  });
}
