// SecAggEngine: localEngine (WebAssembly SIMD and JavaScript ring paths, noble and WebCrypto PRGs)
// against a reference that is the masking code from before the engine existed — expand each seed,
// add its words one by one — on random inputs; Shamir through the engine; errors as rejections.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nobleAesCtrPrg, type PrgBackend } from '../../src/core/crypto/prg.ts';
import { localEngine, type PairMask, type SecAggEngine } from '../../src/core/secagg/engine.ts';
import { addStream, ringAccumulator } from '../../src/core/secagg/masking.ts';
import { acquireSimdRing, releaseSimdRing, RING_SIMD_MODULE, simdAvailable } from '../../src/core/secagg/ring-simd.ts';
import { webCryptoAesCtrPrg } from '../../src/platform/webcrypto-prg.ts';
import { SeededRandom } from '../../src/sim/seeded-random.ts';

const webcrypto = webCryptoAesCtrPrg(globalThis.crypto.subtle);

/** y = x + PRG(b) + Σ sign·PRG(s): the pre-engine maskInput, verbatim. */
async function maskReference(encoded: Uint32Array, selfSeed: Uint8Array, pairs: readonly PairMask[], prg: PrgBackend): Promise<Uint32Array> {
  const y = encoded.slice();
  addStream(y, await prg.expand(selfSeed, y.length), 1);
  for (const p of pairs) addStream(y, await prg.expand(p.seed, y.length), p.sign);
  return y;
}

/** Σ vectors + Σ sign·PRG(seed): the pre-engine recomputeFromTranscript arithmetic. */
async function unmaskReference(vectors: readonly Uint32Array[], terms: readonly PairMask[], dimension: number): Promise<Uint32Array> {
  const sum = new Uint32Array(dimension);
  for (const v of vectors) addStream(sum, v, 1);
  for (const t of terms) addStream(sum, await nobleAesCtrPrg.expand(t.seed, dimension), t.sign);
  return sum;
}

const engines: Array<[string, SecAggEngine]> = [
  ['noble PRG, SIMD ring', localEngine(nobleAesCtrPrg)],
  ['WebCrypto PRG, SIMD ring, 8-word staging', localEngine(webcrypto, undefined, { stagingWords: 8 })],
  ['WebCrypto PRG, JavaScript ring', localEngine(webcrypto, undefined, { simd: false })],
];

const seedArb = fc.uint8Array({ minLength: 32, maxLength: 32 });
const termArb = fc.record({ seed: seedArb, sign: fc.constantFrom<1 | -1>(1, -1) });
const vectorArb = (m: number) => fc.uint32Array({ minLength: m, maxLength: m }).map((a) => Uint32Array.from(a));

describe('WebAssembly SIMD ring', () => {
  it('the hand-assembled module validates and compiles in Node 20 (and so in Chromium)', () => {
    expect(RING_SIMD_MODULE.length).toBeLessThan(200);
    expect(simdAvailable()).toBe(true);
  });

  it('wraps modulo 2^32 in both directions', () => {
    const ring = acquireSimdRing(64);
    if (!ring) throw new Error('no SIMD');
    const words = new Uint32Array(ring.buffer, 0, 8);
    words.set([0xffffffff, 1, 0x80000000, 0, /* src: */ 1, 0xffffffff, 0x80000000, 1]);
    ring.add(0, 16, 16);
    expect(Array.from(words.subarray(0, 4))).toEqual([0, 0, 0, 1]);
    ring.sub(0, 16, 16);
    ring.sub(0, 16, 16);
    expect(Array.from(words.subarray(0, 4))).toEqual([0xfffffffe, 2, 0, 0xffffffff]); // 0 - 2·src
    releaseSimdRing(ring);
  });

  it('reuses one idle instance, grown to the largest sum, so memory is not faulted in per call', () => {
    const small = acquireSimdRing(100) as NonNullable<ReturnType<typeof acquireSimdRing>>;
    releaseSimdRing(small);
    const again = acquireSimdRing(200_000) as NonNullable<ReturnType<typeof acquireSimdRing>>;
    expect(again).toBe(small);
    expect(again.buffer.byteLength).toBeGreaterThanOrEqual(200_000);
    // While it is taken, another caller gets its own.
    const other = acquireSimdRing(100);
    expect(other).not.toBe(again);
    releaseSimdRing(again);
    releaseSimdRing(other as NonNullable<typeof other>);
    expect(acquireSimdRing(16)).toBe(again); // the larger one stays
  });

  it('accumulator: SIMD and JavaScript agree for lengths around the lane and staging boundaries', () => {
    const rng = SeededRandom.fromSeed(5);
    for (const m of [0, 1, 3, 4, 5, 15, 16, 17, 31, 33, 100]) {
      const base = new Uint32Array(rng.bytes(4 * m).buffer);
      const streams = [0, 1, 2].map(() => new Uint32Array(rng.bytes(4 * m).buffer));
      const simd = ringAccumulator(base.slice(), true, 8);
      const js = ringAccumulator(base.slice(), false);
      streams.forEach((s, i) => {
        simd.add(s, i === 1 ? -1 : 1);
        js.add(s, i === 1 ? -1 : 1);
      });
      expect(Array.from(simd.finish())).toEqual(Array.from(js.finish()));
    }
  });

  it('refuses a stream of the wrong length', () => {
    expect(() => ringAccumulator(new Uint32Array(8)).add(new Uint32Array(7), 1)).toThrow('"v" has 7 words, the sum has 8');
  });
});

describe('localEngine matches the reference masking', () => {
  it.each(engines)('mask, %s: random vectors, seeds and signs', async (_, engine) => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 300 }).chain((m) => fc.tuple(vectorArb(m), seedArb, fc.array(termArb, { maxLength: 6 }))),
        async ([encoded, selfSeed, pairs]) => {
          const want = await maskReference(encoded, selfSeed, pairs, nobleAesCtrPrg);
          const got = await engine.mask(encoded.slice(), selfSeed, pairs);
          expect(Array.from(got)).toEqual(Array.from(want));
        },
      ),
      { numRuns: 40 },
    );
  });

  it.each(engines)('unmaskSum, %s: random vectors and terms', async (_, engine) => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 0, max: 200 })
          .chain((m) => fc.tuple(fc.constant(m), fc.array(vectorArb(m), { maxLength: 4 }), fc.array(termArb, { maxLength: 5 }))),
        async ([m, vectors, terms]) => {
          const want = await unmaskReference(vectors, terms, m);
          const got = await engine.unmaskSum(vectors.map((v) => v.slice()), terms, m);
          expect(Array.from(got)).toEqual(Array.from(want));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('a vector longer than two staging chunks (131,075 words, 3 pairs) matches too', async () => {
    const rng = SeededRandom.fromSeed(9);
    const m = 2 * 65_536 + 3;
    const encoded = new Uint32Array(rng.bytes(4 * m).buffer);
    const selfSeed = rng.bytes(32);
    const pairs: PairMask[] = [1, -1, 1].map((sign) => ({ seed: rng.bytes(32), sign: sign as 1 | -1 }));
    const want = await maskReference(encoded, selfSeed, pairs, webcrypto);
    for (const engine of [localEngine(webcrypto), localEngine(nobleAesCtrPrg, undefined, { simd: false })])
      expect(Buffer.from((await engine.mask(encoded.slice(), selfSeed, pairs)).buffer).equals(Buffer.from(want.buffer))).toBe(true);
  });

  it('masks in place: the vector handed over is the one returned', async () => {
    const encoded = Uint32Array.from([1, 2, 3, 4, 5]);
    const out = await localEngine(nobleAesCtrPrg).mask(encoded, new Uint8Array(32), []);
    expect(out).toBe(encoded);
    expect(Array.from(out)).not.toEqual([1, 2, 3, 4, 5]);
  });

  it('names the PRG and the ring path', () => {
    expect(localEngine(webcrypto).name).toBe('aes-ctr/webcrypto, wasm-simd ring');
    expect(localEngine(nobleAesCtrPrg, undefined, { simd: false }).name).toBe('aes-ctr/noble, js ring');
  });
});

describe('localEngine: Shamir and errors', () => {
  it('split and combine round-trip through the engine; any t shares rebuild the secret', async () => {
    const engine = localEngine(nobleAesCtrPrg, SeededRandom.fromSeed(3));
    const secret = SeededRandom.fromSeed(4).bytes(32);
    const shares = await engine.split(secret, 3, 5);
    expect(shares.map((s) => s.x)).toEqual([1, 2, 3, 4, 5]);
    expect(Array.from(await engine.combine([shares[4], shares[1], shares[2]].map((s) => s!), 3))).toEqual(Array.from(secret));
  });

  it('rejects (never throws synchronously) with the field named', async () => {
    const engine = localEngine(nobleAesCtrPrg, SeededRandom.fromSeed(1));
    const seed = new Uint8Array(32);
    await expect(engine.mask(new Uint32Array(4), new Uint8Array(31), [])).rejects.toThrow('"selfSeed" must be 32 bytes');
    await expect(engine.mask(new Uint32Array(4), seed, [{ seed: new Uint8Array(3), sign: 1 }])).rejects.toThrow('"pairs[0].seed" must be 32 bytes');
    await expect(engine.mask(new Uint32Array(4), seed, [{ seed, sign: 0 as 1 }])).rejects.toThrow('"pairs[0].sign" must be 1 or -1');
    await expect(engine.mask([1, 2] as unknown as Uint32Array, seed, [])).rejects.toThrow('"encoded" must be a Uint32Array');
    await expect(engine.unmaskSum([new Uint32Array(5), new Uint32Array(4)], [], 5)).rejects.toThrow('"vectors[1]" must have 5 entries, got 4');
    await expect(engine.unmaskSum([], [], -1)).rejects.toThrow('"dimension" must be a non-negative integer');
    await expect(engine.split(new Uint8Array(32), 4, 3)).rejects.toThrow('"shareCount"');
    await expect(engine.combine([], 2)).rejects.toThrow('"shares" must hold at least threshold = 2 shares');
    await expect(localEngine(nobleAesCtrPrg).split(seed, 1, 1)).rejects.toThrow('"random" was not given');
  });
});
