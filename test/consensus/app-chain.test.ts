import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesEqual, bytesToHex } from '../../src/core/bytes.ts';
import { nobleEd25519, type Signer } from '../../src/core/crypto/ed25519.ts';
import { nodeIdFromPublicKey } from '../../src/core/crypto/node-id.ts';
import { hexToBytes } from '../../src/core/bytes.ts';
import { applyBlock, stateRoot, type AppEvent } from '../../src/core/consensus/app-state.ts';
import { bodyRoots, decodeBlock, encodeBlock, type Block } from '../../src/core/consensus/block.ts';
import { Chain } from '../../src/core/consensus/chain.ts';
import { offenceKey } from '../../src/core/consensus/evidence.ts';
import { MICROS } from '../../src/core/consensus/genesis.ts';
import { afterCommit, afterRound } from '../../src/core/consensus/reputation.ts';
import { voteSignBytes } from '../../src/core/consensus/sign-bytes.ts';
import { indexOfValidator } from '../../src/core/consensus/validator-set.ts';
import { VoteType, type DuplicateVoteEvidence } from '../../src/core/consensus/types.ts';
import { DEFAULT_PARAMS as SECAGG_DEFAULTS } from '../../src/core/secagg/params.ts';
import { NO_PREVIOUS_HEAD, signTreeHead } from '../../src/core/ledger/tree-head.ts';
import { appKeys, CHAIN, LockStep, testGenesis, tx } from './app-helpers.ts';

const stakeOf = (net: LockStep, s: Signer): number => net.chains[0]!.state.candidates.get(bytesToHex(s.publicKey))?.stake ?? 0;
const repOf = (net: LockStep, s: Signer): number => net.chains[0]!.state.candidates.get(bytesToHex(s.publicKey))?.reputationMicros ?? -1;
const inSet = (net: LockStep, s: Signer): boolean => indexOfValidator(net.chains[0]!.validatorSet(net.height + 1), s.publicKey) >= 0;
const events = (net: LockStep, kind: AppEvent['kind']): AppEvent[] => net.commits[0]!.flatMap((c) => c.events.filter((e) => e.kind === kind));

function expectAllAgree(net: LockStep): void {
  const root = stateRoot(net.chains[0]!.state);
  for (const c of net.chains) {
    expect(stateRoot(c.state)).toEqual(root);
    expect(c.lastBlockHash).toEqual(net.chains[0]!.lastBlockHash);
  }
}

async function doubleSign(s: Signer, height: number, round = 0): Promise<DuplicateVoteEvidence> {
  const vote = async (blockHash: Uint8Array | null) => ({
    type: VoteType.Precommit,
    height,
    round,
    blockHash,
    validator: s.publicKey,
    signature: await s.sign(voteSignBytes(CHAIN, VoteType.Precommit, height, round, blockHash)),
  });
  return { kind: 'duplicate-vote', voteA: await vote(new Uint8Array(32).fill(1)), voteB: await vote(new Uint8Array(32).fill(2)) };
}

describe('chain application: joining, staking, identical roots', () => {
  it('a newcomer takes faucet stake, joins, bonds and becomes a validator; every instance computes the same roots', async () => {
    const keys = await appKeys(6);
    const [a, b, c, d, newcomer, idle] = keys as [Signer, Signer, Signer, Signer, Signer, Signer];
    const genesis = testGenesis([a, b, c, d], [100, 100, 100, 100], { validatorSetIntervalBlocks: 5, faucetAmount: 500 });
    const net = LockStep.create(genesis, [a, b, c, d]);
    await net.step();
    await net.submit(await tx(newcomer, 0, { kind: 'faucet' }));
    await net.submit(await tx(newcomer, 1, { kind: 'join' }));
    await net.submit(await tx(newcomer, 2, { kind: 'bond', amount: 120 }));
    await net.submit(await tx(idle, 0, { kind: 'join' })); // a candidate with no stake has no power
    expect(inSet(net, newcomer)).toBe(false);
    await net.step();
    expectAllAgree(net);
    // Bonding changes stake, so the set is recomputed at once: the newcomer decides the next height.
    expect(inSet(net, newcomer)).toBe(true);
    expect(inSet(net, idle)).toBe(false);
    const set = net.chains[0]!.validatorSet(net.height + 1);
    const power = set.validators[indexOfValidator(set, newcomer.publicKey)]!.power;
    expect(power).toBe(Math.floor((120 * 750_000) / MICROS)); // reputation 0.5 → multiplier 0.75
    expect(net.chains[0]!.state.accounts.get(bytesToHex(newcomer.publicKey))?.balance).toBe(380);
    // A faucet payout inside the interval is refused by the proposer's filter (stays pending).
    await net.submit(await tx(newcomer, 3, { kind: 'faucet' }));
    await net.step();
    expect(net.chains[0]!.state.accounts.get(bytesToHex(newcomer.publicKey))?.nonce).toBe(3);
    expect(net.chains[0]!.pending.transactions).toBe(1);
    await net.steps(4);
    expectAllAgree(net);
    expect(events(net, 'join').length).toBe(2);
    expect(events(net, 'validator-set').length).toBeGreaterThan(0);

    // A fresh instance replaying the stored blocks reaches the same root (determinism).
    const replay = new Chain({ genesis, verifier: nobleEd25519, clock: net.clock });
    for (let h = 1; h <= net.height; h++) {
      const stored = net.chains[1]!.blocks.get(h)!;
      await replay.commitBlock(h, stored.bytes, stored.qc);
    }
    expect(stateRoot(replay.state)).toEqual(stateRoot(net.chains[0]!.state));
  });

  it('validators who precommit gain reputation slowly; the absent lose it', async () => {
    const keys = await appKeys(4);
    const genesis = testGenesis(keys, [100, 100, 100, 100], { downtimeWindowBlocks: 50 });
    const net = LockStep.create(genesis, keys);
    const absent = keys[3]!;
    await net.steps(6, (s) => s === absent);
    const p = genesis.params;
    // Heights 2..6 carry a last commit: five applications of the rule.
    expect(repOf(net, keys[0]!)).toBe(p.reputationStartMicros + 5 * p.reputationCommitGainMicros);
    expect(repOf(net, absent)).toBe(p.reputationStartMicros - 5 * p.reputationAbsenceDecayMicros);
    expectAllAgree(net);
  });
});

describe('transaction pool', () => {
  it('orders a sender\'s transactions by nonce, bounds how far ahead it may queue, and survives a failing listener', async () => {
    const keys = await appKeys(5);
    const genesis = testGenesis(keys.slice(0, 4), [100, 100, 100, 100]);
    const net = LockStep.create(genesis, keys.slice(0, 4), {});
    const user = keys[4]!;
    // Arrive in reverse order; one block takes all three.
    await net.submit(await tx(user, 2, { kind: 'bond', amount: 10 }));
    await net.submit(await tx(user, 1, { kind: 'join' }));
    await net.submit(await tx(user, 0, { kind: 'faucet' }));
    await net.step();
    expect(net.chains[0]!.state.accounts.get(bytesToHex(user.publicKey))?.nonce).toBe(3);
    expect(stakeOf(net, user)).toBe(10);
    expect(await net.chains[0]!.submitTransaction(await tx(user, 3 + 64, { kind: 'faucet' }))).toMatchObject({ ok: false, error: expect.stringMatching(/tx ahead/) });
    expect(await net.chains[0]!.submitTransaction(await tx(user, 1, { kind: 'faucet' }))).toMatchObject({ ok: false, error: expect.stringMatching(/tx stale/) });
    const bytes = new Uint8Array([1, 2, 3]);
    expect((await net.chains[0]!.submitTransaction(bytes)).ok).toBe(false);
    expect(net.chains[0]!.rejected.get('tx ahead')).toBe(1);

    const listening = new Chain({ genesis, verifier: nobleEd25519, clock: net.clock, onCommit: () => { throw new Error('dashboard bug'); } });
    const stored = net.chains[0]!.blocks.get(1)!;
    await listening.commitBlock(1, stored.bytes, stored.qc);
    expect(listening.height).toBe(1);
    expect(listening.rejected.get('onCommit failed')).toBe(1);
  });
});

describe('reputation rules', () => {
  const p = { reputationStartMicros: 500_000, reputationCommitGainMicros: 1_000, reputationAbsenceDecayMicros: 5_000, reputationRoundGainMicros: 10_000, reputationDropoutPenaltyMicros: 5_000 };
  it('signing and contributing never lower reputation, absence and dropping out never raise it, always within [0, 1]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MICROS }), fc.boolean(), (rep, yes) => {
        for (const next of [afterCommit(rep, yes, p), afterRound(rep, yes, p)]) {
          expect(next).toBeGreaterThanOrEqual(0);
          expect(next).toBeLessThanOrEqual(MICROS);
          if (yes) expect(next).toBeGreaterThanOrEqual(rep);
          else expect(next).toBeLessThanOrEqual(rep);
        }
      }),
    );
  });
});

describe('evidence and slashing', () => {
  it('double sign: slashed 5% once, reputation 0, tombstoned and out of the set; repeated evidence refused', async () => {
    const keys = await appKeys(5);
    const genesis = testGenesis(keys, [1000, 1000, 1000, 1000, 1000]);
    const net = LockStep.create(genesis, keys);
    await net.steps(2);
    const culprit = keys[4]!;
    const e = await doubleSign(culprit, 2);
    // Evidence reaches two nodes' pools (gossip reaches the rest later; they validate it in the block).
    expect((await net.chains[0]!.submitEvidence(e)).ok).toBe(true);
    for (const c of net.chains) await c.submitEvidence(e);
    await net.step();
    expectAllAgree(net);
    expect(stakeOf(net, culprit)).toBe(950);
    expect(repOf(net, culprit)).toBe(0);
    const cand = net.chains[0]!.state.candidates.get(bytesToHex(culprit.publicKey))!;
    expect(cand.tombstoned).toBe(true);
    expect(inSet(net, culprit)).toBe(false);
    expect(events(net, 'slash')).toEqual([expect.objectContaining({ reason: 'double-sign', burned: 50, stake: 950 })]);
    expect(events(net, 'jail')).toEqual([expect.objectContaining({ reason: 'double-sign', tombstoned: true })]);
    // The same offence with the votes swapped is the same key: refused by the pool.
    const swapped: DuplicateVoteEvidence = { ...e, voteA: e.voteB, voteB: e.voteA };
    expect(await net.chains[1]!.submitEvidence(swapped)).toMatchObject({ ok: false, error: expect.stringMatching(/already punished/) });
    // ...and by block application, if a proposer tried anyway.
    const last = decodeBlock(net.chains[0]!.blocks.get(net.height)!.bytes);
    expect(last.ok).toBe(true);
    const replayed = applyBlock(net.chains[0]!.state, {
      height: net.height + 1,
      timeMs: net.clock.t + 5,
      proposer: keys[0]!.publicKey,
      lastCommit: net.chains[0]!.lastCommit,
      evidence: [swapped],
      transactions: [],
      results: [],
    });
    expect(replayed).toMatchObject({ ok: false, error: 'evidence 0: offence already punished' });
    // A tombstoned validator cannot unjail.
    await net.submit(await tx(culprit, 0, { kind: 'unjail' }));
    await net.steps(3);
    expect(inSet(net, culprit)).toBe(false);
    expect(stakeOf(net, culprit)).toBe(950);
  });

  it('a double vote of the height being decided is pooled, left out of that height\'s block and carried by the next; both double votes of a height slash once', async () => {
    const keys = await appKeys(5);
    const net = LockStep.create(testGenesis(keys, [1000, 1000, 1000, 1000, 1000]), keys);
    await net.steps(2);
    const culprit = keys[3]!;
    // What the engine reports while height 3 is still open: a prevote and a precommit double vote.
    const precommits = await doubleSign(culprit, 3);
    const prevotes: DuplicateVoteEvidence = await (async () => {
      const vote = async (fill: number) => ({
        type: VoteType.Prevote,
        height: 3,
        round: 0,
        blockHash: new Uint8Array(32).fill(fill),
        validator: culprit.publicKey,
        signature: await culprit.sign(voteSignBytes(CHAIN, VoteType.Prevote, 3, 0, new Uint8Array(32).fill(fill))),
      });
      return { kind: 'duplicate-vote', voteA: await vote(1), voteB: await vote(2) };
    })();
    for (const c of net.chains) {
      expect(await c.submitEvidence(precommits)).toEqual({ ok: true, value: offenceKey(precommits) });
      expect((await c.submitEvidence(prevotes)).ok).toBe(true);
    }
    const block3 = decodeBlock(await net.step());
    expect(block3.ok && block3.value.body.evidence).toEqual([]);
    expect(net.chains.every((c) => c.hasPendingEvidence(offenceKey(precommits)))).toBe(true);
    const block4 = decodeBlock(await net.step());
    // Slashed once: the first double vote tombstones it, the second is not applied (and dropped).
    expect(block4.ok && block4.value.body.evidence).toHaveLength(1);
    expectAllAgree(net);
    expect(stakeOf(net, culprit)).toBe(950);
    expect(repOf(net, culprit)).toBe(0);
    expect(events(net, 'slash')).toEqual([expect.objectContaining({ reason: 'double-sign', burned: 50, stake: 950 })]);
    expect(net.chains[0]!.hasPendingEvidence(offenceKey(prevotes)) || net.chains[0]!.hasPendingEvidence(offenceKey(precommits))).toBe(false);
    await net.step();
    expect(inSet(net, culprit)).toBe(false);
    // A block that carries the second offence anyway is refused.
    const again = applyBlock(net.chains[0]!.state, {
      height: net.height + 1,
      timeMs: net.clock.t + 5,
      proposer: keys[0]!.publicKey,
      lastCommit: net.chains[0]!.lastCommit,
      evidence: [prevotes, precommits],
      transactions: [],
      results: [],
    });
    expect(again).toMatchObject({ ok: false, error: expect.stringMatching(/already (tombstoned|punished)/) });
  });

  it('evidence of a non-member, or of an uncommitted height, or with a forged signature is refused', async () => {
    const keys = await appKeys(6);
    const genesis = testGenesis(keys.slice(0, 4), [100, 100, 100, 100]);
    const net = LockStep.create(genesis, keys.slice(0, 4));
    await net.steps(2);
    expect(await net.chains[0]!.submitEvidence(await doubleSign(keys[5]!, 1))).toMatchObject({ ok: false, error: expect.stringMatching(/not in the set/) });
    // Height 3 is being decided (its double votes are pooled: see below); height 4 has not begun.
    expect(await net.chains[0]!.submitEvidence(await doubleSign(keys[0]!, 4))).toMatchObject({ ok: false, error: expect.stringMatching(/not yet committed/) });
    const e = await doubleSign(keys[1]!, 1);
    const forged = { ...e, voteB: { ...e.voteB, signature: e.voteA.signature } };
    expect(await net.chains[0]!.submitEvidence(forged)).toMatchObject({ ok: false, error: expect.stringMatching(/signature/) });
    const sameBlock = { ...e, voteB: e.voteA };
    expect(await net.chains[0]!.submitEvidence(sameBlock)).toMatchObject({ ok: false, error: expect.stringMatching(/same block/) });
  });

  it('split view: two signed log heads of one size with different roots slash the log owner; an unreconciled pair does not', async () => {
    const keys = await appKeys(4);
    const genesis = testGenesis(keys, [1000, 1000, 1000, 1000], { doubleSignTombstone: false, doubleSignJailBlocks: 50 });
    const net = LockStep.create(genesis, keys);
    await net.step();
    const owner = keys[2]!;
    const head = (size: number, root: number, prev = NO_PREVIOUS_HEAD) => signTreeHead({ size, root: new Uint8Array(32).fill(root), timeMs: 1000 + size, prevHash: prev }, owner);
    const [a, b, c] = await Promise.all([head(5, 1), head(5, 2), head(9, 3, new Uint8Array(32).fill(7))]);
    const unreconciled = { kind: 'split-view' as const, logOwner: owner.publicKey, headA: a.bytes, headB: c.bytes };
    expect(await net.chains[0]!.submitEvidence(unreconciled)).toMatchObject({ ok: false, error: expect.stringMatching(/split view/) });
    const fork = { kind: 'split-view' as const, logOwner: owner.publicKey, headA: a.bytes, headB: b.bytes };
    for (const ch of net.chains) expect((await ch.submitEvidence(fork)).ok).toBe(true);
    await net.step();
    expect(events(net, 'slash')).toEqual([expect.objectContaining({ reason: 'split-view', burned: 50 })]);
    const cand = net.chains[0]!.state.candidates.get(bytesToHex(owner.publicKey))!;
    expect(cand).toMatchObject({ tombstoned: false, jailedUntil: net.height + 50, reputationMicros: 0 });
    expect(await net.chains[1]!.submitEvidence({ ...fork, headA: b.bytes, headB: a.bytes })).toMatchObject({ ok: false, error: expect.stringMatching(/already punished/) });
    expectAllAgree(net);
  });

  it('downtime: missing more than half the window slashes 1% and jails; unjail after the period brings it back', async () => {
    const keys = await appKeys(4);
    const genesis = testGenesis(keys, [1000, 1000, 1000, 1000], { downtimeWindowBlocks: 4, downtimeJailBlocks: 3 });
    const net = LockStep.create(genesis, keys);
    const lazy = keys[3]!;
    await net.step();
    // Heights 2.. carry last commits; the window of 4 needs 3 misses (> half) once full.
    let jailedAt = 0;
    for (let i = 0; i < 6 && jailedAt === 0; i++) {
      await net.step((s) => s === lazy);
      if (events(net, 'jail').length > 0) jailedAt = net.height;
    }
    expect(jailedAt).toBe(5); // window full after the commits carried by heights 2..5
    expect(events(net, 'slash')).toEqual([expect.objectContaining({ reason: 'downtime', burned: 10, stake: 990 })]);
    expect(inSet(net, lazy)).toBe(false);
    const until = net.chains[0]!.state.candidates.get(bytesToHex(lazy.publicKey))!.jailedUntil;
    expect(until).toBe(jailedAt + 3);
    // Too early: the proposer leaves the unjail pending until the jail period is over.
    await net.submit(await tx(lazy, 0, { kind: 'unjail' }));
    await net.step();
    expect(inSet(net, lazy)).toBe(false);
    while (net.height < until) await net.step();
    expect(inSet(net, lazy)).toBe(true);
    expect(events(net, 'unjail').length).toBe(1);
    expect(events(net, 'slash').length).toBe(1);
    expectAllAgree(net);
  });
});

describe('block validation names what is wrong', () => {
  async function setup() {
    const keys = await appKeys(4);
    const genesis = testGenesis(keys, [100, 100, 100, 100], {}, keys);
    const net = LockStep.create(genesis, keys);
    await net.steps(2);
    await net.submit(await tx(keys[0]!, 0, { kind: 'transfer', to: keys[1]!.publicKey, amount: 7 }));
    net.clock.t += 1000;
    const h = net.height + 1;
    const set = net.chains[0]!.validatorSet(h);
    const { proposerOf } = await import('../../src/core/consensus/proposer-selection.ts');
    const pi = keys.findIndex((k) => bytesEqual(k.publicKey, proposerOf(set, 0).publicKey));
    const good = await net.chains[pi]!.proposeBlock(h, 0);
    const block = (decodeBlock(good) as { ok: true; value: Block }).value;
    const verifier = net.chains[(pi + 1) % 4]!;
    return { keys, net, h, good, block, verifier };
  }

  const rebuild = (b: Block, body: Block['body'], header: Partial<Block['header']> = {}): Uint8Array =>
    encodeBlock({ header: { ...b.header, ...bodyRoots(body), ...header }, body });

  it('accepts the honest proposal and refuses each kind of tampering', async () => {
    const { keys, h, good, block, verifier } = await setup();
    expect(await verifier.checkBlock(h, good)).toEqual({ ok: true, value: true });
    const t = block.body.transactions[0]!;
    const badSig = rebuild(block, { ...block.body, transactions: [{ ...t, signature: new Uint8Array(64).fill(9) }] });
    expect(await verifier.checkBlock(h, badSig)).toMatchObject({ ok: false, error: 'transaction 0: signature invalid' });
    const replay = rebuild(block, { ...block.body, transactions: [t, t] });
    expect(await verifier.checkBlock(h, replay)).toMatchObject({ ok: false, error: expect.stringMatching(/transaction 1: nonce 0, expected 1/) });
    const rich = await tx(keys[2]!, 0, { kind: 'transfer', to: keys[1]!.publicKey, amount: 1_000_000 });
    const overdraw = rebuild(block, { ...block.body, transactions: [t, rich] });
    expect(await verifier.checkBlock(h, overdraw)).toMatchObject({ ok: false, error: expect.stringMatching(/transaction 1: transfer: amount/) });
    const wrongRoot = rebuild(block, block.body, { appStateRoot: new Uint8Array(32) });
    expect(await verifier.checkBlock(h, wrongRoot)).toMatchObject({ ok: false, error: 'block state root: differs from re-execution' });
    const noCommit = rebuild(block, { ...block.body, lastCommit: null });
    expect(await verifier.checkBlock(h, noCommit)).toMatchObject({ ok: false, error: 'block last commit: missing' });
    const mismatched = encodeBlock({ header: block.header, body: { ...block.body, transactions: [] } });
    expect(await verifier.checkBlock(h, mismatched)).toMatchObject({ ok: false, error: expect.stringMatching(/header roots/) });
    const future = rebuild(block, block.body, { timeMs: block.header.timeMs + 3_600_000 });
    expect(await verifier.checkBlock(h, future)).toMatchObject({ ok: false, error: expect.stringMatching(/future/) });
    const stranger = rebuild(block, block.body, { proposer: (await appKeys(9))[8]!.publicKey });
    expect(await verifier.checkBlock(h, stranger)).toMatchObject({ ok: false, error: expect.stringMatching(/proposer/) });
    expect(verifier.rejected.get('transaction 0')).toBe(1);
  });
});

describe('aggregation results', () => {
  it('an opened round takes one checked result; contributors gain reputation; an unverifiable result is refused', async () => {
    const keys = await appKeys(4);
    const genesis = testGenesis(keys, [100, 100, 100, 100]);
    let verdict = true;
    const net = LockStep.create(genesis, keys, { checkAggregation: async () => verdict });
    await net.step();
    const roundId = new Uint8Array(16).fill(0x42);
    await net.submit(await tx(keys[0]!, 0, { kind: 'open-round', roundId, deadlineHeight: 10, params: { ...SECAGG_DEFAULTS, dimension: 2, min_contributors: 2 } }));
    await net.step();
    const round = net.chains[0]!.state.rounds.get(bytesToHex(roundId))!;
    expect(round.aggregator).toEqual(net.commits[0]!.at(-1)!.header.proposer);
    const ids = keys.map((k) => hexToBytes(nodeIdFromPublicKey(k.publicKey)));
    const result = { roundId, transcriptHash: new Uint8Array(32).fill(3), sum: new Uint32Array([5, 6]), contributors: [ids[1]!, ids[2]!], dropouts: [ids[3]!] };
    for (const c of net.chains) expect(c.submitResult(result).ok).toBe(true);
    const before = [1, 2, 3].map((i) => repOf(net, keys[i]!));
    // A validator whose checker says no refuses the block carrying the result.
    verdict = false;
    const h = net.height + 1;
    const { proposerOf } = await import('../../src/core/consensus/proposer-selection.ts');
    const set = net.chains[0]!.validatorSet(h);
    const pi = keys.findIndex((k) => bytesEqual(k.publicKey, proposerOf(set, 0).publicKey));
    verdict = true;
    net.clock.t += 1000;
    const bytes = await net.chains[pi]!.proposeBlock(h, 0);
    verdict = false;
    expect(await net.chains[(pi + 1) % 4]!.checkBlock(h, bytes)).toMatchObject({ ok: false, error: 'result 0: does not match its transcript' });
    verdict = true;
    net.clock.t -= 1000;
    await net.step();
    expect(net.chains[0]!.state.rounds.get(bytesToHex(roundId))!.completed).toBe(true);
    const p = genesis.params;
    const after = [1, 2, 3].map((i) => repOf(net, keys[i]!));
    expect(after[0]! - before[0]!).toBe(p.reputationRoundGainMicros + p.reputationCommitGainMicros);
    expect(after[2]! - before[2]!).toBe(-p.reputationDropoutPenaltyMicros + p.reputationCommitGainMicros);
    expect(events(net, 'round-result')).toEqual([expect.objectContaining({ contributors: 2, dropouts: 1 })]);
    expectAllAgree(net);
  });
});

describe('block store', () => {
  it('keeps only the genesis-configured window of blocks', async () => {
    const keys = await appKeys(4);
    const genesis = testGenesis(keys, [100, 100, 100, 100], { blockWindow: 3, evidenceMaxAgeBlocks: 3 });
    const net = LockStep.create(genesis, keys);
    await net.steps(7);
    const store = net.chains[0]!.blocks;
    expect(store.size).toBe(3);
    expect(store.range).toEqual({ lowest: 5, highest: 7 });
    expect(store.get(4)).toBeUndefined();
    expect(bytesEqual(store.get(7)!.hash, net.chains[0]!.lastBlockHash)).toBe(true);
  });
});
