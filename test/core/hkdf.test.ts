// HKDF-SHA256 against RFC 5869 Appendix A.1-A.3 and, on random inputs, against node:crypto (OpenSSL).
import { hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes, utf8ToBytes } from '../../src/core/bytes.ts';
import {
  deriveKey,
  HKDF_SHA256_MAX_OUTPUT_BYTES,
  hkdfExpand,
  hkdfExtract,
  hkdfSha256,
} from '../../src/core/crypto/hkdf.ts';

fc.configureGlobal({ ...fc.readConfigureGlobal(), defaultSizeToMaxWhenMaxSpecified: true });

interface Rfc5869Vector {
  name: string;
  ikm: string;
  salt: string;
  info: string;
  length: number;
  prk: string;
  okm: string;
}
const { vectors } = JSON.parse(readFileSync(new URL('../vectors/rfc5869-hkdf.json', import.meta.url), 'utf8')) as {
  vectors: Rfc5869Vector[];
};

function openssl(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): string {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, length)).toString('hex');
}

describe('RFC 5869 Appendix A (SHA-256)', () => {
  it('holds test cases 1-3', () => {
    expect(vectors.map((v) => v.name)).toEqual(['A.1 Test Case 1', 'A.2 Test Case 2', 'A.3 Test Case 3']);
    expect(vectors.map((v) => v.okm.length / 2)).toEqual(vectors.map((v) => v.length));
  });

  it.each(vectors.map((v) => [v.name, v] as const))('%s: PRK, OKM, and the one-step form', (_, v) => {
    const ikm = hexToBytes(v.ikm);
    const salt = hexToBytes(v.salt);
    const info = hexToBytes(v.info);
    const prk = hkdfExtract(ikm, salt);
    expect(bytesToHex(prk)).toBe(v.prk);
    expect(bytesToHex(hkdfExpand(prk, info, v.length))).toBe(v.okm);
    expect(bytesToHex(hkdfSha256(ikm, salt, info, v.length))).toBe(v.okm);
    expect(openssl(ikm, salt, info, v.length)).toBe(v.okm);
  });

  it('A.3: a missing salt is the same as an empty one (section 2.2)', () => {
    const v = vectors[2] as Rfc5869Vector;
    expect(bytesToHex(hkdfExtract(hexToBytes(v.ikm)))).toBe(v.prk);
    expect(bytesToHex(hkdfSha256(hexToBytes(v.ikm), undefined, new Uint8Array(0), v.length))).toBe(v.okm);
    expect(bytesToHex(hkdfSha256(hexToBytes(v.ikm), new Uint8Array(32), new Uint8Array(0), v.length))).toBe(v.okm);
  });
});

describe('deriveKey', () => {
  it('is HKDF-SHA256 with the UTF-8 label as info', () => {
    const ikm = hexToBytes((vectors[0] as Rfc5869Vector).ikm);
    const salt = hexToBytes((vectors[0] as Rfc5869Vector).salt);
    for (const label of ['aegis/prg/aes-ctr/v1', '', 'ünïcödé/✓'])
      expect(bytesToHex(deriveKey(ikm, salt, label, 32))).toBe(bytesToHex(hkdfSha256(ikm, salt, utf8ToBytes(label), 32)));
    expect(bytesToHex(deriveKey(ikm, undefined, 'a', 32))).not.toBe(bytesToHex(deriveKey(ikm, undefined, 'b', 32)));
  });

  it('agrees with node:crypto on random inputs, and shorter outputs are prefixes of longer ones', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.uint8Array({ maxLength: 100 }),
        fc.string({ maxLength: 60 }),
        fc.integer({ min: 1, max: HKDF_SHA256_MAX_OUTPUT_BYTES }),
        (ikm, salt, label, length) => {
          const okm = deriveKey(ikm, salt, label, length);
          expect(okm).toHaveLength(length);
          expect(bytesToHex(okm)).toBe(openssl(ikm, salt, utf8ToBytes(label), length));
          const shorter = Math.max(1, length >> 1);
          expect(bytesToHex(deriveKey(ikm, salt, label, shorter))).toBe(bytesToHex(okm.subarray(0, shorter)));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('throws, naming the field, on invalid arguments', () => {
    const ikm = new Uint8Array(32);
    for (const length of [0, -1, 1.5, HKDF_SHA256_MAX_OUTPUT_BYTES + 1, Number.NaN])
      expect(() => deriveKey(ikm, undefined, 'x', length), String(length)).toThrow('"length"');
    expect(deriveKey(ikm, undefined, 'x', HKDF_SHA256_MAX_OUTPUT_BYTES)).toHaveLength(8160);
    expect(() => deriveKey('secret' as unknown as Uint8Array, undefined, 'x', 32)).toThrow('"ikm"');
    expect(() => deriveKey(ikm, 'salt' as unknown as Uint8Array, 'x', 32)).toThrow('"salt"');
    expect(() => deriveKey(ikm, undefined, 7 as unknown as string, 32)).toThrow('"info"');
    expect(() => hkdfExpand(new Uint8Array(31), new Uint8Array(0), 32)).toThrow('"prk" must be at least 32 bytes');
  });
});
