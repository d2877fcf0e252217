// Verifiers over exported material (untrusted: never throws, always a Verdict):
//   verifyExportedLog   a whole log: heads' signatures and chain, every entry, every inclusion proof,
//                       roots recomputed from the entries, consistency between successive heads,
//                       receipts (transcript inclusion, QC via a pluggable check) and peer heads;
//   verifyEntryProof    one entry: its inclusion proof under one signed head;
//   verifyAppendOnly    two signed heads of one log and the consistency proof between them.
// A verdict lists what was checked and, on failure, exactly where (path of the JSON field, entry index).
import { bytesEqual, bytesToHex, utf8ToBytes } from '../bytes.ts';
import type { Verifier } from '../crypto/ed25519.ts';
import { batchingVerifier } from '../crypto/signature-batch.ts';
import type { Result } from '../result.ts';
import { fromBase64 } from './base64.ts';
import { decodeGenesis, genesisHash } from '../consensus/genesis.ts';
import { validatorSetCache } from '../consensus/validator-set-cache.ts';
import { decodeCertificate, type SetChangeCertificate } from '../consensus/light-client.ts';
import { decodeEntry, type LogEntry, type ReceiptEntry } from './entry.ts';
import { checkReceipt, validatorSetHistory } from './receipt-check.ts';
import { consistencyPairs, EXPORT_FORMAT } from './export.ts';
import { HASH_BYTES, leafHash, verifyConsistency, verifyInclusion, type Hash } from './merkle.ts';
import { MemoryTree } from './tree.ts';
import { NO_PREVIOUS_HEAD, originOf, verifyTreeHead, type SignedTreeHead } from './tree-head.ts';

export interface Failure {
  /** JSON path of the offending field, e.g. `entries[12].inclusion.proof`. */
  where: string;
  /** The entry concerned, when there is one. */
  entryIndex?: number;
  reason: string;
}

export interface Verdict {
  ok: boolean;
  /** What was checked, one line each, with counts. */
  checked: string[];
  failures: Failure[];
  /** Receipts' quorum certificates: checked by the given function, or not (no validator sets). */
  receiptQcs: 'checked' | 'not-checked' | 'no-receipts';
  /** Entry indices of receipts checked in full (header, result path, transcript path, QC against the height's set). */
  receiptsFullyChecked: number[];
  /**
   * Hex hash of the export's genesis, when it carries one. Genesis is the light client's trust
   * root: compare it with the network's (any field of it may differ without breaking the checks).
   */
  genesisHash?: string;
  entries: number;
  heads: number;
}

/** Checks a receipt's QC against the validator set of its height (from the consensus light client). */
export type ReceiptQcCheck = (receipt: ReceiptEntry, entryIndex: number) => Promise<Result<void>> | Result<void>;

export interface VerifyOptions {
  verifier: Verifier;
  checkReceiptQc?: ReceiptQcCheck;
  /** Failures listed at most (the rest are counted). Default 100. */
  maxFailures?: number;
}

/** Where a check writes failures (bounded) and what it checked. */
interface Sink {
  fail(where: string, reason: string, entryIndex?: number): void;
  readonly checked: string[];
}

/** Failures (the first `max` listed, the rest counted) and what was checked. */
abstract class Lines implements Sink {
  readonly failures: Failure[] = [];
  readonly checked: string[] = [];
  dropped = 0;
  constructor(protected readonly max: number) {}

  fail(where: string, reason: string, entryIndex?: number): void {
    if (this.failures.length >= this.max) this.dropped++;
    else this.failures.push(entryIndex === undefined ? { where, reason } : { where, entryIndex, reason });
  }
}

/**
 * The failures and checked lines of a step that runs concurrently with the next ones, listed at
 * the place the step has in the report (`Report.place`), so the verdict reads in the same order
 * whichever finishes first.
 */
class Slot extends Lines {
  failureAt = -1;
  checkedAt = -1;
}

/** Collects failures (bounded) and what was checked. */
class Report extends Lines {
  private readonly slots: Slot[] = [];

  /** A slot for a step not yet placed (see place). */
  slot(): Slot {
    return new Slot(this.max);
  }

  /** The slot's lines go here, after everything reported so far. */
  place(s: Slot): Slot {
    s.failureAt = this.failures.length;
    s.checkedAt = this.checked.length;
    this.slots.push(s);
    return s;
  }

  verdict(receiptQcs: Verdict['receiptQcs'], entries: number, heads: number, receiptsFullyChecked: number[] = []): Verdict {
    let failures = this.failures.slice();
    const checked = this.checked.slice();
    let dropped = this.dropped;
    // Latest slot first, so earlier positions stay valid.
    for (const s of [...this.slots].reverse()) {
      failures.splice(s.failureAt, 0, ...s.failures);
      checked.splice(s.checkedAt, 0, ...s.checked);
      dropped += s.dropped;
    }
    if (failures.length > this.max) {
      dropped += failures.length - this.max;
      failures = failures.slice(0, this.max);
    }
    if (dropped > 0) failures.push({ where: 'file', reason: `${dropped} more failures not listed` });
    return { ok: failures.length === 0, checked, failures, receiptQcs, receiptsFullyChecked, entries, heads };
  }
}

type Json = Record<string, unknown>;

/** Entry indices as a line: the first 20, then how many more (`1, 2, …, 20, … (5 more)`). */
export function abbreviatedList(indices: readonly number[]): string {
  return indices.slice(0, 20).join(', ') + (indices.length > 20 ? `, … (${indices.length - 20} more)` : '');
}

/** Exactly these keys, each of the given type; null (and failures) otherwise. */
function shape(r: Sink, v: unknown, where: string, spec: Record<string, 'string' | 'number' | 'array' | 'object'>, entryIndex?: number): Json | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    r.fail(where, 'must be an object', entryIndex);
    return null;
  }
  const o = v as Json;
  let good = true;
  for (const k of Object.keys(o)) {
    if (!(k in spec)) {
      r.fail(`${where}.${k}`, 'unknown field', entryIndex);
      good = false;
    }
  }
  for (const [k, type] of Object.entries(spec)) {
    const x = o[k];
    const isType =
      type === 'array' ? Array.isArray(x) : type === 'object' ? typeof x === 'object' && x !== null && !Array.isArray(x) : typeof x === type;
    if (!isType || (type === 'number' && !(Number.isSafeInteger(x) && (x as number) >= 0))) {
      r.fail(`${where}.${k}`, x === undefined ? 'missing' : `must be ${type === 'number' ? 'a non-negative integer' : `a${type === 'array' || type === 'object' ? 'n' : ''} ${type}`}`, entryIndex);
      good = false;
    }
  }
  return good ? o : null;
}

function hash(r: Sink, v: unknown, where: string, entryIndex?: number): Hash | null {
  const b = typeof v === 'string' ? fromBase64(v) : null;
  if (b === null || b.length !== HASH_BYTES) {
    r.fail(where, 'must be base64 of 32 bytes', entryIndex);
    return null;
  }
  return b;
}

function hashList(r: Sink, v: unknown, where: string, entryIndex?: number): Hash[] | null {
  if (!Array.isArray(v)) {
    r.fail(where, 'must be an array', entryIndex);
    return null;
  }
  const out: Hash[] = [];
  for (let i = 0; i < v.length; i++) {
    const h = hash(r, v[i], `${where}[${i}]`, entryIndex);
    if (h === null) return null;
    out.push(h);
  }
  return out;
}

const sameHash = (a: Hash, b: Hash): boolean => bytesEqual(a, b);

async function verifyHeads(r: Sink, list: unknown[], origin: string | null, verifier: Verifier): Promise<(SignedTreeHead | null)[]> {
  const parsed = await Promise.all(
    list.map(async (item, i) => {
      const o = shape(r, item, `heads[${i}]`, { note: 'string' });
      if (o === null) return null;
      const h = await verifyTreeHead(utf8ToBytes(o['note'] as string), verifier);
      if (!h.ok) {
        r.fail(`heads[${i}].note`, h.error);
        return null;
      }
      return h.value;
    }),
  );
  let prev: SignedTreeHead | null = null;
  for (let i = 0; i < parsed.length; i++) {
    const h = parsed[i];
    if (h === null || h === undefined) {
      prev = null;
      continue;
    }
    if (origin !== null && originOf(h.publicKey) !== origin)
      r.fail(`heads[${i}].note`, 'head is for another log (origin differs)');
    if (i === 0 && !sameHash(h.prevHash, NO_PREVIOUS_HEAD)) r.fail(`heads[0].note`, 'first head names a previous head');
    if (prev !== null) {
      if (!sameHash(h.prevHash, prev.hash)) r.fail(`heads[${i}].note`, `previous-head hash is not the hash of heads[${i - 1}]`);
      if (h.size <= prev.size) r.fail(`heads[${i}].note`, `size ${h.size} does not grow past heads[${i - 1}] (${prev.size})`);
      if (h.timeMs < prev.timeMs) r.fail(`heads[${i}].note`, `time goes back from heads[${i - 1}]`);
    }
    prev = h;
  }
  return parsed.map((h) => h ?? null);
}

/** Parse JSON text (or take an already parsed value) and verify the whole exported log. */
export async function verifyExportedLog(input: string | unknown, options: VerifyOptions): Promise<Verdict> {
  const r = new Report(options.maxFailures ?? 100);
  let doc: unknown = input;
  if (typeof input === 'string') {
    try {
      doc = JSON.parse(input);
    } catch (e) {
      r.fail('file', `not JSON: ${(e as Error).message}`);
      return r.verdict('no-receipts', 0, 0);
    }
  }
  // Optional chain material (genesis + certificates) is taken out before the strict shape check.
  let chainDoc: { genesis: unknown; certificates: unknown } | null = null;
  if (typeof doc === 'object' && doc !== null && !Array.isArray(doc) && ('genesis' in doc || 'certificates' in doc)) {
    const { genesis, certificates, ...rest } = doc as Json;
    chainDoc = { genesis, certificates };
    doc = rest;
  }
  const top = shape(r, doc, 'log', { format: 'string', origin: 'string', heads: 'array', entries: 'array', consistency: 'array' });
  if (top === null) return r.verdict('no-receipts', 0, 0);
  // Every signature of the job (heads, certificates' QCs, receipts' QCs, peer heads) goes through
  // one batching verifier: concurrent in chunks, identical checks once (signature-batch.ts).
  const verifier = batchingVerifier(options.verifier);
  // The genesis as given, read from base64 and hashed once: the light client and the verdict both name it.
  const gBytes = typeof chainDoc?.genesis === 'string' ? fromBase64(chainDoc.genesis) : null;
  const genesis = gBytes === null ? null : { bytes: gBytes, hashHex: bytesToHex(genesisHash(gBytes)) };
  // The certificate chain's signatures run while the log's hashes are recomputed; its result is
  // awaited before the receipts need it.
  const lightClient = options.checkReceiptQc === undefined && chainDoc !== null ? lightClientCheck(r, genesis, chainDoc.certificates, verifier) : null;
  if (top['format'] !== EXPORT_FORMAT) r.fail('log.format', `must be "${EXPORT_FORMAT}"`);
  const origin = top['origin'] as string;
  if (!/^aegis\.log\/[0-9a-f]{64}$/.test(origin)) r.fail('log.origin', 'must be aegis.log/<64 lowercase hex>');
  const headList = top['heads'] as unknown[];
  const entryList = top['entries'] as unknown[];
  const consistencyList = top['consistency'] as unknown[];

  // Heads: signatures, chain, growth (their signatures run while the entries are hashed).
  const headSlot = r.place(r.slot());
  const headsChecked = verifyHeads(headSlot, headList, origin, verifier).then((heads) => {
    headSlot.checked.push(`${headList.length} signed tree heads: Ed25519 signature of the log's key, origin, previous-head chain, growing sizes`);
    if (headList.length === 0) headSlot.fail('log.heads', 'a log export needs at least one signed head');
    const last = heads[heads.length - 1] ?? null;
    if (last !== null && entryList.length !== last.size)
      headSlot.fail('log.entries', `${entryList.length} entries, but the latest head covers ${last.size}`);
    return heads;
  });
  headsChecked.catch(() => undefined);

  // Entries: shape, index, leaf bytes, strict decode, summary fields; rebuild the tree.
  const tree = new MemoryTree();
  const decoded: (LogEntry | null)[] = [];
  const inclusions: (Json | null)[] = [];
  for (let i = 0; i < entryList.length; i++) {
    const w = `entries[${i}]`;
    const o = shape(r, entryList[i], w, { index: 'number', kind: 'string', timeMs: 'number', leaf: 'string', inclusion: 'object' }, i);
    let leaf = o === null ? null : fromBase64(o['leaf'] as string);
    if (o !== null && leaf === null) r.fail(`${w}.leaf`, 'must be base64', i);
    if (o !== null && o['index'] !== i) r.fail(`${w}.index`, `is ${String(o['index'])}, but the entry is at position ${i} (dropped, inserted or reordered entries)`, i);
    let entry: LogEntry | null = null;
    if (leaf !== null) {
      const d = decodeEntry(leaf);
      if (!d.ok) r.fail(`${w}.leaf`, `does not decode: ${d.error}`, i);
      else {
        entry = d.value;
        if (o?.['kind'] !== entry.kind) r.fail(`${w}.kind`, `says ${String(o?.['kind'])}, the leaf is a ${entry.kind}`, i);
        if (o?.['timeMs'] !== entry.timeMs) r.fail(`${w}.timeMs`, `says ${String(o?.['timeMs'])}, the leaf says ${entry.timeMs}`, i);
      }
    }
    // A missing leaf still takes its position, so later entries keep their indices.
    leaf ??= new Uint8Array(0);
    tree.append(leafHash(leaf));
    decoded.push(entry);
    inclusions.push(o === null ? null : (o['inclusion'] as Json));
  }
  r.checked.push(`${entryList.length} entries: position = index, leaf bytes decode (strict v1/v2 codec), kind and time match the leaf`);

  // Receipts and peer heads (listed after the consistency proofs): started now, so their
  // signatures run while the roots and proofs below are hashed.
  const checkReceiptQc = options.checkReceiptQc ?? (lightClient === null ? null : await lightClient);
  const full: number[] = [];
  const contentsSlot = r.slot();
  const contents = verifyEntryContents(contentsSlot, decoded, { ...options, verifier, ...(checkReceiptQc === null ? {} : { checkReceiptQc }) }, full);
  // Awaited below; marked handled meanwhile so a rejection during the awaits between is not "unhandled".
  contents.catch(() => undefined);
  const heads = await headsChecked;
  const latest = heads[heads.length - 1] ?? null;

  // Roots recomputed from the entries at every head's size.
  heads.forEach((h, i) => {
    if (h === null || h.size > tree.size) return;
    if (!sameHash(tree.root(h.size), h.root)) r.fail(`heads[${i}].note`, `root does not match the first ${h.size} entries`);
  });
  r.checked.push(`roots of ${heads.length} heads recomputed from the entries (RFC 9162 tree hash)`);

  // Inclusion proof of every entry against the latest head. When the tree rebuilt from the leaves
  // has the latest head's root, RFC 9162 proofs are unique for (index, size): a proof equal to the
  // rebuilt tree's own is valid without re-hashing it; anything else runs the full §2.1.3.2 check
  // (which also names the failure).
  const rebuiltMatches = latest !== null && tree.size === latest.size && sameHash(tree.root(), latest.root);
  for (let i = 0; i < inclusions.length; i++) {
    const w = `entries[${i}].inclusion`;
    const inc = shape(r, inclusions[i] ?? {}, w, { leafIdx: 'number', treeSize: 'number', root: 'string', leafHash: 'string', proof: 'array' }, i);
    if (inc === null || inclusions[i] === null) continue;
    const root = hash(r, inc['root'], `${w}.root`, i);
    const lh = hash(r, inc['leafHash'], `${w}.leafHash`, i);
    const proof = hashList(r, inc['proof'], `${w}.proof`, i);
    if (inc['leafIdx'] !== i) r.fail(`${w}.leafIdx`, `is ${String(inc['leafIdx'])}, want ${i}`, i);
    if (latest !== null && inc['treeSize'] !== latest.size) r.fail(`${w}.treeSize`, `is ${String(inc['treeSize'])}, the latest head's size is ${latest.size}`, i);
    if (root !== null && latest !== null && !sameHash(root, latest.root)) r.fail(`${w}.root`, "is not the latest head's root", i);
    if (lh !== null && !sameHash(lh, tree.get(0, i) as Hash)) r.fail(`${w}.leafHash`, 'is not the hash of the leaf bytes', i);
    if (root === null || lh === null || proof === null) continue;
    if (rebuiltMatches && inc['leafIdx'] === i && inc['treeSize'] === tree.size && sameHash(root, latest.root) && sameHash(lh, tree.get(0, i) as Hash)) {
      const own = tree.inclusionProof(i);
      if (own.length === proof.length && own.every((h, k) => sameHash(h, proof[k] as Hash))) continue;
    }
    const v = verifyInclusion(inc['leafIdx'] as number, inc['treeSize'] as number, lh, proof, root);
    if (!v.ok) r.fail(`${w}.proof`, v.error, i);
  }
  r.checked.push(`${inclusions.length} inclusion proofs (RFC 9162 §2.1.3.2) against the latest head`);

  // Consistency between successive heads.
  const pairs = heads.every((h) => h !== null) ? consistencyPairs(heads as SignedTreeHead[]) : [];
  if (heads.every((h) => h !== null) && consistencyList.length !== pairs.length)
    r.fail('log.consistency', `${consistencyList.length} proofs, want ${pairs.length} (one per successive pair of non-empty heads)`);
  for (let k = 0; k < consistencyList.length; k++) {
    const w = `consistency[${k}]`;
    const c = shape(r, consistencyList[k], w, { size1: 'number', size2: 'number', root1: 'string', root2: 'string', proof: 'array' });
    if (c === null) continue;
    const root1 = hash(r, c['root1'], `${w}.root1`);
    const root2 = hash(r, c['root2'], `${w}.root2`);
    const proof = hashList(r, c['proof'], `${w}.proof`);
    const pair = pairs[k];
    if (pair !== undefined) {
      const a = heads[pair[0]] as SignedTreeHead;
      const b = heads[pair[1]] as SignedTreeHead;
      if (c['size1'] !== a.size) r.fail(`${w}.size1`, `is ${String(c['size1'])}, heads[${pair[0]}] has size ${a.size}`);
      if (c['size2'] !== b.size) r.fail(`${w}.size2`, `is ${String(c['size2'])}, heads[${pair[1]}] has size ${b.size}`);
      if (root1 !== null && !sameHash(root1, a.root)) r.fail(`${w}.root1`, `is not the root of heads[${pair[0]}]`);
      if (root2 !== null && !sameHash(root2, b.root)) r.fail(`${w}.root2`, `is not the root of heads[${pair[1]}]`);
    }
    if (root1 === null || root2 === null || proof === null) continue;
    const v = verifyConsistency(c['size1'] as number, c['size2'] as number, proof, root1, root2);
    if (!v.ok) r.fail(`${w}.proof`, v.error);
  }
  r.checked.push(`${consistencyList.length} consistency proofs (RFC 9162 §2.1.4.2) between successive heads: the log only grew`);

  r.place(contentsSlot);
  const receiptQcs = await contents;
  const verdict = r.verdict(receiptQcs, entryList.length, headList.length, full);
  return genesis === null ? verdict : { ...verdict, genesisHash: genesis.hashHex };
}

/**
 * The export's genesis (its bytes and hash, null unless base64) and set-change certificates,
 * verified once (light client): a receipt check against every height's set. Null (and failures
 * under log.genesis / log.certificates) when they do not decode or do not chain from genesis.
 */
async function lightClientCheck(
  r: Report,
  given: { bytes: Uint8Array; hashHex: string } | null,
  certificates: unknown,
  verifier: Verifier,
): Promise<ReceiptQcCheck | null> {
  const genesis = given === null ? null : decodeGenesis(given.bytes);
  if (given === null || genesis === null || !genesis.ok) {
    r.fail('log.genesis', genesis === null || genesis.ok ? 'must be base64 genesis bytes' : `does not decode: ${genesis.error}`);
    return null;
  }
  if (!Array.isArray(certificates)) {
    r.fail('log.certificates', 'must be an array (with genesis)');
    return null;
  }
  const certs: SetChangeCertificate[] = [];
  for (let i = 0; i < certificates.length; i++) {
    const x: unknown = certificates[i];
    const b = typeof x === 'string' ? fromBase64(x) : null;
    const c = b === null ? null : decodeCertificate(b);
    if (c === null || !c.ok) {
      r.fail(`log.certificates[${i}]`, c === null ? 'must be base64' : `does not decode: ${c.error}`);
      return null;
    }
    certs.push(c.value);
  }
  // Decoding failures above are listed at once; the chain's verdict lands here when it finishes.
  const slot = r.place(r.slot());
  const history = await validatorSetHistory(genesis.value, certs, verifier);
  if (!history.ok) {
    slot.failures.push({ where: 'log.certificates', reason: `do not chain from genesis: ${history.error}` });
    return null;
  }
  slot.checked.push(
    `genesis ${given.hashHex.slice(0, 16)}… (as given: compare with the network's) and ${certs.length} set-change certificates (light client): every height's validator set derived from genesis`,
  );
  const chainId = genesis.value.chainId;
  // Receipts of many heights carry the same deciding set: each distinct one is built (hashed) once.
  const makeSet = validatorSetCache();
  return async (receipt) => {
    const c = await checkReceipt(receipt, { chainId, verifier, validators: history.value.setAt(receipt.height), makeSet });
    return c.ok ? { ok: true, value: undefined } : c;
  };
}

/** What entries claim beyond their bytes: receipts and peer heads. */
async function verifyEntryContents(r: Sink, entries: readonly (LogEntry | null)[], options: VerifyOptions, full: number[]): Promise<Verdict['receiptQcs']> {
  const contributions = new Map<string, Hash[]>();
  let receipts = 0;
  const qcChecks: Promise<void>[] = [];
  const peerChecks: Promise<void>[] = [];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (e === null || e === undefined) continue;
    const w = `entries[${i}].leaf`;
    if (e.kind === 'contribution') {
      const round = bytesToHex(e.roundId);
      const list = contributions.get(round) ?? [];
      list.push(e.commitment);
      contributions.set(round, list);
    } else if (e.kind === 'receipt') {
      receipts++;
      const t = e.transcript;
      const inc = verifyInclusion(t.leafIdx, t.treeSize, leafHash(t.commitment), t.proof, t.root);
      if (!inc.ok) r.fail(`${w}.transcript`, `commitment not proven under the transcript root: ${inc.error}`, i);
      if (e.qc.height !== e.height || !sameHash(e.qc.blockHash, e.blockHash)) r.fail(`${w}.qc`, "certifies another block than the receipt's", i);
      if (!(contributions.get(bytesToHex(e.roundId)) ?? []).some((c) => sameHash(c, t.commitment)))
        r.fail(`${w}.transcript.commitment`, 'no earlier contribution of this log to the round has this commitment', i);
      if (options.checkReceiptQc !== undefined) {
        const check = options.checkReceiptQc;
        qcChecks.push(
          Promise.resolve()
            .then(() => check(e, i))
            .then(
              (res) => {
                if (!res.ok) r.fail(`${w}.qc`, `quorum certificate: ${res.error}`, i);
                else if (e.block !== undefined) full.push(i);
              },
              (error: unknown) => r.fail(`${w}.qc`, `quorum certificate check failed: ${String(error)}`, i),
            ),
        );
      }
    } else if (e.kind === 'peer-head') {
      peerChecks.push(
        verifyTreeHead(e.head, options.verifier).then((h) => {
          if (!h.ok) r.fail(`${w}.head`, `peer head: ${h.error}`, i);
          else if (!bytesEqual(h.value.publicKey, e.peer)) r.fail(`${w}.peer`, "is not the key that signed the peer's head", i);
        }),
      );
    }
  }
  await Promise.all([...qcChecks, ...peerChecks]);
  r.checked.push(
    `${receipts} receipts: commitment's inclusion proof under the round's transcript root, QC names the receipt's block, an earlier contribution has the commitment`,
  );
  r.checked.push(`${peerChecks.length} peer tree heads: signed by the peer they are filed under`);
  if (receipts === 0) return 'no-receipts';
  if (options.checkReceiptQc === undefined) {
    r.checked.push(`receipts' quorum certificates NOT checked (no genesis and set-change certificates in the export, no validator sets given)`);
    return 'not-checked';
  }
  full.sort((a, b) => a - b);
  r.checked.push(`${receipts} receipts' quorum certificates checked against their validator sets`);
  r.checked.push(
    `${full.length} of ${receipts} receipts checked in full (header hash = QC's block, result item under the header's results root, commitment under the transcript root, QC > 2/3 of the height's set)${full.length > 0 ? `: entries ${abbreviatedList(full)}` : ''}`,
  );
  return 'checked';
}

/** One entry: its leaf bytes, its inclusion proof and the signed head the proof is for. */
export async function verifyEntryProof(
  input: { leaf: string; inclusion: unknown; head: string },
  options: Pick<VerifyOptions, 'verifier'>,
): Promise<Verdict> {
  const r = new Report(100);
  const head = await verifyTreeHead(utf8ToBytes(input.head), options.verifier);
  if (!head.ok) r.fail('head', head.error);
  const leaf = fromBase64(input.leaf);
  if (leaf === null) r.fail('leaf', 'must be base64');
  else if (!decodeEntry(leaf).ok) r.fail('leaf', 'does not decode as an entry');
  const inc = shape(r, input.inclusion, 'inclusion', { leafIdx: 'number', treeSize: 'number', root: 'string', leafHash: 'string', proof: 'array' });
  if (inc !== null && head.ok && leaf !== null) {
    const root = hash(r, inc['root'], 'inclusion.root');
    const lh = hash(r, inc['leafHash'], 'inclusion.leafHash');
    const proof = hashList(r, inc['proof'], 'inclusion.proof');
    if (inc['treeSize'] !== head.value.size) r.fail('inclusion.treeSize', `is not the head's size ${head.value.size}`);
    if (root !== null && !sameHash(root, head.value.root)) r.fail('inclusion.root', "is not the head's root");
    if (lh !== null && !sameHash(lh, leafHash(leaf))) r.fail('inclusion.leafHash', 'is not the hash of the leaf bytes');
    if (root !== null && lh !== null && proof !== null) {
      const v = verifyInclusion(inc['leafIdx'] as number, inc['treeSize'] as number, lh, proof, root);
      if (!v.ok) r.fail('inclusion.proof', v.error);
    }
  }
  r.checked.push("head signature", 'leaf bytes decode and hash to leafHash', "inclusion proof (RFC 9162) under the head's root and size");
  return r.verdict('no-receipts', 1, 1);
}

/** Two signed heads of one log: the later one only appended to the earlier one. */
export async function verifyAppendOnly(
  input: { head1: string; head2: string; consistency: unknown },
  options: Pick<VerifyOptions, 'verifier'>,
): Promise<Verdict> {
  const r = new Report(100);
  const [h1, h2] = await Promise.all([verifyTreeHead(utf8ToBytes(input.head1), options.verifier), verifyTreeHead(utf8ToBytes(input.head2), options.verifier)]);
  if (!h1.ok) r.fail('head1', h1.error);
  if (!h2.ok) r.fail('head2', h2.error);
  if (h1.ok && h2.ok && !bytesEqual(h1.value.publicKey, h2.value.publicKey)) r.fail('head2', 'is signed by another log');
  const c = shape(r, input.consistency, 'consistency', { size1: 'number', size2: 'number', root1: 'string', root2: 'string', proof: 'array' });
  if (c !== null && h1.ok && h2.ok) {
    const proof = hashList(r, c['proof'], 'consistency.proof');
    if (c['size1'] !== h1.value.size || c['size2'] !== h2.value.size) r.fail('consistency', "sizes are not the heads' sizes");
    const root1 = c['root1'] === undefined ? null : fromBase64(c['root1'] as string);
    const root2 = c['root2'] === undefined ? null : fromBase64(c['root2'] as string);
    if (root1 !== null && !sameHash(root1, h1.value.root)) r.fail('consistency.root1', "is not head1's root");
    if (root2 !== null && !sameHash(root2, h2.value.root)) r.fail('consistency.root2', "is not head2's root");
    if (proof !== null) {
      const v = verifyConsistency(h1.value.size, h2.value.size, proof, h1.value.root, h2.value.root);
      if (!v.ok) r.fail('consistency.proof', v.error);
    }
  }
  r.checked.push('both heads signed by one log', 'consistency proof (RFC 9162 §2.1.4.2) from head1 to head2');
  return r.verdict('no-receipts', 0, 2);
}
