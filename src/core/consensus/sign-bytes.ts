// Canonical bytes that validators sign for votes and proposals. Domain-separated per message kind
// and per chain, so a signature for one chain, type, height or round is never valid for another
// (and never for a transaction, envelope or log head, which use other tags).
//
// vote:     tag('aegis/consensus/vote/v1')     ‖ u16 len ‖ chain id (UTF-8) ‖ u8 type ‖ u64 height ‖
//           u32 round ‖ u8 0 (nil) | u8 1 ‖ 32-byte block hash
// proposal: tag('aegis/consensus/proposal/v1') ‖ u16 len ‖ chain id (UTF-8) ‖ u64 height ‖ u32 round ‖
//           u32 (polRound + 1, so −1 encodes as 0) ‖ 32-byte block hash
// The signer's key is not in the bytes: the signature binds it.
import { utf8ToBytes } from '../bytes.ts';
import { ByteWriter } from '../codec/index.ts';
import { domainTag } from '../crypto/hash.ts';
import type { Hash, Proposal, Vote, VoteType } from './types.ts';

export const HASH_BYTES = 32;
export const MAX_CHAIN_ID_BYTES = 64;
/** Rounds are u32 on the wire; far beyond any round reached (timeouts grow linearly). */
export const MAX_ROUND = 0xffff_fffe;

const VOTE_TAG = domainTag('aegis/consensus/vote/v1');
const PROPOSAL_TAG = domainTag('aegis/consensus/proposal/v1');

function chainIdBytes(chainId: string): Uint8Array {
  const b = utf8ToBytes(chainId);
  if (b.length === 0 || b.length > MAX_CHAIN_ID_BYTES)
    throw new Error(`"chainId" must be 1..${MAX_CHAIN_ID_BYTES} UTF-8 bytes`);
  return b;
}

function assertHeightRound(height: number, round: number): void {
  if (!Number.isSafeInteger(height) || height < 0) throw new Error(`"height" must be a non-negative safe integer`);
  if (!Number.isInteger(round) || round < 0 || round > MAX_ROUND) throw new Error(`"round" must be in 0..${MAX_ROUND}`);
}

function assertHash(h: Uint8Array, what: string): void {
  if (!(h instanceof Uint8Array) || h.length !== HASH_BYTES) throw new Error(`"${what}" must be ${HASH_BYTES} bytes`);
}

export function voteSignBytes(
  chainId: string,
  type: VoteType,
  height: number,
  round: number,
  blockHash: Hash | null,
): Uint8Array {
  assertHeightRound(height, round);
  if (type !== 1 && type !== 2) throw new Error(`"type" must be 1 (prevote) or 2 (precommit)`);
  const id = chainIdBytes(chainId);
  const w = new ByteWriter(VOTE_TAG.length + id.length + 48).bytes(VOTE_TAG).u16(id.length).bytes(id);
  w.u8(type).u64(height).u32(round);
  if (blockHash === null) w.u8(0);
  else {
    assertHash(blockHash, 'blockHash');
    w.u8(1).bytes(blockHash);
  }
  return w.finish();
}

/** Sign bytes of a vote as received (its own fields). */
export function voteSignBytesOf(chainId: string, vote: Vote): Uint8Array {
  return voteSignBytes(chainId, vote.type, vote.height, vote.round, vote.blockHash);
}

export function proposalSignBytes(
  chainId: string,
  height: number,
  round: number,
  polRound: number,
  blockHash: Hash,
): Uint8Array {
  assertHeightRound(height, round);
  if (!Number.isInteger(polRound) || polRound < -1 || polRound >= round)
    throw new Error(`"polRound" must be in -1..round-1`);
  assertHash(blockHash, 'blockHash');
  const id = chainIdBytes(chainId);
  return new ByteWriter(PROPOSAL_TAG.length + id.length + 52)
    .bytes(PROPOSAL_TAG)
    .u16(id.length)
    .bytes(id)
    .u64(height)
    .u32(round)
    .u32(polRound + 1)
    .bytes(blockHash)
    .finish();
}

export function proposalSignBytesOf(chainId: string, p: Proposal): Uint8Array {
  return proposalSignBytes(chainId, p.height, p.round, p.polRound, p.blockHash);
}
