// The aggregator's claim for a chain round (message type 46, net/message-types.ts), gossiped to
// every node: the aggregation result it asks the chain to commit and the round transcript that
// result is recomputed from, so each validator checks it before putting it in its pool and before
// voting for a block that carries it (chain.ts `checkAggregation`). Big-endian, strict:
//
// claim = u8 version(1) ‖ u32 len ‖ aggregation result (block.ts) ‖ u32 n ‖ n × (u32 len ‖ envelope)
//
// n = 0: the transcript was over MAX_CLAIM_TRANSCRIPT_BYTES and is not shipped.
import { ByteReader, ByteWriter, DecodeError, safeDecode } from '../codec/index.ts';
import type { Result } from '../result.ts';
import { encodeResult, readPrefixedResult, type AggregationResult } from './block.ts';

export const ROUND_CLAIM_VERSION = 1;
/** Transcripts above this are not shipped (the whole message stays under the type's 8 MiB bound). */
export const MAX_CLAIM_TRANSCRIPT_BYTES = 6 * 1024 * 1024;
/** An envelope of the transcript: the largest is a masked input (8 MiB body bound, 2^21 words). */
const MAX_ENVELOPE_BYTES = 8 * 1024 * 1024 + 1024;

export interface RoundClaim {
  readonly result: AggregationResult;
  /** Signed envelopes exactly as the aggregator holds them; empty when too large to ship. */
  readonly transcript: readonly Uint8Array[];
}

export function encodeRoundClaim(c: RoundClaim): Uint8Array {
  const result = encodeResult(c.result);
  const w = new ByteWriter(16 + result.length + c.transcript.reduce((n, e) => n + 4 + e.length, 0));
  w.u8(ROUND_CLAIM_VERSION).varBytes(result).u32(c.transcript.length);
  for (const e of c.transcript) w.varBytes(e);
  return w.finish();
}

export function decodeRoundClaim(bytes: Uint8Array): Result<RoundClaim> {
  return safeDecode(() => {
    const r = new ByteReader(bytes);
    const v = r.u8('version');
    if (v !== ROUND_CLAIM_VERSION) throw new DecodeError(`round claim version ${v} unsupported`);
    const result = readPrefixedResult(r);
    const n = r.u32('transcript count');
    if (n * 4 > r.remaining) throw new DecodeError(`transcript: ${n} envelopes do not fit`);
    const transcript: Uint8Array[] = [];
    for (let i = 0; i < n; i++) transcript.push(r.varBytes(MAX_ENVELOPE_BYTES, 'envelope').slice());
    r.end('round claim');
    return { result, transcript };
  });
}
