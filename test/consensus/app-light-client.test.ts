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
  trustedOverlapExceedsOneThird,
  verifySetChanges,
  verifySnapshot,
  type SetChangeCertificate,
} from '../../src/core/consensus/light-client.ts';
import type { BlockPersistence } from '../../src/core/consensus/block-store.ts';
import { makeValidatorSet } from '../../src/core/consensus/validator-set.ts';
import { VoteType } from '../../src/core/consensus/types.ts';
import { appKeys, CHAIN, LockStep, signQc, testGenesis, tx } from './app-helpers.ts';

/** A chain whose validator set changes twice: a newcomer bonds, then a validator is slashed. */
async function chainWithSetChanges() {
  const keys = await appKeys(8);
  const vals = keys.slice(0, 4);
  const newcomer = keys[4] as Signer;
  const genesis = testGenesis(vals, [100, 100, 100, 100], { validatorSetIntervalBlocks: 1000 });
  const recorded = recordCertificates();
  const net = LockStep.create(genesis, [...vals, newcomer], { persistence: recorded.persistence });
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
  return { keys, genesis, net, allCerts: recorded.all() };
}

/** Every certificate any chain produced (before checkpoint pruning), by height, ascending. */
function recordCertificates() {
  const byHeight = new Map<number, SetChangeCertificate>();
  const persistence: BlockPersistence = {
    putBlock: () => undefined,
    deleteBlock: () => undefined,
    putCertificate: (c) => void byHeight.set(c.header.height, c),
    deleteCertificate: () => undefined,
  };
  return { persistence, all: () => [...byHeight.values()].sort((a, b) => a.header.height - b.header.height) };
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
    const { genesis, net, allCerts: certs } = await chainWithSetChanges();
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
    const { keys, genesis, net, allCerts: certs } = await chainWithSetChanges();
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

    // Skipping the first change without the set that decided the second: nothing to check it against.
    const { validators: _dropped, ...bare } = certs[1]!;
    expect(await verifySetChanges(genesis, [bare], nobleEd25519)).toMatchObject({ ok: false, error: expect.stringMatching(/no set to skip to/) });
    // With that set named but not the one the header certified.
    expect(await verifySetChanges(genesis, [{ ...certs[1]!, validators: genesisSet.validators }], nobleEd25519)).toMatchObject({ ok: false, error: expect.stringMatching(/do not match the header/) });

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

describe('checkpoint certificates (skipping verification)', () => {
  it('a long chain with many small set changes keeps a few checkpoints; a newcomer syncs through them', async () => {
    const keys = await appKeys(7);
    const vals = keys.slice(0, 4);
    // Recompute every 2 blocks, reputation +2% per included precommit: powers move a little at
    // almost every recompute until reputations reach 1.
    const genesis = testGenesis(vals, [100, 100, 100, 100], { validatorSetIntervalBlocks: 2, reputationCommitGainMicros: 20_000 });
    const recorded = recordCertificates();
    const net = LockStep.create(genesis, keys, { persistence: recorded.persistence });
    await net.steps(8);
    // Small changes: three newcomers bond while every genesis validator keeps signing.
    for (const i of [4, 5, 6]) for (const [n, p] of [[0, { kind: 'faucet' }], [1, { kind: 'join' }], [2, { kind: 'bond', amount: 100 }]] as const) await net.submit(await tx(keys[i]!, n, p));
    await net.steps(8);
    // One big change: three of the four genesis validators leave (3/4 of the power genesis trusts).
    for (const i of [0, 1, 2]) await net.submit(await tx(keys[i]!, 0, { kind: 'unbond', amount: 100 }));
    await net.steps(8);
    const all = recorded.all();
    const kept = net.chains[0]!.certificates();
    expect(all.length).toBeGreaterThanOrEqual(10);
    // Genesis → (last change before the exit) → exit → ...: the exit is not skippable from genesis.
    expect(kept.length).toBeGreaterThanOrEqual(2);
    expect(kept.length).toBeLessThanOrEqual(3);
    expect(kept.at(-1)?.header.height).toBe(all.at(-1)?.header.height);
    for (const c of net.chains.map((ch) => ch.certificates())) expect(c.length).toBeLessThanOrEqual(3);

    // Over the wire, then from genesis to the current set and the latest state.
    const wire = kept.map((c) => decodeCertificate(encodeCertificate(c))).map((d) => (d.ok ? d.value : null));
    expect(wire.every((c) => c !== null)).toBe(true);
    const synced = await syncFromCertificates(genesis, wire as SetChangeCertificate[], net.chains[0]!.snapshot()!, nobleEd25519);
    expect(synced.ok).toBe(true);
    if (!synced.ok) return;
    expect(stateRoot(synced.value)).toEqual(stateRoot(net.chains[0]!.state));
    // The full list verifies to the same set (every step adjacent).
    const viaAll = await verifySetChanges(genesis, all, nobleEd25519);
    expect(viaAll.ok && bytesEqual(viaAll.value.set.hash, synced.value.validators.hash)).toBe(true);
  });

  it('accepts a skip signed by > 1/3 of the trusted set and > 2/3 of the new one; refuses one signed by ≤ 1/3 of the trusted set', async () => {
    const keys = await appKeys(8);
    const genesis = testGenesis(keys.slice(0, 4), [100, 100, 100, 100], { validatorSetIntervalBlocks: 1000 });
    const net = LockStep.create(genesis, keys.slice(0, 4));
    await net.steps(2);
    const header = net.chains[0]!.snapshot()!.header;
    // V: keys 2..7, equal powers. Of the trusted (genesis) set only keys 2 and 3 are in it.
    const v = makeValidatorSet(keys.slice(2, 8).map((s) => ({ id: nodeIdFromPublicKey(s.publicKey), publicKey: s.publicKey, power: 100 })));
    const skipHeader = { ...header, validatorsHash: v.hash, nextValidatorsHash: v.hash };
    const cert = async (only: (s: Signer) => boolean): Promise<SetChangeCertificate> => ({
      header: skipHeader,
      qc: await signQc(v, keys, skipHeader.height, headerHash(skipHeader), only),
      nextValidators: v.validators,
      validators: v.validators,
    });
    // All of V: keys 2 and 3 hold 1/2 of the trusted power.
    const good = await verifySetChanges(genesis, [await cert(() => true)], nobleEd25519);
    expect(good.ok && bytesEqual(good.value.set.hash, v.hash)).toBe(true);
    // Five of six of V (> 2/3 of it) but only key 3 from the trusted set: 1/4 of its power.
    const forged = await cert((s) => s !== keys[2]);
    expect(await verifySetChanges(genesis, [forged], nobleEd25519)).toMatchObject({ ok: false, error: expect.stringMatching(/skip refused: signers hold 1\/3 or less/) });
    // Exactly 1/3 is not more than 1/3: keys 2 and 3 again, but the trusted set is 6 × 100.
    const genesis6 = testGenesis(keys.slice(0, 6), [100, 100, 100, 100, 100, 100], { validatorSetIntervalBlocks: 1000 });
    const h6 = { ...skipHeader, chainId: genesis6.chainId };
    expect(h6.chainId).toBe(skipHeader.chainId);
    const v2 = makeValidatorSet([...keys.slice(2, 4), ...keys.slice(6, 8)].map((s) => ({ id: nodeIdFromPublicKey(s.publicKey), publicKey: s.publicKey, power: 100 })));
    const h2 = { ...skipHeader, validatorsHash: v2.hash, nextValidatorsHash: v2.hash };
    const third = { header: h2, qc: await signQc(v2, keys, h2.height, headerHash(h2)), nextValidators: v2.validators, validators: v2.validators };
    expect(await verifySetChanges(genesis6, [third], nobleEd25519)).toMatchObject({ ok: false, error: expect.stringMatching(/skip refused/) });
    // A forged skip is also not a checkpoint a chain would keep: the store uses the same rule.
    expect(trustedOverlapExceedsOneThird(genesisState(genesis).validators, v, forged.qc)).toBe(false);
  });
});
