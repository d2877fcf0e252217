// Signed tree heads: the documented text layout, signature with domain separation, strict parsing.
import { describe, expect, it } from 'vitest';
import { bytesToHex, utf8Decode, utf8ToBytes } from '../../src/core/bytes.ts';
import { nobleEd25519 } from '../../src/core/crypto/ed25519.ts';
import { parseTreeHead, signTreeHead, verifyTreeHead, NO_PREVIOUS_HEAD, originOf } from '../../src/core/ledger/tree-head.ts';
import { signer } from './helpers.ts';

const root = new Uint8Array(32).fill(0xab);

describe('signed tree head', () => {
  it('has the documented layout and verifies', async () => {
    const s = await signer(1);
    const h = await signTreeHead({ size: 42, root, timeMs: 1_700_000_000_123, prevHash: NO_PREVIOUS_HEAD }, s);
    const lines = utf8Decode(h.bytes).split('\n');
    expect(lines[0]).toBe(`aegis.log/${bytesToHex(s.publicKey)}`);
    expect(lines[1]).toBe('42');
    expect(lines[2]).toBe('q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=');
    expect(lines[3]).toBe('aegis-v1 1700000000123 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=');
    expect(lines[4]).toBe('');
    expect(lines[5]).toMatch(new RegExp(`^— ${originOf(s.publicKey).replace('.', '\\.')} [A-Za-z0-9+/]{91}=$`));
    expect(lines.length).toBe(7);
    const v = await verifyTreeHead(h.bytes, nobleEd25519);
    expect(v.ok && v.value.size === 42 && v.value.timeMs === 1_700_000_000_123).toBe(true);
    // The next head names this one.
    const next = await signTreeHead({ size: 43, root, timeMs: 1_700_000_000_200, prevHash: h.hash }, s);
    const nv = parseTreeHead(next.bytes);
    expect(nv.ok && bytesToHex(nv.value.prevHash)).toBe(bytesToHex(h.hash));
  });

  it('rejects any changed byte (signature, body or strict layout)', async () => {
    const s = await signer(2);
    const h = await signTreeHead({ size: 7, root, timeMs: 5, prevHash: NO_PREVIOUS_HEAD }, s);
    for (let i = 0; i < h.bytes.length; i++) {
      for (const bit of [0, 3, 6]) {
        const b = h.bytes.slice();
        b[i] = (b[i] as number) ^ (1 << bit);
        expect((await verifyTreeHead(b, nobleEd25519)).ok, `byte ${i} bit ${bit}`).toBe(false);
      }
    }
  });

  it('refuses non-canonical text', async () => {
    const s = await signer(3);
    const text = utf8Decode((await signTreeHead({ size: 7, root, timeMs: 5, prevHash: NO_PREVIOUS_HEAD }, s)).bytes);
    for (const bad of [text.replace('\n7\n', '\n07\n'), text + '\n', text.slice(0, -1), text.replace('aegis-v1', 'aegis-v2'), text.replace('\n\n', '\n')])
      expect(parseTreeHead(utf8ToBytes(bad)).ok).toBe(false);
    // Another key's signature under this origin.
    const other = await signer(4);
    const forged = utf8Decode((await signTreeHead({ size: 7, root, timeMs: 5, prevHash: NO_PREVIOUS_HEAD }, other)).bytes);
    const mixed = text.split('\n').slice(0, 5).join('\n') + '\n' + forged.split('\n')[5]!.replace(originOf(other.publicKey), originOf(s.publicKey)) + '\n';
    expect((await verifyTreeHead(utf8ToBytes(mixed), nobleEd25519)).ok).toBe(false);
  });
});
