import { readFileSync } from 'node:fs';
import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { bytesEqual, bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '../../src/core/bytes.ts';
import { nobleEd25519, type Signer } from '../../src/core/crypto/ed25519.ts';
import {
  decodeEnvelope,
  DEFAULT_MAX_ENVELOPE_BYTES,
  ENVELOPE_DOMAIN,
  sealEnvelope,
  verifyEnvelope,
  type Envelope,
  type EnvelopeFields,
} from '../../src/core/net/envelope.ts';
import type { Result } from '../../src/core/result.ts';
import { webCryptoEd25519 } from '../../src/platform/webcrypto-ed25519.ts';

// Without this, fast-check's default size ('small') caps `maxLength: 300` at about 10 elements.
fc.configureGlobal({ ...fc.readConfigureGlobal(), defaultSizeToMaxWhenMaxSpecified: true });

interface EnvelopeFixture {
  name: string;
  type: number;
  sequence: number;
  recipient?: string;
  body: string;
  hex: string;
}
const fixture = JSON.parse(readFileSync(new URL('../vectors/envelope-v1.json', import.meta.url), 'utf8')) as {
  domain: string;
  secretKey: string;
  sender: string;
  envelopes: EnvelopeFixture[];
};

const webcrypto = webCryptoEd25519(globalThis.crypto.subtle);
const SECRET = hexToBytes('7f'.repeat(32));
const OTHER_SECRET = hexToBytes('3c'.repeat(32));
let signer: Signer;
let recipientKey: Uint8Array;

beforeAll(async () => {
  signer = await webcrypto.signer(SECRET);
  recipientKey = (await webcrypto.signer(OTHER_SECRET)).publicKey;
});

function isResult(r: Result<Envelope>): boolean {
  return r.ok ? r.value instanceof Object && r.value.bytes instanceof Uint8Array : typeof r.error === 'string' && r.error.length > 0;
}

async function sealed(body: Uint8Array, withRecipient: boolean, type = 1, sequence = 1_767_225_600_123_456): Promise<Envelope> {
  const fields: EnvelopeFields = { type, sender: signer.publicKey, sequence, body };
  if (withRecipient) fields.recipient = recipientKey;
  return sealEnvelope(fields, signer);
}

describe('seal → decode', () => {
  it('round-trips every field, with and without a recipient, and the signature verifies', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 0xffff }),
        fc.oneof(fc.maxSafeNat(), fc.constantFrom(0, 2 ** 32, Number.MAX_SAFE_INTEGER)),
        fc.uint8Array({ maxLength: 2000 }),
        fc.boolean(),
        async (type, sequence, body, withRecipient) => {
          const env = await sealed(body, withRecipient, type, sequence);
          const decoded = decodeEnvelope(env.bytes.slice());
          if (!decoded.ok) throw new Error(decoded.error);
          const d = decoded.value;
          expect(d.version).toBe(1);
          expect(d.type).toBe(type);
          expect(d.sequence).toBe(sequence);
          expect(bytesToHex(d.sender)).toBe(bytesToHex(signer.publicKey));
          expect(bytesToHex(d.body)).toBe(bytesToHex(body));
          if (withRecipient) expect(bytesToHex(d.recipient as Uint8Array)).toBe(bytesToHex(recipientKey));
          else expect('recipient' in d).toBe(false);
          // Exact framing: header, optional recipient, length-prefixed body, 64-byte signature.
          const headerBytes = 44 + (withRecipient ? 32 : 0) + 4;
          expect(d.bytes.length).toBe(headerBytes + body.length + 64);
          expect(bytesToHex(d.bytes)).toBe(bytesToHex(env.bytes));
          expect(bytesToHex(d.signedBytes)).toBe(bytesToHex(env.bytes.subarray(0, env.bytes.length - 64)));
          expect(bytesToHex(d.signature)).toBe(bytesToHex(env.bytes.subarray(env.bytes.length - 64)));
          expect(d.bytes[3]).toBe(withRecipient ? 1 : 0);
          expect(await verifyEnvelope(d, webcrypto)).toBe(true);
          expect(await verifyEnvelope(d, nobleEd25519)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('decodes from a view into a larger buffer', async () => {
    const env = await sealed(utf8ToBytes('offset'), true);
    const host = new Uint8Array(env.bytes.length + 13).fill(0xaa);
    host.set(env.bytes, 5);
    const decoded = decodeEnvelope(host.subarray(5, 5 + env.bytes.length));
    if (!decoded.ok) throw new Error(decoded.error);
    expect(decoded.value.sequence).toBe(env.sequence);
    expect(await verifyEnvelope(decoded.value, webcrypto)).toBe(true);
  });

  it('signs under the domain tag, so the bare bytes do not verify', async () => {
    const env = await sealed(utf8ToBytes('domain'), false);
    expect(bytesToHex(ENVELOPE_DOMAIN)).toBe(bytesToHex(concatBytes(utf8ToBytes('aegis/envelope/v1'), new Uint8Array([0]))));
    expect(await webcrypto.verify(env.sender, env.signedBytes, env.signature)).toBe(false);
    expect(await webcrypto.verify(env.sender, concatBytes(ENVELOPE_DOMAIN, env.signedBytes), env.signature)).toBe(true);
  });

  it('a sender field that is not the signer’s key does not verify', async () => {
    const env = await sealEnvelope({ type: 1, sender: recipientKey, sequence: 1, body: new Uint8Array(3) }, signer);
    expect(decodeEnvelope(env.bytes).ok).toBe(true);
    expect(await verifyEnvelope(env, webcrypto)).toBe(false);
  });

  it('throws, naming the field, on programmer mistakes', async () => {
    const base = { type: 1, sender: new Uint8Array(32), sequence: 1, body: new Uint8Array(0) };
    await expect(sealEnvelope({ ...base, sender: new Uint8Array(31) }, signer)).rejects.toThrow('"sender" must be 32 bytes');
    await expect(sealEnvelope({ ...base, recipient: new Uint8Array(33) }, signer)).rejects.toThrow('"recipient" must be 32 bytes');
    for (const type of [-1, 0x10000, 1.5, Number.NaN])
      await expect(sealEnvelope({ ...base, type }, signer)).rejects.toThrow('"type" must be a u16');
    for (const sequence of [-1, 2 ** 53, 0.5])
      await expect(sealEnvelope({ ...base, sequence }, signer)).rejects.toThrow('"u64"');
  });
});

describe('decoder robustness', () => {
  it('never throws on 100,000 random byte strings', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => isResult(decodeEnvelope(bytes))),
      { numRuns: 100_000 },
    );
  });

  it('never throws on random bytes behind a plausible v1 header', () => {
    fc.assert(
      fc.property(fc.nat(0xffff), fc.constantFrom(0, 1), fc.uint8Array({ maxLength: 300 }), (type, flags, rest) =>
        isResult(decodeEnvelope(concatBytes(new Uint8Array([1, type >> 8, type & 0xff, flags]), rest))),
      ),
      { numRuns: 20_000 },
    );
  });

  it('never throws on mutations of a valid envelope, and no mutation that decodes verifies', async () => {
    const base = await sealed(new Uint8Array(40).map((_, i) => i), true);
    type Mutation =
      | { kind: 'truncate'; at: number }
      | { kind: 'extend'; bytes: Uint8Array }
      | { kind: 'set'; at: number; value: number }
      | { kind: 'insert'; at: number; bytes: Uint8Array }
      | { kind: 'delete'; at: number; count: number };
    const mutation: fc.Arbitrary<Mutation> = fc.oneof(
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(base.bytes.length) }),
      fc.record({ kind: fc.constant('extend' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 70 }) }),
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(base.bytes.length - 1), value: fc.nat(255) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(base.bytes.length), bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(base.bytes.length - 1), count: fc.integer({ min: 1, max: 40 }) }),
    );
    const apply = (bytes: Uint8Array, m: Mutation): Uint8Array => {
      switch (m.kind) {
        case 'truncate':
          return bytes.slice(0, m.at);
        case 'extend':
          return concatBytes(bytes, m.bytes);
        case 'set': {
          const out = bytes.slice();
          if (m.at < out.length) out[m.at] = m.value;
          return out;
        }
        case 'insert':
          return concatBytes(bytes.subarray(0, m.at), m.bytes, bytes.subarray(m.at));
        case 'delete':
          return concatBytes(bytes.subarray(0, m.at), bytes.subarray(m.at + m.count));
      }
    };
    const decodedMutants = new Map<string, Envelope>();
    let okCount = 0;
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (ms) => {
        const bytes = ms.reduce(apply, base.bytes);
        const r = decodeEnvelope(bytes);
        if (!isResult(r)) return false;
        if (r.ok && !bytesEqual(bytes, base.bytes)) {
          okCount++;
          if (decodedMutants.size < 3000) decodedMutants.set(bytesToHex(bytes), r.value);
        }
        return true;
      }),
      { numRuns: 30_000 },
    );
    // Byte changes inside fixed-size fields keep the structure valid; those must all fail verification.
    expect(okCount).toBeGreaterThan(1000);
    const verified = await Promise.all([...decodedMutants.values()].map((env) => verifyEnvelope(env, webcrypto)));
    expect(verified.filter(Boolean)).toHaveLength(0);
  });

  it('rejects every single-bit flip of a signed envelope', async () => {
    for (const withRecipient of [true, false]) {
      const env = await sealed(new Uint8Array(40).map((_, i) => 255 - i), withRecipient);
      expect(await verifyEnvelope(env, webcrypto)).toBe(true);
      const r = withRecipient ? 32 : 0;
      // Byte ranges from the v1 layout in envelope.ts.
      const regionOf = (byte: number): string => {
        if (byte === 0) return 'version';
        if (byte < 3) return 'type';
        if (byte === 3) return 'flags';
        if (byte < 36) return 'sender';
        if (byte < 44) return 'sequence';
        if (byte < 44 + r) return 'recipient';
        if (byte < 48 + r) return 'body length';
        if (byte < 88 + r) return 'body';
        return 'signature';
      };
      const bits = env.bytes.length * 8;
      expect(bits).toBe((withRecipient ? 184 : 152) * 8);
      const failures: string[] = [];
      const checks = Array.from({ length: bits }, async (_, bit) => {
        const flipped = env.bytes.slice();
        flipped[bit >> 3] = (flipped[bit >> 3] as number) ^ (1 << (bit & 7));
        const region = regionOf(bit >> 3);
        const d = decodeEnvelope(flipped);
        if (region === 'version' || region === 'flags' || region === 'body length') {
          if (d.ok) failures.push(`${region} bit ${bit}: decoded`);
          return;
        }
        if (!d.ok) {
          // Only a sequence pushed to 2^53 or beyond may fail structurally.
          if (!(region === 'sequence' && d.error.includes('exceeds 2^53'))) failures.push(`${region} bit ${bit}: ${d.error}`);
          return;
        }
        if (await verifyEnvelope(d.value, webcrypto)) failures.push(`${region} bit ${bit}: verified`);
      });
      await Promise.all(checks);
      expect(failures).toEqual([]);
    }
  });

  it('rejects oversize input with an "oversize" error before parsing', async () => {
    const env = await sealed(new Uint8Array(100), false);
    expect(decodeEnvelope(env.bytes, env.bytes.length).ok).toBe(true);
    const small = decodeEnvelope(env.bytes, env.bytes.length - 1);
    expect(small.ok).toBe(false);
    if (!small.ok) expect(small.error).toMatch(/^oversize: /);
    const huge = decodeEnvelope(new Uint8Array(DEFAULT_MAX_ENVELOPE_BYTES + 1));
    expect(huge.ok).toBe(false);
    if (!huge.ok) expect(huge.error).toMatch(/^oversize: /);
    // Exactly at the limit it is parsed (and fails for another reason: version 0).
    const atLimit = decodeEnvelope(new Uint8Array(DEFAULT_MAX_ENVELOPE_BYTES));
    expect(atLimit.ok).toBe(false);
    if (!atLimit.ok) expect(atLimit.error).toMatch(/unsupported version 0/);
  });

  it('rejects unknown versions and flags', async () => {
    const env = await sealed(utf8ToBytes('v'), false);
    for (const version of [0, 2, 0x81, 0xff]) {
      const b = env.bytes.slice();
      b[0] = version;
      const d = decodeEnvelope(b);
      expect(d.ok).toBe(false);
      if (!d.ok) expect(d.error).toContain(`unsupported version ${version}`);
    }
    for (const flags of [0x02, 0x03, 0x04, 0x80, 0xff]) {
      const b = env.bytes.slice();
      b[3] = flags;
      const d = decodeEnvelope(b);
      expect(d.ok).toBe(false);
      if (!d.ok) expect(d.error).toContain(`unknown flags 0x${flags.toString(16)}`);
    }
  });

  it('rejects trailing bytes, a missing signature byte, a lying body length and non-bytes', async () => {
    const env = await sealed(utf8ToBytes('strict'), true);
    const trailing = decodeEnvelope(concatBytes(env.bytes, new Uint8Array([0])));
    expect(trailing.ok === false && trailing.error).toMatch(/trailing/);
    const short = decodeEnvelope(env.bytes.subarray(0, env.bytes.length - 1));
    expect(short.ok === false && short.error).toMatch(/^truncated: signature/);
    const lying = env.bytes.slice();
    new DataView(lying.buffer).setUint32(76, 0xffffffff);
    const l = decodeEnvelope(lying);
    expect(l.ok === false && l.error).toMatch(/body/);
    expect(decodeEnvelope('not bytes' as unknown as Uint8Array)).toEqual({ ok: false, error: 'not bytes' });
  });
});

describe('wire-format v1 compatibility fixture', () => {
  let fixtureSigner: Signer;
  beforeAll(async () => {
    fixtureSigner = await nobleEd25519.signer(hexToBytes(fixture.secretKey));
  });

  it('the fixture key is what it claims', () => {
    expect(bytesToHex(fixtureSigner.publicKey)).toBe(fixture.sender);
    expect(bytesToHex(ENVELOPE_DOMAIN)).toBe(bytesToHex(concatBytes(utf8ToBytes(fixture.domain), new Uint8Array([0]))));
  });

  it.each(fixture.envelopes.map((e) => [e.name, e] as const))('%s: the encoder still produces exactly these bytes', async (_, e) => {
    const fields: EnvelopeFields = { type: e.type, sender: fixtureSigner.publicKey, sequence: e.sequence, body: hexToBytes(e.body) };
    if (e.recipient !== undefined) fields.recipient = hexToBytes(e.recipient);
    for (const s of [fixtureSigner, await webcrypto.signer(hexToBytes(fixture.secretKey))]) {
      const env = await sealEnvelope(fields, s);
      expect(bytesToHex(env.bytes)).toBe(e.hex);
    }
  });

  it.each(fixture.envelopes.map((e) => [e.name, e] as const))('%s: matches the documented layout, independently assembled', (_, e) => {
    const body = hexToBytes(e.body);
    const signedHex =
      '01' +
      e.type.toString(16).padStart(4, '0') +
      (e.recipient !== undefined ? '01' : '00') +
      fixture.sender +
      e.sequence.toString(16).padStart(16, '0') +
      (e.recipient ?? '') +
      body.length.toString(16).padStart(8, '0') +
      e.body;
    expect(e.hex.slice(0, signedHex.length)).toBe(signedHex);
    expect(e.hex.length).toBe(signedHex.length + 128);
    const signature = hexToBytes(e.hex.slice(signedHex.length));
    const signed = concatBytes(utf8ToBytes(fixture.domain), new Uint8Array([0]), hexToBytes(signedHex));
    expect(ed25519.verify(signature, signed, hexToBytes(fixture.sender))).toBe(true);
  });

  it.each(fixture.envelopes.map((e) => [e.name, e] as const))('%s: the decoder still reads it and it verifies', async (_, e) => {
    const d = decodeEnvelope(hexToBytes(e.hex));
    if (!d.ok) throw new Error(d.error);
    expect(d.value.version).toBe(1);
    expect(d.value.type).toBe(e.type);
    expect(d.value.sequence).toBe(e.sequence);
    expect(bytesToHex(d.value.sender)).toBe(fixture.sender);
    expect(d.value.recipient === undefined ? undefined : bytesToHex(d.value.recipient)).toBe(e.recipient);
    expect(bytesToHex(d.value.body)).toBe(e.body);
    expect(await verifyEnvelope(d.value, nobleEd25519)).toBe(true);
    expect(await verifyEnvelope(d.value, webcrypto)).toBe(true);
  });
});
