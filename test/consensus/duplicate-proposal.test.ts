// Duplicate-proposal evidence: two signed proposals of one proposer for one height and round with
// different blocks. Codec (round trip, every truncation refused), verification (accepts the real
// thing, refuses each defect), the engine reporting it once per round (also after deciding), and the
// driver passing on and forwarding verified evidence only.
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../src/core/bytes.ts';
import { nobleEd25519 } from '../../src/core/crypto/ed25519.ts';
import { ConsensusDriver } from '../../src/core/consensus/consensus-driver.ts';
import { encodeProposalMessage } from '../../src/core/consensus/consensus-messages.ts';
import { decodeEvidence, encodeEvidence, offenceHeight, offenceKey, offender, verifyEvidence, type EvidenceContext } from '../../src/core/consensus/evidence.ts';
import { proposerIndex } from '../../src/core/consensus/proposer-selection.ts';
import { proposalSignBytes } from '../../src/core/consensus/sign-bytes.ts';
import { Tendermint } from '../../src/core/consensus/tendermint.ts';
import type { DuplicateProposalEvidence, Proposal } from '../../src/core/consensus/types.ts';
import { makeValidatorSet } from '../../src/core/consensus/validator-set.ts';
import { MessageType } from '../../src/core/net/message-types.ts';
import { VirtualClock } from '../../src/sim/virtual-clock.ts';
import { CHAIN_ID, fixedSetApp, hashOf, settleClock, testKeys } from './helpers.ts';

const keys = await testKeys(5);
const set = makeValidatorSet(keys.slice(0, 4).map((k) => k.validator(10)));
const signerOf = (pk: Uint8Array) => keys.find((k) => bytesEqual(k.signer.publicKey, pk))!.signer;
const HEIGHT = 3;

async function signedProposal(height: number, round: number, blockHash: Uint8Array, proposerKey = set.validators[proposerIndex(set, round)]!.publicKey, polRound = -1): Promise<Proposal> {
  const signature = await signerOf(proposerKey).sign(proposalSignBytes(CHAIN_ID, height, round, polRound, blockHash));
  return { height, round, polRound, blockHash, proposer: proposerKey, signature };
}

const pair = async (height = HEIGHT, round = 1): Promise<DuplicateProposalEvidence> => ({
  kind: 'duplicate-proposal',
  proposalA: await signedProposal(height, round, hashOf(1)),
  proposalB: await signedProposal(height, round, hashOf(2)),
});

const ctx = (over: Partial<EvidenceContext> = {}): EvidenceContext => ({
  chainId: CHAIN_ID,
  verifier: nobleEd25519,
  validatorSetAt: (h) => (h === HEIGHT ? set : null),
  currentHeight: HEIGHT + 2,
  maxAgeBlocks: 10,
  ...over,
});

describe('duplicate-proposal evidence', () => {
  it('round-trips (kind 3, versioned) and refuses every truncation; one offence per proposer, height and round', async () => {
    const e = await pair();
    const bytes = encodeEvidence(e);
    expect(bytes[0]).toBe(3);
    expect(bytes[1]).toBe(1);
    const d = decodeEvidence(bytes);
    expect(d.ok && d.value).toEqual(e);
    for (let n = 0; n < bytes.length; n++) expect(decodeEvidence(bytes.subarray(0, n)).ok).toBe(false);
    const wrongVersion = bytes.slice();
    wrongVersion[1] = 9;
    expect(decodeEvidence(wrongVersion).ok).toBe(false);
    expect(offender(e)).toEqual(e.proposalA.proposer);
    expect(offenceHeight(e)).toBe(HEIGHT);
    const third = { ...e, proposalA: e.proposalB, proposalB: await signedProposal(HEIGHT, 1, hashOf(3)) };
    expect(offenceKey(third)).toBe(offenceKey(e));
    expect(offenceKey(await pair(HEIGHT, 2))).not.toBe(offenceKey(e));
  });

  it('verifies the real thing and refuses each defect', async () => {
    const e = await pair();
    expect(await verifyEvidence(e, ctx())).toEqual({ ok: true, value: true });
    const other = set.validators.find((v) => !bytesEqual(v.publicKey, e.proposalA.proposer))!.publicKey;
    const outsider = keys[4]!.signer.publicKey;
    const refusals: [string, DuplicateProposalEvidence, EvidenceContext][] = [
      ['different proposers', { ...e, proposalB: await signedProposal(HEIGHT, 1, hashOf(2), other) }, ctx()],
      ['differ in height or round', { ...e, proposalB: await signedProposal(HEIGHT, 2, hashOf(2), e.proposalA.proposer) }, ctx()],
      ['same block', { ...e, proposalB: await signedProposal(HEIGHT, 1, hashOf(1), e.proposalA.proposer, 0) }, ctx()],
      ['not yet committed', e, ctx({ currentHeight: HEIGHT })],
      ['older than', e, ctx({ currentHeight: HEIGHT + 11 })],
      ['unknown', e, ctx({ validatorSetAt: () => null })],
      ['not in the set', { kind: 'duplicate-proposal', proposalA: await signedProposal(HEIGHT, 1, hashOf(1), outsider), proposalB: await signedProposal(HEIGHT, 1, hashOf(2), outsider) }, ctx()],
      ['signature is invalid', { ...e, proposalB: { ...e.proposalB, blockHash: hashOf(4) } }, ctx()],
      ['signature is invalid', e, ctx({ chainId: 'another-chain' })],
    ];
    for (const [why, bad, c] of refusals) {
      const v = await verifyEvidence(bad, c);
      expect(v.ok, why).toBe(false);
      if (!v.ok) expect(v.error, why).toContain(why);
    }
  });
});

describe('engine and driver', () => {
  const me = set.validators.findIndex((_, i) => i !== proposerIndex(set, 0));

  it('the engine reports a second proposal of the round with another block once, not the same block again, and still after deciding', async () => {
    const m = new Tendermint(set.validators[me]!.publicKey);
    m.startHeight(0, set);
    m.drain();
    const a = await signedProposal(0, 0, hashOf(1));
    const b = await signedProposal(0, 0, hashOf(2));
    const c = await signedProposal(0, 0, hashOf(3));
    m.onProposal(a, new Uint8Array([1]), hashOf(1));
    expect(m.drain().filter((o) => o.kind === 'evidence')).toEqual([]);
    m.onProposal(b, new Uint8Array([2]), hashOf(2));
    const out = m.drain().filter((o) => o.kind === 'evidence');
    expect(out).toEqual([{ kind: 'evidence', evidence: { kind: 'duplicate-proposal', proposalA: a, proposalB: b } }]);
    m.onProposal(c, new Uint8Array([3]), hashOf(3));
    expect(m.drain().filter((o) => o.kind === 'evidence')).toEqual([]);

    const n = new Tendermint(set.validators[me]!.publicKey);
    n.startHeight(0, set);
    n.onProposal(a, new Uint8Array([1]), hashOf(1));
    n.onCommitCertificate(0, new Uint8Array([1]), hashOf(1), { height: 0, round: 0, blockHash: hashOf(1), signatures: [] });
    n.drain();
    expect(n.onProposal(b, new Uint8Array([2]), hashOf(2))).toBe('decided');
    expect(n.drain().map((o) => o.kind)).toEqual(['evidence']);
  });

  it('the driver turns two received proposals into evidence it passes on and forwards; forged evidence is dropped', async () => {
    const clock = new VirtualClock(0);
    const broadcasts: { type: number; body: Uint8Array }[] = [];
    const evidence: unknown[] = [];
    const app = { ...fixedSetApp(set), blockHash: (b: Uint8Array) => hashOf(b[0] ?? 0) };
    const d = new ConsensusDriver({
      chainId: CHAIN_ID, app, signer: signerOf(set.validators[me]!.publicKey), verifier: nobleEd25519, clock,
      transport: { broadcast: (type, body) => void broadcasts.push({ type, body }), send: () => undefined },
      onEvidence: (e) => void evidence.push(e),
    });
    d.start(0);
    const a = await signedProposal(0, 0, hashOf(1));
    const b = await signedProposal(0, 0, hashOf(2));
    // Forged evidence first: a valid proposal paired with a copy whose block hash was changed.
    d.receive('peer', MessageType.ConsensusEvidence, encodeEvidence({ kind: 'duplicate-proposal', proposalA: a, proposalB: { ...a, blockHash: hashOf(5) } }));
    await settleClock(clock);
    expect(evidence).toEqual([]);
    expect(Object.fromEntries(d.counters)).toMatchObject({ 'bad-signature': 1 });
    d.receive('peer', MessageType.ConsensusProposal, encodeProposalMessage({ proposal: a, block: new Uint8Array([1]) }));
    d.receive('peer', MessageType.ConsensusProposal, encodeProposalMessage({ proposal: b, block: new Uint8Array([2]) }));
    await settleClock(clock);
    expect(evidence).toEqual([{ kind: 'duplicate-proposal', proposalA: a, proposalB: b }]);
    const sent = broadcasts.filter((x) => x.type === MessageType.ConsensusEvidence);
    expect(sent).toHaveLength(1);
    // A peer receiving the forwarded copy accepts it (as the only evidence it has).
    const peerEvidence: unknown[] = [];
    const peerClock = new VirtualClock(0);
    const peer = new ConsensusDriver({
      chainId: CHAIN_ID, app, signer: signerOf(set.validators[(me + 1) % 4]!.publicKey), verifier: nobleEd25519, clock: peerClock,
      transport: { broadcast: () => undefined, send: () => undefined },
      onEvidence: (e) => void peerEvidence.push(e),
    });
    peer.start(0);
    peer.receive('x', MessageType.ConsensusEvidence, sent[0]!.body);
    await settleClock(peerClock);
    expect(peerEvidence).toEqual(evidence);
    d.stop();
    peer.stop();
  });
});
