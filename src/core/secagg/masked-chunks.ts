// A contributor's masked vector, committed chunk by chunk, so a validator can check a few sampled
// coordinates of it without the whole vector (README "Consensus" → "Aggregation results"):
//   chunk i      words [i·CHUNK_WORDS, min((i+1)·CHUNK_WORDS, words)), big-endian u32 (the wire
//                encoding of messages.ts);
//   chunk root   RFC 9162 root (ledger/merkle.ts) over the chunks' leaf hashes;
//   statement    what the contributor signs with its identity key, inside its masked-input message:
//                tag ‖ round id ‖ sender public key ‖ u32 n ‖ n × maskedWith id ‖ u32 words ‖
//                u32 CHUNK_WORDS ‖ chunk root.
// The statement is everything of a masked input that unmasking reads except the vector's bytes,
// so the light transcript (light-transcript.ts) carries statements instead of vectors, and a
// sampled chunk is checked against the contributor's own signature, not the aggregator's word.
import { bytesEqual } from '../bytes.ts';
import { ByteWriter } from '../codec/index.ts';
import type { Signer, Verifier } from '../crypto/ed25519.ts';
import { domainTag } from '../crypto/hash.ts';
import { leafHash, verifyInclusion, type Hash } from '../ledger/merkle.ts';
import { MemoryTree } from '../ledger/tree.ts';
import { ROUND_ID_BYTES } from './messages.ts';

/** 4 KiB of ring words per chunk: 16 sampled chunks check 16,384 coordinates per contributor. */
export const CHUNK_WORDS = 1024;
export const STATEMENT_SIGNATURE_BYTES = 64;
const STATEMENT_TAG = domainTag('aegis/secagg/masked-input-statement/v1');

/** The signed summary of one masked input. */
export interface MaskedStatement {
  roundId: Uint8Array;
  /** The contributor's Ed25519 public key. */
  sender: Uint8Array;
  /** Neighbours whose pairwise masks are in the vector (16-byte node ids, as sent). */
  maskedWith: readonly Uint8Array[];
  /** Length of the masked vector in words. */
  words: number;
  chunkRoot: Hash;
}

export function chunkCount(words: number): number {
  return Math.ceil(words / CHUNK_WORDS);
}

/** Words of chunk `index` (a view, not a copy). */
export function chunkWords(vector: Uint32Array, index: number): Uint32Array {
  return vector.subarray(index * CHUNK_WORDS, Math.min((index + 1) * CHUNK_WORDS, vector.length));
}

/** The Merkle leaf data of a chunk: its words big-endian. */
export function chunkLeaf(words: Uint32Array): Hash {
  const bytes = new Uint8Array(words.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < words.length; i++) view.setUint32(i * 4, words[i] as number);
  return leafHash(bytes);
}

export function chunkTree(vector: Uint32Array): MemoryTree {
  const tree = new MemoryTree();
  const n = chunkCount(vector.length);
  for (let i = 0; i < n; i++) tree.append(chunkLeaf(chunkWords(vector, i)));
  return tree;
}

/** The chunk root of a vector (an empty vector: the empty tree's root). */
export function chunkRoot(vector: Uint32Array): Hash {
  return chunkTree(vector).root();
}

/** Length in words of chunk `index` of a `words`-word vector. */
export function chunkLength(words: number, index: number): number {
  return Math.max(0, Math.min(CHUNK_WORDS, words - index * CHUNK_WORDS));
}

/** Is `words` chunk `index` of the vector `statement` commits to, by `proof`? */
export function verifyChunk(statement: MaskedStatement, index: number, words: Uint32Array, proof: readonly Hash[]): boolean {
  const n = chunkCount(statement.words);
  if (!Number.isInteger(index) || index < 0 || index >= n) return false;
  if (words.length !== chunkLength(statement.words, index)) return false;
  return verifyInclusion(index, n, chunkLeaf(words), proof, statement.chunkRoot).ok;
}

/** The bytes the contributor signs. */
export function statementBytes(s: MaskedStatement): Uint8Array {
  if (s.roundId.length !== ROUND_ID_BYTES) throw new Error(`"roundId" must be ${ROUND_ID_BYTES} bytes`);
  if (s.sender.length !== 32) throw new Error('"sender" must be 32 bytes');
  const w = new ByteWriter(STATEMENT_TAG.length + 96 + s.maskedWith.length * 16).bytes(STATEMENT_TAG).bytes(s.roundId).bytes(s.sender);
  w.u32(s.maskedWith.length);
  for (const id of s.maskedWith) w.bytes(id);
  return w.u32(s.words).u32(CHUNK_WORDS).bytes(s.chunkRoot).finish();
}

export function signStatement(s: MaskedStatement, signer: Signer): Promise<Uint8Array> {
  if (!bytesEqual(s.sender, signer.publicKey)) throw new Error('"signer" is not the statement\'s sender');
  return signer.sign(statementBytes(s));
}

export function verifyStatement(s: MaskedStatement, signature: Uint8Array, verifier: Verifier): Promise<boolean> {
  if (signature.length !== STATEMENT_SIGNATURE_BYTES || s.chunkRoot.length !== 32) return Promise.resolve(false);
  return verifier.verify(s.sender, statementBytes(s), signature);
}
