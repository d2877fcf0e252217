// A block's header names its proposer; a fresh proposal of round r must name proposer(h, r), or a
// faulty proposer could pass its block off as another validator's (and hand it the aggregation
// rounds the block opens). Re-proposed values keep the header of the round they were first proposed
// in, so they are checked without the round.
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../src/core/bytes.ts';
import { proposerIndex, proposerOf } from '../../src/core/consensus/proposer-selection.ts';
import { Tendermint } from '../../src/core/consensus/tendermint.ts';
import { VoteType, type Proposal } from '../../src/core/consensus/types.ts';
import { makeValidatorSet } from '../../src/core/consensus/validator-set.ts';
import { appKeys, LockStep, testGenesis } from './app-helpers.ts';
import { hashOf, signVote, testKeys } from './helpers.ts';

describe('chain: the header must name the proposer of the round', () => {
  it('refuses a fresh proposal naming another validator, accepts it for that validator\'s round and as a re-proposal', async () => {
    const keys = await appKeys(4);
    const net = LockStep.create(testGenesis(keys, [100, 100, 100, 100]), keys);
    await net.steps(2);
    net.clock.t += 1000;
    const h = net.height + 1;
    const set = net.chains[0]!.validatorSet(h);
    const pi = keys.findIndex((k) => bytesEqual(k.publicKey, proposerOf(set, 0).publicKey));
    const other = (pi + 1) % 4;
    const verifier = net.chains[(pi + 2) % 4]!;
    const honest = await net.chains[pi]!.proposeBlock(h, 0);
    // Built by `other` (its chain names its own key), but offered as round 0's block.
    const forged = await net.chains[other]!.proposeBlock(h, 0);
    expect(await verifier.validateBlock(h, honest, 0)).toBe(true);
    expect(await verifier.validateBlock(h, forged, 0)).toBe(false);
    expect(await verifier.checkBlock(h, forged, 0)).toMatchObject({ ok: false, error: 'block proposer: not the proposer of round 0' });
    // In a round `other` does propose, the same bytes are fine; without a round (re-proposal) too.
    let r = 1;
    while (!bytesEqual(proposerOf(set, r).publicKey, keys[other]!.publicKey)) r++;
    expect(await verifier.validateBlock(h, forged, r)).toBe(true);
    expect(await verifier.validateBlock(h, forged)).toBe(true);
  });
});

describe('engine: validity asked with the round for fresh proposals only', () => {
  it('a fresh proposal is validated for its round; a refused one gets a nil prevote; a re-proposal is asked without a round', async () => {
    const keys = await testKeys(4);
    const set = makeValidatorSet(keys.map((k) => k.validator(10)));
    const signerAt = (i: number) => keys.find((k) => bytesEqual(k.signer.publicKey, set.validators[i]!.publicKey))!.signer;
    const p0 = proposerIndex(set, 0);
    const self = set.validators.findIndex((_, i) => i !== p0 && i !== proposerIndex(set, 1));
    const m = new Tendermint(signerAt(self).publicKey);
    m.startHeight(0, set);
    m.drain();
    const fresh: Proposal = { height: 0, round: 0, polRound: -1, blockHash: hashOf(1), proposer: set.validators[p0]!.publicKey, signature: new Uint8Array(64) };
    expect(m.onProposal(fresh, new Uint8Array([1]), hashOf(1))).toBe('added');
    expect(m.drain()).toContainEqual({ kind: 'validate', height: 0, block: new Uint8Array([1]), blockHash: hashOf(1), round: 0 });
    m.onValidated(0, hashOf(1), false, 0);
    expect(m.drain()).toContainEqual({ kind: 'vote', type: VoteType.Prevote, height: 0, round: 0, blockHash: null });
    // Round 1: proposer(1) re-proposes block 2 with a proof-of-lock from round 0.
    for (let i = 0; i < 4; i++) m.onVote(await signVote(signerAt(i), VoteType.Prevote, 0, 0, hashOf(2)));
    m.onTimeout('precommit', 0, 0);
    expect(m.round).toBe(1);
    m.drain();
    const p1 = proposerIndex(set, 1);
    const re: Proposal = { height: 0, round: 1, polRound: 0, blockHash: hashOf(2), proposer: set.validators[p1]!.publicKey, signature: new Uint8Array(64) };
    m.onProposal(re, new Uint8Array([2]), hashOf(2));
    const asked = m.drain().filter((o) => o.kind === 'validate');
    expect(asked).toEqual([{ kind: 'validate', height: 0, block: new Uint8Array([2]), blockHash: hashOf(2) }]);
    m.onValidated(0, hashOf(2), true);
    expect(m.drain()).toContainEqual({ kind: 'vote', type: VoteType.Prevote, height: 0, round: 1, blockHash: hashOf(2) });
  });
});
