import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../src/core/bytes.ts';
import { nobleEd25519, type Signer } from '../../src/core/crypto/ed25519.ts';
import { nodeIdFromPublicKey } from '../../src/core/crypto/node-id.ts';
import { genesisState, stateFromRecords, stateRecords, stateRoot } from '../../src/core/consensus/app-state.ts';
import { headerHash } from '../../src/core/consensus/block.ts';
import { Chain } from '../../src/core/consensus/chain.ts';
import {
  decodeCertificate,
  encodeCertificate,
  syncFromCertificates,
  verifySetChanges,
  verifySnapshot,
  type SetChangeCertificate,
} from '../../src/core/consensus/light-client.ts';
import { makeValidatorSet } from '../../src/core/consensus/validator-set.ts';
import { VoteType } from '../../src/core/consensus/types.ts';
import { appKeys, CHAIN, LockStep, signQc, testGenesis, tx } from './app-helpers.ts';

/** A chain whose validator set changes twice: a newcomer bonds, then a validator is slashed. */
async function chainWithSetChanges() {
  const keys = await appKeys(8);
  const vals = keys.slice(0, 4);
  const newcomer = keys[4] as Signer;
  const genesis = testGenesis(vals, [100, 100, 100, 100], { validatorSetIntervalBlocks: 1000 });
  const net = LockStep.create(genesis, [...vals, newcomer]);
  await net.steps(2);
  await net.submit(await tx(newcomer, 0, { kind: 'faucet' }));
  await net.submit(await tx(newcomer, 1, { kind: 'join' }));
  await net.submit(await tx(newcomer, 2, { kind: 'bond', amount: 200 }));
  await net.steps(3);
  const culprit = vals[1] as Signer;
  const vote = async (fill: number) => {
    const blockHash = new Uint8Array(32).fill(fill);
    const { voteSignBytes } = await import('../../src/core/consensus/sign-bytes.ts');
    return { type: VoteType.Prevote, height: 3, round: 0, blockHash, validator: culprit.publicKey, signature: await culprit.sign(voteSignBytes(CHAIN, VoteType.Prevote, 3, 0, blockHash)) };
  };
  for (const c of net.chains) await c.submitEvidence({ kind: 'duplicate-vote', voteA: await vote(1), voteB: await vote(2) });
  await net.steps(3);
  return { keys, genesis, net };
}

describe('snapshot records and certificates as bytes', () => {
  it('state → records → state keeps the root; truncated or unsorted records and truncated certificates are refused', async () => {
    const { genesis, net } = await chainWithSetChanges();
    const state = net.chains[0]!.state;
    const records = stateRecords(state);
    const back = stateFromRecords(records, genesis);
    expect(back.ok).toBe(true);
    if (!back.ok) return;
    expect(stateRoot(back.value)).toEqual(stateRoot(state));
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      for (const cut of [1, Math.floor(r.length / 2), r.length - 1]) {
        const broken = records.slice();
        broken[i] = r.subarray(0, cut);
        expect(stateFromRecords(broken, genesis).ok, `record ${i} cut at ${cut}`).toBe(false);
      }
    }
    expect(stateFromRecords([...records].reverse(), genesis)).toMatchObject({ ok: false, error: expect.stringMatching(/sorted/) });
    const otherGenesis = testGenesis((await appKeys(4)), [100, 100, 100, 101]);
    expect(stateFromRecords(records, otherGenesis)).toMatchObject({ ok: false, error: expect.stringMatching(/another genesis/) });
    const cert = encodeCertificate(net.chains[0]!.certificates()[0]!);
    for (let n = 0; n < cert.length; n += 7) expect(decodeCertificate(cert.subarray(0, n)).ok).toBe(false);
  });
});

describe('light-client sync', () => {
  it('a newcomer verifies the current set from genesis through the set-change certificates and a certified snapshot', async () => {
    const { genesis, net } = await chainWithSetChanges();
    const certs = net.chains[0]!.certificates();
    expect(certs.length).toBe(2);
    // Certificates travel as bytes.
    const wire = certs.map((c) => decodeCertificate(encodeCertificate(c)));
    const decoded = wire.map((w) => (w.ok ? w.value : null)).filter((c): c is SetChangeCertificate => c !== null);
    expect(decoded.length).toBe(2);
    const trusted = await verifySetChanges(genesis, decoded, nobleEd25519);
    expect(trusted.ok).toBe(true);
    if (!trusted.ok) return;
    expect(trusted.value.set.hash).toEqual(net.chains[0]!.validatorSet(net.height + 1).hash);
    const snap = net.chains[0]!.snapshot()!;
    const synced = await syncFromCertificates(genesis, decoded, snap, nobleEd25519);
    expect(synced.ok).toBe(true);
    if (!synced.ok) return;
    expect(stateRoot(synced.value)).toEqual(stateRoot(net.chains[0]!.state));

    // The synced node carries on with the others from the snapshot, without any earlier block.
    const late = new Chain({ genesis, verifier: nobleEd25519, clock: net.clock }, { state: synced.value, header: snap.header, qc: snap.qc, certificates: decoded });
    for (let i = 0; i < 3; i++) {
      await net.step();
      const stored = net.chains[0]!.blocks.get(net.height)!;
      await late.commitBlock(net.height, stored.bytes, stored.qc);
      expect(stateRoot(late.state)).toEqual(stateRoot(net.chains[0]!.state));
    }
    expect(late.snapshot()?.header.height).toBe(net.height);
  });

  it('syncs from a snapshot taken at the very block that changed the set (decided by the previous set)', async () => {
    const keys = await appKeys(5);
    const genesis = testGenesis(keys.slice(0, 4), [100, 100, 100, 100], { validatorSetIntervalBlocks: 1000 });
    const net = LockStep.create(genesis, keys);
    await net.step();
    for (const [n, p] of [[0, { kind: 'faucet' }], [1, { kind: 'join' }], [2, { kind: 'bond', amount: 300 }]] as const) await net.submit(await tx(keys[4]!, n, p));
    await net.step();
    const certs = net.chains[0]!.certificates();
    expect(certs.at(-1)?.header.height).toBe(net.height);
    const snap = net.chains[0]!.snapshot()!;
    const synced = await syncFromCertificates(genesis, certs, snap, nobleEd25519);
    expect(synced.ok).toBe(true);
    // Its QC must still be the previous set's: one from strangers is refused.
    const strangers = await appKeys(9);
    const trusted = await verifySetChanges(genesis, certs, nobleEd25519);
    if (!trusted.ok) throw new Error(trusted.error);
    const forgedQc = await signQc(trusted.value.set, strangers.slice(5, 9), snap.header.height, snap.qc.blockHash);
    expect((await verifySnapshot(genesis, trusted.value, { ...snap, qc: forgedQc }, nobleEd25519)).ok).toBe(false);
  });

  it('refuses a forged certificate, one certified by 2/3 or less of the previous set, a skipped one, and tampering', async () => {
    const { keys, genesis, net } = await chainWithSetChanges();
    const certs = net.chains[0]!.certificates();
    const first = certs[0]!;
    const genesisSet = genesisState(genesis).validators;

    // Outsiders (keys 5..7) sign a header handing the chain to themselves.
    const outsiders = keys.slice(5, 8);
    const theirSet = makeValidatorSet(outsiders.map((s) => ({ id: nodeIdFromPublicKey(s.publicKey), publicKey: s.publicKey, power: 1000 })));
    const fakeHeader = { ...first.header, nextValidatorsHash: theirSet.hash };
    const fakeQc = await signQc(theirSet, outsiders, fakeHeader.height, headerHash(fakeHeader));
    // Indices point into the trusted (genesis) set, so the outsiders' signatures are checked against its keys.
    const forged: SetChangeCertificate = { header: fakeHeader, qc: fakeQc, nextValidators: theirSet.validators };
    expect(await verifySetChanges(genesis, [forged], nobleEd25519)).toMatchObject({ ok: false, error: expect.stringMatching(/signature of index \d+ invalid/) });

    // A genuine header, but only 2 of the 4 genesis validators (exactly 1/2 of the power) certify it.
    const twoOfFour = await signQc(genesisSet, keys.slice(0, 4), first.header.height, headerHash(first.header), (s) => s === keys[0] || s === keys[2]);
    expect(await verifySetChanges(genesis, [{ ...first, qc: twoOfFour }], nobleEd25519)).toMatchObject({ ok: false, error: expect.stringMatching(/not more than 2\/3/) });

    // Three of four is enough (the real QC may hold four).
    const threeOfFour = await signQc(genesisSet, keys.slice(0, 4), first.header.height, headerHash(first.header), (s) => s !== keys[3]);
    expect((await verifySetChanges(genesis, [{ ...first, qc: threeOfFour }], nobleEd25519)).ok).toBe(true);

    // Skipping the first change: the second is certified by a set the client never learned.
    expect(await verifySetChanges(genesis, [certs[1]!], nobleEd25519)).toMatchObject({ ok: false, error: expect.stringMatching(/validators hash/) });

    // The new list does not hash to what the header certified (a power inflated).
    const inflated = first.nextValidators.map((v, i) => (i === 0 ? { ...v, power: v.power * 10 } : v));
    expect(await verifySetChanges(genesis, [{ ...first, nextValidators: inflated }], nobleEd25519)).toMatchObject({ ok: false, error: expect.stringMatching(/do not match/) });

    // A QC for another block than the header.
    expect(await verifySetChanges(genesis, [{ ...first, qc: certs[1]!.qc }], nobleEd25519)).toMatchObject({ ok: false, error: expect.stringMatching(/not for this header/) });

    // Snapshot: one record changed, or a header the trusted set did not decide.
    const trusted = await verifySetChanges(genesis, certs, nobleEd25519);
    expect(trusted.ok).toBe(true);
    if (!trusted.ok) return;
    const snap = net.chains[0]!.snapshot()!;
    const records = snap.records.map((r) => r.slice());
    records[1]![records[1]!.length - 1]! ^= 1;
    expect(await verifySnapshot(genesis, trusted.value, { ...snap, records }, nobleEd25519)).toMatchObject({ ok: false, error: expect.stringMatching(/state root/) });
    const old = await verifySetChanges(genesis, certs.slice(0, 1), nobleEd25519);
    expect(old.ok).toBe(true);
    if (!old.ok) return;
    expect(await verifySnapshot(genesis, old.value, snap, nobleEd25519)).toMatchObject({ ok: false, error: expect.stringMatching(/validators hash/) });
    expect(bytesEqual(snap.qc.blockHash, headerHash(snap.header))).toBe(true);
  });
});
