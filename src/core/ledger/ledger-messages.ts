// Wire bodies of the audit-log protocol (message types 48–54), strict and bounded, big-endian,
// each starting with a version byte (1):
//
// head                  = v ‖ u16 n ‖ n bytes signed tree head (tree-head.ts)               broadcast
// consistency-request   = v ‖ u32 requestId ‖ u8 k (1..64) ‖ k × (u64 size1 ‖ u64 size2)     direct
// consistency-response  = v ‖ u32 requestId ‖ u8 k ‖ k × (u64 size1 ‖ u64 size2 ‖ u8 status ‖
//                         u8 m ‖ m × 32 proof hash)   status 0 = proof, 1 = unavailable        direct
// heads-request         = v ‖ u32 requestId ‖ u32 from ‖ u16 max (1..64)                      direct
// heads-response        = v ‖ u32 requestId ‖ u32 total ‖ u32 from ‖ u8 n (≤ 64) ‖
//                         n × (u16 len ‖ signed head)                                          direct
// entries-request       = v ‖ u32 requestId ‖ u64 from ‖ u64 to ‖ u64 proofTreeSize (0: none)  direct
// entries-response      = v ‖ u32 requestId ‖ u64 from ‖ u64 proofTreeSize ‖ u16 n (≤ 256) ‖
//                         n × (u32 len ‖ entry bytes ‖ u8 m ‖ m × 32 inclusion proof)          direct
//
// A response answers at most a page (MAX_ENTRIES_PER_PAGE entries, about ENTRY_PAGE_BYTES of
// them, MAX_HEADS_PER_PAGE heads, MAX_PROOFS_PER_MESSAGE proofs); the requester pages on.
import { ByteReader, ByteWriter, DecodeError, safeDecode } from '../codec/index.ts';
import type { Result } from '../result.ts';
import { MAX_QC_BYTES, MAX_TRANSCRIPT_PROOF } from './entry.ts';
import { HASH_BYTES, type Hash } from './merkle.ts';
import { MAX_TREE_HEAD_BYTES } from './tree-head.ts';

export const LEDGER_MESSAGE_VERSION = 1;
export const MAX_PROOFS_PER_MESSAGE = 64;
/** A tree of up to 2^64 entries has proofs of at most 64 hashes (RFC 9162). */
export const MAX_PROOF_HASHES = 64;
export const MAX_HEADS_PER_PAGE = 64;
export const MAX_ENTRIES_PER_PAGE = 256;
/** Entry bytes a responder packs into one page before stopping (one entry always fits). */
export const ENTRY_PAGE_BYTES = 1024 * 1024;
/** The largest entry the codec can produce: a receipt with a QC of MAX_VALIDATORS signatures. */
export const MAX_ENTRY_BYTES = 2 + 8 + 16 + 8 + HASH_BYTES + 4 + MAX_QC_BYTES + HASH_BYTES + 8 + 8 + HASH_BYTES + 1 + MAX_TRANSCRIPT_PROOF * HASH_BYTES;
const MAX_U32 = 0xffff_ffff;

export interface LedgerHeadMessage {
  head: Uint8Array;
}

export interface SizePair {
  size1: number;
  size2: number;
}

export interface ConsistencyRequest {
  requestId: number;
  pairs: SizePair[];
}

export interface ConsistencyAnswer extends SizePair {
  /** null: the responder cannot prove this pair (a size beyond its log, or size1 > size2). */
  proof: Hash[] | null;
}

export interface ConsistencyResponse {
  requestId: number;
  answers: ConsistencyAnswer[];
}

export interface HeadsRequest {
  requestId: number;
  /** Index of the first head wanted (heads are numbered from 0, oldest first). */
  from: number;
  max: number;
}

export interface HeadsResponse {
  requestId: number;
  /** How many heads the responder has in all. */
  total: number;
  from: number;
  heads: Uint8Array[];
}

export interface EntriesRequest {
  requestId: number;
  from: number;
  to: number;
  /** Inclusion proofs of each entry in the tree of this size; 0: no proofs. */
  proofTreeSize: number;
}

export interface EntryWithProof {
  bytes: Uint8Array;
  /** Empty when no proofs were asked for. */
  proof: Hash[];
}

export interface EntriesResponse {
  requestId: number;
  from: number;
  proofTreeSize: number;
  entries: EntryWithProof[];
}

function checkUint(v: number, what: string, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isSafeInteger(v) || v < 0 || v > max) throw new Error(`"${what}" must be an integer in 0..${max}, got ${v}`);
}

function checkHashes(list: readonly Hash[], what: string): void {
  if (list.length > MAX_PROOF_HASHES) throw new Error(`"${what}" has more than ${MAX_PROOF_HASHES} hashes`);
  list.forEach((h, i) => {
    if (h.length !== HASH_BYTES) throw new Error(`"${what}[${i}]" must be ${HASH_BYTES} bytes`);
  });
}

const writer = (): ByteWriter => new ByteWriter(256).u8(LEDGER_MESSAGE_VERSION);

function decode<T>(bytes: Uint8Array, what: string, read: (r: ByteReader) => T): Result<T> {
  return safeDecode(() => {
    const r = new ByteReader(bytes);
    const version = r.u8('version');
    if (version !== LEDGER_MESSAGE_VERSION) throw new DecodeError(`${what} version ${version} unsupported`);
    const value = read(r);
    r.end(what);
    return value;
  });
}

function readHashes(r: ByteReader, what: string): Hash[] {
  const m = r.u8(`${what} length`);
  if (m > MAX_PROOF_HASHES) throw new DecodeError(`${what} has ${m} hashes, limit ${MAX_PROOF_HASHES}`);
  const out: Hash[] = [];
  for (let i = 0; i < m; i++) out.push(r.bytes(HASH_BYTES, `${what} hash`).slice());
  return out;
}

function readHead(r: ByteReader, what: string): Uint8Array {
  const n = r.u16(`${what} length`);
  if (n === 0 || n > MAX_TREE_HEAD_BYTES) throw new DecodeError(`${what} is ${n} bytes, want 1..${MAX_TREE_HEAD_BYTES}`);
  return r.bytes(n, what).slice();
}

function checkHead(head: Uint8Array, what: string): void {
  if (head.length === 0 || head.length > MAX_TREE_HEAD_BYTES) throw new Error(`"${what}" must be 1..${MAX_TREE_HEAD_BYTES} bytes`);
}

// ---- head gossip ------------------------------------------------------------------------------

export function encodeLedgerHead(m: LedgerHeadMessage): Uint8Array {
  checkHead(m.head, 'head');
  return writer().u16(m.head.length).bytes(m.head).finish();
}

export const decodeLedgerHead = (b: Uint8Array): Result<LedgerHeadMessage> => decode(b, 'ledger head', (r) => ({ head: readHead(r, 'head') }));

// ---- consistency proofs -------------------------------------------------------------------------

function checkPairs(pairs: readonly SizePair[]): void {
  if (pairs.length === 0 || pairs.length > MAX_PROOFS_PER_MESSAGE) throw new Error(`"pairs" must hold 1..${MAX_PROOFS_PER_MESSAGE} pairs`);
  for (const p of pairs) {
    checkUint(p.size1, 'size1');
    checkUint(p.size2, 'size2');
  }
}

export function encodeConsistencyRequest(m: ConsistencyRequest): Uint8Array {
  checkUint(m.requestId, 'requestId', MAX_U32);
  checkPairs(m.pairs);
  const w = writer().u32(m.requestId).u8(m.pairs.length);
  for (const p of m.pairs) w.u64(p.size1).u64(p.size2);
  return w.finish();
}

export const decodeConsistencyRequest = (b: Uint8Array): Result<ConsistencyRequest> =>
  decode(b, 'consistency request', (r) => {
    const requestId = r.u32('requestId');
    const k = r.u8('pair count');
    if (k === 0 || k > MAX_PROOFS_PER_MESSAGE) throw new DecodeError(`pair count ${k}, want 1..${MAX_PROOFS_PER_MESSAGE}`);
    const pairs: SizePair[] = [];
    for (let i = 0; i < k; i++) pairs.push({ size1: r.u64('size1'), size2: r.u64('size2') });
    return { requestId, pairs };
  });

export function encodeConsistencyResponse(m: ConsistencyResponse): Uint8Array {
  checkUint(m.requestId, 'requestId', MAX_U32);
  checkPairs(m.answers);
  const w = writer().u32(m.requestId).u8(m.answers.length);
  for (const a of m.answers) {
    w.u64(a.size1).u64(a.size2);
    if (a.proof === null) w.u8(1).u8(0);
    else {
      checkHashes(a.proof, 'proof');
      w.u8(0).u8(a.proof.length);
      for (const h of a.proof) w.bytes(h);
    }
  }
  return w.finish();
}

export const decodeConsistencyResponse = (b: Uint8Array): Result<ConsistencyResponse> =>
  decode(b, 'consistency response', (r) => {
    const requestId = r.u32('requestId');
    const k = r.u8('answer count');
    if (k === 0 || k > MAX_PROOFS_PER_MESSAGE) throw new DecodeError(`answer count ${k}, want 1..${MAX_PROOFS_PER_MESSAGE}`);
    const answers: ConsistencyAnswer[] = [];
    for (let i = 0; i < k; i++) {
      const size1 = r.u64('size1');
      const size2 = r.u64('size2');
      const status = r.u8('status');
      if (status > 1) throw new DecodeError(`proof status ${status} unknown`);
      const proof = readHashes(r, 'proof');
      if (status === 1 && proof.length > 0) throw new DecodeError('an unavailable proof carries hashes');
      answers.push({ size1, size2, proof: status === 0 ? proof : null });
    }
    return { requestId, answers };
  });

// ---- heads --------------------------------------------------------------------------------------

export function encodeHeadsRequest(m: HeadsRequest): Uint8Array {
  checkUint(m.requestId, 'requestId', MAX_U32);
  checkUint(m.from, 'from', MAX_U32);
  if (!Number.isInteger(m.max) || m.max < 1 || m.max > MAX_HEADS_PER_PAGE) throw new Error(`"max" must be 1..${MAX_HEADS_PER_PAGE}`);
  return writer().u32(m.requestId).u32(m.from).u16(m.max).finish();
}

export const decodeHeadsRequest = (b: Uint8Array): Result<HeadsRequest> =>
  decode(b, 'heads request', (r) => {
    const requestId = r.u32('requestId');
    const from = r.u32('from');
    const max = r.u16('max');
    if (max === 0 || max > MAX_HEADS_PER_PAGE) throw new DecodeError(`max ${max}, want 1..${MAX_HEADS_PER_PAGE}`);
    return { requestId, from, max };
  });

export function encodeHeadsResponse(m: HeadsResponse): Uint8Array {
  checkUint(m.requestId, 'requestId', MAX_U32);
  checkUint(m.total, 'total', MAX_U32);
  checkUint(m.from, 'from', MAX_U32);
  if (m.heads.length > MAX_HEADS_PER_PAGE) throw new Error(`"heads" must hold at most ${MAX_HEADS_PER_PAGE}`);
  if (m.from + m.heads.length > m.total) throw new Error('"heads" go past "total"');
  const w = writer().u32(m.requestId).u32(m.total).u32(m.from).u8(m.heads.length);
  m.heads.forEach((h, i) => {
    checkHead(h, `heads[${i}]`);
    w.u16(h.length).bytes(h);
  });
  return w.finish();
}

export const decodeHeadsResponse = (b: Uint8Array): Result<HeadsResponse> =>
  decode(b, 'heads response', (r) => {
    const requestId = r.u32('requestId');
    const total = r.u32('total');
    const from = r.u32('from');
    const n = r.u8('head count');
    if (n > MAX_HEADS_PER_PAGE) throw new DecodeError(`head count ${n}, limit ${MAX_HEADS_PER_PAGE}`);
    if (from + n > total) throw new DecodeError('heads go past the total');
    const heads: Uint8Array[] = [];
    for (let i = 0; i < n; i++) heads.push(readHead(r, 'head'));
    return { requestId, total, from, heads };
  });

// ---- entries ------------------------------------------------------------------------------------

export function encodeEntriesRequest(m: EntriesRequest): Uint8Array {
  checkUint(m.requestId, 'requestId', MAX_U32);
  checkUint(m.from, 'from');
  checkUint(m.to, 'to');
  checkUint(m.proofTreeSize, 'proofTreeSize');
  if (m.to < m.from) throw new Error('"to" must not be below "from"');
  return writer().u32(m.requestId).u64(m.from).u64(m.to).u64(m.proofTreeSize).finish();
}

export const decodeEntriesRequest = (b: Uint8Array): Result<EntriesRequest> =>
  decode(b, 'entries request', (r) => {
    const requestId = r.u32('requestId');
    const from = r.u64('from');
    const to = r.u64('to');
    const proofTreeSize = r.u64('proofTreeSize');
    if (to < from) throw new DecodeError('entries request: to is below from');
    return { requestId, from, to, proofTreeSize };
  });

export function encodeEntriesResponse(m: EntriesResponse): Uint8Array {
  checkUint(m.requestId, 'requestId', MAX_U32);
  checkUint(m.from, 'from');
  checkUint(m.proofTreeSize, 'proofTreeSize');
  if (m.entries.length > MAX_ENTRIES_PER_PAGE) throw new Error(`"entries" must hold at most ${MAX_ENTRIES_PER_PAGE}`);
  const w = new ByteWriter(1024).u8(LEDGER_MESSAGE_VERSION).u32(m.requestId).u64(m.from).u64(m.proofTreeSize).u16(m.entries.length);
  m.entries.forEach((e, i) => {
    if (e.bytes.length === 0 || e.bytes.length > MAX_ENTRY_BYTES) throw new Error(`"entries[${i}].bytes" must be 1..${MAX_ENTRY_BYTES} bytes`);
    checkHashes(e.proof, `entries[${i}].proof`);
    w.varBytes(e.bytes).u8(e.proof.length);
    for (const h of e.proof) w.bytes(h);
  });
  return w.finish();
}

export const decodeEntriesResponse = (b: Uint8Array): Result<EntriesResponse> =>
  decode(b, 'entries response', (r) => {
    const requestId = r.u32('requestId');
    const from = r.u64('from');
    const proofTreeSize = r.u64('proofTreeSize');
    const n = r.u16('entry count');
    if (n > MAX_ENTRIES_PER_PAGE) throw new DecodeError(`entry count ${n}, limit ${MAX_ENTRIES_PER_PAGE}`);
    const entries: EntryWithProof[] = [];
    for (let i = 0; i < n; i++) {
      const bytes = r.varBytes(MAX_ENTRY_BYTES, 'entry').slice();
      if (bytes.length === 0) throw new DecodeError('empty entry');
      entries.push({ bytes, proof: readHashes(r, 'inclusion proof') });
    }
    return { requestId, from, proofTreeSize, entries };
  });
