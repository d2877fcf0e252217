// "Audit a peer": fetch another node's signed heads, entries (with inclusion proofs against its
// latest head) and the consistency proofs between its successive heads, page by page, then check
// all of it with the same verifier as `aegis verify` (core/ledger/verify.ts), plus that the history
// it shows now extends the head this node last saw from it. Transport-agnostic: the caller supplies
// the three paged requests (ledger-service.ts sends them over the overlay).
import { bytesEqual, utf8Decode } from '../core/bytes.ts';
import type { Verifier } from '../core/crypto/ed25519.ts';
import { toBase64 } from '../core/ledger/base64.ts';
import { decodeEntry } from '../core/ledger/entry.ts';
import { consistencyPairs, EXPORT_FORMAT } from '../core/ledger/export.ts';
import type { ConsistencyResponse, EntriesResponse, HeadsResponse, SizePair } from '../core/ledger/ledger-messages.ts';
import { MAX_HEADS_PER_PAGE, MAX_PROOFS_PER_MESSAGE } from '../core/ledger/ledger-messages.ts';
import { leafHash } from '../core/ledger/merkle.ts';
import { MemoryTree } from '../core/ledger/tree.ts';
import { originOf, parseTreeHead, type SignedTreeHead } from '../core/ledger/tree-head.ts';
import { verifyExportedLog, type ReceiptQcCheck, type Verdict } from '../core/ledger/verify.ts';

export interface AuditTransport {
  heads(from: number, max: number): Promise<HeadsResponse | null>;
  entries(from: number, to: number, proofTreeSize: number): Promise<EntriesResponse | null>;
  consistency(pairs: SizePair[]): Promise<ConsistencyResponse | null>;
}

export interface AuditOptions {
  verifier: Verifier;
  checkReceiptQc?: ReceiptQcCheck;
  /** The last head this node accepted from the peer before the audit (split-view monitor). */
  lastSeen?: SignedTreeHead;
  /** Refuse to download more than this many entries or heads (default 1,000,000). */
  maxItems?: number;
  /**
   * Stop once this many bytes of heads, entries and proofs have arrived (default 64 MiB): entries
   * run to ~680 KB each, so a count alone lets a peer make an audit download gigabytes.
   */
  maxBytes?: number;
}

/** The start of the failure an audit ends with when the peer's log exceeds `maxBytes`. */
export const TOO_LARGE = 'peer log too large to audit here';
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
const HASH_BYTES = 32;

export interface AuditReport {
  ok: boolean;
  /** What was checked, one line each (the verifier's list, then the audit's own). */
  checks: string[];
  /** Exactly what failed: `where: reason`. */
  failures: string[];
  entries: number;
  heads: number;
  receiptQcs: Verdict['receiptQcs'];
  /** The peer's latest head as fetched (fed to split-view detection by the caller). */
  latest: SignedTreeHead | null;
}

function failed(reason: string, checks: string[] = [], latest: SignedTreeHead | null = null): AuditReport {
  return { ok: false, checks, failures: [reason], entries: 0, heads: 0, receiptQcs: 'no-receipts', latest };
}

export async function auditPeer(peerKey: Uint8Array, t: AuditTransport, opts: AuditOptions): Promise<AuditReport> {
  const maxItems = opts.maxItems ?? 1_000_000;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  let downloaded = 0;
  const overBudget = (bytes: number): boolean => (downloaded += bytes) > maxBytes;
  const tooLarge = (what: string): string =>
    `${TOO_LARGE}: more than ${(maxBytes / (1024 * 1024)).toFixed(maxBytes % (1024 * 1024) === 0 ? 0 : 2)} MiB (the audit byte limit) by ${what}`;
  // 1. Every signed head, oldest first.
  const headBytes: Uint8Array[] = [];
  let total = Infinity;
  while (headBytes.length < total) {
    const page = await t.heads(headBytes.length, MAX_HEADS_PER_PAGE);
    if (page === null) return failed(`fetch: no answer for heads from ${headBytes.length}`);
    if (page.from !== headBytes.length) return failed(`fetch: asked heads from ${headBytes.length}, got a page from ${page.from}`);
    if (page.total > maxItems) return failed(`fetch: the peer claims ${page.total} heads, more than the ${maxItems} an audit downloads`);
    if (total !== Infinity && page.total < total) return failed(`fetch: the peer's head count went down from ${total} to ${page.total} during the audit`);
    total = page.total;
    if (overBudget(page.heads.reduce((n, h) => n + h.length, 0))) return failed(tooLarge(`its heads (${headBytes.length + page.heads.length} of ${total})`));
    if (page.heads.length === 0 && headBytes.length < total) return failed(`fetch: an empty page of heads at ${headBytes.length} of ${total}`);
    headBytes.push(...page.heads);
  }
  if (headBytes.length === 0) return failed('the peer has no signed tree head yet');
  const latestParsed = parseTreeHead(headBytes[headBytes.length - 1] as Uint8Array);
  if (!latestParsed.ok) return failed(`heads[${headBytes.length - 1}]: ${latestParsed.error}`);
  const latest = latestParsed.value;
  if (latest.size > maxItems) return failed(`fetch: the latest head covers ${latest.size} entries, more than ${maxItems}`, [], latest);

  // 2. Entries [0, latest.size) with inclusion proofs against the latest head.
  const entries: { bytes: Uint8Array; proof: Uint8Array[] }[] = [];
  while (entries.length < latest.size) {
    const from = entries.length;
    const page = await t.entries(from, latest.size, latest.size);
    if (page === null) return failed(`fetch: no answer for entries [${from}, ${latest.size})`, [], latest);
    if (page.from !== from || page.proofTreeSize !== latest.size || page.entries.length === 0)
      return failed(`fetch: asked entries from ${from} proven in size ${latest.size}, got ${page.entries.length} from ${page.from} in size ${page.proofTreeSize}`, [], latest);
    const taken = page.entries.slice(0, latest.size - from);
    if (overBudget(taken.reduce((n, e) => n + e.bytes.length + e.proof.length * HASH_BYTES, 0)))
      return failed(tooLarge(`entry ${from + taken.length - 1} of ${latest.size}`), [], latest);
    entries.push(...taken);
  }

  // 3. Consistency proofs between successive heads (the pairs the export format has).
  const parsed = headBytes.map((b) => parseTreeHead(b));
  const sized = parsed.map((p) => (p.ok ? p.value : { size: 0 }));
  const pairs = consistencyPairs(sized).map(([i, j]) => ({ size1: (sized[i] as { size: number }).size, size2: (sized[j] as { size: number }).size, i, j }));
  const proofs: { size1: number; size2: number; root1: string; root2: string; proof: string[] }[] = [];
  for (let k = 0; k < pairs.length; k += MAX_PROOFS_PER_MESSAGE) {
    const batch = pairs.slice(k, k + MAX_PROOFS_PER_MESSAGE);
    // Sizes that cannot be proven (a head that does not grow) are left to the verifier to name.
    const askable = batch.map((p) => ({ size1: p.size1, size2: Math.max(p.size1, p.size2) }));
    const res = await t.consistency(askable);
    if (res === null) return failed(`fetch: no answer for consistency proofs ${k}..${k + batch.length - 1}`, [], latest);
    if (overBudget(res.answers.reduce((n, a) => n + (a.proof?.length ?? 0) * HASH_BYTES, 0)))
      return failed(tooLarge(`its consistency proofs (${k + batch.length} of ${pairs.length})`), [], latest);
    batch.forEach((p, n) => {
      const a = res.answers[n];
      const h1 = parsed[p.i];
      const h2 = parsed[p.j];
      proofs.push({
        size1: p.size1,
        size2: p.size2,
        root1: h1?.ok ? toBase64(h1.value.root) : '',
        root2: h2?.ok ? toBase64(h2.value.root) : '',
        proof: a !== undefined && a.size1 === p.size1 && a.proof !== null ? a.proof.map(toBase64) : [],
      });
    });
  }

  // 4. The same checks as `aegis verify` on what was fetched, assembled as an export.
  const doc = {
    format: EXPORT_FORMAT,
    origin: originOf(peerKey),
    heads: headBytes.map((b) => ({ note: safeText(b) })),
    entries: entries.map((e, i) => {
      const d = decodeEntry(e.bytes);
      return {
        index: i,
        kind: d.ok ? d.value.kind : 'undecodable',
        timeMs: d.ok ? d.value.timeMs : 0,
        leaf: toBase64(e.bytes),
        inclusion: { leafIdx: i, treeSize: latest.size, root: toBase64(latest.root), leafHash: toBase64(leafHash(e.bytes)), proof: e.proof.map(toBase64) },
      };
    }),
    consistency: proofs,
  };
  const verdict = await verifyExportedLog(doc, {
    verifier: opts.verifier,
    ...(opts.checkReceiptQc ? { checkReceiptQc: opts.checkReceiptQc } : {}),
  });
  const checks = verdict.checked.slice();
  const failures = verdict.failures.map((f) => `${f.where}: ${f.reason}`);

  // 5. Append-only since our last look: the head we saw is a prefix of this history.
  const seen = opts.lastSeen;
  if (seen === undefined) checks.push('first look at this peer: nothing earlier to compare');
  else if (!bytesEqual(seen.publicKey, peerKey)) failures.push('last seen head: signed by another key');
  else if (seen.size > latest.size) failures.push(`history shrank: we saw a head of size ${seen.size}, its latest is ${latest.size}`);
  else {
    const tree = new MemoryTree();
    for (const e of entries.slice(0, seen.size)) tree.append(leafHash(e.bytes));
    if (!bytesEqual(tree.root(), seen.root)) failures.push(`history rewritten: the first ${seen.size} entries no longer have the root of the head we saw`);
    checks.push(`history only grew since our last look (size ${seen.size} → ${latest.size}, root of the first ${seen.size} entries unchanged)`);
  }
  return { ok: failures.length === 0, checks, failures, entries: entries.length, heads: headBytes.length, receiptQcs: verdict.receiptQcs, latest };
}

function safeText(b: Uint8Array): string {
  try {
    return utf8Decode(b);
  } catch {
    return '';
  }
}
