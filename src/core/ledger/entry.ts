// Audit-log entries: one per leaf, a strict versioned binary codec (big-endian). The leaf data of
// the Merkle tree is exactly these bytes, so an entry's encoding must never change for a version;
// a new layout gets a new version byte and the old decoder stays.
//
// entry        = u8 version(3; 1 and 2 still decode) ‖ u8 kind ‖ u64 timeMs ‖ body
// contribution = 16 round id ‖ 32 commitment to the masked input
// vote         = u8 type (1 prevote | 2 precommit) ‖ u64 height ‖ u32 round ‖ u8 hasBlock(0|1) ‖ [32 block hash]
// receipt      = 16 round id ‖ u64 block height ‖ 32 block hash ‖ u32 n ‖ n quorum-certificate bytes
//                (consensus/vote-codec.ts) ‖ 32 commitment ‖ u64 leafIdx ‖ u64 treeSize ‖ 32 transcript root ‖
//                u8 k ‖ k × 32 inclusion proof (RFC 9162) of leaf = commitment under the transcript root
//                v2 inserts after the QC what makes the receipt self-contained (receipt-check.ts):
//                u32 n ‖ n block header bytes (block.ts) ‖ u32 n ‖ n aggregation result bytes (block.ts) ‖
//                u32 resultIdx ‖ u32 resultCount ‖ u8 k ‖ k × 32 RFC 9162 path of the result under the
//                header's results root ‖ u16 n ‖ n × (32 public key ‖ u64 power) the set that decided the
//                header (hashes to its validatorsHash; the QC's indices point into it)
//                v3 stores the result item in its compact leaf form (block.ts, 156 bytes) instead of the full
//                item, and after the validator set: u8 hasPath(0|1) ‖ [u8 k ‖ k × 32 RFC 9162 path of this
//                node's 16-byte id, at the transcript leaf index, under the item's contributors root]
//                — so a receipt's size no longer grows with the round's contributor count
// stake        = u8 event (1 stake | 2 unstake | 3 slash | 4 reputation | 5 jail | 6 unjail) ‖ u64 height ‖
//                u8 sign(0 | 1 = negative) ‖ u64 |amount| ‖ u64 total
// peer-head    = 32 peer public key ‖ u16 n ‖ n bytes of the peer's signed tree head (tree-head.ts)
import { ByteReader, ByteWriter, DecodeError, safeDecode } from '../codec/index.ts';
import {
  compactResult,
  encodeHeader,
  encodeResultCommitment,
  MAX_ROUND_MEMBERS,
  NODE_ID_BYTES,
  readHeader,
  readResult,
  readResultCommitment,
  RESULT_COMMITMENT_BYTES,
  type AggregationResult,
  type BlockHeader,
  type ResultCommitment,
} from '../consensus/block.ts';
import { MAX_CHAIN_ID_BYTES } from '../consensus/sign-bytes.ts';
import { decodeQuorumCertificate, encodeQuorumCertificate, MAX_VALIDATORS } from '../consensus/vote-codec.ts';
import type { QuorumCertificate, Validator, VoteType } from '../consensus/types.ts';
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES } from '../crypto/ed25519.ts';
import { nodeIdFromPublicKey } from '../crypto/node-id.ts';
import type { Result } from '../result.ts';
import { MAX_DIMENSION } from '../secagg/params.ts';
import { ROUND_ID_BYTES } from '../secagg/messages.ts';
import { HASH_BYTES, type Hash } from './merkle.ts';

/**
 * v2: receipts carry their block header and result item (self-contained); v3: the item in its
 * compact leaf form plus this node's path under the contributors root. Other kinds unchanged.
 */
export const ENTRY_VERSION = 3;
const OLDEST_ENTRY_VERSION = 1;
/** Header = 1 + 2 + chain id + 2 × 8 + 8 × 32 + 32 bytes. */
export const MAX_HEADER_BYTES = 3 + MAX_CHAIN_ID_BYTES + 16 + 9 * 32;
export const MAX_RESULT_BYTES = ROUND_ID_BYTES + 32 + 4 + 4 * MAX_DIMENSION + 8 + NODE_ID_BYTES * MAX_ROUND_MEMBERS;
/** A block of up to 2^32 results has at most 32 path hashes. */
export const MAX_RESULT_PROOF = 32;
/** A signed tree head is ~300 bytes; this bounds what a peer can make us store. */
export const MAX_PEER_HEAD_BYTES = 1024;
export const MAX_QC_BYTES = 1 + 8 + 4 + HASH_BYTES + 4 + MAX_VALIDATORS * (4 + ED25519_SIGNATURE_BYTES);
/** A contributor list of up to 2^32 ids has at most 32 path hashes. */
export const MAX_CONTRIBUTOR_PROOF = 32;
/** A transcript of up to 2^64 contributors has at most 64 proof hashes. */
export const MAX_TRANSCRIPT_PROOF = 64;

export const ENTRY_KINDS = ['contribution', 'vote', 'receipt', 'stake', 'peer-head'] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];
const KIND_CODE: Record<EntryKind, number> = { contribution: 1, vote: 2, receipt: 3, stake: 4, 'peer-head': 5 };

export const STAKE_EVENTS = ['stake', 'unstake', 'slash', 'reputation', 'jail', 'unjail'] as const;
export type StakeEventKind = (typeof STAKE_EVENTS)[number];

/** This node contributed a masked input to a secure-aggregation round. */
export interface ContributionEntry {
  readonly kind: 'contribution';
  readonly timeMs: number;
  readonly roundId: Uint8Array;
  /** SHA-256 commitment to the masked input that left this node (the round transcript's leaf). */
  readonly commitment: Hash;
}

/** A vote this node cast. `blockHash` null is a vote for nil. */
export interface VoteEntry {
  readonly kind: 'vote';
  readonly timeMs: number;
  readonly voteType: VoteType;
  readonly height: number;
  readonly round: number;
  readonly blockHash: Hash | null;
}

/** Merkle path of this node's commitment (the leaf) in a round's transcript tree. */
export interface TranscriptInclusion {
  readonly commitment: Hash;
  readonly leafIdx: number;
  readonly treeSize: number;
  readonly root: Hash;
  readonly proof: readonly Hash[];
}

/** What links the receipt's block hash to its round's result: the header and the result's path in it. */
export interface ReceiptBlockProof {
  /** The block's header: its hash is the receipt's block hash. */
  readonly header: BlockHeader;
  /** The round's aggregation result in the compact form the header's results root commits to. */
  readonly result: ResultCommitment;
  /**
   * v2 entries only (decoded, never written): the full item they stored, whose own encoding was
   * the results-root leaf of blocks before compact leaves.
   */
  readonly legacyResult?: AggregationResult;
  /** RFC 9162 inclusion path of the result's leaf under header.resultsRoot. */
  readonly resultIdx: number;
  readonly resultCount: number;
  readonly resultProof: readonly Hash[];
  /**
   * The validator set that decided the header (its validatorsHash): the QC's indices point into
   * it, and a light client holding only a checkpoint set checks it by the skipping rule.
   */
  readonly validators: readonly Validator[];
  /**
   * RFC 9162 path of this node's id at the transcript leaf index under result.contributorsRoot
   * (proves "my id is in the contributor list" in O(log N)); absent for a non-contributor.
   */
  readonly contributorProof?: readonly Hash[];
}

/** A finalized aggregation this node took part in: the block's QC and proof its input counted. */
export interface ReceiptEntry {
  readonly kind: 'receipt';
  readonly timeMs: number;
  readonly roundId: Uint8Array;
  readonly height: number;
  readonly blockHash: Hash;
  readonly qc: QuorumCertificate;
  /** Header and result item (v2 entries); absent in v1 entries, which need the block from elsewhere. */
  readonly block?: ReceiptBlockProof;
  readonly transcript: TranscriptInclusion;
}

/**
 * A change the chain applied to this node. `amount` is signed, in the chain's integer units:
 * stake units for stake/unstake/slash, reputation units for reputation, heights for jail;
 * `total` is the value after the event (stake, reputation, or the height the jail ends).
 */
export interface StakeEventEntry {
  readonly kind: 'stake';
  readonly timeMs: number;
  readonly event: StakeEventKind;
  readonly height: number;
  readonly amount: number;
  readonly total: number;
}

/** A signed tree head received from a peer (split-view detection keeps what it saw). */
export interface PeerHeadEntry {
  readonly kind: 'peer-head';
  readonly timeMs: number;
  readonly peer: Uint8Array;
  readonly head: Uint8Array;
}

export type LogEntry = ContributionEntry | VoteEntry | ReceiptEntry | StakeEventEntry | PeerHeadEntry;

function assertBytes(b: Uint8Array, n: number, what: string): void {
  if (!(b instanceof Uint8Array) || b.length !== n) throw new Error(`"${what}" must be ${n} bytes`);
}

function assertUint(v: number, what: string, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isSafeInteger(v) || v < 0 || v > max) throw new Error(`"${what}" must be an integer in 0..${max}, got ${v}`);
}

export function encodeEntry(e: LogEntry): Uint8Array {
  assertUint(e.timeMs, 'timeMs');
  const w = new ByteWriter(128).u8(ENTRY_VERSION).u8(KIND_CODE[e.kind]).u64(e.timeMs);
  switch (e.kind) {
    case 'contribution':
      assertBytes(e.roundId, ROUND_ID_BYTES, 'roundId');
      assertBytes(e.commitment, HASH_BYTES, 'commitment');
      w.bytes(e.roundId).bytes(e.commitment);
      break;
    case 'vote':
      if (e.voteType !== 1 && e.voteType !== 2) throw new Error('"voteType" must be 1 or 2');
      assertUint(e.height, 'height');
      assertUint(e.round, 'round', 0xffff_ffff);
      w.u8(e.voteType).u64(e.height).u32(e.round);
      if (e.blockHash === null) w.u8(0);
      else {
        assertBytes(e.blockHash, HASH_BYTES, 'blockHash');
        w.u8(1).bytes(e.blockHash);
      }
      break;
    case 'receipt': {
      assertBytes(e.roundId, ROUND_ID_BYTES, 'roundId');
      assertUint(e.height, 'height');
      assertBytes(e.blockHash, HASH_BYTES, 'blockHash');
      const t = e.transcript;
      assertBytes(t.commitment, HASH_BYTES, 'transcript.commitment');
      assertUint(t.treeSize, 'transcript.treeSize');
      assertUint(t.leafIdx, 'transcript.leafIdx', t.treeSize - 1);
      assertBytes(t.root, HASH_BYTES, 'transcript.root');
      if (t.proof.length > MAX_TRANSCRIPT_PROOF) throw new Error(`"transcript.proof" has more than ${MAX_TRANSCRIPT_PROOF} hashes`);
      t.proof.forEach((p, i) => assertBytes(p, HASH_BYTES, `transcript.proof[${i}]`));
      const b = e.block;
      if (b === undefined) throw new Error('"block" is required: receipts are written self-contained (v2)');
      assertUint(b.resultCount, 'block.resultCount', 0xffff_ffff);
      assertUint(b.resultIdx, 'block.resultIdx', b.resultCount - 1);
      if (b.resultProof.length > MAX_RESULT_PROOF) throw new Error(`"block.resultProof" has more than ${MAX_RESULT_PROOF} hashes`);
      b.resultProof.forEach((p, i) => assertBytes(p, HASH_BYTES, `block.resultProof[${i}]`));
      w.bytes(e.roundId).u64(e.height).bytes(e.blockHash).varBytes(encodeQuorumCertificate(e.qc));
      w.varBytes(encodeHeader(b.header)).bytes(encodeResultCommitment(b.result)).u32(b.resultIdx).u32(b.resultCount).u8(b.resultProof.length);
      for (const p of b.resultProof) w.bytes(p);
      if (b.validators.length > MAX_VALIDATORS) throw new Error(`"block.validators" has more than ${MAX_VALIDATORS}`);
      w.u16(b.validators.length);
      b.validators.forEach((v, i) => {
        assertBytes(v.publicKey, ED25519_PUBLIC_KEY_BYTES, `block.validators[${i}].publicKey`);
        assertUint(v.power, `block.validators[${i}].power`);
        w.bytes(v.publicKey).u64(v.power);
      });
      const cp = b.contributorProof;
      if (cp === undefined) w.u8(0);
      else {
        if (cp.length > MAX_CONTRIBUTOR_PROOF) throw new Error(`"block.contributorProof" has more than ${MAX_CONTRIBUTOR_PROOF} hashes`);
        cp.forEach((p, i) => assertBytes(p, HASH_BYTES, `block.contributorProof[${i}]`));
        w.u8(1).u8(cp.length);
        for (const p of cp) w.bytes(p);
      }
      w.bytes(t.commitment).u64(t.leafIdx).u64(t.treeSize).bytes(t.root).u8(t.proof.length);
      for (const p of t.proof) w.bytes(p);
      break;
    }
    case 'stake':
      if (!STAKE_EVENTS.includes(e.event)) throw new Error(`"event" must be one of ${STAKE_EVENTS.join(', ')}`);
      assertUint(e.height, 'height');
      if (!Number.isSafeInteger(e.amount)) throw new Error(`"amount" must be a safe integer, got ${e.amount}`);
      assertUint(e.total, 'total');
      w.u8(STAKE_EVENTS.indexOf(e.event) + 1).u64(e.height).u8(e.amount < 0 ? 1 : 0).u64(Math.abs(e.amount)).u64(e.total);
      break;
    case 'peer-head':
      assertBytes(e.peer, ED25519_PUBLIC_KEY_BYTES, 'peer');
      if (e.head.length === 0 || e.head.length > MAX_PEER_HEAD_BYTES) throw new Error(`"head" must be 1..${MAX_PEER_HEAD_BYTES} bytes`);
      w.bytes(e.peer).u16(e.head.length).bytes(e.head);
      break;
    default:
      throw new Error(`unknown entry kind ${(e as { kind: unknown }).kind as string}`);
  }
  return w.finish();
}

const copy = (b: Uint8Array): Uint8Array => b.slice();

function readEntry(r: ByteReader): LogEntry {
  const version = r.u8('version');
  if (version < OLDEST_ENTRY_VERSION || version > ENTRY_VERSION) throw new DecodeError(`entry version ${version} unsupported`);
  const code = r.u8('kind');
  const kind = ENTRY_KINDS[code - 1];
  if (kind === undefined) throw new DecodeError(`entry kind ${code} unknown`);
  const timeMs = r.u64('timeMs');
  switch (kind) {
    case 'contribution':
      return { kind, timeMs, roundId: copy(r.bytes(ROUND_ID_BYTES, 'round id')), commitment: copy(r.bytes(HASH_BYTES, 'commitment')) };
    case 'vote': {
      const voteType = r.u8('vote type');
      if (voteType !== 1 && voteType !== 2) throw new DecodeError(`vote type ${voteType} unknown`);
      const height = r.u64('height');
      const round = r.u32('round');
      const has = r.u8('hasBlock');
      if (has > 1) throw new DecodeError('hasBlock must be 0 or 1');
      const blockHash = has === 1 ? copy(r.bytes(HASH_BYTES, 'block hash')) : null;
      return { kind, timeMs, voteType: voteType as VoteType, height, round, blockHash };
    }
    case 'receipt': {
      const roundId = copy(r.bytes(ROUND_ID_BYTES, 'round id'));
      const height = r.u64('height');
      const blockHash = copy(r.bytes(HASH_BYTES, 'block hash'));
      const qcBytes = r.varBytes(MAX_QC_BYTES, 'qc');
      const qc = decodeQuorumCertificate(qcBytes);
      if (!qc.ok) throw new DecodeError(`qc: ${qc.error}`);
      const block = version >= 2 ? readBlockProof(r, version) : undefined;
      const commitment = copy(r.bytes(HASH_BYTES, 'commitment'));
      const leafIdx = r.u64('leafIdx');
      const treeSize = r.u64('treeSize');
      if (leafIdx >= treeSize) throw new DecodeError('transcript leafIdx must be below treeSize');
      const root = copy(r.bytes(HASH_BYTES, 'transcript root'));
      const k = r.u8('proof length');
      if (k > MAX_TRANSCRIPT_PROOF) throw new DecodeError(`transcript proof has ${k} hashes, limit ${MAX_TRANSCRIPT_PROOF}`);
      const proof: Hash[] = [];
      for (let i = 0; i < k; i++) proof.push(copy(r.bytes(HASH_BYTES, 'proof hash')));
      const transcript = { commitment, leafIdx, treeSize, root, proof };
      return block === undefined
        ? { kind, timeMs, roundId, height, blockHash, qc: qc.value, transcript }
        : { kind, timeMs, roundId, height, blockHash, qc: qc.value, block, transcript };
    }
    case 'stake': {
      const code = r.u8('stake event');
      const event = STAKE_EVENTS[code - 1];
      if (event === undefined) throw new DecodeError(`stake event ${code} unknown`);
      const height = r.u64('height');
      const sign = r.u8('amount sign');
      if (sign > 1) throw new DecodeError('amount sign must be 0 or 1');
      const magnitude = r.u64('amount');
      // One encoding per value: zero is never negative.
      if (sign === 1 && magnitude === 0) throw new DecodeError('negative zero amount');
      const total = r.u64('total');
      return { kind, timeMs, event, height, amount: sign === 1 ? -magnitude : magnitude, total };
    }
    case 'peer-head': {
      const peer = copy(r.bytes(ED25519_PUBLIC_KEY_BYTES, 'peer key'));
      const n = r.u16('head length');
      if (n === 0 || n > MAX_PEER_HEAD_BYTES) throw new DecodeError(`peer head is ${n} bytes, want 1..${MAX_PEER_HEAD_BYTES}`);
      return { kind, timeMs, peer, head: copy(r.bytes(n, 'peer head')) };
    }
  }
}

function readBlockProof(r: ByteReader, version: number): ReceiptBlockProof {
  const hr = new ByteReader(r.varBytes(MAX_HEADER_BYTES, 'block header'));
  const header = readHeader(hr);
  hr.end('block header');
  let result: ResultCommitment;
  let legacyResult: AggregationResult | undefined;
  if (version === 2) {
    const rr = new ByteReader(r.varBytes(MAX_RESULT_BYTES, 'result item'));
    legacyResult = readResult(rr);
    rr.end('result item');
    result = compactResult(legacyResult);
  } else result = readResultCommitment(new ByteReader(r.bytes(RESULT_COMMITMENT_BYTES, 'result item')));
  const resultIdx = r.u32('resultIdx');
  const resultCount = r.u32('resultCount');
  if (resultIdx >= resultCount) throw new DecodeError('resultIdx must be below resultCount');
  const k = r.u8('result proof length');
  if (k > MAX_RESULT_PROOF) throw new DecodeError(`result proof has ${k} hashes, limit ${MAX_RESULT_PROOF}`);
  const resultProof: Hash[] = [];
  for (let i = 0; i < k; i++) resultProof.push(copy(r.bytes(HASH_BYTES, 'result proof hash')));
  const n = r.u16('validator count');
  if (n > MAX_VALIDATORS) throw new DecodeError(`${n} validators, limit ${MAX_VALIDATORS}`);
  const validators: Validator[] = [];
  for (let i = 0; i < n; i++) {
    const publicKey = copy(r.bytes(ED25519_PUBLIC_KEY_BYTES, 'validator key'));
    validators.push({ id: nodeIdFromPublicKey(publicKey), publicKey, power: r.u64('validator power') });
  }
  const proof = { header, result, resultIdx, resultCount, resultProof, validators };
  if (legacyResult !== undefined) return { ...proof, legacyResult };
  if (version < 3) return proof;
  const has = r.u8('hasContributorPath');
  if (has > 1) throw new DecodeError('hasContributorPath must be 0 or 1');
  if (has === 0) return proof;
  const c = r.u8('contributor proof length');
  if (c > MAX_CONTRIBUTOR_PROOF) throw new DecodeError(`contributor proof has ${c} hashes, limit ${MAX_CONTRIBUTOR_PROOF}`);
  const contributorProof: Hash[] = [];
  for (let i = 0; i < c; i++) contributorProof.push(copy(r.bytes(HASH_BYTES, 'contributor proof hash')));
  return { ...proof, contributorProof };
}

/** Strict decode of untrusted entry bytes (unknown versions/kinds, bad lengths, trailing bytes refused). */
export function decodeEntry(bytes: Uint8Array): Result<LogEntry> {
  return safeDecode(() => {
    const r = new ByteReader(bytes);
    const e = readEntry(r);
    r.end('entry');
    return e;
  });
}
