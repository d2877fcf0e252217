// The light client's chain of certificates checks every QC's signatures together (one batch) and
// still names the first failure in certificate order; validator sets built once per content.
import { beforeAll, describe, expect, it } from 'vitest';
import { followSetChanges, verifySetChanges, type SetChangeCertificate } from '../../src/core/consensus/light-client.ts';
import type { Validator } from '../../src/core/consensus/types.ts';
import { validatorSetCache } from '../../src/core/consensus/validator-set-cache.ts';
import { tryMakeValidatorSet } from '../../src/core/consensus/validator-set.ts';
import { nobleEd25519, type Verifier } from '../../src/core/crypto/ed25519.ts';
import { simulateAuditLog, type AuditSimResult } from '../../src/sim/audit-sim.ts';

let sim: AuditSimResult;
beforeAll(async () => {
  sim = await simulateAuditLog({ entries: 60, seed: 3, headEvery: 10, setChangeEvery: 1 });
});

const flipSignature = (c: SetChangeCertificate): SetChangeCertificate => ({
  ...c,
  qc: { ...c.qc, signatures: c.qc.signatures.map((s, i) => (i === 0 ? { ...s, signature: s.signature.map((b, j) => (j === 5 ? b ^ 1 : b)) } : s)) },
});
const badNext = (c: SetChangeCertificate): SetChangeCertificate => ({
  ...c,
  nextValidators: c.nextValidators.map((v, i) => (i === 0 ? { ...v, power: v.power + 1 } : v)),
});

describe('followSetChanges', () => {
  it('follows the chain to the last set, asking for every QC signature before any answer arrives', async () => {
    expect(sim.certificates.length).toBeGreaterThanOrEqual(5);
    let asked = 0;
    let askedWhenFirstAnswered = -1;
    const slow: Verifier = {
      async verify(k, m, s) {
        asked++;
        await new Promise((r) => setTimeout(r, 0));
        if (askedWhenFirstAnswered < 0) askedWhenFirstAnswered = asked;
        return nobleEd25519.verify(k, m, s);
      },
    };
    const all = await followSetChanges(sim.genesis, sim.certificates, slow);
    if (!all.ok) throw new Error(all.error);
    const signatures = sim.certificates.reduce((n, c) => n + c.qc.signatures.length, 0);
    expect(asked).toBe(signatures);
    expect(askedWhenFirstAnswered).toBe(signatures);
    expect(all.value.length).toBe(sim.certificates.length + 1);
    const last = sim.certificates[sim.certificates.length - 1] as SetChangeCertificate;
    expect(all.value[all.value.length - 1]?.set.hash).toEqual(last.header.nextValidatorsHash);
    const current = await verifySetChanges(sim.genesis, sim.certificates, nobleEd25519);
    expect(current.ok && current.value.set.hash).toEqual(last.header.nextValidatorsHash);
  });

  it('names the first failure in certificate order, a bad signature before a later broken set', async () => {
    const certs = sim.certificates.slice();
    certs[1] = flipSignature(certs[1] as SetChangeCertificate);
    certs[3] = badNext(certs[3] as SetChangeCertificate);
    const h1 = (certs[1] as SetChangeCertificate).header.height;
    const h3 = (certs[3] as SetChangeCertificate).header.height;
    const both = await verifySetChanges(sim.genesis, certs, nobleEd25519);
    expect(both.ok ? '' : both.error).toBe(`height ${h1}: qc signature of index 0 invalid`);
    // The broken set alone, and a bad signature in the certificate whose set is broken: the signature first.
    const setOnly = await verifySetChanges(sim.genesis, [...sim.certificates.slice(0, 3), certs[3] as SetChangeCertificate], nobleEd25519);
    expect(setOnly.ok ? '' : setOnly.error).toBe(`height ${h3}: next validators do not match the header`);
    const same = await verifySetChanges(sim.genesis, [...sim.certificates.slice(0, 3), flipSignature(certs[3] as SetChangeCertificate)], nobleEd25519);
    expect(same.ok ? '' : same.error).toBe(`height ${h3}: qc signature of index 0 invalid`);
    const sameBoth = await verifySetChanges(sim.genesis, [...sim.certificates.slice(0, 3), flipSignature(badNext(sim.certificates[3] as SetChangeCertificate))], nobleEd25519);
    expect(sameBoth.ok ? '' : sameBoth.error).toBe(`height ${h3}: qc signature of index 0 invalid`);
  });
});

describe('validatorSetCache', () => {
  it('builds each distinct list once and answers like tryMakeValidatorSet', () => {
    const list = sim.validatorSet.validators.map((v) => ({ ...v, publicKey: v.publicKey.slice() }));
    const make = validatorSetCache(2);
    const a = make(list);
    const b = make(list.map((v) => ({ ...v, publicKey: v.publicKey.slice() })));
    expect(b).toBe(a);
    expect(a.ok && a.value.hash).toEqual(sim.validatorSet.hash);
    const heavier = list.map((v, i) => (i === 1 ? { ...v, power: v.power + 1 } : v));
    const c = make(heavier);
    expect(c).not.toBe(a);
    expect(c).toEqual(tryMakeValidatorSet(heavier));
    const wrongId: Validator[] = list.map((v, i) => (i === 0 ? { ...v, id: (list[1] as Validator).id } : v));
    expect(make(wrongId)).toEqual(tryMakeValidatorSet(wrongId));
    expect(make([])).toEqual(tryMakeValidatorSet([]));
    // Past the limit the cache starts over; answers stay the same.
    expect(make(list)).toEqual(a);
  });
});
