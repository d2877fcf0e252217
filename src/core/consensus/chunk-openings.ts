// Every contributor's openings of a list of sampled chunks, as two messages carry them: the sampled
// claim (type 47, sampled-claim.ts: the public sample) and the aggregator's answer to a validator's
// private sample (private-sample.ts). The indices come before, in the message; s = their count.
// Big-endian, sorted by contributor id, strict:
//
// openings = u32 n ‖ n × (id(16) ‖ s × (u32 m ‖ m × u32 word ‖ u8 p ‖ p × hash(32)))
import { bytesToHex, hexToBytes } from '../bytes.ts';
import { ByteReader, ByteWriter, DecodeError } from '../codec/index.ts';
import type { NodeId } from '../crypto/node-id.ts';
import { CHUNK_WORDS } from '../secagg/masked-chunks.ts';
import { MAX_IDS, readU32Vector, writeU32Vector } from '../secagg/messages.ts';
import type { ChunkOpening } from '../secagg/transcript.ts';

/** A path in a tree of at most 2^21 / CHUNK_WORDS leaves is far shorter; 64 bounds any RFC 9162 path. */
const MAX_PROOF = 64;

/** Per contributor (node id), the opening of the k-th index at position k. */
export type ChunkOpenings = ReadonlyMap<NodeId, readonly ChunkOpening[]>;

export function writeOpenings(w: ByteWriter, chunks: ChunkOpenings, s: number): void {
  w.u32(chunks.size);
  for (const [id, openings] of [...chunks].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (openings.length !== s) throw new Error(`"chunks" of ${id} has ${openings.length} openings, not ${s}`);
    w.bytes(hexToBytes(id));
    for (const o of openings) {
      writeU32Vector(w, o.words);
      w.u8(o.proof.length);
      for (const h of o.proof) w.bytes(h);
    }
  }
}

export function readOpenings(r: ByteReader, s: number): Map<NodeId, ChunkOpening[]> {
  const n = r.u32('contributor count');
  if (n > MAX_IDS) throw new DecodeError(`openings for ${n} contributors`);
  const chunks = new Map<NodeId, ChunkOpening[]>();
  for (let i = 0; i < n; i++) {
    const id = bytesToHex(r.bytes(16, 'contributor'));
    if (chunks.has(id)) throw new DecodeError(`two openings for ${id}`);
    const openings: ChunkOpening[] = [];
    for (let k = 0; k < s; k++) {
      const words = readU32Vector(r, CHUNK_WORDS);
      const p = r.u8('proof length');
      if (p > MAX_PROOF) throw new DecodeError(`proof of ${p} hashes`);
      const proof: Uint8Array[] = [];
      for (let j = 0; j < p; j++) proof.push(r.bytes(32, 'proof hash').slice());
      openings.push({ words, proof });
    }
    chunks.set(id, openings);
  }
  return chunks;
}
