// Both Ed25519 backends against RFC 8032 §7.1 known answers, against each other, and against
// tampering. Also the platform's crypto-backed Random.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bytesToHex, hexToBytes } from '../../src/core/bytes.ts';
import { nobleEd25519, publicKeyFromSecret, type Ed25519Backend } from '../../src/core/crypto/ed25519.ts';
import { cryptoRandom } from '../../src/platform/crypto-random.ts';
import { detectEd25519Backend, webCryptoEd25519 } from '../../src/platform/webcrypto-ed25519.ts';

// Without this, fast-check's default size ('small') caps `maxLength: 300` at about 10 elements.
fc.configureGlobal({ ...fc.readConfigureGlobal(), defaultSizeToMaxWhenMaxSpecified: true });

interface Rfc8032Vector {
  name: string;
  secretKey: string;
  publicKey: string;
  message: string;
  signature: string;
}

const { vectors } = JSON.parse(
  readFileSync(new URL('../vectors/rfc8032-ed25519.json', import.meta.url), 'utf8'),
) as { vectors: Rfc8032Vector[] };

const subtle = globalThis.crypto.subtle;
const webcrypto = webCryptoEd25519(subtle);
const backends: Ed25519Backend[] = [nobleEd25519, webcrypto];

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  out[bit >> 3] = (out[bit >> 3] as number) ^ (1 << (bit & 7));
  return out;
}

describe('RFC 8032 vectors file', () => {
  it('holds the five §7.1 Ed25519 tests with well-formed sizes', () => {
    expect(vectors.map((v) => v.name)).toEqual(['TEST 1', 'TEST 2', 'TEST 3', 'TEST 1024', 'TEST SHA(abc)']);
    expect(vectors.map((v) => v.message.length / 2)).toEqual([0, 1, 2, 1023, 64]);
    for (const v of vectors) {
      expect(hexToBytes(v.secretKey)).toHaveLength(32);
      expect(hexToBytes(v.publicKey)).toHaveLength(32);
      expect(hexToBytes(v.signature)).toHaveLength(64);
    }
  });

  it('publicKeyFromSecret matches the vectors', () => {
    for (const v of vectors) expect(bytesToHex(publicKeyFromSecret(hexToBytes(v.secretKey)))).toBe(v.publicKey);
  });
});

describe.each(backends.map((b) => [b.name, b] as const))('%s backend', (name, backend) => {
  it('has the expected name', () => {
    expect(backend.name).toBe(name);
  });

  it.each(vectors.map((v) => [v.name, v] as const))('%s: derives the public key, signs exactly, verifies', async (_, v) => {
    const signer = await backend.signer(hexToBytes(v.secretKey));
    expect(bytesToHex(signer.publicKey)).toBe(v.publicKey);
    const message = hexToBytes(v.message);
    const signature = await signer.sign(message);
    expect(bytesToHex(signature)).toBe(v.signature);
    expect(await backend.verify(hexToBytes(v.publicKey), message, hexToBytes(v.signature))).toBe(true);
  });

  it.each(vectors.map((v, i) => [v.name, v, i] as const))('%s: rejects a wrong message and a wrong key', async (_, v, i) => {
    const publicKey = hexToBytes(v.publicKey);
    const message = hexToBytes(v.message);
    const signature = hexToBytes(v.signature);
    const longer = new Uint8Array(message.length + 1);
    longer.set(message);
    expect(await backend.verify(publicKey, longer, signature)).toBe(false);
    if (message.length > 0) {
      expect(await backend.verify(publicKey, message.subarray(1), signature)).toBe(false);
      expect(await backend.verify(publicKey, flipBit(message, 0), signature)).toBe(false);
    }
    const other = vectors[(i + 1) % vectors.length] as Rfc8032Vector;
    expect(await backend.verify(hexToBytes(other.publicKey), message, signature)).toBe(false);
  });

  it('TEST 1: rejects every single-bit flip of the signature (512) and of the public key (256)', async () => {
    const v = vectors[0] as Rfc8032Vector;
    const publicKey = hexToBytes(v.publicKey);
    const message = hexToBytes(v.message);
    const signature = hexToBytes(v.signature);
    const accepted: string[] = [];
    for (let bit = 0; bit < 512; bit++)
      if (await backend.verify(publicKey, message, flipBit(signature, bit))) accepted.push(`signature bit ${bit}`);
    for (let bit = 0; bit < 256; bit++)
      if (await backend.verify(flipBit(publicKey, bit), message, signature)) accepted.push(`public key bit ${bit}`);
    expect(accepted).toEqual([]);
    // The unflipped originals still verify, so the loop above tested something.
    expect(await backend.verify(publicKey, message, signature)).toBe(true);
  });

  it('returns false, never throws, on malformed sizes and garbage', async () => {
    const v = vectors[1] as Rfc8032Vector;
    const publicKey = hexToBytes(v.publicKey);
    const message = hexToBytes(v.message);
    const signature = hexToBytes(v.signature);
    for (const n of [0, 1, 31, 33, 64]) {
      const key = new Uint8Array(n);
      key.set(publicKey.subarray(0, Math.min(n, 32)));
      expect(await backend.verify(key, message, signature), `key of ${n} bytes`).toBe(false);
    }
    for (const n of [0, 32, 63, 65, 128]) {
      const sig = new Uint8Array(n);
      sig.set(signature.subarray(0, Math.min(n, 64)));
      expect(await backend.verify(publicKey, message, sig), `signature of ${n} bytes`).toBe(false);
    }
    // All-zero and all-ones keys: not valid points, or small-order ones.
    expect(await backend.verify(new Uint8Array(32), message, signature)).toBe(false);
    expect(await backend.verify(new Uint8Array(32).fill(0xff), message, signature)).toBe(false);
    expect(await backend.verify(publicKey, message, new Uint8Array(64))).toBe(false);
    expect(await backend.verify(publicKey, message, new Uint8Array(64).fill(0xff))).toBe(false);
  });

  it('throws, naming the field, when a signer gets a secret key of the wrong size', async () => {
    await expect(backend.signer(new Uint8Array(31))).rejects.toThrow('"secretKey" must be 32 bytes');
    await expect(backend.signer(new Uint8Array(64))).rejects.toThrow('"secretKey"');
  });
});

describe('noble and WebCrypto agree', () => {
  it('sign identically and verify each other on random keys and messages', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 512 }),
        async (secretKey, message) => {
          const n = await nobleEd25519.signer(secretKey);
          const w = await webcrypto.signer(secretKey);
          expect(bytesToHex(w.publicKey)).toBe(bytesToHex(n.publicKey));
          const nobleSig = await n.sign(message);
          const webSig = await w.sign(message);
          expect(bytesToHex(webSig)).toBe(bytesToHex(nobleSig));
          expect(await webcrypto.verify(n.publicKey, message, nobleSig)).toBe(true);
          expect(await nobleEd25519.verify(w.publicKey, message, webSig)).toBe(true);
          const tampered = flipBit(webSig, message.length % 512);
          expect(await webcrypto.verify(n.publicKey, message, tampered)).toBe(false);
          expect(await nobleEd25519.verify(w.publicKey, message, tampered)).toBe(false);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('webcrypto signs views into larger and shared buffers', async () => {
    const secretKey = hexToBytes((vectors[2] as Rfc8032Vector).secretKey);
    const signer = await webcrypto.signer(secretKey);
    const backing = new Uint8Array(10).fill(7);
    const view = backing.subarray(3, 6);
    const shared = new Uint8Array(new SharedArrayBuffer(3));
    shared.set(view);
    const expected = await (await nobleEd25519.signer(secretKey)).sign(view.slice());
    expect(bytesToHex(await signer.sign(view))).toBe(bytesToHex(expected));
    expect(bytesToHex(await signer.sign(shared))).toBe(bytesToHex(expected));
    expect(await webcrypto.verify(signer.publicKey, shared, expected)).toBe(true);
  });
});

describe('webcrypto verify-key cache', () => {
  function countingSubtle(): { subtle: SubtleCrypto; imports: () => number } {
    let imports = 0;
    const wrapped = {
      importKey: (...args: Parameters<SubtleCrypto['importKey']>) => {
        if (args[0] === 'raw') imports++;
        return subtle.importKey(...args);
      },
      sign: subtle.sign.bind(subtle),
      verify: subtle.verify.bind(subtle),
    } as unknown as SubtleCrypto;
    return { subtle: wrapped, imports: () => imports };
  }

  it('imports a key once while cached and evicts the least recently used', async () => {
    const { subtle: counted, imports } = countingSubtle();
    const backend = webCryptoEd25519(counted, { maxCachedKeys: 2 });
    const [a, b, c] = vectors.slice(0, 3).map((v) => ({
      key: hexToBytes(v.publicKey),
      msg: hexToBytes(v.message),
      sig: hexToBytes(v.signature),
    })) as [{ key: Uint8Array; msg: Uint8Array; sig: Uint8Array }, { key: Uint8Array; msg: Uint8Array; sig: Uint8Array }, { key: Uint8Array; msg: Uint8Array; sig: Uint8Array }];
    const check = async (x: typeof a) => expect(await backend.verify(x.key, x.msg, x.sig)).toBe(true);
    await Promise.all([check(a), check(a), check(a)]);
    expect(imports()).toBe(1); // concurrent verifications share one import
    await check(b);
    await check(a); // a becomes most recently used
    expect(imports()).toBe(2);
    await check(c); // evicts b, the least recently used
    expect(imports()).toBe(3);
    await check(a);
    expect(imports()).toBe(3);
    await check(b);
    expect(imports()).toBe(4);
  });

  it('stays correct when far more keys pass through than it holds', async () => {
    const backend = webCryptoEd25519(subtle, { maxCachedKeys: 4 });
    const signers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => nobleEd25519.signer(new Uint8Array(32).fill(i + 1))),
    );
    const message = new Uint8Array([1, 2, 3]);
    const signatures = await Promise.all(signers.map((s) => s.sign(message)));
    for (let round = 0; round < 2; round++)
      for (let i = 0; i < signers.length; i++) {
        const s = signers[i] as (typeof signers)[number];
        const sig = signatures[i] as Uint8Array;
        expect(await backend.verify(s.publicKey, message, sig)).toBe(true);
        expect(await backend.verify(s.publicKey, message, signatures[(i + 1) % signers.length] as Uint8Array)).toBe(false);
      }
  });

  it('rejects a non-positive cache size', () => {
    expect(() => webCryptoEd25519(subtle, { maxCachedKeys: 0 })).toThrow('"maxCachedKeys"');
  });
});

describe('detectEd25519Backend', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('picks WebCrypto in Node 20, and it signs the vectors', async () => {
    const backend = await detectEd25519Backend();
    expect(backend.name).toBe('webcrypto');
    const v = vectors[2] as Rfc8032Vector;
    const signature = await (await backend.signer(hexToBytes(v.secretKey))).sign(hexToBytes(v.message));
    expect(bytesToHex(signature)).toBe(v.signature);
  });

  it('falls back to noble without crypto.subtle (insecure context)', async () => {
    vi.stubGlobal('crypto', { getRandomValues: globalThis.crypto.getRandomValues.bind(globalThis.crypto) });
    expect((await detectEd25519Backend()).name).toBe('noble');
    vi.stubGlobal('crypto', undefined);
    expect((await detectEd25519Backend()).name).toBe('noble');
  });

  it('falls back to noble when the browser lacks Ed25519 in WebCrypto', async () => {
    const unsupported = {
      importKey: () => Promise.reject(new DOMException('Unrecognized name.', 'NotSupportedError')),
      sign: () => Promise.reject(new DOMException('Unrecognized name.', 'NotSupportedError')),
      verify: () => Promise.reject(new DOMException('Unrecognized name.', 'NotSupportedError')),
    };
    vi.stubGlobal('crypto', { subtle: unsupported });
    expect((await detectEd25519Backend()).name).toBe('noble');
  });

  it('falls back to noble when WebCrypto gives wrong answers', async () => {
    const wrongSignature = {
      importKey: subtle.importKey.bind(subtle),
      sign: async () => new Uint8Array(64).buffer,
      verify: subtle.verify.bind(subtle),
    };
    vi.stubGlobal('crypto', { subtle: wrongSignature });
    expect((await detectEd25519Backend()).name).toBe('noble');
    const acceptsEverything = {
      importKey: subtle.importKey.bind(subtle),
      sign: subtle.sign.bind(subtle),
      verify: async () => true,
    };
    vi.stubGlobal('crypto', { subtle: acceptsEverything });
    expect((await detectEd25519Backend()).name).toBe('noble');
  });
});

describe('cryptoRandom', () => {
  it('returns bytes of the requested length, beyond the 65,536-byte getRandomValues limit too', () => {
    const rng = cryptoRandom();
    for (const n of [0, 1, 32, 65_536, 65_537, 200_000]) expect(rng.bytes(n)).toHaveLength(n);
    const big = rng.bytes(200_000);
    // Each 64 KiB block was filled: no block is all zeros.
    for (let o = 0; o < big.length; o += 65_536) expect(big.subarray(o, o + 65_536).some((b) => b !== 0)).toBe(true);
    expect(bytesToHex(rng.bytes(32))).not.toBe(bytesToHex(rng.bytes(32)));
    expect(() => rng.bytes(-1)).toThrow('"length"');
    expect(() => rng.bytes(1.5)).toThrow('"length"');
  });

  it('float() is in [0, 1), uses the low bits, and looks uniform', () => {
    const rng = cryptoRandom();
    const n = 20_000;
    let sum = 0;
    let below = 0;
    let fineBits = 0;
    for (let i = 0; i < n; i++) {
      const x = rng.float();
      expect(x >= 0 && x < 1).toBe(true);
      sum += x;
      if (x < 0.25) below++;
      // With 53 random bits, x * 2^32 is almost never an integer; with 32 bits it always is.
      if (!Number.isInteger(x * 2 ** 32)) fineBits++;
    }
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.02);
    expect(Math.abs(below / n - 0.25)).toBeLessThan(0.02);
    expect(fineBits).toBeGreaterThan(n * 0.99);
  });

  it('float() spans the whole range given extreme random words', () => {
    vi.stubGlobal('crypto', {
      getRandomValues: <T extends ArrayBufferView>(a: T): T => {
        (a as unknown as Uint32Array).fill(0xffffffff);
        return a;
      },
    });
    try {
      expect(cryptoRandom().float()).toBe(1 - 2 ** -53);
    } finally {
      vi.unstubAllGlobals();
    }
    vi.stubGlobal('crypto', {
      getRandomValues: <T extends ArrayBufferView>(a: T): T => {
        (a as unknown as Uint32Array).fill(0);
        return a;
      },
    });
    try {
      expect(cryptoRandom().float()).toBe(0);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
