// The log's Merkle tree as stored: every *perfect* subtree (2^level leaves starting at
// index · 2^level) is one node (level, index). Appending leaf n creates node (0, n) and one node per
// trailing 1-bit of n — O(log n), amortised 2 — computed from the compact range (the perfect
// subtrees along the right edge, one per set bit of the size), so an append never reads storage and
// its new nodes can be written in the same transaction as the entry. Any subtree hash MTH(D[a:b])
// that RFC 9162's proofs need is one stored node or a fold of O(log n) of them.
import { EMPTY_ROOT, isPowerOfTwo, nodeHash, splitPoint, type Hash } from './merkle.ts';

export interface NodeKey {
  readonly level: number;
  readonly index: number;
}

export interface TreeNode extends NodeKey {
  readonly hash: Hash;
}

/** Synchronous node lookup; proof builders fetch the keys they need first (see *Keys functions). */
export type NodeSource = (level: number, index: number) => Hash | undefined;

/** The compact range [0, size): perfect-subtree roots for each set bit of size, largest first. */
export interface CompactRange {
  readonly size: number;
  readonly hashes: readonly Hash[];
}

export const EMPTY_RANGE: CompactRange = { size: 0, hashes: [] };

/** Append one leaf hash: the next compact range and the tree nodes the append created. */
export function appendLeaf(range: CompactRange, leaf: Hash): { range: CompactRange; nodes: TreeNode[] } {
  const hashes = range.hashes.slice();
  const nodes: TreeNode[] = [{ level: 0, index: range.size, hash: leaf }];
  let h = leaf;
  let index = range.size;
  let level = 0;
  while (index % 2 === 1) {
    h = nodeHash(hashes.pop() as Hash, h);
    index = (index - 1) / 2;
    level++;
    nodes.push({ level, index, hash: h });
  }
  hashes.push(h);
  return { range: { size: range.size + 1, hashes }, nodes };
}

/** Root of the tree the compact range describes (§2.1.1: fold right to left). */
export function rangeRoot(range: CompactRange): Hash {
  const n = range.hashes.length;
  if (n === 0) return EMPTY_ROOT;
  let r = range.hashes[n - 1] as Hash;
  for (let i = n - 2; i >= 0; i--) r = nodeHash(range.hashes[i] as Hash, r);
  return r;
}

/** Node keys of the compact range of `size` (to rebuild it from storage at start). */
export function rangeKeys(size: number): NodeKey[] {
  const keys: NodeKey[] = [];
  let start = 0;
  for (let level = 52; level >= 0; level--) {
    const width = 2 ** level;
    if (start + width <= size) {
      keys.push({ level, index: start / width });
      start += width;
    }
  }
  return keys;
}

export function rangeFromNodes(size: number, get: NodeSource): CompactRange {
  return { size, hashes: rangeKeys(size).map((k) => need(get, k.level, k.index)) };
}

function need(get: NodeSource, level: number, index: number): Hash {
  const h = get(level, index);
  if (h === undefined) throw new Error(`tree node (${level}, ${index}) is missing from storage`);
  return h;
}

function assertSize(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`"${what}" must be a non-negative safe integer, got ${n}`);
}

/** A half-open leaf range [a, b) whose subtree hash a proof carries. */
type Span = readonly [number, number];

/** Keys of the stored nodes that make up MTH(D[a:b]). */
function spanKeys(a: number, b: number, out: NodeKey[]): void {
  const n = b - a;
  if (isPowerOfTwo(n) && a % n === 0) {
    out.push({ level: Math.log2(n), index: a / n });
    return;
  }
  const k = splitPoint(n);
  spanKeys(a, a + k, out);
  spanKeys(a + k, b, out);
}

/** Hashes of spans that are not one stored node, remembered (a span's hash never changes). */
export type SpanMemo = Map<string, Hash>;

/** MTH(D[a:b]) from stored nodes. Every span a proof needs starts on a boundary of its left part. */
export function spanHash(a: number, b: number, get: NodeSource, memo?: SpanMemo): Hash {
  const n = b - a;
  if (n <= 0) throw new Error(`empty span [${a}, ${b})`);
  if (isPowerOfTwo(n) && a % n === 0) return need(get, Math.log2(n), a / n);
  const key = `${a},${b}`;
  const known = memo?.get(key);
  if (known !== undefined) return known;
  const k = splitPoint(n);
  const h = nodeHash(spanHash(a, a + k, get, memo), spanHash(a + k, b, get, memo));
  memo?.set(key, h);
  return h;
}

/** §2.1.3.1 PATH(m, D[a:b]) as spans, leaf level first. */
function inclusionSpans(m: number, a: number, b: number, out: Span[]): void {
  const n = b - a;
  if (n <= 1) return;
  const k = splitPoint(n);
  if (m - a < k) {
    inclusionSpans(m, a, a + k, out);
    out.push([a + k, b]);
  } else {
    inclusionSpans(m, a + k, b, out);
    out.push([a, a + k]);
  }
}

/** §2.1.4.1 SUBPROOF(m, D[a:b], flag) as spans, in proof order. */
function consistencySpans(m: number, a: number, b: number, complete: boolean, out: Span[]): void {
  const n = b - a;
  if (m === n) {
    if (!complete) out.push([a, b]);
    return;
  }
  const k = splitPoint(n);
  if (m <= k) {
    consistencySpans(m, a, a + k, complete, out);
    out.push([a + k, b]);
  } else {
    consistencySpans(m - k, a + k, b, false, out);
    out.push([a, a + k]);
  }
}

function keysOf(spans: readonly Span[]): NodeKey[] {
  const out: NodeKey[] = [];
  for (const [a, b] of spans) spanKeys(a, b, out);
  return out;
}

function inclusionPlan(leafIdx: number, treeSize: number): Span[] {
  assertSize(leafIdx, 'leafIdx');
  assertSize(treeSize, 'treeSize');
  if (leafIdx >= treeSize) throw new Error(`"leafIdx" ${leafIdx} must be below "treeSize" ${treeSize}`);
  const spans: Span[] = [];
  inclusionSpans(leafIdx, 0, treeSize, spans);
  return spans;
}

function consistencyPlan(size1: number, size2: number): Span[] {
  assertSize(size1, 'size1');
  assertSize(size2, 'size2');
  if (size1 > size2) throw new Error(`"size1" ${size1} must not exceed "size2" ${size2}`);
  const spans: Span[] = [];
  if (size1 === size2) return spans;
  if (size1 === 0) throw new Error('"size1" must be > 0 for a consistency proof');
  consistencySpans(size1, 0, size2, true, spans);
  return spans;
}

/** Stored nodes an inclusion proof needs (fetch them in one read, then call inclusionProof). */
export const inclusionProofKeys = (leafIdx: number, treeSize: number): NodeKey[] => keysOf(inclusionPlan(leafIdx, treeSize));
export const consistencyProofKeys = (size1: number, size2: number): NodeKey[] => keysOf(consistencyPlan(size1, size2));
export const rootKeys = (size: number): NodeKey[] => (size === 0 ? [] : keysOf([[0, size]]));

export function inclusionProof(leafIdx: number, treeSize: number, get: NodeSource, memo?: SpanMemo): Hash[] {
  return inclusionPlan(leafIdx, treeSize).map(([a, b]) => spanHash(a, b, get, memo));
}

export function consistencyProof(size1: number, size2: number, get: NodeSource, memo?: SpanMemo): Hash[] {
  return consistencyPlan(size1, size2).map(([a, b]) => spanHash(a, b, get, memo));
}

export function rootAt(size: number, get: NodeSource, memo?: SpanMemo): Hash {
  assertSize(size, 'size');
  return size === 0 ? EMPTY_ROOT : spanHash(0, size, get, memo);
}

/** Number of hashes in an inclusion / consistency proof (for sizing, without any node). */
export const inclusionProofLength = (leafIdx: number, treeSize: number): number => inclusionPlan(leafIdx, treeSize).length;
export const consistencyProofLength = (size1: number, size2: number): number => consistencyPlan(size1, size2).length;

/** All nodes in memory (levels of arrays): the verifier's and tests' tree. */
export class MemoryTree {
  private readonly levels: Hash[][] = [];
  private range: CompactRange = EMPTY_RANGE;
  private readonly memo: SpanMemo = new Map();

  readonly get: NodeSource = (level, index) => this.levels[level]?.[index];

  get size(): number {
    return this.range.size;
  }

  append(leaf: Hash): TreeNode[] {
    const r = appendLeaf(this.range, leaf);
    this.range = r.range;
    for (const n of r.nodes) (this.levels[n.level] ??= [])[n.index] = n.hash;
    return r.nodes;
  }

  root(size = this.size): Hash {
    if (size > this.size) throw new Error(`"size" ${size} exceeds the tree size ${this.size}`);
    return size === this.size ? rangeRoot(this.range) : rootAt(size, this.get, this.memo);
  }

  inclusionProof(leafIdx: number, treeSize = this.size): Hash[] {
    if (treeSize > this.size) throw new Error(`"treeSize" ${treeSize} exceeds the tree size ${this.size}`);
    return inclusionProof(leafIdx, treeSize, this.get, this.memo);
  }

  consistencyProof(size1: number, size2 = this.size): Hash[] {
    if (size2 > this.size) throw new Error(`"size2" ${size2} exceeds the tree size ${this.size}`);
    return consistencyProof(size1, size2, this.get, this.memo);
  }
}
