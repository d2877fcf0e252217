// The driver's handling of untrusted input beyond malformed bytes: a replayed commit is verified
// once, kept future-height messages are bounded in bytes (they are kept before any signature check),
// evidence about keys that are no validator is neither passed on nor forwarded, and the engine parks
// a bounded number of bytes of blocks for rounds ahead.
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../src/core/bytes.ts';
import { ConsensusDriver, type ConsensusDriverOptions } from '../../src/core/consensus/consensus-driver.ts';
import { encodeCommitMessage, encodeProposalMessage } from '../../src/core/consensus/consensus-messages.ts';
import { proposerIndex } from '../../src/core/consensus/proposer-selection.ts';
import { MAX_BLOCK_BYTES_AHEAD, MAX_ROUNDS_AHEAD, Tendermint } from '../../src/core/consensus/tendermint.ts';
import { VoteType, type Proposal } from '../../src/core/consensus/types.ts';
import { makeValidatorSet } from '../../src/core/consensus/validator-set.ts';
import { encodeEvidence } from '../../src/core/consensus/evidence.ts';
import { proposalSignBytes } from '../../src/core/consensus/sign-bytes.ts';
import { duplicateVoteEvidence } from '../../src/core/consensus/vote-set.ts';
import { nobleEd25519, type Verifier } from '../../src/core/crypto/ed25519.ts';
import { MessageType } from '../../src/core/net/message-types.ts';
import { VirtualClock } from '../../src/sim/virtual-clock.ts';
import { CHAIN_ID, fixedSetApp, hashOf, settleClock, signVote, testKeys } from './helpers.ts';

const keys = await testKeys(5);
const set = makeValidatorSet(keys.slice(0, 4).map((k) => k.validator(10)));
const signerAt = (i: number) => keys.find((k) => bytesEqual(k.signer.publicKey, set.validators[i]!.publicKey))!.signer;

function driver(extra: Partial<ConsensusDriverOptions> = {}) {
  const clock = new VirtualClock(0);
  let verified = 0;
  const verifier: Verifier = { verify: (k, m, s) => (verified++, nobleEd25519.verify(k, m, s)) };
  const broadcasts: number[] = [];
  const evidence: unknown[] = [];
  const app = fixedSetApp(set);
  const me = set.validators.findIndex((_, i) => i !== proposerIndex(set, 0));
  const d = new ConsensusDriver({
    chainId: CHAIN_ID, app, signer: signerAt(me), verifier, clock,
    transport: { broadcast: (type) => void broadcasts.push(type), send: () => undefined },
    onEvidence: (e) => void evidence.push(e),
    ...extra,
  });
  d.start(0);
  const settle = () => settleClock(clock);
  return { d, settle, broadcasts, evidence, verified: () => verified };
}

describe('driver: untrusted input', () => {
  it('verifies a replayed (forged) commit once', async () => {
    const { d, settle, verified } = driver();
    const qc = { height: 0, round: 0, blockHash: hashOf(1), signatures: [0, 1, 2].map((i) => ({ validatorIndex: i, signature: new Uint8Array(64).fill(i + 1) })) };
    const body = encodeCommitMessage({ height: 0, block: new Uint8Array([1]), qc });
    for (let i = 0; i < 5; i++) d.receive('peer', MessageType.ConsensusCommit, body);
    await settle();
    expect(Object.fromEntries(d.counters)).toMatchObject({ 'bad-commit': 1, replayed: 4 });
    expect(verified()).toBeLessThanOrEqual(3);
    d.stop();
  });

  it('bounds the bytes of kept future-height messages', async () => {
    const { d } = driver({ maxFutureBytes: 3 * 1024 * 1024 });
    const block = new Uint8Array(1024 * 1024);
    for (let round = 0; round < 5; round++) {
      const proposal = { height: 1, round, polRound: -1, blockHash: hashOf(0), proposer: signerAt(0).publicKey, signature: new Uint8Array(64) };
      d.receive('peer', MessageType.ConsensusProposal, encodeProposalMessage({ proposal, block }));
    }
    expect(Object.fromEntries(d.counters)).toMatchObject({ 'future-kept': 2, 'future-dropped': 3 });
    d.stop();
  });

  it('drops evidence about a key that is no validator, forwards evidence about a validator', async () => {
    const { d, settle, broadcasts, evidence } = driver();
    const outsider = keys[4]!.signer;
    const fake = duplicateVoteEvidence(
      await signVote(outsider, VoteType.Prevote, 0, 0, null),
      await signVote(outsider, VoteType.Prevote, 0, 0, hashOf(3)),
    );
    d.receive('peer', MessageType.ConsensusEvidence, encodeEvidence(fake));
    await settle();
    expect(Object.fromEntries(d.counters)).toMatchObject({ 'not-validator': 1 });
    expect(evidence).toEqual([]);
    expect(broadcasts.filter((t) => t === MessageType.ConsensusEvidence)).toEqual([]);
    const z = signerAt(1);
    const real = duplicateVoteEvidence(await signVote(z, VoteType.Prevote, 0, 0, null), await signVote(z, VoteType.Prevote, 0, 0, hashOf(3)));
    d.receive('peer', MessageType.ConsensusEvidence, encodeEvidence(real));
    await settle();
    expect(evidence).toHaveLength(1);
    expect(broadcasts.filter((t) => t === MessageType.ConsensusEvidence)).toHaveLength(1);
    d.stop();
  });
});

describe('engine: blocks parked for rounds ahead', () => {
  it('keeps at most MAX_BLOCK_BYTES_AHEAD of them; the current round still takes its proposal', () => {
    const self = set.validators.findIndex((_, i) => i !== proposerIndex(set, 0));
    const m = new Tendermint(signerAt(self).publicKey);
    m.startHeight(0, set);
    const big = new Uint8Array(4 * 1024 * 1024);
    const statuses: string[] = [];
    let n = 0;
    for (let round = 1; round <= MAX_ROUNDS_AHEAD; round++) {
      const proposer = set.validators[proposerIndex(set, round)]!.publicKey;
      for (let k = 0; k < 4; k++, n++) {
        const p: Proposal = { height: 0, round, polRound: -1, blockHash: hashOf(1000 + n), proposer, signature: new Uint8Array(64) };
        statuses.push(m.onProposal(p, big, hashOf(1000 + n)));
      }
    }
    expect(statuses.filter((s) => s === 'added')).toHaveLength(MAX_BLOCK_BYTES_AHEAD / big.length);
    expect(statuses.filter((s) => s === 'round-too-far').length).toBeGreaterThan(200);
    const p0: Proposal = { height: 0, round: 0, polRound: -1, blockHash: hashOf(1), proposer: set.validators[proposerIndex(set, 0)]!.publicKey, signature: new Uint8Array(64) };
    expect(m.onProposal(p0, big, hashOf(1))).toBe('added');
  });
});

describe('driver: a proposal copied onto other block bytes', () => {
  it('is dropped before its signature is checked and does not get the genuine proposal dropped as a replay', async () => {
    const { d, settle, verified } = driver();
    const p0 = proposerIndex(set, 0);
    const signature = await signerAt(p0).sign(proposalSignBytes(CHAIN_ID, 0, 0, -1, hashOf(1)));
    const proposal: Proposal = { height: 0, round: 0, polRound: -1, blockHash: hashOf(1), proposer: signerAt(p0).publicKey, signature };
    d.receive('mallory', MessageType.ConsensusProposal, encodeProposalMessage({ proposal, block: new Uint8Array([2]) }));
    d.receive('p0', MessageType.ConsensusProposal, encodeProposalMessage({ proposal, block: new Uint8Array([1]) }));
    await settle();
    expect(Object.fromEntries(d.counters)).toMatchObject({ 'hash-mismatch': 1, verified: 1 });
    expect(d.counters.get('replayed')).toBeUndefined();
    expect(verified()).toBe(1);
    d.stop();
  });
});
