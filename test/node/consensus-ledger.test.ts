import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../src/core/bytes.ts';
import type { Verifier } from '../../src/core/crypto/ed25519.ts';
import { domainTag } from '../../src/core/crypto/hash.ts';
import { decodeEntry } from '../../src/core/ledger/entry.ts';
import { MemoryLogStorage } from '../../src/core/ledger/storage.ts';
import { TREE_HEAD_LABEL } from '../../src/core/ledger/tree-head.ts';
import { MessageType } from '../../src/core/net/message-types.ts';
import { connectConsensusToLedger } from '../../src/node/consensus-ledger.ts';
import { ConsensusService } from '../../src/node/consensus-service.ts';
import type { ConsensusView } from '../../src/node/consensus-view.ts';
import { LedgerService } from '../../src/node/ledger-service.ts';
import { Simulator } from '../../src/sim/simulator.ts';
import { sharedCrypto } from '../sim-helpers.ts';

// The audit log meets consensus on the simulated overlay (node/consensus-ledger.ts): a tab that
// forks its log is caught by the others, the split-view evidence goes into the chain, and the work
// it costs stays bounded. Each node re-broadcasting every copy it received was an exponential
// storm (every copy a fresh envelope the overlay cannot de-duplicate) that froze real tabs for 20 s.

interface Tab {
  consensus: ConsensusService;
  ledger: LedgerService;
  /** ChainEvidence envelopes this node originated. */
  evidenceSent: number;
  /** Tree-head signatures consensus checked (split-view evidence), on this node. */
  headChecks: number;
}

const view = (t: Tab): ConsensusView => t.consensus.view();
const committed = (t: Tab): number => view(t).committedHeight;
const HEAD_TAG = domainTag(TREE_HEAD_LABEL);
/** More than this many evidence broadcasts from one node is a storm, not re-gossip. */
const STORM = 3;

/** Runs in slices of virtual time and stops at once if evidence starts to echo. */
async function runUntil(sim: Simulator, tabs: Tab[], pred: () => boolean, maxVirtualMs: number): Promise<void> {
  for (let t = 0; t < maxVirtualMs && !pred(); t += 100) {
    await sim.runFor(100);
    expect(Math.max(...tabs.map((x) => x.evidenceSent)), 'evidence broadcasts by one node').toBeLessThanOrEqual(STORM);
  }
  expect(pred()).toBe(true);
}

async function network(n: number, seed: number): Promise<{ sim: Simulator; tabs: Tab[] }> {
  const sim = await Simulator.create({ nodes: n, seed, autoStart: false, crypto: await sharedCrypto() });
  const tabs: Tab[] = [];
  const attach = async (i: number): Promise<Tab> => {
    const s = sim.get(i);
    const tab = { evidenceSent: 0, headChecks: 0 } as Tab;
    const counting: Verifier = {
      verify: (key, msg, sig) => {
        if (msg.length >= HEAD_TAG.length && bytesEqual(msg.subarray(0, HEAD_TAG.length), HEAD_TAG)) tab.headChecks++;
        return sim.crypto.verify(key, msg, sig);
      },
    };
    tab.consensus = new ConsensusService(s.node, { signer: s.signer, verifier: counting, room: 'sim' });
    tab.ledger = await LedgerService.start({ node: s.node, signer: s.signer, verifier: sim.crypto, storage: new MemoryLogStorage() });
    connectConsensusToLedger(tab.consensus, tab.ledger, s.publicKey);
    const broadcast = s.node.broadcast.bind(s.node);
    s.node.broadcast = (type, body) => {
      if (type === MessageType.ChainEvidence) tab.evidenceSent++;
      return broadcast(type, body);
    };
    sim.at(0, () => tab.consensus.start());
    return tab;
  };
  sim.start(0);
  tabs.push(await attach(0));
  await runUntil(sim, tabs, () => committed(tabs[0]!) >= 2, 20_000);
  for (let i = 1; i < n; i++) {
    sim.start(i);
    tabs.push(await attach(i));
  }
  await runUntil(sim, tabs, () => tabs.every((t) => view(t).phase === 'running'), 30_000);
  return { sim, tabs };
}

/** An entry in every log and a signed head over it, so a fork has an entry to rewrite. */
async function someEntries(sim: Simulator, tabs: Tab[]): Promise<void> {
  sim.at(0, () => tabs.forEach((t) => void t.ledger.recordVote({ voteType: 1, height: 1_000, round: 0, blockHash: null })));
  await runUntil(sim, tabs, () => tabs.every((t) => (t.ledger.snapshot().head?.size ?? 0) > 0), 20_000);
}

function forkLog(sim: Simulator, t: Tab): void {
  sim.at(0, async () => {
    expect((await t.ledger.forkLog()).ok).toBe(true);
  });
}

describe('split-view evidence from the audit log into consensus', () => {
  it('a validator that forks its log is slashed 5%, reputation 0, tombstoned on every node; the evidence is sent and checked a bounded number of times', async () => {
    const { sim, tabs } = await network(4, 21);
    for (const t of tabs.slice(1)) await t.consensus.requestStake();
    await runUntil(sim, tabs, () => tabs.every((t) => view(t).validators.filter((v) => v.inSet).length === 4), 40_000);
    await someEntries(sim, tabs);
    const culprit = tabs[3]!;
    const culpritId = sim.get(3).id;
    const honest = tabs.filter((t) => t !== culprit);
    forkLog(sim, culprit);
    await runUntil(sim, tabs, () => honest.every((t) => view(t).validators.find((v) => v.id === culpritId)?.jailed === true), 30_000);
    for (const t of honest) {
      expect(view(t).validators.find((v) => v.id === culpritId)).toMatchObject({ stake: 950, reputation: 0, jailed: true, tombstoned: true, power: 0, inSet: false });
      expect(view(t).evidence.filter((e) => e.offender === culpritId)).toEqual([expect.objectContaining({ kind: 'split-view', slashed: 50, stakeAfter: 950 })]);
      expect(t.ledger.snapshot().evidence).toEqual([expect.objectContaining({ peer: culpritId, status: 'proven', submitted: true })]);
    }
    const after = Math.min(...honest.map(committed));
    await runUntil(sim, tabs, () => honest.every((t) => committed(t) >= after + 3), 30_000);
    for (const t of tabs) {
      // Its own submission, at most once more before a block carried it; no echo of peers' copies.
      expect(t.evidenceSent).toBeLessThanOrEqual(2);
      // Two heads checked once per node (on arrival, or in the first block carrying them), not
      // again in every proposal and every validation of a block.
      expect(t.headChecks).toBeLessThanOrEqual(2);
    }
    expect(culprit.evidenceSent).toBe(0);
    // The first honest node to catch the fork sends it; the others may get it from the network first.
    expect(honest.some((t) => t.evidenceSent >= 1)).toBe(true);
  }, 60_000);

  it("consensus reaches the node's own log: its votes, its bond, and the slash, reputation drop and jail it suffers", async () => {
    const { sim, tabs } = await network(4, 23);
    const culprit = tabs[3]!;
    const culpritId = sim.get(3).id;
    const cast: string[] = [];
    culprit.consensus.hooks.ownVote.push((v) => cast.push(`${v.type}/${v.height}/${v.round}`));
    for (const t of tabs.slice(1)) await t.consensus.requestStake();
    await runUntil(sim, tabs, () => tabs.every((t) => view(t).validators.filter((v) => v.inSet).length === 4), 40_000);
    await someEntries(sim, tabs);
    forkLog(sim, culprit);
    const honest = tabs.filter((t) => t !== culprit);
    await runUntil(sim, tabs, () => honest.every((t) => view(t).validators.find((v) => v.id === culpritId)?.jailed === true), 30_000);
    await runUntil(sim, tabs, () => view(culprit).validators.find((v) => v.id === culpritId)?.jailed === true, 30_000);
    await sim.runFor(3_000); // the log's batches settle
    const log = culprit.ledger.auditLog!;
    const entries = (await log.entryBytes(0, log.size)).map((b) => decodeEntry(b)).flatMap((d) => (d.ok ? [d.value] : []));
    // Every vote this node cast, once each, and nothing else (height 1000 is someEntries' own vote).
    const logged = entries.flatMap((e) => (e.kind === 'vote' && e.height !== 1_000 ? [`${e.voteType}/${e.height}/${e.round}`] : []));
    expect(cast.length).toBeGreaterThan(0);
    expect(logged.sort()).toEqual(cast.slice().sort());
    const stake = entries.flatMap((e) => (e.kind === 'stake' ? [{ event: e.event, amount: e.amount, total: e.total, height: e.height }] : []));
    const slashHeight = stake.find((e) => e.event === 'slash')?.height;
    expect(slashHeight).toBeGreaterThan(0);
    expect(stake).toEqual([
      { event: 'stake', amount: 1000, total: 1000, height: expect.any(Number) },
      { event: 'slash', amount: -50, total: 950, height: slashHeight },
      { event: 'jail', amount: 0, total: expect.any(Number), height: slashHeight },
      { event: 'reputation', amount: expect.any(Number), total: 0, height: slashHeight },
    ]);
    // The storage figure's full-replica side counts every block to the committed height.
    const replica = culprit.ledger.snapshot().storage.replica;
    const height = committed(culprit);
    expect(replica.basis).toMatch(new RegExp(`every block: height ${height} × \\d+ B average block`));
    expect(replica.bytes).toBeGreaterThanOrEqual(height * 200); // a header and a QC alone exceed 200 B
    // Another node's penalties never enter this log.
    for (const t of honest) {
      const l = t.ledger.auditLog!;
      const theirs = (await l.entryBytes(0, l.size)).map((b) => decodeEntry(b)).flatMap((d) => (d.ok && d.value.kind === 'stake' ? [d.value.event] : []));
      expect(theirs.filter((e) => e !== 'stake' && e !== 'reputation')).toEqual([]);
    }
  }, 60_000);

  it('a node that is no validator forks its log: consensus refuses the evidence before checking it and nobody gossips it', async () => {
    const { sim, tabs } = await network(3, 22);
    await someEntries(sim, tabs);
    const culprit = tabs[2]!;
    const honest = tabs.filter((t) => t !== culprit);
    forkLog(sim, culprit);
    await runUntil(sim, tabs, () => honest.every((t) => t.ledger.snapshot().evidence.some((e) => e.status === 'proven' && e.submitted)), 30_000);
    const events = sim.events;
    const height = Math.min(...tabs.map(committed));
    await sim.runFor(10_000);
    for (const t of tabs) {
      expect(t.evidenceSent).toBe(0);
      expect(t.headChecks).toBe(0);
    }
    for (const t of honest) expect(t.consensus.refused['evidence offender']).toBe(1);
    // Ten seconds of a quiet chain that keeps committing, not an evidence storm.
    expect(Math.min(...tabs.map(committed))).toBeGreaterThan(height + 3);
    expect(sim.events - events).toBeLessThan(5_000);
  }, 60_000);
});
