// RFC 9162 §2.1 hashing and proofs: the transparency-dev known-answer vectors (accept every
// wantErr:false file, reject every wantErr:true one), then fast-check properties of the generator
// against the verifier and against tampering.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex, utf8ToBytes } from '../../src/core/bytes.ts';
import { fromBase64, toBase64 } from '../../src/core/ledger/base64.ts';
import {
  EMPTY_ROOT,
  leafHash,
  nodeHash,
  rootFromLeafHashes,
  verifyConsistency,
  verifyInclusion,
  type Hash,
} from '../../src/core/ledger/merkle.ts';
import {
  appendLeaf,
  consistencyProofKeys,
  EMPTY_RANGE,
  inclusionProofKeys,
  MemoryTree,
  rangeFromNodes,
  rangeRoot,
} from '../../src/core/ledger/tree.ts';

const VECTORS = fileURLToPath(new URL('../vectors/rfc9162/', import.meta.url));

function jsonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? jsonFiles(p) : name.endsWith('.json') ? [p] : [];
  });
}

function b64(s: string): Uint8Array {
  const b = fromBase64(s);
  if (b === null) throw new Error(`vector holds invalid base64 "${s}"`);
  return b;
}

interface InclusionVector {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}
interface ConsistencyVector {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

const inclusionFiles = jsonFiles(join(VECTORS, 'inclusion'));
const consistencyFiles = jsonFiles(join(VECTORS, 'consistency'));
const rel = (p: string): string => p.slice(VECTORS.length);

describe('RFC 9162 vectors (transparency-dev)', () => {
  it('are all present', () => {
    expect(inclusionFiles.length).toBeGreaterThan(90);
    expect(consistencyFiles.length).toBeGreaterThan(90);
  });

  it.each(inclusionFiles.map((f) => [rel(f), f]))('inclusion %s', (_name, file) => {
    const v = JSON.parse(readFileSync(file, 'utf8')) as InclusionVector;
    const r = verifyInclusion(v.leafIdx, v.treeSize, b64(v.leafHash), (v.proof ?? []).map(b64), b64(v.root));
    expect(r.ok, `${v.desc}: ${r.ok ? 'accepted' : r.error}`).toBe(!v.wantErr);
  });

  it.each(consistencyFiles.map((f) => [rel(f), f]))('consistency %s', (_name, file) => {
    const v = JSON.parse(readFileSync(file, 'utf8')) as ConsistencyVector;
    const r = verifyConsistency(v.size1, v.size2, (v.proof ?? []).map(b64), b64(v.root1), b64(v.root2));
    expect(r.ok, `${v.desc}: ${r.ok ? 'accepted' : r.error}`).toBe(!v.wantErr);
  });

  it('happy-path roots are the RFC 6962 reference tree of 8 leaves', () => {
    // The reference leaves of RFC 6962 / transparency-dev testonly: roots of 1..8 leaves.
    const leaves = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];
    const hashes = leaves.map((h) => leafHash(Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16))));
    const v = JSON.parse(readFileSync(join(VECTORS, 'consistency/1/happy-path.json'), 'utf8')) as ConsistencyVector;
    expect(toBase64(rootFromLeafHashes(hashes.slice(0, v.size1)))).toBe(v.root1);
    expect(toBase64(rootFromLeafHashes(hashes.slice(0, v.size2)))).toBe(v.root2);
    const tree = new MemoryTree();
    hashes.forEach((h) => tree.append(h));
    expect(tree.consistencyProof(v.size1, v.size2).map(toBase64)).toEqual(v.proof);
  });
});

describe('hashing', () => {
  it('empty tree, leaf and node prefixes', () => {
    expect(bytesToHex(EMPTY_ROOT)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    const a = leafHash(utf8ToBytes('a'));
    expect(a).not.toEqual(leafHash(new Uint8Array([0x01, 0x61])));
    expect(nodeHash(a, a)).not.toEqual(leafHash(new Uint8Array([...a, ...a])));
  });

  it('base64 is strict and canonical', () => {
    expect(fromBase64('ZG9uJ3QgY2FyZSAx')).toEqual(utf8ToBytes("don't care 1"));
    expect(fromBase64('')).toEqual(new Uint8Array(0));
    for (const bad of ['Zg', 'Zg=', 'Zh==', 'Zm9=', 'Z g=', 'Zm9v\n', '====', 'Zg==Zg==', 'Zé==']) expect(fromBase64(bad), bad).toBeNull();
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
        expect(fromBase64(toBase64(b))).toEqual(b);
      }),
    );
  });
});

const leafArb = fc.uint8Array({ minLength: 0, maxLength: 24 });

function treeOf(leaves: readonly Uint8Array[]): { tree: MemoryTree; hashes: Hash[] } {
  const tree = new MemoryTree();
  const hashes = leaves.map(leafHash);
  for (const h of hashes) tree.append(h);
  return { tree, hashes };
}

function flip(b: Uint8Array, bit: number): Uint8Array {
  const c = b.slice();
  const i = Math.floor(bit / 8) % c.length;
  c[i] = (c[i] as number) ^ (1 << bit % 8);
  return c;
}

describe('incremental tree and proofs (properties)', () => {
  it('root after each append equals MTH of the prefix; append creates O(log n) nodes', () => {
    fc.assert(
      fc.property(fc.array(leafArb, { minLength: 1, maxLength: 70 }), (leaves) => {
        const hashes = leaves.map(leafHash);
        let range = EMPTY_RANGE;
        const stored = new Map<string, Hash>();
        for (let i = 0; i < hashes.length; i++) {
          const r = appendLeaf(range, hashes[i] as Hash);
          range = r.range;
          expect(r.nodes.length).toBeLessThanOrEqual(1 + Math.log2(i + 1));
          for (const n of r.nodes) stored.set(`${n.level}/${n.index}`, n.hash);
          expect(rangeRoot(range)).toEqual(rootFromLeafHashes(hashes.slice(0, i + 1)));
        }
        // The compact range rebuilt from stored nodes (as at start-up) is the same.
        const rebuilt = rangeFromNodes(range.size, (l, i) => stored.get(`${l}/${i}`));
        expect(rangeRoot(rebuilt)).toEqual(rangeRoot(range));
      }),
    );
  });

  it('every inclusion proof verifies; a mutated proof, root, index or leaf fails', () => {
    fc.assert(
      fc.property(
        fc.array(leafArb, { minLength: 1, maxLength: 64 }),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        (leaves, sizeSeed, idxSeed, bit) => {
          const { tree, hashes } = treeOf(leaves);
          const size = 1 + (sizeSeed % leaves.length);
          const idx = idxSeed % size;
          const root = tree.root(size);
          const proof = tree.inclusionProof(idx, size);
          const leaf = hashes[idx] as Hash;
          expect(verifyInclusion(idx, size, leaf, proof, root)).toEqual({ ok: true, value: undefined });
          expect(verifyInclusion(idx, size, leaf, proof, flip(root, bit)).ok).toBe(false);
          expect(verifyInclusion(idx, size, flip(leaf, bit), proof, root).ok).toBe(false);
          if (proof.length > 0) {
            const k = bit % proof.length;
            const bad = proof.map((p, i) => (i === k ? flip(p, bit) : p));
            expect(verifyInclusion(idx, size, leaf, bad, root).ok).toBe(false);
            expect(verifyInclusion(idx, size, leaf, proof.slice(1), root).ok).toBe(false);
            expect(verifyInclusion(idx, size, leaf, [...proof, leaf], root).ok).toBe(false);
            // A different index (of a different leaf value) fails.
            const other = (idx + 1 + (bit % (size - 1 || 1))) % size;
            if (other !== idx && bytesToHex(hashes[other] as Hash) !== bytesToHex(leaf))
              expect(verifyInclusion(other, size, leaf, proof, root).ok).toBe(false);
          }
          expect(inclusionProofKeys(idx, size).length).toBeGreaterThanOrEqual(proof.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('every consistency proof verifies; a mutated proof, root or old size fails', () => {
    fc.assert(
      fc.property(
        fc.array(leafArb, { minLength: 1, maxLength: 64 }),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        (leaves, s1, s2, bit) => {
          const { tree } = treeOf(leaves);
          const size2 = 1 + (s2 % leaves.length);
          const size1 = 1 + (s1 % size2);
          const root1 = tree.root(size1);
          const root2 = tree.root(size2);
          const proof = tree.consistencyProof(size1, size2);
          expect(verifyConsistency(size1, size2, proof, root1, root2)).toEqual({ ok: true, value: undefined });
          expect(verifyConsistency(size1, size2, proof, flip(root1, bit), root2).ok).toBe(false);
          expect(verifyConsistency(size1, size2, proof, root1, flip(root2, bit)).ok).toBe(false);
          expect(consistencyProofKeys(size1, size2).length).toBeGreaterThanOrEqual(proof.length);
          if (proof.length > 0) {
            const k = bit % proof.length;
            const bad = proof.map((p, i) => (i === k ? flip(p, bit) : p));
            expect(verifyConsistency(size1, size2, bad, root1, root2).ok).toBe(false);
            expect(verifyConsistency(size1, size2, proof.slice(0, -1), root1, root2).ok).toBe(false);
            if (size1 > 1) expect(verifyConsistency(size1 - 1, size2, proof, root1, root2).ok).toBe(false);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a different history of the same size is not consistent', () => {
    fc.assert(
      fc.property(fc.array(leafArb, { minLength: 2, maxLength: 40 }), fc.nat(), fc.nat(), (leaves, s1, at) => {
        const size1 = 1 + (s1 % (leaves.length - 1));
        const forked = leaves.slice();
        const i = at % size1;
        forked[i] = new Uint8Array([...(leaves[i] as Uint8Array), 0xff]);
        const a = treeOf(leaves).tree;
        const b = treeOf(forked).tree;
        // The fork's old root against the honest tree's proof and new root.
        expect(verifyConsistency(size1, leaves.length, a.consistencyProof(size1), b.root(size1), a.root()).ok).toBe(false);
        expect(verifyConsistency(size1, leaves.length, b.consistencyProof(size1), b.root(size1), a.root()).ok).toBe(false);
      }),
    );
  });

  it('proof generation refuses bad arguments with the field named', () => {
    const { tree } = treeOf([new Uint8Array([1]), new Uint8Array([2])]);
    expect(() => tree.inclusionProof(2, 2)).toThrow(/leafIdx/);
    expect(() => tree.consistencyProof(0, 2)).toThrow(/size1/);
    expect(() => tree.consistencyProof(2, 3)).toThrow(/size2/);
  });
});
