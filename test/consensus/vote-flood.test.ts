// An equivocator sending more conflicting votes than the per-validator cap (MAX_TARGETS_PER_VALIDATOR):
// its power is counted once per block, the flood adds to no tally, and it cannot push out its vote for
// a block that was proposed — which may be the vote that completes a proof-of-lock. A re-proposal
// carries its proof-of-lock prevotes, so a node that could not count one of them at first catches up.
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../src/core/bytes.ts';
import { ConsensusDriver } from '../../src/core/consensus/consensus-driver.ts';
import { encodeProposalMessage } from '../../src/core/consensus/consensus-messages.ts';
import { proposerIndex } from '../../src/core/consensus/proposer-selection.ts';
import { proposalSignBytes } from '../../src/core/consensus/sign-bytes.ts';
import { Tendermint } from '../../src/core/consensus/tendermint.ts';
import { VoteType, type Proposal } from '../../src/core/consensus/types.ts';
import { makeValidatorSet } from '../../src/core/consensus/validator-set.ts';
import { decodeVote, encodeVote } from '../../src/core/consensus/vote-codec.ts';
import { MAX_TARGETS_PER_VALIDATOR, NIL, VoteSet, voteKey } from '../../src/core/consensus/vote-set.ts';
import { nobleEd25519 } from '../../src/core/crypto/ed25519.ts';
import { MessageType } from '../../src/core/net/message-types.ts';
import { VirtualClock } from '../../src/sim/virtual-clock.ts';
import { CHAIN_ID, fixedSetApp, hashOf, settleClock, signVote, testKeys } from './helpers.ts';

const keys = await testKeys(4);
const set = makeValidatorSet(keys.map((k) => k.validator(10)));
const signerAt = (i: number) => keys.find((k) => bytesEqual(k.signer.publicKey, set.validators[i]!.publicKey))!.signer;
const FLOOD = 3 * MAX_TARGETS_PER_VALIDATOR;
const v = hashOf(1);

describe('more conflicting votes than the cap', () => {
  it('counts each validator once per block, ignores the flood past the cap, still counts nil and wanted blocks', async () => {
    const wanted = voteKey(hashOf(2));
    const vs = new VoteSet(set, 0, 0, VoteType.Prevote, (k) => k === wanted);
    const z = signerAt(0);
    const kinds: string[] = [];
    for (let k = 0; k < FLOOD; k++) kinds.push(vs.add(await signVote(z, VoteType.Prevote, 0, 0, hashOf(100 + k))).kind);
    expect(kinds.filter((k) => k === 'capped')).toHaveLength(FLOOD - MAX_TARGETS_PER_VALIDATOR);
    expect(kinds.filter((k) => k === 'conflict')).toHaveLength(1); // one piece of evidence is enough
    for (let k = 0; k < FLOOD; k++) expect(vs.power(voteKey(hashOf(100 + k)))).toBe(k < MAX_TARGETS_PER_VALIDATOR ? 10 : 0);
    expect(vs.totalVotedPower).toBe(10); // "any" counts the equivocator once
    expect(vs.add(await signVote(z, VoteType.Prevote, 0, 0, hashOf(3))).kind).toBe('capped');
    expect(vs.add(await signVote(z, VoteType.Prevote, 0, 0, hashOf(2))).kind).toBe('added');
    expect(vs.add(await signVote(z, VoteType.Prevote, 0, 0, null)).kind).toBe('added');
    expect(vs.add(await signVote(z, VoteType.Prevote, 0, 0, hashOf(2))).kind).toBe('duplicate');
    expect([vs.power(wanted), vs.power(NIL)]).toEqual([10, 10]);
    // Safety: the honest 3 decide the quorum; the flooder's power never lands twice on one block.
    for (const i of [1, 2, 3]) vs.add(await signVote(signerAt(i), VoteType.Prevote, 0, 0, hashOf(2)));
    expect(vs.power(wanted)).toBe(40);
    expect(vs.quorumKey()).toBe(wanted);
  });

  it('a vote pushed past the cap before its block was proposed counts once the block is proposed (the relayed proof-of-lock)', async () => {
    const p1 = proposerIndex(set, 1);
    const [self, z, c] = [0, 1, 2, 3].filter((i) => i !== p1) as [number, number, number];
    const m = new Tendermint(signerAt(self).publicKey);
    m.startHeight(0, set);
    // Round 0: the flood, then z's prevote for v; the round's proposal never reaches this node.
    for (let k = 0; k < MAX_TARGETS_PER_VALIDATOR; k++) m.onVote(await signVote(signerAt(z), VoteType.Prevote, 0, 0, hashOf(100 + k)));
    const zForV = await signVote(signerAt(z), VoteType.Prevote, 0, 0, v);
    expect(m.onVote(zForV)).toBe('capped');
    for (const i of [p1, c]) m.onVote(await signVote(signerAt(i), VoteType.Prevote, 0, 0, v));
    m.onTimeout('propose', 0, 0);
    m.onTimeout('prevote', 0, 0);
    m.onTimeout('precommit', 0, 0);
    expect(m.round).toBe(1);
    m.drain();
    // Round 1: p1, locked on v, re-proposes it with proof-of-lock round 0 (30 of 40 here with z's vote).
    const re: Proposal = { height: 0, round: 1, polRound: 0, blockHash: v, proposer: set.validators[p1]!.publicKey, signature: new Uint8Array(64) };
    m.onProposal(re, new Uint8Array([1]), v);
    m.onValidated(0, v, true);
    expect(m.drain().filter((o) => o.kind === 'vote')).toEqual([]); // 20 of 40: no proof-of-lock yet
    expect(m.onVote(zForV)).toBe('added');
    expect(m.drain()).toContainEqual({ kind: 'vote', type: VoteType.Prevote, height: 0, round: 1, blockHash: v });
  });

  it('the driver sends a re-proposal\'s proof-of-lock prevotes with it', async () => {
    const p0 = proposerIndex(set, 0);
    const me = proposerIndex(set, 1);
    const others = [0, 1, 2, 3].filter((i) => i !== me);
    const clock = new VirtualClock(0);
    const sent: { type: number; body: Uint8Array }[] = [];
    const app = fixedSetApp(set);
    const d = new ConsensusDriver({
      chainId: CHAIN_ID, app, signer: signerAt(me), verifier: nobleEd25519, clock,
      transport: { broadcast: (type, body) => void sent.push({ type, body }), send: () => undefined },
    });
    const settle = () => settleClock(clock);
    d.start(0);
    const block = new Uint8Array([1]);
    const signature = await signerAt(p0).sign(proposalSignBytes(CHAIN_ID, 0, 0, -1, v));
    const proposal: Proposal = { height: 0, round: 0, polRound: -1, blockHash: v, proposer: signerAt(p0).publicKey, signature };
    d.receive('p0', MessageType.ConsensusProposal, encodeProposalMessage({ proposal, block }));
    for (const i of others) d.receive('x', MessageType.ConsensusVote, encodeVote(await signVote(signerAt(i), VoteType.Prevote, 0, 0, v)));
    await settle();
    expect(d.machine.snapshot()).toMatchObject({ lockedRound: 0, validRound: 0 });
    // Two others (> 1/3) move on to round 1 (l.55): this node proposes v again, proof-of-lock round 0.
    for (const i of others.slice(0, 2)) d.receive('x', MessageType.ConsensusVote, encodeVote(await signVote(signerAt(i), VoteType.Prevote, 0, 1, null)));
    sent.length = 0;
    await settle();
    expect(d.machine.round).toBe(1);
    const pol = sent
      .filter((s) => s.type === MessageType.ConsensusVote)
      .map((s) => decodeVote(s.body))
      .flatMap((r) => (r.ok && r.value.round === 0 && r.value.type === VoteType.Prevote ? [r.value] : []));
    expect(sent[0]?.type).toBe(MessageType.ConsensusProposal);
    for (const i of others) expect(pol.some((x) => bytesEqual(x.validator, signerAt(i).publicKey) && bytesEqual(x.blockHash!, v))).toBe(true);
    d.stop();
  });
});
