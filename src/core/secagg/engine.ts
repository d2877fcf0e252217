// Where the heavy arithmetic of a round runs: mask expansion and sums in Z_2^32 (Bonawitz et al.
// 2017 §4, MaskedInputCollection and Unmasking) and Shamir sharing of the 32-byte secrets. The
// participant and recomputeFromTranscript only call this interface, so one code path serves every
// host: `localEngine` runs it in-process (Node, the simulator, tests, a page without workers), and
// in the browser platform/worker-engine.ts forwards each call to a dedicated Web Worker that runs
// `localEngine` itself (worker/secagg-worker.ts, protocol in engine-protocol.ts).
import type { Random } from '../clock.ts';
import { sha256 } from '../crypto/hash.ts';
import { PRG_SEED_BYTES, type PrgBackend } from '../crypto/prg.ts';
import { combine, split, type Share } from '../crypto/shamir.ts';
import type { Hash } from '../ledger/merkle.ts';
import { encodeVectorWithCoins, type Encoding } from './encoding.ts';
import { chunkRoot } from './masked-chunks.ts';
import { ringAccumulator, STAGING_WORDS, type PairMask } from './masking.ts';
import { simdAvailable } from './ring-simd.ts';

export type { PairMask } from './masking.ts';
export type { Encoding } from './encoding.ts';

/** What `encodeMask` returns: the encoded input (for the dashboard), the masked vector and its chunk root. */
export interface EncodedMasked {
  encoded: Uint32Array;
  masked: Uint32Array;
  /** RFC 9162 root over the masked vector's 1024-word chunks (masked-chunks.ts). */
  chunkRoot: Hash;
}

/**
 * The heavy operations of a round. Vector arguments are HANDED OVER: the engine may compute in them
 * or transfer their buffers to a worker (which leaves them empty), so a caller that still needs a
 * vector passes a copy. Seeds and secrets are only read; the caller wipes them once the call has
 * settled. Programmer errors (wrong sizes, bad signs) reject with the field named.
 */
export interface SecAggEngine {
  /** Where the work runs and with what, e.g. 'worker: aes-ctr/webcrypto, wasm-simd ring'. */
  readonly name: string;
  /** y = encoded + PRG(selfSeed) + Σ sign·PRG(seed) over `pairs`, mod 2^32 (Bonawitz §4, step 3). */
  mask(encoded: Uint32Array, selfSeed: Uint8Array, pairs: readonly PairMask[]): Promise<Uint32Array>;
  /**
   * A contributor's whole step 3 in one call, so none of it runs on the page's main thread for a
   * 1M-entry round: fixed-point encoding with stochastic rounding (coins = PRG(roundingSeed)), then
   * `mask`, then the masked vector's chunk root. `input` is handed over like the vectors.
   */
  encodeMask(input: Float64Array, encoding: Encoding, roundingSeed: Uint8Array, selfSeed: Uint8Array, pairs: readonly PairMask[]): Promise<EncodedMasked>;
  /**
   * The chunk root (masked-chunks.ts) of each vector, hashed where the engine runs. The vectors are
   * handed over and come back in `vectors`, in order (through a worker: transferred there and back).
   */
  chunkRoots(vectors: readonly Uint32Array[]): Promise<{ vectors: Uint32Array[]; roots: Hash[] }>;
  /**
   * SHA-256 of each buffer, hashed where the engine runs: message ids and transcript hashes of
   * multi-MB envelopes stay off the page's main thread. Unlike the vectors, the buffers are only
   * read (through a worker: copied there), so the caller keeps them.
   */
  sha256(data: readonly Uint8Array[]): Promise<Hash[]>;
  /**
   * Σ vectors + Σ sign·PRG(seed) over `terms`, mod 2^32, every vector `dimension` words: the sum of
   * the masked inputs with the self masks and the dropped nodes' pairwise masks removed.
   */
  unmaskSum(vectors: readonly Uint32Array[], terms: readonly PairMask[], dimension: number): Promise<Uint32Array>;
  /** Shamir shares of a 32-byte secret at x = 1..shareCount, any `threshold` of which rebuild it. */
  split(secret: Uint8Array, threshold: number, shareCount: number): Promise<Share[]>;
  /** The secret from the first `threshold` shares. */
  combine(shares: readonly Share[], threshold: number): Promise<Uint8Array>;
}

export interface LocalEngineOptions {
  /** Add streams with WebAssembly SIMD where the host has it (default); false: the JavaScript loop. */
  simd?: boolean;
  /** Staging chunk of the SIMD path, in words (tests make it small to cross chunk boundaries). */
  stagingWords?: number;
  /** SHA-256 for `sha256` (the worker passes WebCrypto's where it has it); default: noble's. */
  digest?: (data: Uint8Array) => Promise<Hash>;
}

export function assertVector(v: unknown, field: string, dimension?: number): asserts v is Uint32Array {
  if (!(v instanceof Uint32Array)) throw new Error(`"${field}" must be a Uint32Array`);
  if (dimension !== undefined && v.length !== dimension) throw new Error(`"${field}" must have ${dimension} entries, got ${v.length}`);
}

export function assertEncoding(e: unknown): asserts e is Encoding {
  const p = e as Partial<Encoding> | null;
  if (!(typeof p?.clipping_range === 'number' && Number.isFinite(p.clipping_range) && p.clipping_range > 0))
    throw new Error('"encoding.clipping_range" must be a finite number > 0');
  if (!(typeof p.quantization_range === 'number' && Number.isSafeInteger(p.quantization_range) && p.quantization_range > 0))
    throw new Error('"encoding.quantization_range" must be a positive integer');
}

export function assertInput(v: unknown): asserts v is Float64Array {
  if (!(v instanceof Float64Array)) throw new Error('"input" must be a Float64Array');
}

export function assertSeed(seed: unknown, field: string): asserts seed is Uint8Array {
  if (!(seed instanceof Uint8Array) || seed.length !== PRG_SEED_BYTES) throw new Error(`"${field}" must be ${PRG_SEED_BYTES} bytes`);
}

export function assertTerms(terms: unknown, field: string): asserts terms is readonly PairMask[] {
  if (!Array.isArray(terms)) throw new Error(`"${field}" must be an array`);
  terms.forEach((t: unknown, i) => {
    const term = t as Partial<PairMask> | null;
    assertSeed(term?.seed, `${field}[${i}].seed`);
    if (term?.sign !== 1 && term?.sign !== -1) throw new Error(`"${field}[${i}].sign" must be 1 or -1`);
  });
}

export function assertDimension(dimension: unknown): asserts dimension is number {
  if (!Number.isSafeInteger(dimension) || (dimension as number) < 0) throw new Error(`"dimension" must be a non-negative integer, got ${String(dimension)}`);
}

/**
 * base + Σ vectors + Σ sign·PRG(seed), computed into `base`. One expansion is kept in flight while
 * the previous stream is added: with WebCrypto the next keystream is made off the JavaScript thread
 * meanwhile, so the additions cost little on top of the raw keystream.
 */
async function sumStreams(
  prg: PrgBackend,
  base: Uint32Array,
  vectors: readonly Uint32Array[],
  terms: readonly PairMask[],
  options: LocalEngineOptions,
): Promise<Uint32Array> {
  const words = base.length;
  const acc = ringAccumulator(base, options.simd !== false, options.stagingWords ?? STAGING_WORDS);
  const first = terms[0];
  let next: Promise<Uint32Array> | null = first ? prg.expand(first.seed, words) : null;
  try {
    for (const v of vectors) acc.add(v, 1);
    for (let i = 0; i < terms.length; i++) {
      const stream = await (next as Promise<Uint32Array>);
      const following = terms[i + 1];
      next = following ? prg.expand(following.seed, words) : null;
      acc.add(stream, (terms[i] as PairMask).sign);
    }
  } catch (e) {
    next?.catch(() => {}); // the prefetched expansion is abandoned; keep its failure from going unhandled
    acc.abandon();
    throw e;
  }
  return acc.finish();
}

/**
 * The engine in this thread. `random` feeds Shamir's polynomial coefficients; an engine made without
 * one (e.g. only to recompute a transcript) rejects `split`.
 */
export function localEngine(prg: PrgBackend, random?: Random, options: LocalEngineOptions = {}): SecAggEngine {
  const simd = options.simd !== false && simdAvailable();
  return {
    name: `${prg.name}, ${simd ? 'wasm-simd' : 'js'} ring`,
    async mask(encoded, selfSeed, pairs) {
      assertVector(encoded, 'encoded');
      assertSeed(selfSeed, 'selfSeed');
      assertTerms(pairs, 'pairs');
      return sumStreams(prg, encoded, [], [{ seed: selfSeed, sign: 1 }, ...pairs], { ...options, simd });
    },
    async encodeMask(input, encoding, roundingSeed, selfSeed, pairs) {
      assertInput(input);
      assertEncoding(encoding);
      assertSeed(roundingSeed, 'roundingSeed');
      assertSeed(selfSeed, 'selfSeed');
      assertTerms(pairs, 'pairs');
      const coins = await prg.expand(roundingSeed, input.length);
      const encoded = encodeVectorWithCoins(input, encoding, coins);
      coins.fill(0);
      const masked = await sumStreams(prg, encoded.slice(), [], [{ seed: selfSeed, sign: 1 }, ...pairs], { ...options, simd });
      return { encoded, masked, chunkRoot: chunkRoot(masked) };
    },
    async chunkRoots(vectors) {
      if (!Array.isArray(vectors)) throw new Error('"vectors" must be an array');
      vectors.forEach((v, i) => assertVector(v, `vectors[${i}]`));
      return { vectors: [...vectors], roots: vectors.map((v) => chunkRoot(v)) };
    },
    async sha256(data) {
      if (!Array.isArray(data)) throw new Error('"data" must be an array');
      data.forEach((d, i) => {
        if (!(d instanceof Uint8Array)) throw new Error(`"data[${i}]" must be a Uint8Array`);
      });
      const digest = options.digest;
      return digest ? Promise.all(data.map((d) => digest(d))) : data.map((d) => sha256(d));
    },
    async unmaskSum(vectors, terms, dimension) {
      assertDimension(dimension);
      if (!Array.isArray(vectors)) throw new Error('"vectors" must be an array');
      vectors.forEach((v, i) => assertVector(v, `vectors[${i}]`, dimension));
      assertTerms(terms, 'terms');
      const [base, ...rest] = vectors;
      return sumStreams(prg, base ?? new Uint32Array(dimension), rest, terms, { ...options, simd });
    },
    async split(secret, threshold, shareCount) {
      if (random === undefined) throw new Error('"random" was not given: this engine cannot split secrets');
      return split(secret, threshold, shareCount, random);
    },
    async combine(shares, threshold) {
      return combine(shares, threshold);
    },
  };
}
