import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../src/core/bytes.ts';
import type { Signer } from '../../src/core/crypto/ed25519.ts';
import { nodeIdFromPublicKey } from '../../src/core/crypto/node-id.ts';
import { leafHash, verifyInclusion } from '../../src/core/ledger/merkle.ts';
import { sealEnvelope } from '../../src/core/net/envelope.ts';
import { MessageType } from '../../src/core/net/message-types.ts';
import { commitmentOfEnvelope, maskedInputBody } from '../secagg/masked-input-fixture.ts';
import { commitTranscript, contributorInclusion } from '../../src/core/secagg/transcript-root.ts';
import { maskedInputParts } from '../../src/core/secagg/contribution-commitment.ts';
import { chunkRoot, statementBytes } from '../../src/core/secagg/masked-chunks.ts';
import { runRound } from '../secagg/round-harness.ts';

// Envelopes are only decoded here (recomputeFromTranscript checks signatures), so a signer that
// returns zeros keeps the properties fast.
const fakeSigner = (i: number): Signer => {
  const publicKey = new Uint8Array(32);
  publicKey[0] = i + 1;
  return { publicKey, sign: async () => new Uint8Array(64) };
};
const SIGNERS = Array.from({ length: 16 }, (_, i) => fakeSigner(i));
const ROUND = new Uint8Array(16).fill(7);
const OTHER_TYPES = [MessageType.SecAggOpen, MessageType.SecAggAdvertise, MessageType.SecAggConsistency, MessageType.SecAggUnmask];

interface Spec {
  masked: { who: number; body: Uint8Array }[];
  others: { who: number; type: number; body: Uint8Array }[];
}

const specArb: fc.Arbitrary<Spec> = fc.record({
  masked: fc.uniqueArray(fc.record({ who: fc.integer({ min: 0, max: 11 }), body: fc.uint8Array({ minLength: 1, maxLength: 40 }) }), {
    minLength: 1,
    maxLength: 12,
    selector: (m) => m.who,
  }),
  others: fc.array(
    fc.record({ who: fc.integer({ min: 0, max: 15 }), type: fc.constantFrom(...OTHER_TYPES), body: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
    { maxLength: 6 },
  ),
});

async function build(spec: Spec): Promise<{ transcript: Uint8Array[]; maskedBytes: Map<string, Uint8Array> }> {
  const maskedBytes = new Map<string, Uint8Array>();
  const transcript: Uint8Array[] = [];
  for (const o of spec.others) transcript.push((await sealEnvelope({ type: o.type, sender: SIGNERS[o.who]!.publicKey, sequence: 1, body: o.body }, SIGNERS[o.who]!)).bytes);
  for (const m of spec.masked) {
    const s = SIGNERS[m.who]!;
    const env = await sealEnvelope({ type: MessageType.SecAggMaskedInput, sender: s.publicKey, sequence: 2, body: await maskedInputBody(s, ROUND, Uint32Array.from(m.body)) }, s);
    maskedBytes.set(nodeIdFromPublicKey(s.publicKey), env.bytes);
    transcript.push(env.bytes);
  }
  return { transcript, maskedBytes };
}

describe('transcript commitment root', () => {
  it('every contributor has a path to its ContributionEntry commitment; a non-contributor has none', async () => {
    await fc.assert(
      fc.asyncProperty(specArb, async (spec) => {
        const { transcript, maskedBytes } = await build(spec);
        const tc = commitTranscript(ROUND, transcript);
        expect(tc.ok).toBe(true);
        if (!tc.ok) return;
        expect(tc.value.contributors).toEqual([...maskedBytes.keys()].sort());
        expect(tc.value.treeSize).toBe(maskedBytes.size + 1);
        for (const [id, bytes] of maskedBytes) {
          const inc = contributorInclusion(tc.value, id);
          expect(inc).not.toBeNull();
          expect(inc!.commitment).toEqual(commitmentOfEnvelope(ROUND, bytes));
          expect(inc!.leafIdx).toBeLessThan(inc!.treeSize - 1);
          expect(verifyInclusion(inc!.leafIdx, inc!.treeSize, leafHash(inc!.commitment), inc!.proof, tc.value.root).ok).toBe(true);
        }
        for (const s of SIGNERS) {
          const id = nodeIdFromPublicKey(s.publicKey);
          if (!maskedBytes.has(id)) expect(contributorInclusion(tc.value, id)).toBeNull();
        }
      }),
      { numRuns: 60 },
    );
  });

  it('tampering with a path, a commitment, an index or any transcript byte fails', async () => {
    await fc.assert(
      fc.asyncProperty(specArb, fc.nat(), fc.nat(), async (spec, pick, bit) => {
        const { transcript } = await build(spec);
        const tc = commitTranscript(ROUND, transcript);
        if (!tc.ok) throw new Error(tc.error);
        const id = tc.value.contributors[pick % tc.value.contributors.length]!;
        const inc = contributorInclusion(tc.value, id)!;
        const flip = (b: Uint8Array): Uint8Array => {
          const c = b.slice();
          c[(bit >> 3) % c.length]! ^= 1 << (bit & 7);
          return c;
        };
        const verify = (leafIdx: number, treeSize: number, commitment: Uint8Array, proof: readonly Uint8Array[]) =>
          verifyInclusion(leafIdx, treeSize, leafHash(commitment), proof, tc.value.root).ok;
        expect(verify(inc.leafIdx, inc.treeSize, flip(inc.commitment), inc.proof)).toBe(false);
        if (inc.proof.length > 0) {
          const k = pick % inc.proof.length;
          expect(verify(inc.leafIdx, inc.treeSize, inc.commitment, inc.proof.map((p, i) => (i === k ? flip(p) : p)))).toBe(false);
          expect(verify((inc.leafIdx + 1) % inc.treeSize, inc.treeSize, inc.commitment, inc.proof)).toBe(false);
        }
        // Any byte of any other envelope moves the root. A masked input is committed by its signed
        // statement: a flipped byte that leaves the root alone left the statement as it was, and if
        // it hit the vector, the vector no longer matches the statement's chunk root.
        const j = pick % transcript.length;
        const tampered = transcript.map((b, i) => (i === j ? flip(b) : b));
        const t2 = commitTranscript(ROUND, tampered);
        if (t2.ok && bytesEqual(t2.value.root, tc.value.root)) {
          const before = maskedInputParts(transcript[j]!);
          const after = maskedInputParts(tampered[j]!);
          if (!before.ok || !after.ok) throw new Error('root unchanged by an envelope that is not a masked input');
          expect(statementBytes(after.value.statement)).toEqual(statementBytes(before.value.statement));
          const vectorChanged = !after.value.input.masked.every((w, i) => w === before.value.input.masked[i]);
          if (vectorChanged) expect(bytesEqual(chunkRoot(after.value.input.masked), after.value.statement.chunkRoot)).toBe(false);
        }
        // Another round id commits to other leaves.
        const other = commitTranscript(new Uint8Array(16).fill(8), transcript);
        expect(other.ok && bytesEqual(other.value.root, tc.value.root)).toBe(false);
      }),
      { numRuns: 60 },
    );
  });

  it('the order of masked inputs in the transcript does not matter (leaves sorted by node id); a second masked input from one node is refused', async () => {
    await fc.assert(
      fc.asyncProperty(specArb, fc.nat(), async (spec, seed) => {
        const { transcript } = await build(spec);
        const rotated = transcript.slice(0, spec.others.length).concat(rotate(transcript.slice(spec.others.length), seed));
        const a = commitTranscript(ROUND, transcript);
        const b = commitTranscript(ROUND, rotated);
        expect(a.ok && b.ok && bytesEqual(a.value.root, b.value.root)).toBe(true);
        const dup = commitTranscript(ROUND, [...transcript, transcript[transcript.length - 1]!]);
        expect(dup).toMatchObject({ ok: false });
      }),
      { numRuns: 30 },
    );
  });

  it('a real round: contributors are exactly U3, a node that dropped after ShareKeys has no path', async () => {
    const out = await runRound({ inputs: [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]], params: { timeout: 1000 }, dropouts: { mask: [2] }, seed: 4 });
    expect(out.result).not.toBeNull();
    const tc = commitTranscript(out.result!.roundId, out.transcript);
    if (!tc.ok) throw new Error(tc.error);
    expect(tc.value.contributors).toEqual(out.result!.contributors);
    expect(contributorInclusion(tc.value, out.ids[2]!)).toBeNull();
    expect(out.result!.dropped).toContain(out.ids[2]);
    for (const env of out.sentByParticipants.filter((e) => e.type === MessageType.SecAggMaskedInput)) {
      const inc = contributorInclusion(tc.value, nodeIdFromPublicKey(env.sender))!;
      expect(inc.commitment).toEqual(commitmentOfEnvelope(out.result!.roundId, env.bytes));
    }
    expect(commitTranscript(ROUND, [new Uint8Array([1, 2, 3])])).toMatchObject({ ok: false });
  });
});

function rotate<T>(xs: T[], by: number): T[] {
  if (xs.length === 0) return xs;
  const k = by % xs.length;
  return xs.slice(k).concat(xs.slice(0, k)).reverse();
}
