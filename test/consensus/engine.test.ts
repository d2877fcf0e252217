// Vote tallies and evidence, the Tendermint state machine's rules in isolation (l.55 round skip,
// linearly growing timeouts, locking, observers), and the driver's drops counted by reason.
import { describe, expect, it } from 'vitest';
import { nobleEd25519 } from '../../src/core/crypto/ed25519.ts';
import { ConsensusDriver } from '../../src/core/consensus/consensus-driver.ts';
import { proposerIndex } from '../../src/core/consensus/proposer-selection.ts';
import { Tendermint } from '../../src/core/consensus/tendermint.ts';
import { VoteType, type ConsensusApp } from '../../src/core/consensus/types.ts';
import { makeValidatorSet } from '../../src/core/consensus/validator-set.ts';
import { encodeVote } from '../../src/core/consensus/vote-codec.ts';
import { NIL, VoteSet, voteKey } from '../../src/core/consensus/vote-set.ts';
import { MessageType } from '../../src/core/net/message-types.ts';
import { VirtualClock } from '../../src/sim/virtual-clock.ts';
import { CHAIN_ID, hashOf, signVote, testKeys } from './helpers.ts';

const keys = await testKeys(4);
const set = makeValidatorSet(keys.map((k) => k.validator(10)));
const byIndex = set.validators.map((v) => keys.find((k) => k.validator(1).id === v.id)!);
const timeouts = { proposeMs: 1000, prevoteMs: 500, precommitMs: 500, deltaMs: 250 };

describe('VoteSet', () => {
  it('tallies by power, finds +2/3, and turns a second different vote into evidence (counted too)', async () => {
    const vs = new VoteSet(set, 3, 0, VoteType.Prevote);
    const [a, b, c, d] = byIndex;
    expect(vs.add(await signVote(a!.signer, VoteType.Prevote, 3, 0, hashOf(1))).kind).toBe('added');
    expect(vs.add(await signVote(b!.signer, VoteType.Prevote, 3, 0, hashOf(1))).kind).toBe('added');
    expect(vs.hasQuorumFor(voteKey(hashOf(1)))).toBe(false);
    expect(vs.add(await signVote(c!.signer, VoteType.Prevote, 3, 0, null)).kind).toBe('added');
    expect(vs.hasQuorumAny()).toBe(true);
    expect(vs.quorumKey()).toBeNull();
    const again = await signVote(a!.signer, VoteType.Prevote, 3, 0, hashOf(1));
    expect(vs.add(again).kind).toBe('duplicate');
    const conflict = vs.add(await signVote(c!.signer, VoteType.Prevote, 3, 0, hashOf(1)));
    expect(conflict.kind).toBe('conflict');
    if (conflict.kind === 'conflict') {
      expect(conflict.evidence.voteA.blockHash).toBeNull();
      expect(conflict.evidence.voteB.blockHash).toEqual(hashOf(1));
    }
    expect(vs.quorumKey()).toBe(voteKey(hashOf(1)));
    expect(vs.power(NIL)).toBe(10);
    expect(vs.add(await signVote(d!.signer, VoteType.Precommit, 3, 0, null)).kind).toBe('wrong-set');
  });
});

describe('Tendermint state machine', () => {
  it('timeouts grow linearly with the round; a non-proposer schedules propose, then prevotes nil on timeout', () => {
    const self = byIndex.find((_, i) => i !== proposerIndex(set, 0))!;
    const m = new Tendermint(self.signer.publicKey, timeouts);
    const out = m.startHeight(0, set);
    expect(out).toContainEqual({ kind: 'schedule-timeout', step: 'propose', height: 0, round: 0, delayMs: 1000 });
    m.onTimeout('propose', 0, 0);
    expect(m.drain()).toContainEqual({ kind: 'vote', type: VoteType.Prevote, height: 0, round: 0, blockHash: null });
    m.onTimeout('precommit', 0, 0);
    const r1 = m.drain();
    expect(m.round).toBe(1);
    if (proposerIndex(set, 1) !== set.validators.findIndex((v) => v.publicKey.every((x, i) => x === self.signer.publicKey[i])))
      expect(r1).toContainEqual({ kind: 'schedule-timeout', step: 'propose', height: 0, round: 1, delayMs: 1250 });
  });

  it('after deciding, before the next height: votes count for nothing, but a double vote is still evidence', async () => {
    const m = new Tendermint(byIndex[0]!.signer.publicKey, timeouts);
    m.startHeight(5, set);
    m.drain();
    const qc = { height: 5, round: 0, blockHash: hashOf(7), signatures: [] };
    m.onCommitCertificate(5, new Uint8Array([1]), hashOf(7), qc);
    expect(m.drain().map((o) => o.kind)).toEqual(['decide']);
    const culprit = byIndex[2]!.signer;
    expect(m.onVote(await signVote(culprit, VoteType.Precommit, 5, 0, hashOf(7)))).toBe('decided');
    expect(m.onVote(await signVote(culprit, VoteType.Precommit, 5, 0, hashOf(8)))).toBe('conflict');
    const out = m.drain();
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ kind: 'evidence', evidence: { kind: 'duplicate-vote', voteA: { blockHash: hashOf(7) }, voteB: { blockHash: hashOf(8) } } });
    // Reported once; nothing else happens (no votes, no second decision).
    expect(m.onVote(await signVote(culprit, VoteType.Precommit, 5, 0, hashOf(9)))).toBe('decided');
    expect(m.drain()).toEqual([]);
  });

  it('skips to a higher round when validators with more than 1/3 of the power are heard there (l.55)', async () => {
    const m = new Tendermint(byIndex[0]!.signer.publicKey, timeouts);
    m.startHeight(0, set);
    m.onVote(await signVote(byIndex[1]!.signer, VoteType.Prevote, 0, 5, null));
    expect(m.round).toBe(0); // 10 of 40: not more than 1/3
    m.onVote(await signVote(byIndex[2]!.signer, VoteType.Precommit, 0, 5, null));
    expect(m.round).toBe(5);
  });

  it('an observer (not in the set) never votes or proposes but still decides', async () => {
    const outsider = (await testKeys(5))[4]!;
    const m = new Tendermint(outsider.signer.publicKey, timeouts);
    m.startHeight(0, set);
    m.onTimeout('propose', 0, 0);
    expect(m.drain().filter((o) => o.kind === 'vote' || o.kind === 'request-value')).toEqual([]);
    expect(m.snapshot().step).toBe('prevote');
  });
});

describe('ConsensusDriver drops', () => {
  it('counts malformed, bad-signature, replayed, old and far-future messages without throwing', async () => {
    const clock = new VirtualClock(0);
    const app: ConsensusApp = {
      validatorSet: () => set,
      proposeBlock: async () => new Uint8Array([1]),
      validateBlock: async () => true,
      blockHash: () => hashOf(7),
      commitBlock: async () => undefined,
    };
    const me = byIndex[0]!;
    const d = new ConsensusDriver({ chainId: CHAIN_ID, app, signer: me.signer, verifier: nobleEd25519, clock, transport: { broadcast: () => undefined, send: () => undefined } });
    d.start(0);
    const good = await signVote(byIndex[1]!.signer, VoteType.Prevote, 0, 0, hashOf(7));
    const forged = { ...good, blockHash: hashOf(8) };
    d.receive('peer', MessageType.ConsensusVote, new Uint8Array([1, 2, 3]));
    d.receive('peer', MessageType.ConsensusVote, encodeVote(forged));
    d.receive('peer', MessageType.ConsensusVote, encodeVote(good));
    d.receive('peer', MessageType.ConsensusVote, encodeVote(good));
    d.receive('peer', MessageType.ConsensusVote, encodeVote(await signVote(byIndex[1]!.signer, VoteType.Prevote, 9, 0, null)));
    d.receive('peer', MessageType.ConsensusVote, encodeVote(await signVote((await testKeys(6))[5]!.signer, VoteType.Prevote, 0, 0, null)));
    d.receive('peer', 99, new Uint8Array(4));
    for (let i = 0; i < 5 && clock.peek() === 0; i++) {
      clock.runNext();
      await new Promise((r) => setImmediate(r));
    }
    const c = Object.fromEntries(d.counters);
    expect(c).toMatchObject({ malformed: 2, 'bad-signature': 1, replayed: 1, 'too-far-ahead': 1, 'not-validator': 1, verified: 1 });
    d.stop();
  });
});

describe('Tendermint locking (Alg. 1 l.22–23, l.28–29, l.36, l.44)', () => {
  // Signatures are the driver's business; the machine takes votes and proposals as already checked.
  const sig = new Uint8Array(64);
  const X = hashOf(101);
  const Y = hashOf(102);
  const blockX = new Uint8Array([101]);
  const blockY = new Uint8Array([102]);
  const vote = (i: number, type: VoteType, round: number, blockHash: Uint8Array | null) => ({
    type, height: 0, round, blockHash, validator: set.validators[i]!.publicKey, signature: sig,
  });
  const proposal = (round: number, polRound: number, blockHash: Uint8Array) => ({
    height: 0, round, polRound, blockHash, proposer: set.validators[proposerIndex(set, round)]!.publicKey, signature: sig,
  });
  /** Index of a validator that proposes neither in round 0, 1 nor 2, and the others. */
  const selfIdx = [0, 1, 2, 3].find((i) => ![0, 1, 2].some((r) => proposerIndex(set, r) === i));
  const others = (me: number) => [0, 1, 2, 3].filter((i) => i !== me);
  const votesOf = (out: ReturnType<Tendermint['drain']>) =>
    out.flatMap((o) => (o.kind === 'vote' ? [{ type: o.type, round: o.round, blockHash: o.blockHash }] : []));

  /** A machine for validator `me`, past round 0 in which +2/3 prevoted X: locked on X at round 0. */
  function lockedOnX(me: number): Tendermint {
    const m = new Tendermint(set.validators[me]!.publicKey, timeouts);
    m.startHeight(0, set);
    expect(m.onProposal(proposal(0, -1, X), blockX, X)).toBe('added');
    m.onValidated(0, X, true, 0);
    expect(votesOf(m.drain())).toEqual([{ type: VoteType.Prevote, round: 0, blockHash: X }]); // l.24
    for (const i of [me, ...others(me)].slice(0, 3)) m.onVote(vote(i, VoteType.Prevote, 0, X));
    // l.36–43: +2/3 prevotes for a valid proposal while in prevote → lock, precommit it.
    expect(votesOf(m.drain())).toEqual([{ type: VoteType.Precommit, round: 0, blockHash: X }]);
    expect(m.snapshot()).toMatchObject({ step: 'precommit', lockedRound: 0, validRound: 0 });
    m.onTimeout('precommit', 0, 0);
    m.drain();
    expect(m.round).toBe(1);
    return m;
  }

  it('locks on +2/3 prevotes (l.36), then prevotes nil for a fresh proposal of another block (l.23, l.26)', () => {
    if (selfIdx === undefined) throw new Error('fixture: every validator proposes in rounds 0..2');
    const m = lockedOnX(selfIdx);
    expect(m.onProposal(proposal(1, -1, Y), blockY, Y)).toBe('added');
    m.onValidated(0, Y, true, 1);
    expect(votesOf(m.drain())).toEqual([{ type: VoteType.Prevote, round: 1, blockHash: null }]);
    expect(m.snapshot()).toMatchObject({ lockedRound: 0 });
  });

  it('prevotes a fresh proposal of the locked block itself (l.23: lockedValue = v)', () => {
    const m = lockedOnX(selfIdx!);
    m.onProposal(proposal(1, -1, X), blockX, X);
    m.onValidated(0, X, true, 1);
    expect(votesOf(m.drain())).toEqual([{ type: VoteType.Prevote, round: 1, blockHash: X }]);
  });

  it('an unlocked validator prevotes a valid fresh proposal, and nil for an invalid one (l.23 with lockedRound −1)', () => {
    const me = selfIdx!;
    const m = new Tendermint(set.validators[me]!.publicKey, timeouts);
    m.startHeight(0, set);
    m.onProposal(proposal(0, -1, Y), blockY, Y);
    m.onValidated(0, Y, false, 0);
    expect(votesOf(m.drain())).toEqual([{ type: VoteType.Prevote, round: 0, blockHash: null }]);
    m.onTimeout('precommit', 0, 0);
    m.onProposal(proposal(1, -1, X), blockX, X);
    m.onValidated(0, X, true, 1);
    expect(votesOf(m.drain())).toEqual([{ type: VoteType.Prevote, round: 1, blockHash: X }]);
  });

  it('re-proposal with a proof-of-lock (l.28–29): prevote it when polRound ≥ lockedRound, nil when locked later on another block', () => {
    const me = selfIdx!;
    // Locked on X at round 0; round 1 shows +2/3 prevotes for Y (we did not see its proposal in time);
    // round 2 re-proposes Y with polRound 1 ≥ lockedRound 0 → unlock, prevote Y (l.30).
    const m = lockedOnX(me);
    m.onTimeout('propose', 0, 1);
    expect(votesOf(m.drain())).toEqual([{ type: VoteType.Prevote, round: 1, blockHash: null }]);
    for (const i of others(me)) m.onVote(vote(i, VoteType.Prevote, 1, Y));
    m.onTimeout('precommit', 0, 1);
    m.drain();
    expect(m.round).toBe(2);
    m.onProposal(proposal(2, 1, Y), blockY, Y);
    m.onValidated(0, Y, true);
    expect(votesOf(m.drain())).toEqual([{ type: VoteType.Prevote, round: 2, blockHash: Y }]);

    // Locked on X at round 1 (+2/3 prevotes for X there); round 2 re-proposes Y with polRound 0
    // (+2/3 prevoted Y in round 0, unseen by us then): lockedRound 1 > 0 and Y ≠ X → nil (l.32).
    const n = new Tendermint(set.validators[me]!.publicKey, timeouts);
    n.startHeight(0, set);
    n.onTimeout('propose', 0, 0);
    n.onTimeout('precommit', 0, 0);
    n.onProposal(proposal(1, -1, X), blockX, X);
    n.onValidated(0, X, true, 1);
    for (const i of others(me)) n.onVote(vote(i, VoteType.Prevote, 1, X));
    expect(n.snapshot()).toMatchObject({ lockedRound: 1, step: 'precommit' });
    for (const i of others(me)) n.onVote(vote(i, VoteType.Prevote, 0, Y));
    n.onTimeout('precommit', 0, 1);
    n.drain();
    n.onProposal(proposal(2, 0, Y), blockY, Y);
    n.onValidated(0, Y, true);
    expect(votesOf(n.drain())).toEqual([{ type: VoteType.Prevote, round: 2, blockHash: null }]);
    expect(n.snapshot()).toMatchObject({ lockedRound: 1 });
  });

  it('the proposer of the next round re-proposes its valid value with its round as proof-of-lock (l.15)', () => {
    const proposer1 = proposerIndex(set, 1);
    const m = new Tendermint(set.validators[proposer1]!.publicKey, timeouts);
    m.startHeight(0, set);
    m.onProposal(proposal(0, -1, X), blockX, X);
    m.onValidated(0, X, true, 0);
    for (const i of others(proposer1)) m.onVote(vote(i, VoteType.Prevote, 0, X));
    m.drain();
    m.onTimeout('precommit', 0, 0);
    const out = m.drain();
    expect(out).toContainEqual({ kind: 'propose', height: 0, round: 1, polRound: 0, block: blockX, blockHash: X });
    expect(out.some((o) => o.kind === 'request-value')).toBe(false);
  });

  it('precommits nil on +2/3 prevotes for nil (l.44) and does not lock', () => {
    const me = selfIdx!;
    const m = new Tendermint(set.validators[me]!.publicKey, timeouts);
    m.startHeight(0, set);
    m.onTimeout('propose', 0, 0);
    expect(votesOf(m.drain())).toEqual([{ type: VoteType.Prevote, round: 0, blockHash: null }]);
    const [a, b] = others(me);
    m.onVote(vote(me, VoteType.Prevote, 0, null));
    m.onVote(vote(a!, VoteType.Prevote, 0, null));
    expect(votesOf(m.drain())).toEqual([]);
    m.onVote(vote(b!, VoteType.Prevote, 0, null));
    expect(votesOf(m.drain())).toEqual([{ type: VoteType.Precommit, round: 0, blockHash: null }]);
    expect(m.snapshot()).toMatchObject({ step: 'precommit', lockedRound: -1, validRound: -1 });
  });
});
