// ChaCha20-Poly1305 against RFC 8439 §2.8.2, against node:crypto (OpenSSL) on random inputs, and
// on tampering: open() returns null, never throws, for anything a peer could send.
import { createCipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '../../src/core/bytes.ts';
import { AEAD_TAG_BYTES, open, seal } from '../../src/core/crypto/aead.ts';

fc.configureGlobal({ ...fc.readConfigureGlobal(), defaultSizeToMaxWhenMaxSpecified: true });

interface Rfc8439AeadVector {
  name: string;
  key: string;
  nonce: string;
  aad: string;
  plaintextUtf8: string;
  ciphertext: string;
  tag: string;
}
const { vectors } = JSON.parse(
  readFileSync(new URL('../vectors/rfc8439-chacha20poly1305.json', import.meta.url), 'utf8'),
) as { vectors: Rfc8439AeadVector[] };
const v = vectors[0] as Rfc8439AeadVector;

const key32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const nonce12 = fc.uint8Array({ minLength: 12, maxLength: 12 });

function openssl(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): string {
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  cipher.setAAD(aad, { plaintextLength: plaintext.length });
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]).toString('hex');
}

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  out[bit >> 3] = (out[bit >> 3] as number) ^ (1 << (bit & 7));
  return out;
}

describe('RFC 8439 §2.8.2', () => {
  const key = hexToBytes(v.key);
  const nonce = hexToBytes(v.nonce);
  const aad = hexToBytes(v.aad);
  const plaintext = utf8ToBytes(v.plaintextUtf8);
  const sealed = hexToBytes(v.ciphertext + v.tag);

  it('seals to the published ciphertext and tag', () => {
    expect(plaintext).toHaveLength(114);
    expect(bytesToHex(seal(key, nonce, plaintext, aad))).toBe(v.ciphertext + v.tag);
    expect(openssl(key, nonce, plaintext, aad)).toBe(v.ciphertext + v.tag);
  });

  it('opens the published ciphertext, and refuses it with other AAD, nonce or key', () => {
    expect(bytesToHex(open(key, nonce, sealed, aad) as Uint8Array)).toBe(bytesToHex(plaintext));
    expect(open(key, nonce, sealed)).toBeNull();
    expect(open(key, nonce, sealed, aad.subarray(1))).toBeNull();
    expect(open(key, flipBit(nonce, 95), sealed, aad)).toBeNull();
    expect(open(flipBit(key, 0), nonce, sealed, aad)).toBeNull();
  });

  it('refuses every single-bit flip of ciphertext and tag', () => {
    const accepted: number[] = [];
    for (let bit = 0; bit < sealed.length * 8; bit++) if (open(key, nonce, flipBit(sealed, bit), aad) !== null) accepted.push(bit);
    expect(accepted).toEqual([]);
  });
});

describe('properties', () => {
  it('round-trips and matches node:crypto on random inputs', () => {
    fc.assert(
      fc.property(key32, nonce12, fc.uint8Array({ maxLength: 1000 }), fc.uint8Array({ maxLength: 64 }), (key, nonce, plaintext, aad) => {
        const sealed = seal(key, nonce, plaintext, aad);
        expect(sealed).toHaveLength(plaintext.length + AEAD_TAG_BYTES);
        expect(bytesToHex(sealed)).toBe(openssl(key, nonce, plaintext, aad));
        expect(bytesToHex(open(key, nonce, sealed, aad) as Uint8Array)).toBe(bytesToHex(plaintext));
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a random bit flip, truncation or extension', () => {
    fc.assert(
      fc.property(key32, nonce12, fc.uint8Array({ maxLength: 200 }), fc.nat(), fc.integer({ min: 1, max: 20 }), (key, nonce, plaintext, bitSeed, cut) => {
        const sealed = seal(key, nonce, plaintext);
        expect(open(key, nonce, flipBit(sealed, bitSeed % (sealed.length * 8)))).toBeNull();
        expect(open(key, nonce, sealed.subarray(0, Math.max(0, sealed.length - cut)))).toBeNull();
        expect(open(key, nonce, concatBytes(sealed, new Uint8Array(cut)))).toBeNull();
      }),
      { numRuns: 200 },
    );
  });

  it('open never throws on garbage: any sealed bytes, any nonce size, any AAD', () => {
    fc.assert(
      fc.property(key32, fc.uint8Array({ maxLength: 20 }), fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 40 }), (key, nonce, sealed, aad) => {
        expect(open(key, nonce, sealed, aad)).toBeNull();
      }),
      { numRuns: 2000 },
    );
    const key = new Uint8Array(32);
    for (const bad of [undefined, null, 'text', 42, {}]) {
      expect(open(key, bad as unknown as Uint8Array, new Uint8Array(32))).toBeNull();
      expect(open(key, new Uint8Array(12), bad as unknown as Uint8Array)).toBeNull();
    }
  });

  it('seals the empty message to a bare tag that opens', () => {
    const key = new Uint8Array(32).fill(1);
    const nonce = new Uint8Array(12);
    const sealed = seal(key, nonce, new Uint8Array(0));
    expect(sealed).toHaveLength(16);
    expect(open(key, nonce, sealed)).toEqual(new Uint8Array(0));
  });
});

describe('programmer errors', () => {
  it('seal throws naming the field; open throws only for a bad key', () => {
    const key = new Uint8Array(32);
    const nonce = new Uint8Array(12);
    expect(() => seal(new Uint8Array(16), nonce, new Uint8Array(1))).toThrow('"key" must be 32 bytes');
    expect(() => seal(key, new Uint8Array(24), new Uint8Array(1))).toThrow('"nonce" must be 12 bytes');
    expect(() => seal(key, nonce, 'hi' as unknown as Uint8Array)).toThrow('"plaintext"');
    expect(() => seal(key, nonce, new Uint8Array(1), [] as unknown as Uint8Array)).toThrow('"aad"');
    expect(() => open(new Uint8Array(31), nonce, new Uint8Array(16))).toThrow('"key" must be 32 bytes');
  });
});
