// Verifying exported logs: a simulated node's export verifies; flipping any bit (sampled over every
// field), dropping, reordering or inserting an entry fails, naming why; receipts' QCs through a
// pluggable check; one entry and append-only-ness on their own.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyQuorumCertificate } from '../../src/core/consensus/qc.ts';
import { nobleEd25519 } from '../../src/core/crypto/ed25519.ts';
import { decodeCertificate, encodeCertificate, type SetChangeCertificate } from '../../src/core/consensus/light-client.ts';
import { fromBase64, toBase64 } from '../../src/core/ledger/base64.ts';
import { decodeEntry, encodeEntry } from '../../src/core/ledger/entry.ts';
import type { ExportedLog } from '../../src/core/ledger/export.ts';
import { abbreviatedList, verifyAppendOnly, verifyEntryProof, verifyExportedLog, type Verdict } from '../../src/core/ledger/verify.ts';
import { simulateAuditLog, type AuditSimResult } from '../../src/sim/audit-sim.ts';
import { cachingVerifier } from '../../src/sim/secagg-round.ts';
import { fieldCoveringPositions, jsonFieldSpans } from './json-fields.ts';

let sim: AuditSimResult;
let text: string;
const verifier = nobleEd25519;
const clone = (): ExportedLog => JSON.parse(text) as ExportedLog;
const why = (v: Verdict): string => v.failures.map((f) => `${f.where}: ${f.reason}`).join('; ');

beforeAll(async () => {
  sim = await simulateAuditLog({ entries: 26, seed: 7, headEvery: 5 });
  text = JSON.stringify(sim.exported, null, 2);
});

describe('verifyExportedLog', () => {
  it('accepts an honest export and says what it checked', async () => {
    const v = await verifyExportedLog(text, { verifier });
    expect(v.failures).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.entries).toBe(26);
    expect(v.heads).toBe(6);
    // The export carries genesis and certificates: receipts' QCs check offline, each receipt in full.
    expect(v.receiptQcs).toBe('checked');
    expect(v.receiptsFullyChecked.length).toBe(sim.kinds.receipt);
    expect(v.genesisHash).toMatch(/^[0-9a-f]{64}$/);
    expect(v.checked.join('\n')).toMatch(/26 inclusion proofs/);
    expect(v.checked.join('\n')).toMatch(/5 consistency proofs/);
    expect(v.checked.join('\n')).toMatch(/set-change certificates \(light client\)/);
    // Without them, the verdict says the QCs went unchecked.
    const bare: Partial<ExportedLog> = { ...sim.exported };
    delete bare.genesis;
    delete bare.certificates;
    const w = await verifyExportedLog(JSON.stringify(bare), { verifier });
    expect(w.ok).toBe(true);
    expect(w.receiptQcs).toBe('not-checked');
    expect(w.receiptsFullyChecked).toEqual([]);
    expect(w.checked.join('\n')).toMatch(/NOT checked/);
    expect(Object.values(sim.kinds).every((n) => n > 0)).toBe(true);
  });

  it('checks receipts’ QCs with a pluggable check, and reports a bad one', async () => {
    const check = (r: Parameters<NonNullable<Parameters<typeof verifyExportedLog>[1]['checkReceiptQc']>>[0]) =>
      verifyQuorumCertificate(r.qc, sim.validatorSet, sim.chainId, verifier);
    const v = await verifyExportedLog(text, { verifier, checkReceiptQc: check });
    expect(v.ok, why(v)).toBe(true);
    expect(v.receiptQcs).toBe('checked');
    const wrongChain = await verifyExportedLog(text, { verifier, checkReceiptQc: (r) => verifyQuorumCertificate(r.qc, sim.validatorSet, 'other-chain', verifier) });
    expect(wrongChain.ok).toBe(false);
    expect(wrongChain.failures[0]?.where).toMatch(/^entries\[\d+\]\.leaf\.qc$/);
  });

  it('checks receipts offline through the export\'s genesis and certificates; a forged or missing certificate fails', async () => {
    const changing = await simulateAuditLog({ entries: 68, seed: 11, headEvery: 10, setChangeEvery: 2 });
    // 11 receipts, a set change at every 2nd: the last receipt is decided by the last certificate's set.
    expect(changing.certificates.length).toBe(5);
    const good = await verifyExportedLog(changing.exported, { verifier });
    expect(good.failures).toEqual([]);
    expect(good.receiptQcs).toBe('checked');
    expect(good.receiptsFullyChecked.length).toBe(changing.kinds.receipt);
    const edit = (f: (d: ExportedLog) => void): ExportedLog => {
      const d = structuredClone(changing.exported);
      f(d);
      return d;
    };
    const recode = (i: number, f: (c: SetChangeCertificate) => SetChangeCertificate) => (d: ExportedLog) => {
      const c = decodeCertificate(fromBase64(d.certificates![i]!)!);
      if (!c.ok) throw new Error(c.error);
      d.certificates![i] = toBase64(encodeCertificate(f(c.value)));
    };
    const cases: [string, ExportedLog, RegExp][] = [
      ['a certificate installing other powers', edit(recode(1, (c) => ({ ...c, nextValidators: c.nextValidators.map((v) => ({ ...v, power: v.power + 1 })) }))), /log\.certificates: do not chain from genesis: .*next validators do not match/],
      [
        'a certificate with a forged signature',
        edit(recode(0, (c) => ({ ...c, qc: { ...c.qc, signatures: c.qc.signatures.map((x, k) => (k === 0 ? { ...x, signature: x.signature.map((y, j) => (j === 0 ? y ^ 1 : y)) } : x)) } }))),
        /log\.certificates: do not chain from genesis/,
      ],
      ['a dropped first certificate', edit((d) => d.certificates!.shift()), /log\.certificates: do not chain from genesis/],
      // A receipt's own set must hash to its header's (the QC's indices point into it).
      [
        "a receipt's set with another power",
        edit((d) => {
          const i = d.entries.findIndex((e) => e.kind === 'receipt');
          const e = decodeEntry(fromBase64(d.entries[i]!.leaf)!);
          if (!e.ok || e.value.kind !== 'receipt') throw new Error('not a receipt');
          const b = e.value.block!;
          const leaf = encodeEntry({ ...e.value, block: { ...b, validators: b.validators.map((v, k) => (k === 0 ? { ...v, power: v.power + 1 } : v)) } });
          d.entries[i]!.leaf = toBase64(leaf);
        }),
        /entries\[\d+\]\.leaf\.qc: quorum certificate: validators: the receipt's set is not the header's/,
      ],
      ['not base64', edit((d) => (d.certificates![0] = '!')), /log\.certificates\[0\]: must be base64/],
      ['another genesis', edit((d) => (d.genesis = toBase64(new Uint8Array(10)))), /log\.genesis: does not decode/],
    ];
    for (const [what, doc, want] of cases) {
      const v = await verifyExportedLog(doc, { verifier });
      expect(v.ok, what).toBe(false);
      expect(v.failures.map((f) => `${f.where}: ${f.reason}`).join('\n'), what).toMatch(want);
    }
  });

  it('fails on any flipped bit: sampled, covering every field (every byte with AEGIS_LONG=1)', async () => {
    // Sampled by default (one verification is ~9 ms; every byte of the ~33 KB file is ~5 min, the
    // AEGIS_LONG mode). The sample covers every field: every byte of the first instance of each
    // field path (a long value's first and last 24 bytes), one byte of every other key and value,
    // every byte of one entry and one head, and every 13th byte for the middles of long values.
    // Most flips leave the signatures alone: remembering verdicts keeps this fast.
    const cached = cachingVerifier(verifier);
    const stride = process.env['AEGIS_LONG'] ? 1 : 13;
    const bytes = new TextEncoder().encode(text);
    const decoder = new TextDecoder();
    const positions = fieldCoveringPositions(text);
    const spans = jsonFieldSpans(text);
    expect(new Set(spans.map((f) => f.path)).size).toBeGreaterThan(30);
    for (const f of spans) expect([...positions].some((p) => p >= f.start && p < f.end), `no flip in ${f.path} at ${f.start}`).toBe(true);
    for (let i = 0; i < bytes.length; i += stride) positions.add(i);
    const entryAt = text.indexOf('"index": 3');
    for (let i = entryAt - 10; i < entryAt + 900; i++) positions.add(i);
    const headAt = text.indexOf('"note"');
    for (let i = headAt; i < headAt + 400; i++) positions.add(i);
    const honestGenesis = (await verifyExportedLog(text, { verifier: cached })).genesisHash;
    let checked = 0;
    for (const i of positions) {
      const bit = i % 8;
      const b = bytes.slice();
      b[i] = (b[i] as number) ^ (1 << bit);
      const v = await verifyExportedLog(decoder.decode(b), { verifier: cached });
      // Genesis is the trust root, taken as given: a flip there that still chains must change its hash.
      if (v.ok && v.genesisHash !== undefined && v.genesisHash !== honestGenesis) continue;
      expect(v.ok, `byte ${i} ('${text[i]}') bit ${bit} went unnoticed`).toBe(false);
      expect(v.failures.length).toBeGreaterThan(0);
      checked++;
    }
    expect(checked).toBeGreaterThan(bytes.length / stride);
  }, 120_000);

  it('names what a targeted change broke', async () => {
    const cases: [string, (d: ExportedLog) => void, RegExp][] = [
      ['drop an entry', (d) => d.entries.splice(4, 1), /entries\[4\]\.index|log\.entries/],
      ['drop the last entry', (d) => d.entries.pop(), /log\.entries/],
      ['reorder two entries', (d) => d.entries.splice(2, 2, d.entries[3]!, d.entries[2]!), /entries\[2\]\.index/],
      ['insert a copy', (d) => d.entries.splice(5, 0, d.entries[5]!), /log\.entries/],
      ['change a leaf', (d) => (d.entries[1]!.leaf = d.entries[2]!.leaf), /entries\[1\]/],
      ['drop a head', (d) => d.heads.splice(2, 1), /heads\[2\]\.note|log\.consistency/],
      ['swap heads', (d) => d.heads.reverse(), /heads\[\d\]\.note/],
      ['drop a consistency proof', (d) => d.consistency.pop(), /log\.consistency/],
      ['change a proof hash', (d) => (d.entries[0]!.inclusion.proof[0] = d.entries[0]!.inclusion.proof[1]!), /entries\[0\]\.inclusion\.proof/],
      ['extra field', (d) => Object.assign(d.entries[0]!, { note: 1 }), /entries\[0\]\.note: unknown field/],
      ['missing field', (d) => delete (d as Partial<ExportedLog>).consistency, /log\.consistency: missing/],
      ['wrong kind label', (d) => (d.entries[0]!.kind = 'vote'), /entries\[0\]\.kind/],
    ];
    for (const [name, mutate, where] of cases) {
      const d = clone();
      mutate(d);
      const v = await verifyExportedLog(JSON.stringify(d), { verifier });
      expect(v.ok, name).toBe(false);
      expect(why(v), name).toMatch(where);
    }
    expect((await verifyExportedLog('{"format":', { verifier })).failures[0]?.where).toBe('file');
  });

  it('random drops, duplicates and swaps of entries always fail', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(25), fc.nat(25), fc.constantFrom('drop', 'dup', 'swap'), async (i, j, op) => {
        const d = clone();
        if (op === 'drop') d.entries.splice(i, 1);
        else if (op === 'dup') d.entries.splice(i, 0, structuredClone(d.entries[j]!));
        else {
          if (i === j) return;
          [d.entries[i], d.entries[j]] = [d.entries[j]!, d.entries[i]!];
        }
        const v = await verifyExportedLog(d, { verifier });
        expect(v.ok).toBe(false);
      }),
      { numRuns: 40 },
    );
  });
});

describe('verifyEntryProof and verifyAppendOnly', () => {
  it('one entry under the latest head', async () => {
    const d = clone();
    const head = d.heads[d.heads.length - 1]!.note;
    const e = d.entries[11]!;
    expect((await verifyEntryProof({ leaf: e.leaf, inclusion: e.inclusion, head }, { verifier })).ok).toBe(true);
    const other = d.entries[12]!;
    const bad = await verifyEntryProof({ leaf: other.leaf, inclusion: e.inclusion, head }, { verifier });
    expect(bad.ok).toBe(false);
    expect(why(bad)).toMatch(/inclusion\.leafHash/);
    expect((await verifyEntryProof({ leaf: e.leaf, inclusion: e.inclusion, head: d.heads[0]!.note }, { verifier })).ok).toBe(false);
  });

  it('append-only between two heads', async () => {
    const d = clone();
    const c = d.consistency[1]!;
    expect((await verifyAppendOnly({ head1: d.heads[1]!.note, head2: d.heads[2]!.note, consistency: c }, { verifier })).ok).toBe(true);
    const v = await verifyAppendOnly({ head1: d.heads[1]!.note, head2: d.heads[3]!.note, consistency: c }, { verifier });
    expect(v.ok).toBe(false);
    expect(why(v)).toMatch(/consistency/);
  });
});

describe('abbreviatedList', () => {
  it('lists up to 20 indices, then counts the rest', () => {
    expect(abbreviatedList([])).toBe('');
    expect(abbreviatedList([3, 5, 8])).toBe('3, 5, 8');
    const range = (n: number) => Array.from({ length: n }, (_, i) => i);
    expect(abbreviatedList(range(20))).toBe(range(20).join(', '));
    expect(abbreviatedList(range(25))).toBe(`${range(20).join(', ')}, … (5 more)`);
  });
});
