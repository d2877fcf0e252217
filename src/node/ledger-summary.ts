// One-line descriptions of audit-log entries for the dashboard (pure, no DOM).
import { bytesToHex } from '../core/bytes.ts';
import { nodeIdFromPublicKey, shortFingerprint } from '../core/crypto/node-id.ts';
import { decodeEntry, type EntryKind, type LogEntry } from '../core/ledger/entry.ts';
import { parseTreeHead } from '../core/ledger/tree-head.ts';

export interface EntrySummary {
  index: number;
  kind: EntryKind | 'undecodable';
  timeMs: number;
  summary: string;
}

const short = (b: Uint8Array): string => bytesToHex(b.subarray(0, 4));

export function summarizeEntry(e: LogEntry): string {
  switch (e.kind) {
    case 'contribution':
      return `round ${short(e.roundId)}: committed to masked input ${short(e.commitment)}…`;
    case 'vote':
      return `${e.voteType === 1 ? 'prevote' : 'precommit'} height ${e.height} round ${e.round} for ${e.blockHash ? `${short(e.blockHash)}…` : 'nil'}`;
    case 'receipt':
      return `round ${short(e.roundId)} final at height ${e.height} (${e.qc.signatures.length} signatures), input is leaf ${e.transcript.leafIdx} of ${e.transcript.treeSize}`;
    case 'stake':
      return `${e.event} ${e.amount >= 0 ? '+' : '−'}${Math.abs(e.amount)} at height ${e.height} → ${e.total}`;
    case 'peer-head': {
      const h = parseTreeHead(e.head);
      const who = shortFingerprint(nodeIdFromPublicKey(e.peer));
      return h.ok ? `head of ${who}: size ${h.value.size}, root ${short(h.value.root)}…` : `head of ${who} (unparseable)`;
    }
  }
}

export function summarizeBytes(index: number, bytes: Uint8Array): EntrySummary {
  const d = decodeEntry(bytes);
  if (!d.ok) return { index, kind: 'undecodable', timeMs: 0, summary: d.error };
  return summarizeDecoded(index, d.value);
}

/** The summary of an entry already decoded (no second decode of its bytes). */
export function summarizeDecoded(index: number, e: LogEntry): EntrySummary {
  return { index, kind: e.kind, timeMs: e.timeMs, summary: summarizeEntry(e) };
}
