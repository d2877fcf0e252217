// Strict binary codecs for votes, proposals, quorum certificates and duplicate-vote evidence
// (big-endian, version byte first). Decoders take untrusted bytes and return a Result; they check
// structure and ranges only — signatures and quorum are checked by qc.ts / the driver.
// `read*`/`write*` are exported so the block codec can embed these inside a block.
//
// vote      = u8 version(1) ‖ u8 type(1|2) ‖ u64 height ‖ u32 round ‖ u8 hasBlock(0|1) ‖ [32 hash] ‖
//             32 validator public key ‖ 64 signature
// proposal  = u8 version(1) ‖ u64 height ‖ u32 round ‖ u32 polRound+1 ‖ 32 hash ‖ 32 proposer key ‖ 64 sig
// qc        = u8 version(1) ‖ u64 height ‖ u32 round ‖ 32 hash ‖ u32 n ‖ n × (u32 index ‖ 64 signature)
// evidence  = u8 version(1) ‖ vote A ‖ vote B   (duplicate vote)
// proposal evidence = u8 version(1) ‖ proposal A ‖ proposal B   (duplicate proposal)
import { ByteReader, ByteWriter, DecodeError, safeDecode } from '../codec/index.ts';
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES } from '../crypto/ed25519.ts';
import type { Result } from '../result.ts';
import { HASH_BYTES, MAX_ROUND } from './sign-bytes.ts';
import type { DuplicateProposalEvidence, DuplicateVoteEvidence, Proposal, QuorumCertificate, Vote, VoteType } from './types.ts';

export const CODEC_VERSION = 1;
/** Upper bound on validators per set, so a QC's length prefix cannot ask for unbounded memory. */
export const MAX_VALIDATORS = 10_000;
export const MAX_VOTE_BYTES = 1 + 1 + 8 + 4 + 1 + HASH_BYTES + ED25519_PUBLIC_KEY_BYTES + ED25519_SIGNATURE_BYTES;
export const PROPOSAL_BYTES = 1 + 8 + 4 + 4 + HASH_BYTES + ED25519_PUBLIC_KEY_BYTES + ED25519_SIGNATURE_BYTES;

function version(r: ByteReader, what: string): void {
  const v = r.u8(`${what} version`);
  if (v !== CODEC_VERSION) throw new DecodeError(`${what} version ${v} unsupported`);
}

function round(r: ByteReader): number {
  const n = r.u32('round');
  if (n > MAX_ROUND) throw new DecodeError('round out of range');
  return n;
}

const copy = (b: Uint8Array): Uint8Array => b.slice();

function assertLength(b: Uint8Array, n: number, what: string): void {
  if (!(b instanceof Uint8Array) || b.length !== n) throw new Error(`"${what}" must be ${n} bytes`);
}

export function writeVote(w: ByteWriter, v: Vote): void {
  if (v.blockHash !== null) assertLength(v.blockHash, HASH_BYTES, 'blockHash');
  assertLength(v.validator, ED25519_PUBLIC_KEY_BYTES, 'validator');
  assertLength(v.signature, ED25519_SIGNATURE_BYTES, 'signature');
  w.u8(CODEC_VERSION).u8(v.type).u64(v.height).u32(v.round);
  if (v.blockHash === null) w.u8(0);
  else w.u8(1).bytes(v.blockHash);
  w.bytes(v.validator).bytes(v.signature);
}

export function readVote(r: ByteReader): Vote {
  version(r, 'vote');
  const type = r.u8('vote type');
  if (type !== 1 && type !== 2) throw new DecodeError(`vote type ${type} unknown`);
  const height = r.u64('height');
  const rnd = round(r);
  const has = r.u8('hasBlock');
  if (has > 1) throw new DecodeError('hasBlock must be 0 or 1');
  const blockHash = has === 1 ? copy(r.bytes(HASH_BYTES, 'block hash')) : null;
  const validator = copy(r.bytes(ED25519_PUBLIC_KEY_BYTES, 'validator'));
  const signature = copy(r.bytes(ED25519_SIGNATURE_BYTES, 'signature'));
  return { type: type as VoteType, height, round: rnd, blockHash, validator, signature };
}

export function writeProposal(w: ByteWriter, p: Proposal): void {
  assertLength(p.blockHash, HASH_BYTES, 'blockHash');
  assertLength(p.proposer, ED25519_PUBLIC_KEY_BYTES, 'proposer');
  assertLength(p.signature, ED25519_SIGNATURE_BYTES, 'signature');
  if (!Number.isInteger(p.polRound) || p.polRound < -1 || p.polRound >= p.round) throw new Error('"polRound" must be in -1..round-1');
  w.u8(CODEC_VERSION).u64(p.height).u32(p.round).u32(p.polRound + 1);
  w.bytes(p.blockHash).bytes(p.proposer).bytes(p.signature);
}

export function readProposal(r: ByteReader): Proposal {
  version(r, 'proposal');
  const height = r.u64('height');
  const rnd = round(r);
  const polRound = r.u32('polRound') - 1;
  if (polRound >= rnd) throw new DecodeError('polRound must be below round');
  const blockHash = copy(r.bytes(HASH_BYTES, 'block hash'));
  const proposer = copy(r.bytes(ED25519_PUBLIC_KEY_BYTES, 'proposer'));
  const signature = copy(r.bytes(ED25519_SIGNATURE_BYTES, 'signature'));
  return { height, round: rnd, polRound, blockHash, proposer, signature };
}

export function writeQuorumCertificate(w: ByteWriter, qc: QuorumCertificate): void {
  assertLength(qc.blockHash, HASH_BYTES, 'blockHash');
  for (const s of qc.signatures) assertLength(s.signature, ED25519_SIGNATURE_BYTES, 'signature');
  w.u8(CODEC_VERSION).u64(qc.height).u32(qc.round).bytes(qc.blockHash).u32(qc.signatures.length);
  for (const s of qc.signatures) w.u32(s.validatorIndex).bytes(s.signature);
}

export function readQuorumCertificate(r: ByteReader): QuorumCertificate {
  version(r, 'qc');
  const height = r.u64('height');
  const rnd = round(r);
  const blockHash = copy(r.bytes(HASH_BYTES, 'block hash'));
  const n = r.u32('signature count');
  if (n > MAX_VALIDATORS) throw new DecodeError(`qc has ${n} signatures, limit ${MAX_VALIDATORS}`);
  if (n * (4 + ED25519_SIGNATURE_BYTES) > r.remaining) throw new DecodeError('truncated: qc signatures');
  const signatures: { validatorIndex: number; signature: Uint8Array }[] = [];
  for (let i = 0; i < n; i++) {
    const validatorIndex = r.u32('validator index');
    signatures.push({ validatorIndex, signature: copy(r.bytes(ED25519_SIGNATURE_BYTES, 'signature')) });
  }
  return { height, round: rnd, blockHash, signatures };
}

export function writeDuplicateVoteEvidence(w: ByteWriter, e: DuplicateVoteEvidence): void {
  w.u8(CODEC_VERSION);
  writeVote(w, e.voteA);
  writeVote(w, e.voteB);
}

export function readDuplicateVoteEvidence(r: ByteReader): DuplicateVoteEvidence {
  version(r, 'evidence');
  const voteA = readVote(r);
  const voteB = readVote(r);
  return { kind: 'duplicate-vote', voteA, voteB };
}

export function writeDuplicateProposalEvidence(w: ByteWriter, e: DuplicateProposalEvidence): void {
  w.u8(CODEC_VERSION);
  writeProposal(w, e.proposalA);
  writeProposal(w, e.proposalB);
}

export function readDuplicateProposalEvidence(r: ByteReader): DuplicateProposalEvidence {
  version(r, 'proposal evidence');
  const proposalA = readProposal(r);
  const proposalB = readProposal(r);
  return { kind: 'duplicate-proposal', proposalA, proposalB };
}

function encodeWith<T>(write: (w: ByteWriter, v: T) => void, v: T, size: number): Uint8Array {
  const w = new ByteWriter(size);
  write(w, v);
  return w.finish();
}

function decodeWith<T>(read: (r: ByteReader) => T, bytes: Uint8Array, what: string): Result<T> {
  return safeDecode(() => {
    const r = new ByteReader(bytes);
    const v = read(r);
    r.end(what);
    return v;
  });
}

export const encodeVote = (v: Vote): Uint8Array => encodeWith(writeVote, v, MAX_VOTE_BYTES);
export const decodeVote = (b: Uint8Array): Result<Vote> => decodeWith(readVote, b, 'vote');
export const encodeProposal = (p: Proposal): Uint8Array => encodeWith(writeProposal, p, PROPOSAL_BYTES);
export const decodeProposal = (b: Uint8Array): Result<Proposal> => decodeWith(readProposal, b, 'proposal');
export const encodeQuorumCertificate = (qc: QuorumCertificate): Uint8Array =>
  encodeWith(writeQuorumCertificate, qc, 49 + qc.signatures.length * 68);
export const decodeQuorumCertificate = (b: Uint8Array): Result<QuorumCertificate> =>
  decodeWith(readQuorumCertificate, b, 'qc');
export const encodeDuplicateVoteEvidence = (e: DuplicateVoteEvidence): Uint8Array =>
  encodeWith(writeDuplicateVoteEvidence, e, 1 + 2 * MAX_VOTE_BYTES);
export const decodeDuplicateVoteEvidence = (b: Uint8Array): Result<DuplicateVoteEvidence> =>
  decodeWith(readDuplicateVoteEvidence, b, 'evidence');
export const encodeDuplicateProposalEvidence = (e: DuplicateProposalEvidence): Uint8Array =>
  encodeWith(writeDuplicateProposalEvidence, e, 1 + 2 * PROPOSAL_BYTES);
export const decodeDuplicateProposalEvidence = (b: Uint8Array): Result<DuplicateProposalEvidence> =>
  decodeWith(readDuplicateProposalEvidence, b, 'proposal evidence');
