// The mask PRG: raw keystreams against NIST SP 800-38A F.5.5 (AES-256-CTR) and RFC 8439 §2.3.2 /
// §2.4.2 (ChaCha20); the full expansion against the committed prg-v1.json fixture, against
// node:crypto (OpenSSL) as an independent implementation, and noble against WebCrypto.
import { createCipheriv, hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bytesToHex, hexToBytes, utf8ToBytes } from '../../src/core/bytes.ts';
import {
  aes256CtrKeystream,
  chacha20Keystream,
  keystreamWords,
  nobleAesCtrPrg,
  nobleChaCha20Prg,
  PRG_AES_CTR_V1,
  PRG_CHACHA20_V1,
  PRG_MAX_WORDS,
  PRG_V1,
  prgKey,
  type PrgAlgorithm,
  type PrgBackend,
} from '../../src/core/crypto/prg.ts';
import {
  advanceCounter,
  detectPrgBackend,
  webCryptoAes256CtrKeystream,
  webCryptoAesCtrPrg,
} from '../../src/platform/webcrypto-prg.ts';

fc.configureGlobal({ ...fc.readConfigureGlobal(), defaultSizeToMaxWhenMaxSpecified: true });

function vectorFile<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../vectors/${name}`, import.meta.url), 'utf8')) as T;
}
const sp80038a = vectorFile<{
  key: string;
  initialCounter: string;
  blocks: { counter: string; outputBlock: string; plaintext: string; ciphertext: string }[];
}>('sp800-38a-aes256-ctr.json');
const rfc8439 = vectorFile<{
  block: { key: string; nonce: string; counter: number; keystream: string };
  encryption: { key: string; nonce: string; counter: number; plaintextUtf8: string; ciphertext: string };
}>('rfc8439-chacha20.json');
interface PrgCase {
  algorithm: PrgAlgorithm;
  words: number;
  key: string;
  keystream: string;
  expected: string[];
}
const fixture = vectorFile<{ chosen: string; seed: string; cases: PrgCase[] }>('prg-v1.json');

const subtle = globalThis.crypto.subtle;
const webcrypto = webCryptoAesCtrPrg(subtle);
/** 48-byte calls: every expansion above 12 words crosses call boundaries mid-stream. */
const webcryptoChunked = webCryptoAesCtrPrg(subtle, { maxBytesPerCall: 48 });
const aesBackends: PrgBackend[] = [nobleAesCtrPrg, webcrypto, webcryptoChunked];

function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  return a.map((x, i) => x ^ (b[i] as number));
}

function hexWords(words: Uint32Array): string[] {
  return Array.from(words, (w) => w.toString(16).padStart(8, '0'));
}

/** The same PRG through OpenSSL: HKDF-SHA256, then AES-256-CTR or ChaCha20 (IV = LE counter || nonce). */
function opensslExpand(algorithm: PrgAlgorithm, seed: Uint8Array, words: number): Uint32Array {
  const key = Buffer.from(hkdfSync('sha256', seed, new Uint8Array(0), utf8ToBytes(algorithm), 32));
  const cipher =
    algorithm === PRG_AES_CTR_V1 ? createCipheriv('aes-256-ctr', key, Buffer.alloc(16)) : createCipheriv('chacha20', key, Buffer.alloc(16));
  const bytes = cipher.update(Buffer.alloc(words * 4));
  return new Uint32Array(bytes.buffer, bytes.byteOffset, words);
}

function wordsEqual(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

describe('NIST SP 800-38A F.5.5 CTR-AES256.Encrypt', () => {
  const key = hexToBytes(sp80038a.key);
  const counter = hexToBytes(sp80038a.initialCounter);
  const keystream = sp80038a.blocks.map((b) => b.outputBlock).join('');
  const plaintext = hexToBytes(sp80038a.blocks.map((b) => b.plaintext).join(''));
  const ciphertext = sp80038a.blocks.map((b) => b.ciphertext).join('');

  it('the vectors are self-consistent: each counter block is the previous plus one', () => {
    expect(sp80038a.blocks).toHaveLength(4);
    sp80038a.blocks.forEach((b, i) => expect(bytesToHex(advanceCounter(counter, i))).toBe(b.counter));
  });

  it('noble: the keystream is the output blocks, and plaintext XOR keystream is the ciphertext', () => {
    const out = aes256CtrKeystream(key, counter, 64);
    expect(bytesToHex(out)).toBe(keystream);
    expect(bytesToHex(xor(plaintext, out))).toBe(ciphertext);
    expect(bytesToHex(aes256CtrKeystream(key, counter, 23))).toBe(keystream.slice(0, 46));
  });

  it.each([16, 32, 48, 64 * 1024 * 1024])('WebCrypto (length 128), %d bytes per call: the same keystream across the carry', async (perCall) => {
    const out = await webCryptoAes256CtrKeystream(subtle, key, counter, 64, perCall);
    expect(bytesToHex(out)).toBe(keystream);
    expect(bytesToHex(xor(plaintext, out))).toBe(ciphertext);
    expect(bytesToHex(await webCryptoAes256CtrKeystream(subtle, key, counter, 23, perCall))).toBe(keystream.slice(0, 46));
  });
});

describe('RFC 8439 ChaCha20', () => {
  it('§2.3.2: the serialized block', () => {
    const b = rfc8439.block;
    expect(bytesToHex(chacha20Keystream(hexToBytes(b.key), hexToBytes(b.nonce), 64, b.counter))).toBe(b.keystream);
  });

  it('§2.4.2: the sunscreen ciphertext', () => {
    const e = rfc8439.encryption;
    const plaintext = utf8ToBytes(e.plaintextUtf8);
    const ks = chacha20Keystream(hexToBytes(e.key), hexToBytes(e.nonce), plaintext.length, e.counter);
    expect(bytesToHex(xor(plaintext, ks))).toBe(e.ciphertext);
  });
});

describe('prg-v1.json regression fixture', () => {
  const seed = hexToBytes(fixture.seed);
  const backendsFor = (algorithm: PrgAlgorithm): PrgBackend[] => (algorithm === PRG_AES_CTR_V1 ? aesBackends : [nobleChaCha20Prg]);

  it('names the algorithm the protocol uses', () => {
    expect(fixture.chosen).toBe(PRG_V1);
    expect(PRG_V1).toBe(PRG_AES_CTR_V1);
    expect(fixture.cases.filter((c) => c.algorithm === PRG_V1 && c.words === 8)).toHaveLength(1);
  });

  it.each(fixture.cases.map((c) => [`${c.algorithm} × ${c.words}`, c] as const))('%s: key, keystream and words', async (_, c) => {
    expect(bytesToHex(prgKey(seed, c.algorithm))).toBe(c.key);
    expect(c.expected).toHaveLength(c.words);
    expect(hexWords(opensslExpand(c.algorithm, seed, c.words))).toEqual(c.expected);
    for (const backend of backendsFor(c.algorithm)) {
      const words = await backend.expand(seed, c.words);
      expect(backend.algorithm).toBe(c.algorithm);
      expect(hexWords(words), backend.name).toEqual(c.expected);
      expect(bytesToHex(new Uint8Array(words.buffer, words.byteOffset, words.byteLength)), backend.name).toBe(c.keystream);
    }
  });
});

describe('expand', () => {
  it('WebCrypto (one call, and chunked at any multiple of 16) equals noble on random seeds and sizes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 1, max: 300 }),
        async (seed, words, blocksPerCall) => {
          const expected = await nobleAesCtrPrg.expand(seed, words);
          expect(wordsEqual(await webcrypto.expand(seed, words), expected)).toBe(true);
          const chunked = webCryptoAesCtrPrg(subtle, { maxBytesPerCall: blocksPerCall * 16 });
          expect(wordsEqual(await chunked.expand(seed, words), expected)).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('shorter expansions are prefixes of longer ones; different seeds differ', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.integer({ min: 1, max: 3000 }), fc.nat(), async (seed, words, cut) => {
        for (const backend of [webcrypto, nobleChaCha20Prg]) {
          const long = await backend.expand(seed, words);
          const short = await backend.expand(seed, cut % (words + 1));
          expect(wordsEqual(short, long.subarray(0, short.length))).toBe(true);
          const other = seed.slice();
          other[cut % 32] = (other[cut % 32] as number) ^ 1;
          expect(wordsEqual(await backend.expand(other, words), long)).toBe(false);
        }
      }),
      { numRuns: 50 },
    );
  });

  it('AES-CTR and ChaCha20 PRGs are different functions of the seed', async () => {
    const seed = hexToBytes(fixture.seed);
    expect(wordsEqual(await nobleAesCtrPrg.expand(seed, 8), await nobleChaCha20Prg.expand(seed, 8))).toBe(false);
  });

  it('10M words (40 MB) in one WebCrypto call, 1M + 3 words in odd chunks: all equal OpenSSL', async () => {
    const seed = new Uint8Array(32).fill(0xa5);
    const big = await webcrypto.expand(seed, 10_000_000);
    expect(wordsEqual(big, opensslExpand(PRG_AES_CTR_V1, seed, 10_000_000))).toBe(true);
    const n = 1_000_003;
    const reference = opensslExpand(PRG_AES_CTR_V1, seed, n);
    expect(wordsEqual(await nobleAesCtrPrg.expand(seed, n), reference)).toBe(true);
    expect(wordsEqual(await webCryptoAesCtrPrg(subtle, { maxBytesPerCall: 1_048_576 - 16 }).expand(seed, n), reference)).toBe(true);
    expect(wordsEqual(big.subarray(0, n), reference)).toBe(true);
    expect(wordsEqual(await nobleChaCha20Prg.expand(seed, n), opensslExpand(PRG_CHACHA20_V1, seed, n))).toBe(true);
  });

  it.each([nobleAesCtrPrg, nobleChaCha20Prg, webcrypto].map((b) => [b.name, b] as const))('%s: throws naming the field on bad arguments', async (_, backend) => {
    const seed = new Uint8Array(32);
    expect(await backend.expand(seed, 0)).toHaveLength(0);
    await expect(backend.expand(new Uint8Array(31), 8)).rejects.toThrow('"seed" must be 32 bytes');
    await expect(backend.expand('x'.repeat(32) as unknown as Uint8Array, 8)).rejects.toThrow('"seed"');
    for (const words of [-1, 1.5, Number.NaN, PRG_MAX_WORDS + 1])
      await expect(backend.expand(seed, words), String(words)).rejects.toThrow('"words"');
  });

  it('rejects chunk sizes that are not whole AES blocks', () => {
    for (const maxBytesPerCall of [0, 8, 17, -16, 1.5 * 16])
      expect(() => webCryptoAesCtrPrg(subtle, { maxBytesPerCall }), String(maxBytesPerCall)).toThrow('"maxBytesPerCall"');
  });
});

describe('helpers', () => {
  it('keystreamWords reads little-endian words, without copying', () => {
    const bytes = new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0x80, 0x78, 0x56, 0x34, 0x12]);
    const words = keystreamWords(bytes);
    expect(Array.from(words)).toEqual([1, 0x80000000, 0x12345678]);
    expect(words.buffer).toBe(bytes.buffer);
    expect(() => keystreamWords(new Uint8Array(6))).toThrow('"bytes"');
    expect(() => keystreamWords(new Uint8Array(8).subarray(2, 6))).toThrow('"bytes"');
  });

  it('advanceCounter adds as a 128-bit big-endian integer, wrapping mod 2^128', () => {
    const ones = new Uint8Array(16).fill(0xff);
    expect(bytesToHex(advanceCounter(ones, 1))).toBe('00'.repeat(16));
    expect(bytesToHex(advanceCounter(new Uint8Array(16), 2 ** 40 + 258))).toBe('00'.repeat(10) + '010000000102');
    expect(bytesToHex(advanceCounter(hexToBytes('00'.repeat(8) + 'ffffffffffffffff'), 1))).toBe('00'.repeat(7) + '01' + '00'.repeat(8));
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.maxSafeNat(), (counter, blocks) => {
        const big = BigInt(`0x${bytesToHex(counter)}`) + BigInt(blocks);
        const want = (big % 2n ** 128n).toString(16).padStart(32, '0');
        expect(bytesToHex(advanceCounter(counter, blocks))).toBe(want);
      }),
    );
    expect(() => advanceCounter(ones, -1)).toThrow('"blocks"');
  });

  it('raw keystream functions throw naming the field', () => {
    expect(() => aes256CtrKeystream(new Uint8Array(16), new Uint8Array(16), 16)).toThrow('"key" must be 32 bytes');
    expect(() => aes256CtrKeystream(new Uint8Array(32), new Uint8Array(12), 16)).toThrow('"counterBlock" must be 16 bytes');
    expect(() => aes256CtrKeystream(new Uint8Array(32), new Uint8Array(16), -1)).toThrow('"length"');
    expect(() => chacha20Keystream(new Uint8Array(32), new Uint8Array(8), 16)).toThrow('"nonce" must be 12 bytes');
  });

  it('the WebCrypto keystream throws naming the field', async () => {
    const counter = new Uint8Array(16);
    await expect(webCryptoAes256CtrKeystream(subtle, new Uint8Array(16), counter, 16)).rejects.toThrow('"key" must be 32 bytes');
    await expect(webCryptoAes256CtrKeystream(subtle, new Uint8Array(32), new Uint8Array(8), 16)).rejects.toThrow('"counterBlock"');
    await expect(webCryptoAes256CtrKeystream(subtle, new Uint8Array(32), counter, -1)).rejects.toThrow('"length"');
    await expect(webCryptoAes256CtrKeystream(subtle, new Uint8Array(32), counter, 16, 20)).rejects.toThrow('"maxBytesPerCall"');
  });
});

describe('detectPrgBackend', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('picks WebCrypto AES-CTR in Node 20', async () => {
    const backend = await detectPrgBackend();
    expect(backend.name).toBe('aes-ctr/webcrypto');
    expect(backend.algorithm).toBe(PRG_V1);
  });

  it('falls back to noble AES-CTR (same algorithm) without crypto.subtle', async () => {
    vi.stubGlobal('crypto', { getRandomValues: globalThis.crypto.getRandomValues.bind(globalThis.crypto) });
    const backend = await detectPrgBackend();
    expect(backend.name).toBe('aes-ctr/noble');
    expect(backend.algorithm).toBe(PRG_V1);
  });

  it('falls back to noble when AES-CTR is refused or gives wrong bytes', async () => {
    const reject = () => Promise.reject(new DOMException('Unrecognized name.', 'NotSupportedError'));
    vi.stubGlobal('crypto', { subtle: { importKey: reject, encrypt: reject } });
    expect((await detectPrgBackend()).name).toBe('aes-ctr/noble');
    // A counter that only counts 64 bits, or the wrong bytes altogether.
    vi.stubGlobal('crypto', {
      subtle: { importKey: subtle.importKey.bind(subtle), encrypt: async (_: unknown, __: unknown, data: Uint8Array) => new Uint8Array(data.length).buffer },
    });
    expect((await detectPrgBackend()).name).toBe('aes-ctr/noble');
  });
});
