// verifyExportedLog runs its signature checks together (certificates' QCs while the log is hashed,
// receipts' QCs while the proofs are) and checks identical ones once, yet reports in the same
// order as a check one step after another.
import { beforeAll, describe, expect, it } from 'vitest';
import { nobleEd25519, type Verifier } from '../../src/core/crypto/ed25519.ts';
import { decodeCertificate, encodeCertificate } from '../../src/core/consensus/light-client.ts';
import { fromBase64, toBase64 } from '../../src/core/ledger/base64.ts';
import { decodeEntry } from '../../src/core/ledger/entry.ts';
import type { ExportedLog } from '../../src/core/ledger/export.ts';
import { verifyExportedLog } from '../../src/core/ledger/verify.ts';
import { simulateAuditLog, type AuditSimResult } from '../../src/sim/audit-sim.ts';

let sim: AuditSimResult;
let text: string;
beforeAll(async () => {
  sim = await simulateAuditLog({ entries: 40, seed: 9, headEvery: 10, setChangeEvery: 2 });
  text = JSON.stringify(sim.exported);
});

describe('verifyExportedLog, batched', () => {
  it('checks a QC shared by a receipt and a certificate once', async () => {
    let calls = 0;
    const counting: Verifier = { verify: (k, m, s) => (calls++, nobleEd25519.verify(k, m, s)) };
    const v = await verifyExportedLog(text, { verifier: counting });
    expect(v.failures).toEqual([]);
    expect(v.receiptsFullyChecked.length).toBe(sim.kinds.receipt);
    let receiptSignatures = 0;
    for (const e of sim.exported.entries) {
      const d = decodeEntry(fromBase64(e.leaf) as Uint8Array);
      if (d.ok && d.value.kind === 'receipt') receiptSignatures += d.value.qc.signatures.length;
    }
    const certificateSignatures = sim.certificates.reduce((n, c) => n + c.qc.signatures.length, 0);
    expect(certificateSignatures).toBeGreaterThan(0);
    // Every certificate here is a receipt's block: its QC is the receipt's, checked once.
    expect(calls).toBe(sim.exported.heads.length + sim.kinds['peer-head'] + receiptSignatures);
  });

  it('lists failures in step order whichever check finishes first', async () => {
    const doc = JSON.parse(text) as ExportedLog;
    // A certificate with a bad QC signature (found when the chain's signatures come back) and a
    // head that is not even a string (found at once): the certificates' step comes first.
    const certs = doc.certificates as string[];
    const c = decodeCertificate(fromBase64(certs[0] as string) as Uint8Array);
    if (!c.ok) throw new Error(c.error);
    const sigs = c.value.qc.signatures.map((s, i) => (i === 0 ? { ...s, signature: s.signature.map((b, j) => (j === 0 ? b ^ 1 : b)) } : s));
    certs[0] = toBase64(encodeCertificate({ ...c.value, qc: { ...c.value.qc, signatures: sigs } }));
    (doc.heads as unknown[])[1] = { note: 5 };
    const v = await verifyExportedLog(doc, { verifier: nobleEd25519 });
    expect(v.ok).toBe(false);
    const where = v.failures.map((f) => f.where);
    expect(v.failures[0]).toEqual({ where: 'log.certificates', reason: expect.stringMatching(/do not chain from genesis: height \d+: qc signature of index 0 invalid/) });
    expect(where).toContain('heads[1].note');
    expect(where.indexOf('heads[1].note')).toBeGreaterThan(0);
    // The heads' line before the entries' line, the certificates' verdict (refused: no line) first.
    const checked = v.checked.join('\n');
    expect(checked.indexOf('signed tree heads')).toBeLessThan(checked.indexOf('entries: position'));
    expect(checked.indexOf('entries: position')).toBeLessThan(checked.indexOf('receipts:'));
  });
});
