// The aggregator's claim for a chain round whose transcript is too large to ship (message type 47,
// net/message-types.ts): the result, the light transcript (secagg/light-transcript.ts: everything
// but the masked vectors' bytes, same transcript root) and, for every contributor, its openings of
// the chunks sampled from that root (secagg/chunk-sampling.ts), so each validator re-checks every
// mask and share and the sum on the sampled coordinates (recomputeSampled) — on these public ones
// and on a private sample of its own, asked of the aggregator (private-sample.ts), as the public
// indices follow from a root the aggregator can grind. Big-endian, strict:
//
// claim = u8 version(1) ‖ u32 len ‖ aggregation result (block.ts) ‖ light transcript ‖
//         u32 s ‖ s × u32 chunk index ‖ openings (chunk-openings.ts)
import { ByteReader, ByteWriter, DecodeError, safeDecode } from '../codec/index.ts';
import type { Result } from '../result.ts';
import { readLightTranscript, encodeLightTranscript, type LightItem } from '../secagg/light-transcript.ts';
import { encodeResult, readPrefixedResult, type AggregationResult } from './block.ts';
import { readOpenings, writeOpenings, type ChunkOpenings } from './chunk-openings.ts';

export const SAMPLED_CLAIM_VERSION = 1;
const MAX_SAMPLES = 256;

export interface SampledClaim {
  readonly result: AggregationResult;
  readonly light: readonly LightItem[];
  readonly indices: readonly number[];
  /** Per contributor (node id), the opening of indices[k] at position k. */
  readonly chunks: ChunkOpenings;
}

export function encodeSampledClaim(c: SampledClaim): Uint8Array {
  const w = new ByteWriter().u8(SAMPLED_CLAIM_VERSION).varBytes(encodeResult(c.result)).bytes(encodeLightTranscript(c.light));
  w.u32(c.indices.length);
  for (const i of c.indices) w.u32(i);
  writeOpenings(w, c.chunks, c.indices.length);
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
    const chunks = readOpenings(r, s);
    r.end('sampled claim');
    return { result, light, indices, chunks };
  });
}
