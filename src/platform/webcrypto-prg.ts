// aegis/prg/aes-ctr/v1 (see core/crypto/prg.ts) on WebCrypto's AES-CTR, which runs on AES-NI:
// the fastest keystream in Node, Chromium pages and workers (bench/prg.ts). Output is identical to
// core's `nobleAesCtrPrg`, which `detectPrgBackend` falls back to where crypto.subtle is missing.
import {
  AES_256_KEY_BYTES,
  AES_BLOCK_BYTES,
  assertPrgArgs,
  keystreamWords,
  nobleAesCtrPrg,
  PRG_AES_CTR_V1,
  prgKey,
  type PrgBackend,
} from '../core/crypto/prg.ts';
import { hexToBytes } from '../core/bytes.ts';
import { detectBackend } from './detect-backend.ts';

/**
 * Bytes per `encrypt` call. With `length: 128` the counter cannot wrap, so WebCrypto sets no limit of
 * its own (one 40 MB and one 200 MB call work in Node 20 and Chromium); chunking only caps the
 * transient zero buffer (WebCrypto cannot encrypt in place) at the cost of one copy per chunk.
 */
export const DEFAULT_PRG_BYTES_PER_CALL = 64 * 1024 * 1024;

export interface WebCryptoPrgOptions {
  /** Largest single `encrypt` call, a positive multiple of 16 bytes. */
  maxBytesPerCall?: number;
}

/** The counter block after `blocks` increments of `counter` (128-bit big-endian addition, mod 2^128). */
export function advanceCounter(counter: Uint8Array, blocks: number): Uint8Array {
  if (!Number.isSafeInteger(blocks) || blocks < 0) throw new Error(`"blocks" must be a non-negative safe integer, got ${blocks}`);
  const out = counter.slice();
  let carry = blocks;
  for (let i = out.length - 1; i >= 0 && carry > 0; i--) {
    const sum = (out[i] as number) + (carry % 256);
    out[i] = sum & 0xff;
    carry = Math.floor(carry / 256) + (sum >> 8);
  }
  return out;
}

/**
 * Largest zero plaintext kept between calls. Allocating (and faulting in) a fresh zeroed buffer per
 * expansion is a large share of the cost in Node: 9 expansions of 4 MB took 18-27 ms that way and
 * 15 ms with one reused buffer (shared 2-core machine). WebCrypto only reads its input (it copies it
 * first), so one buffer serves every call, concurrent ones included. Larger calls allocate their own.
 */
export const SHARED_ZERO_BYTES = 16 * 1024 * 1024;
let sharedZeros = new Uint8Array(0);

/** `length` zero bytes, never written to: a view of the shared buffer when it fits. */
function zeroBytes(length: number): Uint8Array<ArrayBuffer> {
  if (length > SHARED_ZERO_BYTES) return new Uint8Array(length);
  if (sharedZeros.length < length) sharedZeros = new Uint8Array(Math.min(SHARED_ZERO_BYTES, Math.max(length, 2 * sharedZeros.length)));
  return sharedZeros.subarray(0, length);
}

/**
 * Raw AES-256-CTR keystream through WebCrypto, identical to core's `aes256CtrKeystream`: `length`
 * bytes from `counterBlock`, the whole 16-byte block counting (`length: 128`, SP 800-38A §B.1).
 */
export async function webCryptoAes256CtrKeystream(
  subtle: SubtleCrypto,
  key: Uint8Array | CryptoKey,
  counterBlock: Uint8Array,
  length: number,
  maxBytesPerCall = DEFAULT_PRG_BYTES_PER_CALL,
): Promise<Uint8Array> {
  if (!Number.isInteger(maxBytesPerCall) || maxBytesPerCall < AES_BLOCK_BYTES || maxBytesPerCall % AES_BLOCK_BYTES !== 0)
    throw new Error(`"maxBytesPerCall" must be a positive multiple of ${AES_BLOCK_BYTES}, got ${maxBytesPerCall}`);
  if (!(counterBlock instanceof Uint8Array) || counterBlock.length !== AES_BLOCK_BYTES)
    throw new Error(`"counterBlock" must be ${AES_BLOCK_BYTES} bytes`);
  if (!Number.isSafeInteger(length) || length < 0) throw new Error(`"length" must be a non-negative integer, got ${length}`);
  if (key instanceof Uint8Array && key.length !== AES_256_KEY_BYTES) throw new Error(`"key" must be ${AES_256_KEY_BYTES} bytes`);
  const cryptoKey =
    key instanceof Uint8Array ? await subtle.importKey('raw', new Uint8Array(key), 'AES-CTR', false, ['encrypt']) : key;
  const encrypt = (counter: Uint8Array, zeros: Uint8Array<ArrayBuffer>) =>
    subtle.encrypt({ name: 'AES-CTR', counter: new Uint8Array(counter), length: 128 }, cryptoKey, zeros);
  // One call: the returned buffer is the result, no copy.
  if (length <= maxBytesPerCall) return new Uint8Array(await encrypt(counterBlock, zeroBytes(length)));
  const out = new Uint8Array(length);
  const zeros = zeroBytes(maxBytesPerCall);
  for (let offset = 0; offset < length; offset += maxBytesPerCall) {
    const n = Math.min(maxBytesPerCall, length - offset);
    const chunk = await encrypt(advanceCounter(counterBlock, offset / AES_BLOCK_BYTES), zeros.subarray(0, n));
    out.set(new Uint8Array(chunk), offset);
  }
  return out;
}

const ZERO_COUNTER_BLOCK = new Uint8Array(AES_BLOCK_BYTES);

export function webCryptoAesCtrPrg(subtle: SubtleCrypto, options: WebCryptoPrgOptions = {}): PrgBackend {
  const maxBytesPerCall = options.maxBytesPerCall ?? DEFAULT_PRG_BYTES_PER_CALL;
  if (!Number.isInteger(maxBytesPerCall) || maxBytesPerCall < AES_BLOCK_BYTES || maxBytesPerCall % AES_BLOCK_BYTES !== 0)
    throw new Error(`"maxBytesPerCall" must be a positive multiple of ${AES_BLOCK_BYTES}, got ${maxBytesPerCall}`);
  return {
    name: 'aes-ctr/webcrypto',
    algorithm: PRG_AES_CTR_V1,
    async expand(seed, words) {
      assertPrgArgs(seed, words);
      const derived = prgKey(seed, PRG_AES_CTR_V1);
      const rawKey = new Uint8Array(derived); // ArrayBuffer-backed, as importKey's types want
      derived.fill(0);
      let key: CryptoKey;
      try {
        key = await subtle.importKey('raw', rawKey, 'AES-CTR', false, ['encrypt']);
      } finally {
        rawKey.fill(0);
      }
      return keystreamWords(await webCryptoAes256CtrKeystream(subtle, key, ZERO_COUNTER_BLOCK, words * 4, maxBytesPerCall));
    },
  };
}

// The test/vectors/prg-v1.json regression fixture: expand(seed = 00 01 .. 1f, 8 words).
const SELF_TEST_SEED = Uint8Array.from({ length: 32 }, (_, i) => i);
const SELF_TEST_KEYSTREAM = '567bc562e2fda9b6bfb36e83a3c79ef3cff21f03a4029cad153a2f4087078119';

async function passesSelfTest(backend: PrgBackend): Promise<boolean> {
  const expected = hexToBytes(SELF_TEST_KEYSTREAM);
  const view = new DataView(expected.buffer);
  const words = await backend.expand(SELF_TEST_SEED, expected.length / 4);
  if (words.length !== expected.length / 4) return false;
  for (let i = 0; i < words.length; i++) if (words[i] !== view.getUint32(4 * i, true)) return false;
  return true;
}

/**
 * WebCrypto AES-CTR where the host has it and it reproduces the fixture; the noble AES-CTR otherwise
 * (insecure contexts have no crypto.subtle). Both give the same words.
 */
export function detectPrgBackend(): Promise<PrgBackend> {
  return detectBackend((subtle) => webCryptoAesCtrPrg(subtle), passesSelfTest, nobleAesCtrPrg);
}
