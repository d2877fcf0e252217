// Bodies of the chain application's envelopes (message types 40–45, net/message-types.ts), and the
// certified snapshot as stored and shipped to newcomers. Big-endian, strict, version byte first.
//
// hello          (40, broadcast) = u8 version ‖ 32 genesis hash (zeros: none yet) ‖ u64 genesis timeMs ‖
//                                  u64 committed height ‖ u64 node start timeMs
// genesis        (41, direct)    = u8 version ‖ u32 len ‖ genesis bytes (genesis.ts)
// sync request   (42, direct)    = u8 version ‖ 32 genesis hash
// sync response  (43, direct)    = u8 version ‖ 32 genesis hash ‖ u32 n ‖ n × (u32 len ‖ certificate) ‖ snapshot?
//   snapshot?    = u8 0 | u8 1 ‖ snapshot
//   snapshot     = u32 len ‖ header (block.ts) ‖ QC (vote-codec.ts) ‖ u32 m ‖ m × (u32 len ‖ state record)
// transaction    (44, broadcast) = u8 version ‖ u32 len ‖ transaction (transactions.ts)
// evidence       (45, broadcast) = u8 version ‖ evidence (evidence.ts; split-view heads from the audit log)
import { ByteReader, ByteWriter, DecodeError, safeDecode } from '../codec/index.ts';
import type { Result } from '../result.ts';
import { decodeHeader, encodeHeader } from './block.ts';
import { readEvidence, writeEvidence } from './evidence.ts';
import { decodeCertificate, encodeCertificate, type CertifiedSnapshot, type SetChangeCertificate } from './light-client.ts';
import type { Evidence, Hash } from './types.ts';
import { readQuorumCertificate, writeQuorumCertificate } from './vote-codec.ts';

export const CHAIN_MESSAGE_VERSION = 1;
const HASH = 32;
export const MAX_GENESIS_MESSAGE_BYTES = 1024 * 1024;
export const MAX_CERTIFICATES = 100_000;
export const MAX_SNAPSHOT_RECORDS = 1_000_000;
/** Message type 43's body bound (net/message-types.ts): a larger response is refused by its sender. */
export const MAX_SYNC_RESPONSE_BYTES = 8 * 1024 * 1024;
/** One certificate: a header, a QC and up to MAX_VALIDATORS entries. */
const MAX_CERTIFICATE_BYTES = 1024 * 1024;
const MAX_RECORD_BYTES = 64 * 1024;
const MAX_TX_BYTES = 64 * 1024;

export interface ChainHello {
  /** Null: this node has no genesis yet (it asks for one). */
  readonly genesisHash: Hash | null;
  readonly genesisTimeMs: number;
  readonly height: number;
  readonly startedAtMs: number;
}

export interface SyncResponse {
  readonly genesisHash: Hash;
  readonly certificates: readonly SetChangeCertificate[];
  /** Null while the chain is at genesis (no block committed yet). */
  readonly snapshot: CertifiedSnapshot | null;
}

const ZERO = new Uint8Array(HASH);

function version(r: ByteReader, what: string): void {
  if (r.u8('version') !== CHAIN_MESSAGE_VERSION) throw new DecodeError(`${what} version unsupported`);
}

/** A message from a peer: version byte, the body `read` takes, no trailing bytes. */
function decodeMessage<T>(bytes: Uint8Array, what: string, read: (r: ByteReader) => T): Result<T> {
  return safeDecode(() => {
    const r = new ByteReader(bytes);
    version(r, what);
    const value = read(r);
    r.end(what);
    return value;
  });
}

function hash(h: Hash, what: string): Hash {
  if (h.length !== HASH) throw new Error(`"${what}" must be ${HASH} bytes`);
  return h;
}

export function encodeHello(m: ChainHello): Uint8Array {
  const w = new ByteWriter(1 + HASH + 24).u8(CHAIN_MESSAGE_VERSION).bytes(m.genesisHash === null ? ZERO : hash(m.genesisHash, 'genesisHash'));
  return w.u64(m.genesisTimeMs).u64(m.height).u64(m.startedAtMs).finish();
}

export function decodeHello(bytes: Uint8Array): Result<ChainHello> {
  return decodeMessage(bytes, 'hello', (r) => {
    const h = r.bytes(HASH, 'genesis hash').slice();
    const genesisTimeMs = r.u64('genesis time');
    const height = r.u64('height');
    const startedAtMs = r.u64('started at');
    return { genesisHash: h.every((b) => b === 0) ? null : h, genesisTimeMs, height, startedAtMs };
  });
}

export function encodeGenesisMessage(genesisBytes: Uint8Array): Uint8Array {
  return new ByteWriter(8 + genesisBytes.length).u8(CHAIN_MESSAGE_VERSION).varBytes(genesisBytes).finish();
}

export function decodeGenesisMessage(bytes: Uint8Array): Result<Uint8Array> {
  return decodeMessage(bytes, 'genesis message', (r) => r.varBytes(MAX_GENESIS_MESSAGE_BYTES, 'genesis').slice());
}

export function encodeSyncRequest(genesisHash: Hash): Uint8Array {
  return new ByteWriter(1 + HASH).u8(CHAIN_MESSAGE_VERSION).bytes(hash(genesisHash, 'genesisHash')).finish();
}

export function decodeSyncRequest(bytes: Uint8Array): Result<Hash> {
  return decodeMessage(bytes, 'sync request', (r) => r.bytes(HASH, 'genesis hash').slice());
}

function writeSnapshot(w: ByteWriter, s: CertifiedSnapshot): void {
  w.varBytes(encodeHeader(s.header));
  writeQuorumCertificate(w, s.qc);
  w.u32(s.records.length);
  for (const rec of s.records) w.varBytes(rec);
}

function readSnapshot(r: ByteReader): CertifiedSnapshot {
  const h = decodeHeader(r.varBytes(MAX_RECORD_BYTES, 'snapshot header'));
  if (!h.ok) throw new DecodeError(`snapshot header: ${h.error}`);
  const qc = readQuorumCertificate(r);
  const m = r.u32('record count');
  if (m > MAX_SNAPSHOT_RECORDS || m * 4 > r.remaining) throw new DecodeError(`snapshot: ${m} records do not fit`);
  const records: Uint8Array[] = [];
  for (let i = 0; i < m; i++) records.push(r.varBytes(MAX_RECORD_BYTES, 'state record').slice());
  return { header: h.value, qc, records };
}

export function encodeSnapshot(s: CertifiedSnapshot): Uint8Array {
  const w = new ByteWriter(4096).u8(CHAIN_MESSAGE_VERSION);
  writeSnapshot(w, s);
  return w.finish();
}

export function decodeSnapshot(bytes: Uint8Array): Result<CertifiedSnapshot> {
  return decodeMessage(bytes, 'snapshot', readSnapshot);
}

export function encodeSyncResponse(m: SyncResponse): Uint8Array {
  const w = new ByteWriter(4096).u8(CHAIN_MESSAGE_VERSION).bytes(hash(m.genesisHash, 'genesisHash')).u32(m.certificates.length);
  for (const c of m.certificates) w.varBytes(encodeCertificate(c));
  if (m.snapshot === null) w.u8(0);
  else {
    w.u8(1);
    writeSnapshot(w, m.snapshot);
  }
  return w.finish();
}

export function decodeSyncResponse(bytes: Uint8Array): Result<SyncResponse> {
  return decodeMessage(bytes, 'sync response', (r) => {
    const genesisHash = r.bytes(HASH, 'genesis hash').slice();
    const n = r.u32('certificate count');
    if (n > MAX_CERTIFICATES || n * 4 > r.remaining) throw new DecodeError(`sync response: ${n} certificates do not fit`);
    const certificates: SetChangeCertificate[] = [];
    for (let i = 0; i < n; i++) {
      const c = decodeCertificate(r.varBytes(MAX_CERTIFICATE_BYTES, 'certificate'));
      if (!c.ok) throw new DecodeError(`certificate ${i}: ${c.error}`);
      certificates.push(c.value);
    }
    const has = r.u8('snapshot flag');
    if (has > 1) throw new DecodeError('snapshot flag must be 0 or 1');
    const snapshot = has === 1 ? readSnapshot(r) : null;
    return { genesisHash, certificates, snapshot };
  });
}

export function encodeTxMessage(tx: Uint8Array): Uint8Array {
  return new ByteWriter(8 + tx.length).u8(CHAIN_MESSAGE_VERSION).varBytes(tx).finish();
}

export function decodeTxMessage(bytes: Uint8Array): Result<Uint8Array> {
  return decodeMessage(bytes, 'transaction message', (r) => r.varBytes(MAX_TX_BYTES, 'transaction').slice());
}

export function encodeEvidenceMessage(e: Evidence): Uint8Array {
  const w = new ByteWriter(1024).u8(CHAIN_MESSAGE_VERSION);
  writeEvidence(w, e);
  return w.finish();
}

export function decodeEvidenceMessage(bytes: Uint8Array): Result<Evidence> {
  return decodeMessage(bytes, 'evidence message', readEvidence);
}
