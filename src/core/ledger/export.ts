// The export format of a whole log: JSON, hashes and bytes in base64, proofs with the field names of
// the transparency-dev RFC 9162 vectors. Every entry carries its leaf bytes (so its leaf hash can be
// recomputed) and an inclusion proof against the latest head; successive heads (from the first
// non-empty one) carry a consistency proof. verify.ts checks all of it.
//
// {
//   "format": "aegis-audit-log/v1",
//   "origin": "aegis.log/<hex public key>",
//   "heads": [ { "note": "<signed tree head text, tree-head.ts>" }, … ],            oldest first
//   "entries": [ { "index": 0, "kind": "vote", "timeMs": 1732…, "leaf": "<base64>",
//                  "inclusion": { "leafIdx": 0, "treeSize": N, "root": "…", "leafHash": "…", "proof": ["…"] } }, … ],
//   "consistency": [ { "size1": a, "size2": b, "root1": "…", "root2": "…", "proof": ["…"] }, … ],
//   "genesis": "<base64 genesis bytes (consensus/genesis.ts)>",                       optional, with:
//   "certificates": [ "<base64 set-change certificate (consensus/light-client.ts)>", … ]  ascending heights
// }
// With genesis and certificates, a verifier derives every height's validator set (light client) and
// checks the receipts' quorum certificates offline; without them, receipts' QCs go unchecked.
import type { AuditLog } from './audit-log.ts';
import { toBase64 } from './base64.ts';
import { decodeEntry, type EntryKind } from './entry.ts';
import { leafHash } from './merkle.ts';
import { originOf, treeHeadText, type SignedTreeHead } from './tree-head.ts';

export const EXPORT_FORMAT = 'aegis-audit-log/v1';

export interface ExportedInclusion {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[];
}

export interface ExportedConsistency {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[];
}

export interface ExportedEntry {
  index: number;
  kind: EntryKind;
  timeMs: number;
  leaf: string;
  inclusion: ExportedInclusion;
}

export interface ExportedHead {
  note: string;
}

export interface ExportedLog {
  format: typeof EXPORT_FORMAT;
  origin: string;
  heads: ExportedHead[];
  entries: ExportedEntry[];
  consistency: ExportedConsistency[];
  /** Base64 genesis bytes: with `certificates`, lets a verifier check receipts' QCs offline. */
  genesis?: string;
  /** Base64 set-change certificates from genesis on, ascending heights. */
  certificates?: string[];
}

/** The chain material an export may carry (encoded genesis and set-change certificates). */
export interface ExportChain {
  genesis: Uint8Array;
  certificates: readonly Uint8Array[];
}

/** Pairs of successive heads that get a consistency proof (none from an empty tree: nothing to prove). */
export function consistencyPairs(heads: readonly { size: number }[]): [number, number][] {
  const pairs: [number, number][] = [];
  for (let i = 0; i + 1 < heads.length; i++) {
    const a = heads[i] as { size: number };
    if (a.size > 0) pairs.push([i, i + 1]);
  }
  return pairs;
}

/** Export the whole log. Signs a head first if entries were appended since the last one. */
export async function exportLog(log: AuditLog, chain?: ExportChain): Promise<ExportedLog> {
  const latest = await log.signHead();
  const heads = await log.heads();
  const size = latest.size;
  const bytes = await log.entryBytes(0, size);
  const entries: ExportedEntry[] = [];
  for (let i = 0; i < size; i++) {
    const leaf = bytes[i] as Uint8Array;
    const decoded = decodeEntry(leaf);
    if (!decoded.ok) throw new Error(`stored entry ${i} does not decode: ${decoded.error}`);
    entries.push({
      index: i,
      kind: decoded.value.kind,
      timeMs: decoded.value.timeMs,
      leaf: toBase64(leaf),
      inclusion: {
        leafIdx: i,
        treeSize: size,
        root: toBase64(latest.root),
        leafHash: toBase64(leafHash(leaf)),
        proof: (await log.inclusionProof(i, size)).map(toBase64),
      },
    });
  }
  const consistency: ExportedConsistency[] = [];
  for (const [i, j] of consistencyPairs(heads)) {
    const a = heads[i] as SignedTreeHead;
    const b = heads[j] as SignedTreeHead;
    consistency.push({
      size1: a.size,
      size2: b.size,
      root1: toBase64(a.root),
      root2: toBase64(b.root),
      proof: (await log.consistencyProof(a.size, b.size)).map(toBase64),
    });
  }
  return {
    format: EXPORT_FORMAT,
    origin: originOf(log.publicKey),
    heads: heads.map((h) => ({ note: treeHeadText(h) })),
    entries,
    consistency,
    ...(chain === undefined ? {} : { genesis: toBase64(chain.genesis), certificates: chain.certificates.map(toBase64) }),
  };
}
