// The light transcript: a round transcript (transcript.ts) with each SecAggMaskedInput envelope
// replaced by its sender's signed statement (masked-chunks.ts) — every key, share, survivor list
// and signature unmasking reads, but none of the masked vectors' bytes. It is a few KiB per
// participant whatever the dimension, so it is shipped to every validator when the full transcript
// is too large, and it has the same transcript root (transcript-root.ts commits to statements).
//
// Encoding (big-endian, strict): u32 n ‖ n × item, item = u8 kind ‖
//   kind 1: u32 len ‖ envelope bytes            (open, advertise, reveal, consistency, unmask — verbatim)
//   kind 2: sender key(32) ‖ round id(16) ‖ u32 m ‖ m × id(16) ‖ u32 words ‖ chunk root(32) ‖ signature(64)
import { ByteReader, ByteWriter, DecodeError, safeDecode } from '../codec/index.ts';
import { decodeEnvelope } from '../net/envelope.ts';
import { MessageType } from '../net/message-types.ts';
import { err, ok, type Result } from '../result.ts';
import { maskedInputParts } from './contribution-commitment.ts';
import type { MaskedStatement } from './masked-chunks.ts';
import { MAX_IDS, MAX_TRANSCRIPT_ENVELOPES, MAX_VECTOR, readIds, ROUND_ID_BYTES, writeIds } from './messages.ts';

export type LightItem =
  | { readonly kind: 'envelope'; readonly bytes: Uint8Array }
  | { readonly kind: 'masked'; readonly statement: MaskedStatement; readonly signature: Uint8Array };

/** Envelopes of the small stages are at most 1 MiB (message-types.ts). */
const MAX_LIGHT_ENVELOPE_BYTES = 1024 * 1024 + 1024;
const MAX_ITEMS = MAX_TRANSCRIPT_ENVELOPES;

/** The light form of a transcript (untrusted bytes: an error names the first undecodable envelope). */
export function lightTranscript(envelopes: readonly Uint8Array[]): Result<LightItem[]> {
  const items: LightItem[] = [];
  for (let i = 0; i < envelopes.length; i++) {
    const bytes = envelopes[i] as Uint8Array;
    const env = decodeEnvelope(bytes);
    if (!env.ok) return err(`transcript envelope ${i}: ${env.error}`);
    if (env.value.type !== MessageType.SecAggMaskedInput) {
      items.push({ kind: 'envelope', bytes });
      continue;
    }
    const parts = maskedInputParts(bytes);
    if (!parts.ok) return err(`transcript envelope ${i}: ${parts.error}`);
    items.push({ kind: 'masked', statement: parts.value.statement, signature: parts.value.signature });
  }
  return ok(items);
}

export function encodeLightTranscript(items: readonly LightItem[]): Uint8Array {
  const w = new ByteWriter().u32(items.length);
  for (const it of items) {
    if (it.kind === 'envelope') {
      w.u8(1).varBytes(it.bytes);
      continue;
    }
    const s = it.statement;
    w.u8(2).bytes(s.sender).bytes(s.roundId);
    writeIds(w, s.maskedWith);
    w.u32(s.words).bytes(s.chunkRoot).bytes(it.signature);
  }
  return w.finish();
}

export function readLightTranscript(r: ByteReader): LightItem[] {
  const n = r.u32('light transcript length');
  if (n > MAX_ITEMS) throw new DecodeError(`light transcript of ${n} items`);
  const items: LightItem[] = [];
  for (let i = 0; i < n; i++) {
    const kind = r.u8('item kind');
    if (kind === 1) {
      items.push({ kind: 'envelope', bytes: r.varBytes(MAX_LIGHT_ENVELOPE_BYTES, 'envelope').slice() });
    } else if (kind === 2) {
      const sender = r.bytes(32, 'sender').slice();
      const roundId = r.bytes(ROUND_ID_BYTES, 'round id').slice();
      const maskedWith = readIds(r, MAX_IDS).map((id) => id.slice());
      const words = r.u32('words');
      if (words > MAX_VECTOR) throw new DecodeError(`masked vector of ${words} words`);
      const chunkRoot = r.bytes(32, 'chunk root').slice();
      const signature = r.bytes(64, 'signature').slice();
      items.push({ kind: 'masked', statement: { roundId, sender, maskedWith, words, chunkRoot }, signature });
    } else throw new DecodeError(`unknown light transcript item kind ${kind}`);
  }
  return items;
}

export function decodeLightTranscript(bytes: Uint8Array): Result<LightItem[]> {
  return safeDecode(() => {
    const r = new ByteReader(bytes);
    const items = readLightTranscript(r);
    r.end('light transcript');
    return items;
  });
}
