// Bodies of the secure-aggregation envelopes (Bonawitz et al. 2017, §4 / Fig. 4), big-endian.
// Every body starts with the 16-byte round id. The envelope around a body is signed by its sender's
// identity key, so the collected envelopes form a transcript that anyone can check.
import { utf8Decode, utf8ToBytes } from '../bytes.ts';
import { ByteReader, ByteWriter, DecodeError, safeDecode } from '../codec/index.ts';
import type { Result } from '../result.ts';
import { validateParams, type SecAggParams } from './params.ts';

export const ROUND_ID_BYTES = 16;
const KEY_BYTES = 32;
const ID_BYTES = 16;

export interface RoundOpen {
  roundId: Uint8Array;
  params: SecAggParams;
}

export interface AdvertiseKeys {
  roundId: Uint8Array;
  /** X25519 public key for share encryption (c_u^PK). */
  encryptionKey: Uint8Array;
  /** X25519 public key for pairwise masks (s_u^PK). */
  maskKey: Uint8Array;
  /** SHA-256 commitment to the self-mask seed b_u, so its reconstruction can be checked. */
  selfSeedCommitment: Uint8Array;
  /** r_0 of this participant's graph-seed hash chain (graph-seed.ts): links of it are revealed once the advertisement list is fixed. */
  graphSeedCommitment: Uint8Array;
}

/**
 * A reveal committee member's link of its graph-seed chain (sparse rounds only), for one attempt:
 * it names the advertisement list it was shown by hash, so it cannot serve another list.
 */
export interface SeedReveal {
  roundId: Uint8Array;
  /** advertisementListHash of the advertisements this participant was shown. */
  advertisementsHash: Uint8Array;
  /** 1..REVEAL_ATTEMPTS: which committee, and which link of the chain (r_attempt). */
  attempt: number;
  reveal: Uint8Array;
}

/** The aggregator asks the next reveal committee (an earlier one fell short). */
export interface RevealRequest {
  roundId: Uint8Array;
  attempt: number;
}

/** One ciphertext from `from` to `to`: AEAD(shares of from's self-seed and mask key). */
export interface EncryptedShare {
  from: Uint8Array;
  to: Uint8Array;
  ciphertext: Uint8Array;
}

export interface ShareKeys {
  roundId: Uint8Array;
  shares: EncryptedShare[];
}

export interface MaskedInput {
  roundId: Uint8Array;
  /** The neighbours whose pairwise masks are in `masked` (those whose shares reached us: U2 ∩ N(u)). */
  maskedWith: Uint8Array[];
  /** RFC 9162 root over the vector's chunks (masked-chunks.ts). */
  chunkRoot: Uint8Array;
  /** The sender's identity signature on its statement (masked-chunks.ts: round, sender, maskedWith, length, chunk root). */
  statementSignature: Uint8Array;
  masked: Uint32Array;
}

/** The aggregator's list of participants (sorted node ids as 16-byte values). */
export interface IdList {
  roundId: Uint8Array;
  ids: Uint8Array[];
}

export interface ConsistencySig {
  roundId: Uint8Array;
  /** SHA-256 of the survivor list this participant was shown. */
  survivorsHash: Uint8Array;
}

/** Envelopes relayed by the aggregator, verbatim, so their signatures still verify. */
export interface EnvelopeBundle {
  roundId: Uint8Array;
  envelopes: Uint8Array[];
}

export type ShareKind = 'self-seed' | 'mask-key';

export interface RevealedShare {
  owner: Uint8Array;
  kind: ShareKind;
  /** An encoded Shamir share (crypto/shamir.ts). */
  share: Uint8Array;
}

export interface UnmaskShares {
  roundId: Uint8Array;
  shares: RevealedShare[];
}

export interface RoundResultBody {
  roundId: Uint8Array;
  ok: boolean;
  reason: string;
  contributors: Uint8Array[];
  dropped: Uint8Array[];
  /** The ring sum (empty when the round aborted). */
  sum: Uint32Array;
  /** SHA-256 over the transcript's envelopes, in order. */
  transcriptHash: Uint8Array;
  /** The transcript: every envelope the result depends on (empty when aborted). */
  transcript: Uint8Array[];
}

// ---- encoding ------------------------------------------------------------------------------

/**
 * SecAgg parameters in a fixed order (clipping_range as IEEE-754 binary64; validateParams rejects
 * NaN/∞/≤0). Also the encoding of a round's parameters in consensus transactions and state.
 */
export function writeParams(w: ByteWriter, p: SecAggParams): void {
  w.u32(p.dimension).f64(p.clipping_range).u64(p.quantization_range).u64(p.modulus_range);
  w.u16(p.num_shares).u16(p.reconstruction_threshold).u32(p.min_contributors).u32(p.timeout).u16(p.complete_graph_max);
}

export function readParams(r: ByteReader): SecAggParams {
  const p: SecAggParams = {
    dimension: r.u32('dimension'),
    clipping_range: r.f64('clipping_range'),
    quantization_range: r.u64('quantization_range'),
    modulus_range: r.u64('modulus_range'),
    num_shares: r.u16('num_shares'),
    reconstruction_threshold: r.u16('reconstruction_threshold'),
    min_contributors: r.u32('min_contributors'),
    timeout: r.u32('timeout'),
    complete_graph_max: r.u16('complete_graph_max'),
  };
  const v = validateParams(p);
  if (!v.ok) throw new DecodeError(v.error);
  return p;
}

export function writeIds(w: ByteWriter, ids: readonly Uint8Array[]): void {
  w.u32(ids.length);
  for (const id of ids) w.bytes(id);
}

export function readIds(r: ByteReader, max: number): Uint8Array[] {
  const n = r.u32('id count');
  if (n > max) throw new Error(`too many ids: ${n}`);
  const ids: Uint8Array[] = [];
  for (let i = 0; i < n; i++) ids.push(r.bytes(ID_BYTES, 'id'));
  return ids;
}

export function writeU32Vector(w: ByteWriter, v: Uint32Array): void {
  w.u32(v.length).u32s(v);
}

export function readU32Vector(r: ByteReader, max: number): Uint32Array {
  const n = r.u32('vector length');
  if (n > max) throw new Error(`vector of ${n} exceeds ${max}`);
  return r.u32s(n, 'vector');
}

export const MAX_IDS = 4096;
export const MAX_VECTOR = 1 << 21;
/** The open, four per-participant stages (advertise, masked input, consistency, unmask) and a reveal committee, with room to spare. */
export const MAX_TRANSCRIPT_ENVELOPES = 5 * MAX_IDS + 8;

export const encodeRoundOpen = (m: RoundOpen): Uint8Array => {
  const w = new ByteWriter().bytes(m.roundId);
  writeParams(w, m.params);
  return w.finish();
};
export const decodeRoundOpen = (b: Uint8Array): Result<RoundOpen> =>
  safeDecode(() => {
    const r = new ByteReader(b);
    const m = { roundId: r.bytes(ROUND_ID_BYTES, 'round id'), params: readParams(r) };
    r.end();
    return m;
  });

export const encodeAdvertiseKeys = (m: AdvertiseKeys): Uint8Array =>
  new ByteWriter().bytes(m.roundId).bytes(m.encryptionKey).bytes(m.maskKey).bytes(m.selfSeedCommitment).bytes(m.graphSeedCommitment).finish();
export const decodeAdvertiseKeys = (b: Uint8Array): Result<AdvertiseKeys> =>
  safeDecode(() => {
    const r = new ByteReader(b);
    const m = {
      roundId: r.bytes(ROUND_ID_BYTES, 'round id'),
      encryptionKey: r.bytes(KEY_BYTES, 'encryption key'),
      maskKey: r.bytes(KEY_BYTES, 'mask key'),
      selfSeedCommitment: r.bytes(32, 'self-seed commitment'),
      graphSeedCommitment: r.bytes(32, 'graph-seed commitment'),
    };
    r.end();
    return m;
  });

export const encodeSeedReveal = (m: SeedReveal): Uint8Array =>
  new ByteWriter().bytes(m.roundId).bytes(m.advertisementsHash).u8(m.attempt).bytes(m.reveal).finish();
export const decodeSeedReveal = (b: Uint8Array): Result<SeedReveal> =>
  safeDecode(() => {
    const r = new ByteReader(b);
    const m = {
      roundId: r.bytes(ROUND_ID_BYTES, 'round id'),
      advertisementsHash: r.bytes(32, 'advertisements hash'),
      attempt: r.u8('attempt'),
      reveal: r.bytes(32, 'graph-seed reveal'),
    };
    r.end();
    return m;
  });

export const encodeRevealRequest = (m: RevealRequest): Uint8Array => new ByteWriter().bytes(m.roundId).u8(m.attempt).finish();
export const decodeRevealRequest = (b: Uint8Array): Result<RevealRequest> =>
  safeDecode(() => {
    const r = new ByteReader(b);
    const m = { roundId: r.bytes(ROUND_ID_BYTES, 'round id'), attempt: r.u8('attempt') };
    r.end();
    return m;
  });

export const encodeShareKeys = (m: ShareKeys): Uint8Array => {
  const w = new ByteWriter().bytes(m.roundId).u32(m.shares.length);
  for (const s of m.shares) w.bytes(s.from).bytes(s.to).varBytes(s.ciphertext);
  return w.finish();
};
export const decodeShareKeys = (b: Uint8Array): Result<ShareKeys> =>
  safeDecode(() => {
    const r = new ByteReader(b);
    const roundId = r.bytes(ROUND_ID_BYTES, 'round id');
    const n = r.u32('share count');
    if (n > MAX_IDS) throw new Error(`too many shares: ${n}`);
    const shares: EncryptedShare[] = [];
    for (let i = 0; i < n; i++)
      shares.push({ from: r.bytes(ID_BYTES, 'from'), to: r.bytes(ID_BYTES, 'to'), ciphertext: r.varBytes(512, 'ciphertext') });
    r.end();
    return { roundId, shares };
  });

export const encodeMaskedInput = (m: MaskedInput): Uint8Array => {
  const w = new ByteWriter(ROUND_ID_BYTES + 8 + m.maskedWith.length * ID_BYTES + 96 + m.masked.length * 4).bytes(m.roundId);
  writeIds(w, m.maskedWith);
  w.bytes(m.chunkRoot).bytes(m.statementSignature);
  writeU32Vector(w, m.masked);
  return w.finish();
};
export const decodeMaskedInput = (b: Uint8Array): Result<MaskedInput> =>
  safeDecode(() => {
    const r = new ByteReader(b);
    const m = {
      roundId: r.bytes(ROUND_ID_BYTES, 'round id'),
      maskedWith: readIds(r, MAX_IDS),
      chunkRoot: r.bytes(32, 'chunk root'),
      statementSignature: r.bytes(64, 'statement signature'),
      masked: readU32Vector(r, MAX_VECTOR),
    };
    r.end();
    return m;
  });

export const encodeIdList = (m: IdList): Uint8Array => {
  const w = new ByteWriter().bytes(m.roundId);
  writeIds(w, m.ids);
  return w.finish();
};
export const decodeIdList = (b: Uint8Array): Result<IdList> =>
  safeDecode(() => {
    const r = new ByteReader(b);
    const m = { roundId: r.bytes(ROUND_ID_BYTES, 'round id'), ids: readIds(r, MAX_IDS) };
    r.end();
    return m;
  });

export const encodeConsistencySig = (m: ConsistencySig): Uint8Array =>
  new ByteWriter().bytes(m.roundId).bytes(m.survivorsHash).finish();
export const decodeConsistencySig = (b: Uint8Array): Result<ConsistencySig> =>
  safeDecode(() => {
    const r = new ByteReader(b);
    const m = { roundId: r.bytes(ROUND_ID_BYTES, 'round id'), survivorsHash: r.bytes(32, 'survivors hash') };
    r.end();
    return m;
  });

export const encodeBundle = (m: EnvelopeBundle): Uint8Array => {
  const w = new ByteWriter().bytes(m.roundId).u32(m.envelopes.length);
  for (const e of m.envelopes) w.varBytes(e);
  return w.finish();
};
export const decodeBundle = (b: Uint8Array, maxEnvelopeBytes = 64 * 1024): Result<EnvelopeBundle> =>
  safeDecode(() => {
    const r = new ByteReader(b);
    const roundId = r.bytes(ROUND_ID_BYTES, 'round id');
    const n = r.u32('envelope count');
    if (n > MAX_IDS) throw new Error(`too many envelopes: ${n}`);
    const envelopes: Uint8Array[] = [];
    for (let i = 0; i < n; i++) envelopes.push(r.varBytes(maxEnvelopeBytes, 'envelope'));
    r.end();
    return { roundId, envelopes };
  });

const KIND_CODE: Record<ShareKind, number> = { 'self-seed': 1, 'mask-key': 2 };

export const encodeUnmaskShares = (m: UnmaskShares): Uint8Array => {
  const w = new ByteWriter().bytes(m.roundId).u32(m.shares.length);
  for (const s of m.shares) w.bytes(s.owner).u8(KIND_CODE[s.kind]).varBytes(s.share);
  return w.finish();
};
export const decodeUnmaskShares = (b: Uint8Array): Result<UnmaskShares> =>
  safeDecode(() => {
    const r = new ByteReader(b);
    const roundId = r.bytes(ROUND_ID_BYTES, 'round id');
    const n = r.u32('share count');
    if (n > MAX_IDS) throw new Error(`too many shares: ${n}`);
    const shares: RevealedShare[] = [];
    for (let i = 0; i < n; i++) {
      const owner = r.bytes(ID_BYTES, 'owner');
      const code = r.u8('kind');
      if (code !== 1 && code !== 2) throw new Error(`unknown share kind ${code}`);
      shares.push({ owner, kind: code === 1 ? 'self-seed' : 'mask-key', share: r.varBytes(64, 'share') });
    }
    r.end();
    return { roundId, shares };
  });

export const encodeRoundResult = (m: RoundResultBody): Uint8Array => {
  const reason = utf8ToBytes(m.reason.slice(0, 500));
  const w = new ByteWriter().bytes(m.roundId).u8(m.ok ? 1 : 0).varBytes(reason);
  writeIds(w, m.contributors);
  writeIds(w, m.dropped);
  writeU32Vector(w, m.sum);
  w.bytes(m.transcriptHash).u32(m.transcript.length);
  for (const e of m.transcript) w.varBytes(e);
  return w.finish();
};
export const decodeRoundResult = (b: Uint8Array): Result<RoundResultBody> =>
  safeDecode(() => {
    const r = new ByteReader(b);
    const roundId = r.bytes(ROUND_ID_BYTES, 'round id');
    const okByte = r.u8('ok');
    if (okByte > 1) throw new Error('bad ok flag');
    const reason = utf8Decode(r.varBytes(2048, 'reason'));
    const contributors = readIds(r, MAX_IDS);
    const dropped = readIds(r, MAX_IDS);
    const sum = readU32Vector(r, MAX_VECTOR);
    const transcriptHash = r.bytes(32, 'transcript hash');
    const n = r.u32('transcript length');
    if (n > MAX_TRANSCRIPT_ENVELOPES) throw new Error(`transcript of ${n} envelopes`);
    const transcript: Uint8Array[] = [];
    for (let i = 0; i < n; i++) transcript.push(r.varBytes(b.length, 'transcript envelope'));
    r.end();
    return { roundId, ok: okByte === 1, reason, contributors, dropped, sum, transcriptHash, transcript };
  });

