// The mask PRG of secure aggregation: expands a 32-byte seed (a self-mask seed, or a pairwise seed
// agreed through X25519) into `words` uint32 mask words, bit-identical in page, worker and Node
// (Bonawitz et al. 2017 §4 need every party to expand a seed to the same mask).
//
// Two candidates were measured (bench/prg.ts); both are defined here so the benchmark and the tests
// can compare them, and PRG_V1 names the one the protocol uses:
//   aegis/prg/aes-ctr/v1   key = HKDF-SHA256(seed, no salt, info), AES-256-CTR (NIST SP 800-38A
//                          §6.5) from a zero 16-byte initial counter block incremented as one
//                          128-bit big-endian integer; keystream = encryption of zeros.
//   aegis/prg/chacha20/v1  key = HKDF-SHA256(seed, no salt, info), ChaCha20 (RFC 8439 §2.4) with an
//                          all-zero nonce and block counter starting at 0.
// Words are read little-endian from the keystream: word i = bytes 4i..4i+3, least significant first.
import { ctr } from '@noble/ciphers/aes.js';
import { chacha20 } from '@noble/ciphers/chacha.js';
import { deriveKey } from './hkdf.ts';

export const PRG_SEED_BYTES = 32;
/** 2^28 words = 1 GiB of mask: far beyond any vector we aggregate, and below every engine's array limit. */
export const PRG_MAX_WORDS = 2 ** 28;
export const AES_BLOCK_BYTES = 16;
export const AES_256_KEY_BYTES = 32;
export const CHACHA20_KEY_BYTES = 32;
export const CHACHA20_NONCE_BYTES = 12;

export const PRG_AES_CTR_V1 = 'aegis/prg/aes-ctr/v1';
export const PRG_CHACHA20_V1 = 'aegis/prg/chacha20/v1';
export type PrgAlgorithm = typeof PRG_AES_CTR_V1 | typeof PRG_CHACHA20_V1;

/**
 * The PRG secure aggregation uses. AES-CTR won the measurement (bench/prg.ts, 10M words, medians on
 * a shared 2-core machine): WebCrypto AES-256-CTR 0.6-0.9 GB/s against noble ChaCha20 0.24 GB/s in
 * Node, 0.46 against 0.31 GB/s in a Chromium page and 0.52 against 0.32 GB/s in a worker. The price:
 * where crypto.subtle is missing (insecure contexts) the same bytes come from noble's AES-CTR at
 * ~0.08 GB/s, about 3x slower than noble ChaCha20 would have been.
 */
export const PRG_V1: PrgAlgorithm = PRG_AES_CTR_V1;

export interface PrgBackend {
  /** Implementation, e.g. 'aes-ctr/webcrypto'. */
  readonly name: string;
  /** The output function: backends with the same algorithm return identical words. */
  readonly algorithm: PrgAlgorithm;
  /** The first `words` words of the seed's stream (so a shorter expansion is a prefix of a longer one). */
  expand(seed: Uint8Array, words: number): Promise<Uint32Array>;
}

export function assertPrgArgs(seed: Uint8Array, words: number): void {
  if (!(seed instanceof Uint8Array) || seed.length !== PRG_SEED_BYTES) throw new Error(`"seed" must be ${PRG_SEED_BYTES} bytes`);
  if (!Number.isInteger(words) || words < 0 || words > PRG_MAX_WORDS)
    throw new Error(`"words" must be an integer in [0, ${PRG_MAX_WORDS}], got ${words}`);
}

/** The per-seed cipher key: HKDF separates the PRG's key from every other use of the seed. */
export function prgKey(seed: Uint8Array, algorithm: PrgAlgorithm): Uint8Array {
  return deriveKey(seed, undefined, algorithm, 32);
}

function assertLength(length: number): void {
  if (!Number.isInteger(length) || length < 0 || length > PRG_MAX_WORDS * 4)
    throw new Error(`"length" must be an integer in [0, ${PRG_MAX_WORDS * 4}], got ${length}`);
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * View keystream bytes as little-endian uint32 words without copying (every engine we run on is
 * little-endian; a big-endian host gets the bytes swapped in place first). `bytes` must start at a
 * 4-byte-aligned offset and hold a whole number of words.
 */
export function keystreamWords(bytes: Uint8Array): Uint32Array {
  if (bytes.byteOffset % 4 !== 0 || bytes.length % 4 !== 0) throw new Error('"bytes" must be whole, aligned 32-bit words');
  if (!LITTLE_ENDIAN_HOST)
    for (let i = 0; i < bytes.length; i += 4) {
      const b0 = bytes[i] as number;
      const b1 = bytes[i + 1] as number;
      bytes[i] = bytes[i + 3] as number;
      bytes[i + 1] = bytes[i + 2] as number;
      bytes[i + 2] = b1;
      bytes[i + 3] = b0;
    }
  return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
}

/**
 * Raw AES-256-CTR keystream (SP 800-38A §6.5): E(K, T1) || E(K, T2) || ..., where T1 = `counterBlock`
 * and each next block adds one to it as a 128-bit big-endian integer (the same as WebCrypto's
 * AES-CTR with `length: 128`). The output is a fresh, 4-byte-aligned array.
 */
export function aes256CtrKeystream(key: Uint8Array, counterBlock: Uint8Array, length: number): Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== AES_256_KEY_BYTES) throw new Error(`"key" must be ${AES_256_KEY_BYTES} bytes`);
  if (!(counterBlock instanceof Uint8Array) || counterBlock.length !== AES_BLOCK_BYTES)
    throw new Error(`"counterBlock" must be ${AES_BLOCK_BYTES} bytes`);
  assertLength(length);
  const out = new Uint8Array(length);
  // Encrypting zeros in place: the ciphertext is the keystream.
  return ctr(key, counterBlock).encrypt(out, out);
}

/** Raw ChaCha20 keystream (RFC 8439 §2.4): blocks `counter`, `counter + 1`, ... under key and nonce. */
export function chacha20Keystream(key: Uint8Array, nonce: Uint8Array, length: number, counter = 0): Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== CHACHA20_KEY_BYTES) throw new Error(`"key" must be ${CHACHA20_KEY_BYTES} bytes`);
  if (!(nonce instanceof Uint8Array) || nonce.length !== CHACHA20_NONCE_BYTES)
    throw new Error(`"nonce" must be ${CHACHA20_NONCE_BYTES} bytes`);
  assertLength(length);
  const out = new Uint8Array(length);
  return chacha20(key, nonce, out, out, counter);
}

const ZERO_NONCE = new Uint8Array(CHACHA20_NONCE_BYTES);

/** aegis/prg/aes-ctr/v1 in JavaScript: the reference, and the fallback where WebCrypto is missing. */
export const nobleAesCtrPrg: PrgBackend = {
  name: 'aes-ctr/noble',
  algorithm: PRG_AES_CTR_V1,
  // The whole stream from counter 0 is the range starting at word 0.
  async expand(seed, words) {
    return prgRange(PRG_AES_CTR_V1, seed, 0, words);
  },
};

/** aegis/prg/chacha20/v1: the measured alternative (not used by the protocol; see PRG_V1). */
export const nobleChaCha20Prg: PrgBackend = {
  name: 'chacha20/noble',
  algorithm: PRG_CHACHA20_V1,
  async expand(seed, words) {
    return prgRange(PRG_CHACHA20_V1, seed, 0, words);
  },
};

const AES_BLOCK_WORDS = AES_BLOCK_BYTES / 4;
const CHACHA20_BLOCK_WORDS = 16;

/**
 * Words [startWord, startWord + words) of the seed's stream, without generating the words before
 * them: both algorithms are counter modes, so the stream is seeked by starting the counter at the
 * block that holds `startWord` (AES-CTR: the 128-bit counter block; ChaCha20: the block counter).
 * Equal to `expand(seed, startWord + words).subarray(startWord)` of any backend of `algorithm`.
 */
export function prgRange(algorithm: PrgAlgorithm, seed: Uint8Array, startWord: number, words: number): Uint32Array {
  assertPrgArgs(seed, words);
  if (!Number.isInteger(startWord) || startWord < 0 || startWord + words > PRG_MAX_WORDS)
    throw new Error(`"startWord" must be an integer in [0, ${PRG_MAX_WORDS} - words], got ${startWord}`);
  const blockWords = algorithm === PRG_AES_CTR_V1 ? AES_BLOCK_WORDS : CHACHA20_BLOCK_WORDS;
  const block = Math.floor(startWord / blockWords);
  const skip = startWord - block * blockWords;
  const length = (skip + words) * 4;
  const key = prgKey(seed, algorithm);
  try {
    let bytes: Uint8Array;
    if (algorithm === PRG_AES_CTR_V1) {
      const counter = new Uint8Array(AES_BLOCK_BYTES);
      // block < 2^26: the low 4 bytes of the big-endian 128-bit counter hold it.
      new DataView(counter.buffer).setUint32(AES_BLOCK_BYTES - 4, block);
      bytes = aes256CtrKeystream(key, counter, length);
    } else bytes = chacha20Keystream(key, ZERO_NONCE, length, block);
    return keystreamWords(bytes).subarray(skip);
  } finally {
    key.fill(0);
  }
}
