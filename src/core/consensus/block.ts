// Blocks: a header that commits to everything, and a body. The block hash is SHA-256 over the
// header bytes with a domain tag, so a QC over the hash certifies the whole block.
//
// header = u8 version(1) ‖ u16 len ‖ chain id ‖ u64 height ‖ u64 timeMs ‖ 32 previous block hash ‖
//          32 last commit hash ‖ 32 validators hash ‖ 32 next validators hash ‖ 32 app state root ‖
//          32 tx root ‖ 32 results root ‖ 32 evidence root ‖ 32 proposer public key
// body   = u8 hasLastCommit ‖ [QC (vote-codec.ts)] ‖
//          u32 n ‖ n × (u32 len ‖ evidence)          evidence first: it is applied before transactions
//          u32 n ‖ n × (u32 len ‖ transaction)
//          u32 n ‖ n × aggregation result
// result = 16 round id ‖ 32 transcript hash ‖ u32 m ‖ m × u32 ring word ‖
//          u32 c ‖ c × 16 contributor node id ‖ u32 d ‖ d × 16 dropout node id
// block  = header ‖ body
// result leaf (fixed 156 bytes, what the results root commits to) =
//          16 round id ‖ 32 transcript hash ‖ u32 m ‖ 32 sum hash ‖ u32 c ‖ 32 contributors root ‖
//          u32 d ‖ 32 dropouts root      sum hash = SHA-256(tag ‖ m × u32 ring word); the roots are
//          RFC 9162 over the 16-byte ids in list order (sorted like the transcript's leaves)
//
// Roots are RFC 9162 Merkle roots over each item's encoding (hash-tree.ts); results are committed in
// their compact leaf form, so a receipt keeps 156 bytes per result instead of 16 B × contributors
// (+ an O(log N) path proving its own id is listed), while validators recompute the leaf from the
// body's full lists and sum (bodyMatchesHeader) and so check them. The app state root is
// the root after applying this block (app-state.ts), the next validators hash names the set that
// decides height + 1. Height 1 has no last commit and its last commit hash is 32 zero bytes.
import { bytesEqual, concatBytes, utf8Decode, utf8ToBytes } from '../bytes.ts';
import { ByteReader, ByteWriter, DecodeError, safeDecode } from '../codec/index.ts';
import { ED25519_PUBLIC_KEY_BYTES } from '../crypto/ed25519.ts';
import { domainTag, sha256 } from '../crypto/hash.ts';
import type { Result } from '../result.ts';
import { MAX_DIMENSION } from '../secagg/params.ts';
import { encodeEvidence, readEvidence } from './evidence.ts';
import { merkleRoot } from './hash-tree.ts';
import { HASH_BYTES, MAX_CHAIN_ID_BYTES } from './sign-bytes.ts';
import { encodeTransaction, readTransaction, ROUND_ID_BYTES, type Transaction } from './transactions.ts';
import { encodeQuorumCertificate, readQuorumCertificate, writeQuorumCertificate } from './vote-codec.ts';
import type { Evidence, Hash, QuorumCertificate } from './types.ts';

export const BLOCK_VERSION = 1;
export const NODE_ID_BYTES = 16;
/** Hard decoder bounds; genesis parameters set the (lower) limits a valid block must meet. */
export const MAX_BLOCK_BYTES = 64 * 1024 * 1024;
export const MAX_BLOCK_ITEMS = 100_000;
export const MAX_ROUND_MEMBERS = 100_000;
export const ZERO_HASH: Hash = new Uint8Array(HASH_BYTES);

export interface BlockHeader {
  readonly chainId: string;
  readonly height: number;
  readonly timeMs: number;
  readonly prevBlockHash: Hash;
  /** Hash of the body's last commit (the QC of height − 1); zeros at height 1. */
  readonly lastCommitHash: Hash;
  readonly validatorsHash: Hash;
  readonly nextValidatorsHash: Hash;
  readonly appStateRoot: Hash;
  readonly txRoot: Hash;
  readonly resultsRoot: Hash;
  readonly evidenceRoot: Hash;
  readonly proposer: Uint8Array;
}

/** A secure-aggregation round's outcome as the proposer (the round's aggregator) claims it. */
export interface AggregationResult {
  readonly roundId: Uint8Array;
  /** Root / hash of the round transcript the result is recomputed from (secagg/transcript.ts). */
  readonly transcriptHash: Hash;
  /** The sum as ring words (Z_2^32). */
  readonly sum: Uint32Array;
  /** Node ids (16 bytes) whose masked inputs are in the sum, and of those who dropped out. */
  readonly contributors: readonly Uint8Array[];
  readonly dropouts: readonly Uint8Array[];
}

export interface BlockBody {
  readonly lastCommit: QuorumCertificate | null;
  readonly evidence: readonly Evidence[];
  readonly transactions: readonly Transaction[];
  readonly results: readonly AggregationResult[];
}

export interface Block {
  readonly header: BlockHeader;
  readonly body: BlockBody;
}

export function writeHeader(w: ByteWriter, h: BlockHeader): void {
  const id = utf8ToBytes(h.chainId);
  if (id.length === 0 || id.length > MAX_CHAIN_ID_BYTES) throw new Error(`"chainId" must be 1..${MAX_CHAIN_ID_BYTES} bytes`);
  if (!Number.isSafeInteger(h.height) || h.height < 1) throw new Error(`"height" must be a positive safe integer`);
  const hashes = [h.prevBlockHash, h.lastCommitHash, h.validatorsHash, h.nextValidatorsHash, h.appStateRoot, h.txRoot, h.resultsRoot, h.evidenceRoot];
  for (const x of hashes) if (x.length !== HASH_BYTES) throw new Error(`header hashes must be ${HASH_BYTES} bytes`);
  if (h.proposer.length !== ED25519_PUBLIC_KEY_BYTES) throw new Error(`"proposer" must be 32 bytes`);
  w.u8(BLOCK_VERSION).u16(id.length).bytes(id).u64(h.height).u64(h.timeMs);
  for (const x of hashes) w.bytes(x);
  w.bytes(h.proposer);
}

export function readHeader(r: ByteReader): BlockHeader {
  const version = r.u8('block version');
  if (version !== BLOCK_VERSION) throw new DecodeError(`block version ${version} unsupported`);
  const idLen = r.u16('chain id length');
  if (idLen === 0 || idLen > MAX_CHAIN_ID_BYTES) throw new DecodeError('chain id length out of range');
  const chainId = utf8Decode(r.bytes(idLen, 'chain id'));
  const height = r.u64('height');
  if (height === 0) throw new DecodeError('height must be positive');
  const timeMs = r.u64('timeMs');
  const h = (what: string): Hash => r.bytes(HASH_BYTES, what).slice();
  return {
    chainId,
    height,
    timeMs,
    prevBlockHash: h('previous block hash'),
    lastCommitHash: h('last commit hash'),
    validatorsHash: h('validators hash'),
    nextValidatorsHash: h('next validators hash'),
    appStateRoot: h('app state root'),
    txRoot: h('tx root'),
    resultsRoot: h('results root'),
    evidenceRoot: h('evidence root'),
    proposer: r.bytes(ED25519_PUBLIC_KEY_BYTES, 'proposer').slice(),
  };
}

export function encodeHeader(h: BlockHeader): Uint8Array {
  const w = new ByteWriter(400);
  writeHeader(w, h);
  return w.finish();
}

export function decodeHeader(bytes: Uint8Array): Result<BlockHeader> {
  return safeDecode(() => {
    const r = new ByteReader(bytes);
    const h = readHeader(r);
    r.end('header');
    return h;
  });
}

function writeIds(w: ByteWriter, ids: readonly Uint8Array[], what: string): void {
  w.u32(ids.length);
  for (const id of ids) {
    if (id.length !== NODE_ID_BYTES) throw new Error(`"${what}" entries must be ${NODE_ID_BYTES} bytes`);
    w.bytes(id);
  }
}

function readIds(r: ByteReader, what: string): Uint8Array[] {
  const n = r.u32(`${what} count`);
  if (n > MAX_ROUND_MEMBERS || n * NODE_ID_BYTES > r.remaining) throw new DecodeError(`${what}: ${n} entries do not fit`);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) out.push(r.bytes(NODE_ID_BYTES, what).slice());
  return out;
}

export function writeResult(w: ByteWriter, x: AggregationResult): void {
  if (x.roundId.length !== ROUND_ID_BYTES) throw new Error(`"roundId" must be ${ROUND_ID_BYTES} bytes`);
  if (x.transcriptHash.length !== HASH_BYTES) throw new Error(`"transcriptHash" must be ${HASH_BYTES} bytes`);
  w.bytes(x.roundId).bytes(x.transcriptHash).u32(x.sum.length);
  for (const word of x.sum) w.u32(word);
  writeIds(w, x.contributors, 'contributors');
  writeIds(w, x.dropouts, 'dropouts');
}

export function readResult(r: ByteReader): AggregationResult {
  const roundId = r.bytes(ROUND_ID_BYTES, 'round id').slice();
  const transcriptHash = r.bytes(HASH_BYTES, 'transcript hash').slice();
  const m = r.u32('dimension');
  if (m > MAX_DIMENSION || m * 4 > r.remaining) throw new DecodeError(`result dimension ${m} does not fit`);
  const sum = new Uint32Array(m);
  for (let i = 0; i < m; i++) sum[i] = r.u32('ring word');
  const contributors = readIds(r, 'contributors');
  const dropouts = readIds(r, 'dropouts');
  return { roundId, transcriptHash, sum, contributors, dropouts };
}

export function encodeResult(x: AggregationResult): Uint8Array {
  const w = new ByteWriter(64 + 4 * x.sum.length + NODE_ID_BYTES * (x.contributors.length + x.dropouts.length));
  writeResult(w, x);
  return w.finish();
}

/** Bound on a length-prefixed result inside a claim (round-claim.ts, sampled-claim.ts). */
const MAX_CLAIM_RESULT_BYTES = 8 * 1024 * 1024 + 4 * 1024 * 1024;

/** u32 len ‖ result (as encodeResult), the result filling exactly its length: how the claims carry it. */
export function readPrefixedResult(r: ByteReader): AggregationResult {
  const inner = new ByteReader(r.varBytes(MAX_CLAIM_RESULT_BYTES, 'result'));
  const result = readResult(inner);
  inner.end('result');
  return result;
}

/** The compact, fixed-size form of a result that the header's results root commits to. */
export interface ResultCommitment {
  readonly roundId: Uint8Array;
  readonly transcriptHash: Hash;
  /** Sum dimension m and SHA-256 over the ring words. */
  readonly dimension: number;
  readonly sumHash: Hash;
  readonly contributorCount: number;
  /** RFC 9162 root over the contributor ids in list order: a leaf path proves one id is listed. */
  readonly contributorsRoot: Hash;
  readonly dropoutCount: number;
  readonly dropoutsRoot: Hash;
}

export const RESULT_COMMITMENT_BYTES = ROUND_ID_BYTES + 4 * HASH_BYTES + 3 * 4;
const SUM_TAG = domainTag('aegis/result-sum/v1');

export function resultSumHash(sum: Uint32Array): Hash {
  const w = new ByteWriter(4 * sum.length + SUM_TAG.length).bytes(SUM_TAG);
  for (const word of sum) w.u32(word);
  return sha256(w.finish());
}

export function compactResult(x: AggregationResult): ResultCommitment {
  return {
    roundId: x.roundId,
    transcriptHash: x.transcriptHash,
    dimension: x.sum.length,
    sumHash: resultSumHash(x.sum),
    contributorCount: x.contributors.length,
    contributorsRoot: merkleRoot(x.contributors),
    dropoutCount: x.dropouts.length,
    dropoutsRoot: merkleRoot(x.dropouts),
  };
}

export function writeResultCommitment(w: ByteWriter, c: ResultCommitment): void {
  if (c.roundId.length !== ROUND_ID_BYTES) throw new Error(`"roundId" must be ${ROUND_ID_BYTES} bytes`);
  const hashes: [string, Hash][] = [['transcriptHash', c.transcriptHash], ['sumHash', c.sumHash], ['contributorsRoot', c.contributorsRoot], ['dropoutsRoot', c.dropoutsRoot]];
  for (const [what, x] of hashes) if (x.length !== HASH_BYTES) throw new Error(`"${what}" must be ${HASH_BYTES} bytes`);
  const counts: [string, number][] = [['dimension', c.dimension], ['contributorCount', c.contributorCount], ['dropoutCount', c.dropoutCount]];
  for (const [what, n] of counts) if (!Number.isSafeInteger(n) || n < 0 || n > 0xffff_ffff) throw new Error(`"${what}" must be a u32`);
  w.bytes(c.roundId).bytes(c.transcriptHash).u32(c.dimension).bytes(c.sumHash);
  w.u32(c.contributorCount).bytes(c.contributorsRoot).u32(c.dropoutCount).bytes(c.dropoutsRoot);
}

export function readResultCommitment(r: ByteReader): ResultCommitment {
  const roundId = r.bytes(ROUND_ID_BYTES, 'round id').slice();
  const transcriptHash = r.bytes(HASH_BYTES, 'transcript hash').slice();
  const dimension = r.u32('dimension');
  const sumHash = r.bytes(HASH_BYTES, 'sum hash').slice();
  const contributorCount = r.u32('contributor count');
  const contributorsRoot = r.bytes(HASH_BYTES, 'contributors root').slice();
  const dropoutCount = r.u32('dropout count');
  const dropoutsRoot = r.bytes(HASH_BYTES, 'dropouts root').slice();
  return { roundId, transcriptHash, dimension, sumHash, contributorCount, contributorsRoot, dropoutCount, dropoutsRoot };
}

export function encodeResultCommitment(c: ResultCommitment): Uint8Array {
  const w = new ByteWriter(RESULT_COMMITMENT_BYTES);
  writeResultCommitment(w, c);
  return w.finish();
}

/** The results-root leaf data of a full result: its compact form's encoding. */
export function resultLeaf(x: AggregationResult): Uint8Array {
  return encodeResultCommitment(compactResult(x));
}

function writeList<T>(w: ByteWriter, items: readonly T[], encode: (v: T) => Uint8Array): void {
  w.u32(items.length);
  for (const it of items) w.varBytes(encode(it));
}

function readList<T>(r: ByteReader, what: string, read: (r: ByteReader) => T): T[] {
  const n = r.u32(`${what} count`);
  if (n > MAX_BLOCK_ITEMS || n * 4 > r.remaining) throw new DecodeError(`${what}: ${n} entries do not fit`);
  const out: T[] = [];
  for (let i = 0; i < n; i++) {
    const bytes = r.varBytes(MAX_BLOCK_BYTES, what);
    const inner = new ByteReader(bytes);
    out.push(read(inner));
    inner.end(what);
  }
  return out;
}

export function encodeBlock(b: Block): Uint8Array {
  const w = new ByteWriter(1024);
  writeHeader(w, b.header);
  if (b.body.lastCommit === null) w.u8(0);
  else {
    w.u8(1);
    writeQuorumCertificate(w, b.body.lastCommit);
  }
  writeList(w, b.body.evidence, encodeEvidence);
  writeList(w, b.body.transactions, encodeTransaction);
  w.u32(b.body.results.length);
  for (const x of b.body.results) writeResult(w, x);
  return w.finish();
}

export function decodeBlock(bytes: Uint8Array): Result<Block> {
  if (bytes.length > MAX_BLOCK_BYTES) return { ok: false, error: `block is ${bytes.length} bytes, limit ${MAX_BLOCK_BYTES}` };
  return safeDecode(() => {
    const r = new ByteReader(bytes);
    const header = readHeader(r);
    const has = r.u8('hasLastCommit');
    if (has > 1) throw new DecodeError('hasLastCommit must be 0 or 1');
    const lastCommit = has === 1 ? readQuorumCertificate(r) : null;
    const evidence = readList(r, 'evidence', readEvidence);
    const transactions = readList(r, 'transactions', readTransaction);
    const n = r.u32('results count');
    if (n > MAX_BLOCK_ITEMS || n * 56 > r.remaining) throw new DecodeError(`results: ${n} entries do not fit`);
    const results: AggregationResult[] = [];
    for (let i = 0; i < n; i++) results.push(readResult(r));
    r.end('block');
    return { header, body: { lastCommit, evidence, transactions, results } };
  });
}

const BLOCK_TAG = domainTag('aegis/block/v1');
const COMMIT_TAG = domainTag('aegis/last-commit/v1');

export function headerHash(h: BlockHeader): Hash {
  return sha256(concatBytes(BLOCK_TAG, encodeHeader(h)));
}

/** The hash of an encoded block, reading only its header (the engine's blockHash). */
export function blockHashOfBytes(bytes: Uint8Array): Result<Hash> {
  return safeDecode(() => {
    const r = new ByteReader(bytes);
    const start = r.offset;
    readHeader(r);
    return sha256(concatBytes(BLOCK_TAG, bytes.subarray(start, r.offset)));
  });
}

export function lastCommitHash(qc: QuorumCertificate | null): Hash {
  return qc === null ? ZERO_HASH : sha256(concatBytes(COMMIT_TAG, encodeQuorumCertificate(qc)));
}

/** The body's roots, as the header must carry them. */
export function bodyRoots(body: BlockBody): { lastCommitHash: Hash; txRoot: Hash; resultsRoot: Hash; evidenceRoot: Hash } {
  return {
    lastCommitHash: lastCommitHash(body.lastCommit),
    txRoot: merkleRoot(body.transactions.map(encodeTransaction)),
    resultsRoot: merkleRoot(body.results.map(resultLeaf)),
    evidenceRoot: merkleRoot(body.evidence.map(encodeEvidence)),
  };
}

/** Whether the header's body commitments match the body. */
export function bodyMatchesHeader(block: Block): boolean {
  const r = bodyRoots(block.body);
  const h = block.header;
  return (
    bytesEqual(r.lastCommitHash, h.lastCommitHash) &&
    bytesEqual(r.txRoot, h.txRoot) &&
    bytesEqual(r.resultsRoot, h.resultsRoot) &&
    bytesEqual(r.evidenceRoot, h.evidenceRoot)
  );
}
