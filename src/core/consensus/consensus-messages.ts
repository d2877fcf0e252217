// Bodies of the consensus envelopes (message types 32–35, net/message-types.ts), big-endian.
// proposal = u8 version ‖ proposal (vote-codec.ts) ‖ u32 len ‖ block
// vote     = vote (vote-codec.ts)
// evidence = evidence (evidence.ts: u8 kind ‖ body), duplicate vote or duplicate proposal only
// commit   = u8 version ‖ u64 height ‖ u32 len ‖ block ‖ qc (vote-codec.ts)
// status   = u8 version ‖ u64 height
import { ByteReader, ByteWriter, DecodeError, safeDecode } from '../codec/index.ts';
import type { Result } from '../result.ts';
import { CODEC_VERSION, PROPOSAL_BYTES, readProposal, readQuorumCertificate, writeProposal, writeQuorumCertificate } from './vote-codec.ts';
import type { Proposal, QuorumCertificate } from './types.ts';

/** Largest block the engine carries; the application's limits are tighter. */
export const MAX_BLOCK_BYTES = 4 * 1024 * 1024;

export interface ProposalMessage {
  proposal: Proposal;
  block: Uint8Array;
}

export interface CommitMessage {
  height: number;
  block: Uint8Array;
  qc: QuorumCertificate;
}

export function encodeProposalMessage(m: ProposalMessage): Uint8Array {
  const w = new ByteWriter(PROPOSAL_BYTES + 8 + m.block.length).u8(CODEC_VERSION);
  writeProposal(w, m.proposal);
  return w.varBytes(m.block).finish();
}

export function decodeProposalMessage(bytes: Uint8Array): Result<ProposalMessage> {
  return safeDecode(() => {
    const r = new ByteReader(bytes);
    if (r.u8('version') !== CODEC_VERSION) throw new DecodeError('proposal message version unsupported');
    const proposal = readProposal(r);
    const block = r.varBytes(MAX_BLOCK_BYTES, 'block').slice();
    r.end('proposal message');
    return { proposal, block };
  });
}

export function encodeCommitMessage(m: CommitMessage): Uint8Array {
  const w = new ByteWriter(64 + m.block.length + m.qc.signatures.length * 68).u8(CODEC_VERSION).u64(m.height).varBytes(m.block);
  writeQuorumCertificate(w, m.qc);
  return w.finish();
}

export function decodeCommitMessage(bytes: Uint8Array): Result<CommitMessage> {
  return safeDecode(() => {
    const r = new ByteReader(bytes);
    if (r.u8('version') !== CODEC_VERSION) throw new DecodeError('commit message version unsupported');
    const height = r.u64('height');
    const block = r.varBytes(MAX_BLOCK_BYTES, 'block').slice();
    const qc = readQuorumCertificate(r);
    r.end('commit message');
    if (qc.height !== height) throw new DecodeError('commit qc is for another height');
    return { height, block, qc };
  });
}

export function encodeStatusMessage(height: number): Uint8Array {
  return new ByteWriter(9).u8(CODEC_VERSION).u64(height).finish();
}

export function decodeStatusMessage(bytes: Uint8Array): Result<number> {
  return safeDecode(() => {
    const r = new ByteReader(bytes);
    if (r.u8('version') !== CODEC_VERSION) throw new DecodeError('status message version unsupported');
    const height = r.u64('height');
    r.end('status message');
    return height;
  });
}

/** Recent decided heights and their block hashes, at most this many per message. */
export const MAX_DECIDED_ANNOUNCED = 8;

export interface DecidedEntry {
  height: number;
  blockHash: Uint8Array;
}

export function encodeDecidedMessage(entries: readonly DecidedEntry[]): Uint8Array {
  if (entries.length > MAX_DECIDED_ANNOUNCED) throw new Error(`"entries": at most ${MAX_DECIDED_ANNOUNCED}`);
  const w = new ByteWriter(2 + entries.length * 40).u8(CODEC_VERSION).u8(entries.length);
  for (const e of entries) w.u64(e.height).bytes(e.blockHash);
  return w.finish();
}

export function decodeDecidedMessage(bytes: Uint8Array): Result<DecidedEntry[]> {
  return safeDecode(() => {
    const r = new ByteReader(bytes);
    if (r.u8('version') !== CODEC_VERSION) throw new DecodeError('decided message version unsupported');
    const n = r.u8('count');
    if (n > MAX_DECIDED_ANNOUNCED) throw new DecodeError('decided message: too many entries');
    const out: DecidedEntry[] = [];
    for (let i = 0; i < n; i++) out.push({ height: r.u64('height'), blockHash: r.bytes(32, 'block hash') });
    r.end('decided message');
    return out;
  });
}
