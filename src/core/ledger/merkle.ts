// Merkle tree hashing and proof verification exactly as RFC 9162 §2.1 (Certificate Transparency
// v2): SHA-256, leaf = H(0x00 ‖ data), node = H(0x01 ‖ left ‖ right), the tree over n leaves split
// at the largest power of two below n. Verifiers follow §2.1.3.2 (inclusion) and §2.1.4.2
// (consistency) step by step, on untrusted input: they return a Result naming the failure, never throw.
// Sizes and indices are numbers, exact up to 2^53 − 1; shifts are divisions so they stay exact past 2^32.
import { bytesEqual } from '../bytes.ts';
import { sha256 } from '../crypto/hash.ts';
import { err, ok, type Result } from '../result.ts';

export type Hash = Uint8Array;
export const HASH_BYTES = 32;

/** MTH({}) = SHA-256 of the empty string (§2.1.1). */
export const EMPTY_ROOT: Hash = sha256(new Uint8Array(0));

export function leafHash(data: Uint8Array): Hash {
  const buf = new Uint8Array(1 + data.length);
  buf[0] = 0x00;
  buf.set(data, 1);
  return sha256(buf);
}

export function nodeHash(left: Hash, right: Hash): Hash {
  const buf = new Uint8Array(1 + left.length + right.length);
  buf[0] = 0x01;
  buf.set(left, 1);
  buf.set(right, 1 + left.length);
  return sha256(buf);
}

/** Largest power of two strictly below n (n ≥ 2): where §2.1.1 splits a tree of n leaves. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export function isPowerOfTwo(n: number): boolean {
  if (n < 1) return false;
  while (n % 2 === 0) n /= 2;
  return n === 1;
}

const isLsbSet = (x: number): boolean => x % 2 === 1;
const half = (x: number): number => Math.floor(x / 2);
const isSize = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;

/** MTH over leaf hashes, bottom-up (carrying an odd last node up unchanged gives §2.1.1's split). */
export function rootFromLeafHashes(leafHashes: readonly Hash[]): Hash {
  if (leafHashes.length === 0) return EMPTY_ROOT;
  let level = leafHashes.slice();
  while (level.length > 1) {
    const next: Hash[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(nodeHash(level[i] as Hash, level[i + 1] as Hash));
    if (level.length % 2 === 1) next.push(level[level.length - 1] as Hash);
    level = next;
  }
  return level[0] as Hash;
}

function checkHashes(proof: readonly Uint8Array[], what: string): Result<void> {
  for (let i = 0; i < proof.length; i++) {
    if ((proof[i] as Uint8Array).length !== HASH_BYTES) return err(`${what}[${i}] is ${(proof[i] as Uint8Array).length} bytes, want ${HASH_BYTES}`);
  }
  return ok(undefined);
}

/** §2.1.3.2: the root that `proof` yields for `leafHash` at `leafIdx` in a tree of `treeSize`, or why not. */
export function rootFromInclusionProof(
  leafIdx: number,
  treeSize: number,
  leaf: Hash,
  proof: readonly Hash[],
): Result<Hash> {
  if (!isSize(leafIdx) || !isSize(treeSize)) return err('leafIdx and treeSize must be non-negative integers');
  if (leafIdx >= treeSize) return err(`leafIdx ${leafIdx} is not below treeSize ${treeSize}`);
  if (leaf.length !== HASH_BYTES) return err(`leafHash is ${leaf.length} bytes, want ${HASH_BYTES}`);
  const lengths = checkHashes(proof, 'proof');
  if (!lengths.ok) return lengths;
  let fn = leafIdx;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return err('proof is longer than the path to the root');
    if (isLsbSet(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!isLsbSet(fn)) {
        while (!isLsbSet(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) return err('proof is shorter than the path to the root');
  return ok(r);
}

export function verifyInclusion(
  leafIdx: number,
  treeSize: number,
  leaf: Hash,
  proof: readonly Hash[],
  root: Hash,
): Result<void> {
  const r = rootFromInclusionProof(leafIdx, treeSize, leaf, proof);
  if (!r.ok) return r;
  return bytesEqual(r.value, root) ? ok(undefined) : err('inclusion proof does not lead to the root');
}

/**
 * §2.1.4.2. Equal sizes need an empty proof and equal roots (size 0: both the empty-tree root);
 * a proof from the empty tree proves nothing and is refused.
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Hash[],
  root1: Hash,
  root2: Hash,
): Result<void> {
  if (!isSize(size1) || !isSize(size2)) return err('size1 and size2 must be non-negative integers');
  if (size1 > size2) return err(`size1 ${size1} is greater than size2 ${size2}`);
  if (size1 === size2) {
    if (proof.length !== 0) return err('sizes are equal but the proof is not empty');
    if (size1 === 0 && !(bytesEqual(root1, EMPTY_ROOT) && bytesEqual(root2, EMPTY_ROOT)))
      return err('a tree of size 0 has the empty-tree root');
    return bytesEqual(root1, root2) ? ok(undefined) : err('sizes are equal but the roots differ');
  }
  if (size1 === 0) return err('a consistency proof from the empty tree proves nothing');
  if (proof.length === 0) return err('proof is empty');
  if (root1.length !== HASH_BYTES || root2.length !== HASH_BYTES) return err(`roots must be ${HASH_BYTES} bytes`);
  const lengths = checkHashes(proof, 'proof');
  if (!lengths.ok) return lengths;

  // Step 2: when size1 is a power of two, the old root itself is the first node of the path.
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : proof.slice();
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (isLsbSet(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0] as Hash;
  let sr = path[0] as Hash;
  for (let i = 1; i < path.length; i++) {
    const c = path[i] as Hash;
    if (sn === 0) return err('proof is longer than needed');
    if (isLsbSet(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!isLsbSet(fn)) {
        while (!isLsbSet(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) return err('proof is shorter than needed');
  if (!bytesEqual(fr, root1)) return err('proof does not lead to root1');
  if (!bytesEqual(sr, root2)) return err('proof does not lead to root2');
  return ok(undefined);
}
