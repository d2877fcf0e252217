// One node's audit log over a LogStorage: append entries (each append one atomic commit of the
// entry bytes and the tree nodes it created), sign tree heads, and serve inclusion and consistency
// proofs. Operations run one at a time, in call order. The log never signs a head it cannot prove
// consistent with its previous one, and `open` checks the stored log before anything else uses it.
import { bytesEqual } from '../bytes.ts';
import type { Clock } from '../clock.ts';
import type { Signer, Verifier } from '../crypto/ed25519.ts';
import { err, ok, type Result } from '../result.ts';
import { decodeEntry, encodeEntry, type LogEntry } from './entry.ts';
import { leafHash, verifyConsistency, type Hash } from './merkle.ts';
import type { LogStorage } from './storage.ts';
import {
  appendLeaf,
  consistencyProof,
  consistencyProofKeys,
  EMPTY_RANGE,
  inclusionProof,
  inclusionProofKeys,
  rangeKeys,
  rangeRoot,
  rootAt,
  rootKeys,
  type CompactRange,
  type NodeKey,
  type NodeSource,
  type TreeNode,
} from './tree.ts';
import { NO_PREVIOUS_HEAD, parseTreeHead, signTreeHead, verifyTreeHead, type SignedTreeHead } from './tree-head.ts';

export interface AuditLogOptions {
  storage: LogStorage;
  signer: Signer;
  verifier: Verifier;
  clock: Pick<Clock, 'now'>;
}

/** Entries read per storage call during the start-up check. */
const CHECK_CHUNK = 1000;

/**
 * Handed each stored entry as the start-up check decodes it, in index order, so a caller that
 * wants the stored entries (LedgerService's start-up state) need not read and decode the log again.
 * It sees entries of a log that may still fail a later check: keep what it gathers until `open` succeeds.
 */
export type StoredEntryVisitor = (index: number, entry: LogEntry) => void;

export class AuditLog {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly opts: AuditLogOptions,
    private range: CompactRange,
    private last: SignedTreeHead | null,
  ) {}

  /**
   * Open the log and check it: every entry decodes, the root recomputed from the stored entries
   * matches each head at its size, heads chain by previous-hash and never shrink, the last head is
   * signed by this node, and the stored right edge of the tree matches the recomputed one.
   * `onEntry`, if given, is handed every decoded entry (see StoredEntryVisitor).
   */
  static async open(opts: AuditLogOptions, onEntry?: StoredEntryVisitor): Promise<Result<AuditLog>> {
    const { storage } = opts;
    const size = await storage.size();
    const headBytes = await storage.heads();
    const heads: SignedTreeHead[] = [];
    for (let i = 0; i < headBytes.length; i++) {
      const h = parseTreeHead(headBytes[i] as Uint8Array);
      if (!h.ok) return err(`stored head ${i}: ${h.error}`);
      if (!bytesEqual(h.value.publicKey, opts.signer.publicKey)) return err(`stored head ${i} is not this node's`);
      const prev = heads[i - 1];
      if (!bytesEqual(h.value.prevHash, prev?.hash ?? NO_PREVIOUS_HEAD)) return err(`stored head ${i} does not name head ${i - 1} as previous`);
      if (prev !== undefined && h.value.size < prev.size) return err(`stored head ${i} is smaller than head ${i - 1}`);
      if (h.value.size > size) return err(`stored head ${i} covers ${h.value.size} entries, only ${size} stored`);
      heads.push(h.value);
    }
    const last = heads[heads.length - 1] ?? null;
    if (last !== null) {
      const signed = await verifyTreeHead(last.bytes, opts.verifier);
      if (!signed.ok) return err(`last stored head: ${signed.error}`);
    }

    let range = EMPTY_RANGE;
    let next = 0;
    const checkHeadsAt = (n: number): Result<void> => {
      while (next < heads.length && (heads[next] as SignedTreeHead).size === n) {
        if (!bytesEqual(rangeRoot(range), (heads[next] as SignedTreeHead).root))
          return err(`root of the first ${n} stored entries differs from signed head ${next}`);
        next++;
      }
      return ok(undefined);
    };
    let checked = checkHeadsAt(0);
    if (!checked.ok) return checked;
    for (let from = 0; from < size; from += CHECK_CHUNK) {
      const chunk = await storage.entries(from, Math.min(size, from + CHECK_CHUNK));
      for (let j = 0; j < chunk.length; j++) {
        const bytes = chunk[j] as Uint8Array;
        const entry = decodeEntry(bytes);
        if (!entry.ok) return err(`stored entry ${from + j} does not decode`);
        onEntry?.(from + j, entry.value);
        range = appendLeaf(range, leafHash(bytes)).range;
        checked = checkHeadsAt(range.size);
        if (!checked.ok) return checked;
      }
    }
    if (range.size !== size) return err(`storage says ${size} entries, ${range.size} read`);
    const stored = await storage.nodes(rangeKeys(size));
    if (stored.some((h, i) => h === undefined || !bytesEqual(h, range.hashes[i] as Hash)))
      return err('stored tree nodes differ from the tree recomputed from the entries');
    return ok(new AuditLog(opts, range, last));
  }

  get size(): number {
    return this.range.size;
  }

  get publicKey(): Uint8Array {
    return this.opts.signer.publicKey;
  }

  /** The latest signed head, or null before the first. */
  get head(): SignedTreeHead | null {
    return this.last;
  }

  /** Root of the current (possibly not yet signed) tree. */
  get root(): Hash {
    return rangeRoot(this.range);
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Append one entry; resolves to its index once stored. */
  async append(entry: LogEntry): Promise<number> {
    return this.appendMany([entry]);
  }

  /** Append entries in one commit (one IndexedDB transaction); resolves to the first index. */
  appendMany(entries: readonly LogEntry[]): Promise<number> {
    const encoded = entries.map(encodeEntry);
    return this.serial(async () => {
      let range = this.range;
      const nodes: TreeNode[] = [];
      for (const bytes of encoded) {
        const r = appendLeaf(range, leafHash(bytes));
        range = r.range;
        nodes.push(...r.nodes);
      }
      const first = this.range.size;
      await this.opts.storage.commit({ firstIndex: first, entries: encoded, nodes });
      this.range = range;
      return first;
    });
  }

  /**
   * Sign a head over every entry so far (returns the latest head unchanged if nothing was appended).
   * Before signing, the new root is checked against the previous head through a consistency proof
   * built from storage; a failure throws, since it means storage no longer holds the signed history.
   */
  signHead(): Promise<SignedTreeHead> {
    return this.serial(async () => {
      const size = this.range.size;
      const last = this.last;
      if (last !== null && last.size === size) return last;
      const root = rangeRoot(this.range);
      if (last !== null && last.size > 0) {
        const proof = await this.consistencyProofNow(last.size, size);
        const consistent = verifyConsistency(last.size, size, proof, last.root, root);
        if (!consistent.ok) throw new Error(`refusing to sign a head inconsistent with head of size ${last.size}: ${consistent.error}`);
      }
      const timeMs = Math.max(Math.floor(this.opts.clock.now()), last?.timeMs ?? 0);
      const head = await signTreeHead({ size, root, timeMs, prevHash: last?.hash ?? NO_PREVIOUS_HEAD }, this.opts.signer);
      await this.opts.storage.commit({ firstIndex: size, entries: [], nodes: [], head: head.bytes });
      this.last = head;
      return head;
    });
  }

  /** Every signed head, oldest first. */
  async heads(): Promise<SignedTreeHead[]> {
    const bytes = await this.opts.storage.heads();
    return bytes.map((b, i) => {
      const h = parseTreeHead(b);
      if (!h.ok) throw new Error(`stored head ${i}: ${h.error}`);
      return h.value;
    });
  }

  async entryBytes(from: number, to: number): Promise<Uint8Array[]> {
    return this.opts.storage.entries(from, to);
  }

  private async source(keys: readonly NodeKey[]): Promise<NodeSource> {
    const hashes = await this.opts.storage.nodes(keys);
    const map = new Map<string, Hash>();
    keys.forEach((k, i) => {
      const h = hashes[i];
      if (h !== undefined) map.set(`${k.level}/${k.index}`, h);
    });
    return (level, index) => map.get(`${level}/${index}`);
  }

  private checkSize(n: number, what: string): void {
    if (!Number.isSafeInteger(n) || n < 0 || n > this.range.size) throw new Error(`"${what}" ${n} must be in 0..${this.range.size}`);
  }

  /** RFC 9162 inclusion proof of entry `leafIdx` in the tree of `treeSize` entries (default: all). */
  async inclusionProof(leafIdx: number, treeSize = this.range.size): Promise<Hash[]> {
    this.checkSize(treeSize, 'treeSize');
    return inclusionProof(leafIdx, treeSize, await this.source(inclusionProofKeys(leafIdx, treeSize)));
  }

  private async consistencyProofNow(size1: number, size2: number): Promise<Hash[]> {
    return consistencyProof(size1, size2, await this.source(consistencyProofKeys(size1, size2)));
  }

  /** RFC 9162 consistency proof between the trees of size1 and size2 entries. */
  async consistencyProof(size1: number, size2 = this.range.size): Promise<Hash[]> {
    this.checkSize(size2, 'size2');
    return this.consistencyProofNow(size1, size2);
  }

  /** Root of the tree of the first `size` entries. */
  async rootAt(size: number): Promise<Hash> {
    this.checkSize(size, 'size');
    return rootAt(size, await this.source(rootKeys(size)));
  }
}
