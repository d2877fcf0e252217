import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { bytesEqual } from '../../src/core/bytes.ts';
import { nodeIdFromPublicKey, type NodeId } from '../../src/core/crypto/node-id.ts';
import { nobleAesCtrPrg, nobleChaCha20Prg, prgRange } from '../../src/core/crypto/prg.ts';
import { chunkOpener, DEFAULT_SAMPLED_CHUNKS, PRIVATE_SAMPLED_CHUNKS, privateChunkIndices, sampleChunkIndices } from '../../src/core/secagg/chunk-sampling.ts';
import { maskedInputParts } from '../../src/core/secagg/contribution-commitment.ts';
import { decodeLightTranscript, encodeLightTranscript, lightTranscript, type LightItem } from '../../src/core/secagg/light-transcript.ts';
import { chunkCount, chunkWords, CHUNK_WORDS } from '../../src/core/secagg/masked-chunks.ts';
import { recomputeSampled, type ChunkOpening } from '../../src/core/secagg/transcript.ts';
import { commitLightTranscript, commitTranscript } from '../../src/core/secagg/transcript-root.ts';
import { SeededRandom } from '../../src/sim/seeded-random.ts';
import { deps, runRound, type RoundOutcome } from './round-harness.ts';

// 3.5 chunks per vector, so the last chunk is short.
const DIM = 3 * CHUNK_WORDS + 512;
const D = deps(SeededRandom.fromSeed(3));

let out: RoundOutcome;
let light: LightItem[];
let vectors: Map<NodeId, Uint32Array>;

const openingsFor = (indices: readonly number[]): Map<NodeId, ChunkOpening[]> =>
  new Map([...vectors].map(([id, v]) => [id, chunkOpener(v)(indices)]));

beforeAll(async () => {
  const inputs = Array.from({ length: 5 }, (_, i) => Array.from({ length: DIM }, (_, j) => ((i * 7 + j) % 13) / 20 - 0.3));
  out = await runRound({ inputs, params: { timeout: 1000 }, dropouts: { mask: [2] }, seed: 11 });
  if (!out.result) throw new Error(`round failed: ${out.abortReason}`);
  const l = lightTranscript(out.transcript);
  if (!l.ok) throw new Error(l.error);
  light = l.value;
  vectors = new Map();
  for (const bytes of out.transcript) {
    const p = maskedInputParts(bytes);
    if (p.ok) vectors.set(nodeIdFromPublicKey(p.value.statement.sender), p.value.input.masked);
  }
}, 60_000);

describe('PRG seek', () => {
  it('a range of the stream equals the same words of the full expansion (AES-CTR and ChaCha20)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat({ max: 3000 }), fc.nat({ max: 300 }), async (seed, start, words) => {
        for (const prg of [nobleAesCtrPrg, nobleChaCha20Prg]) {
          const full = await prg.expand(seed, start + words);
          expect(prgRange(prg.algorithm, seed, start, words)).toEqual(full.subarray(start));
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe('light transcript', () => {
  it('has the full transcript root and survives its encoding; holds no vector bytes', () => {
    const full = commitTranscript(out.result!.roundId, out.transcript);
    const lite = commitLightTranscript(out.result!.roundId, light);
    expect(full.ok && lite.ok && bytesEqual(full.value.root, lite.value.root)).toBe(true);
    const bytes = encodeLightTranscript(light);
    expect(decodeLightTranscript(bytes)).toEqual({ ok: true, value: light });
    const fullBytes = out.transcript.reduce((n, e) => n + e.length, 0);
    expect(bytes.length).toBeLessThan(fullBytes - 4 * DIM * vectors.size + 4096);
  });
});

describe('chunk sampling', () => {
  it('the same indices for the same root and height, distinct, sorted, in range; all chunks when there are few', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat({ max: 1e6 }), fc.integer({ min: 1, max: 5000 }), (root, h, chunks) => {
        const a = sampleChunkIndices(root, h, chunks);
        expect(sampleChunkIndices(root.slice(), h, chunks)).toEqual(a);
        expect(a.length).toBe(Math.min(DEFAULT_SAMPLED_CHUNKS, chunks));
        expect(new Set(a).size).toBe(a.length);
        expect(a.every((c, i) => c >= 0 && c < chunks && (i === 0 || (a[i - 1] as number) < c))).toBe(true);
      }),
    );
    // Another root draws other indices (out of 4096 chunks, equal 16-sets are ~impossible).
    const r1 = new Uint8Array(32).fill(1);
    const r2 = new Uint8Array(32).fill(2);
    expect(sampleChunkIndices(r1, 5, 4096)).not.toEqual(sampleChunkIndices(r2, 5, 4096));
    expect(sampleChunkIndices(r1, 5, 4096)).not.toEqual(sampleChunkIndices(r1, 6, 4096));
  });

  it('a private sample: distinct, sorted, in range, none public; fewer when few are left, none when none are', () => {
    fc.assert(
      fc.property(fc.nat({ max: 1e6 }), fc.integer({ min: 0, max: 3000 }), fc.uniqueArray(fc.nat({ max: 3000 }), { maxLength: 40 }), (seed, chunks, pub) => {
        const exclude = pub.filter((c) => c < chunks);
        const mine = privateChunkIndices(SeededRandom.fromSeed(seed), chunks, exclude);
        expect(mine.length).toBe(Math.min(PRIVATE_SAMPLED_CHUNKS, chunks - exclude.length));
        expect(mine.every((c, i) => c >= 0 && c < chunks && !exclude.includes(c) && (i === 0 || (mine[i - 1] as number) < c))).toBe(true);
      }),
    );
    expect(privateChunkIndices(SeededRandom.fromSeed(1), 3, [1])).toEqual([0, 2]);
    expect(privateChunkIndices(SeededRandom.fromSeed(1), 3, [0, 1, 2])).toEqual([]);
    // The node's own randomness decides: two nodes draw different samples of a large vector.
    expect(privateChunkIndices(SeededRandom.fromSeed(1), 1024, [])).not.toEqual(privateChunkIndices(SeededRandom.fromSeed(2), 1024, []));
  });
});

describe('recomputeSampled', () => {
  it('accepts an honest round with a dropout: the sampled sums are the result on those coordinates', async () => {
    const sum = out.result!.sum;
    const n = chunkCount(DIM);
    for (const indices of [[0], [n - 1], [1, 2], Array.from({ length: n }, (_, i) => i)]) {
      const r = await recomputeSampled(light, openingsFor(indices), indices, D);
      if (!r.ok) throw new Error(r.error);
      expect(r.value.contributors).toEqual(out.result!.contributors);
      expect(r.value.dropped).toEqual(out.result!.dropped);
      expect(r.value.dropped.length).toBe(1);
      indices.forEach((c, k) => expect(r.value.sums[k]).toEqual(chunkWords(sum, c)));
    }
  });

  it('a wrong word in a sampled chunk of the result shows; one outside the sample does not', async () => {
    const wrong = out.result!.sum.slice();
    wrong[CHUNK_WORDS + 5] = (wrong[CHUNK_WORDS + 5]! + 1) >>> 0; // chunk 1
    const r = await recomputeSampled(light, openingsFor([0, 1]), [0, 1], D);
    if (!r.ok) throw new Error(r.error);
    expect(r.value.sums[1]).not.toEqual(chunkWords(wrong, 1));
    const r2 = await recomputeSampled(light, openingsFor([0, 2]), [0, 2], D);
    if (!r2.ok) throw new Error(r2.error);
    expect([0, 2].every((c, k) => bytesEqual(new Uint8Array(r2.value.sums[k]!.buffer), new Uint8Array(chunkWords(wrong, c).slice().buffer)))).toBe(true);
  });

  it('refuses a forged proof, a chunk that is not under the signed root, a missing contributor', async () => {
    const indices = [1, 3];
    const forged = openingsFor(indices);
    const first = [...forged.keys()][0]!;
    const o = forged.get(first)!;
    forged.set(first, [o[0]!, { words: o[1]!.words, proof: o[1]!.proof.map((h, i) => (i === 0 ? h.map((b) => b ^ 1) : h)) }]);
    expect(await recomputeSampled(light, forged, indices, D)).toMatchObject({ ok: false, error: expect.stringMatching(/not under its signed chunk root/) });

    const altered = openingsFor(indices);
    const words = altered.get(first)![0]!.words.slice();
    words[7] = (words[7]! + 1) >>> 0;
    altered.set(first, [{ ...altered.get(first)![0]!, words }, altered.get(first)![1]!]);
    expect(await recomputeSampled(light, altered, indices, D)).toMatchObject({ ok: false, error: expect.stringMatching(/not under its signed chunk root/) });

    // The opening of chunk 3 offered as chunk 1.
    const swapped = openingsFor(indices);
    swapped.set(first, [swapped.get(first)![1]!, swapped.get(first)![0]!]);
    expect((await recomputeSampled(light, swapped, indices, D)).ok).toBe(false);

    const missing = openingsFor(indices);
    missing.delete(first);
    expect((await recomputeSampled(light, missing, indices, D)).ok).toBe(false);
    expect((await recomputeSampled(light, openingsFor(indices), [1, 99], D)).ok).toBe(false);
  });

  it('refuses a light transcript whose statement was altered (bad signature) or that does not hash to the root', async () => {
    const idx = light.findIndex((it) => it.kind === 'masked');
    const item = light[idx] as Extract<LightItem, { kind: 'masked' }>;
    const otherRoot = item.statement.chunkRoot.map((b, i) => (i === 0 ? b ^ 1 : b));
    const tampered = light.map((it, i) => (i === idx ? { ...item, statement: { ...item.statement, chunkRoot: otherRoot } } : it));
    expect(await recomputeSampled(tampered, openingsFor([0]), [0], D)).toMatchObject({ ok: false, error: expect.stringMatching(/statement signature/) });
    const root = commitLightTranscript(out.result!.roundId, light);
    const root2 = commitLightTranscript(out.result!.roundId, tampered);
    expect(root.ok && root2.ok && !bytesEqual(root.value.root, root2.value.root)).toBe(true);
    // Dropping an unmask envelope changes the root too (and the recomputation may still pass: the root is what binds it).
    const lastEnvelope = light.length - 1;
    const shorter = commitLightTranscript(out.result!.roundId, light.slice(0, lastEnvelope));
    expect(root.ok && shorter.ok && !bytesEqual(root.value.root, shorter.value.root)).toBe(true);
  });
});
