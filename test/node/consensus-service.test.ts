import { describe, expect, it } from 'vitest';
import type { Signer } from '../../src/core/crypto/ed25519.ts';
import { MemoryChainStorage } from '../../src/node/chain-storage.ts';
import { ConsensusService, compareGenesis } from '../../src/node/consensus-service.ts';
import type { ConsensusView } from '../../src/node/consensus-view.ts';
import { Simulator } from '../../src/sim/simulator.ts';
import { encodeGenesis, makeGenesis } from '../../src/core/consensus/genesis.ts';
import { encodeGenesisMessage, encodeHello } from '../../src/core/consensus/chain-messages.ts';
import { genesisHash } from '../../src/core/consensus/genesis.ts';
import { MessageType } from '../../src/core/net/message-types.ts';

// ConsensusService on unmodified AegisNodes over the seeded in-memory network, in virtual time.

interface Tab {
  service: ConsensusService;
  storage: MemoryChainStorage;
}

function attach(sim: Simulator, i: number, storage = new MemoryChainStorage(), extra: { pinnedGenesis?: string; autoStake?: boolean } = {}): Tab {
  const s = sim.get(i);
  const signer = (s as unknown as { signer: Signer }).signer;
  const service = new ConsensusService(s.node, { signer, verifier: sim.crypto, storage, room: 'sim', ...extra });
  sim.at(0, () => service.start());
  return { service, storage };
}

const view = (t: Tab): ConsensusView => t.service.view();
const committed = (t: Tab): number => view(t).committedHeight;

async function runUntil(sim: Simulator, pred: () => boolean, maxVirtualMs: number): Promise<void> {
  const ok = await sim.runUntil(pred, { maxVirtualMs, pollMs: 100 });
  expect(ok).toBe(true);
}

async function network(n: number, seed: number): Promise<{ sim: Simulator; tabs: Tab[] }> {
  const sim = await Simulator.create({ nodes: n, seed, autoStart: false });
  sim.start(0);
  const first = attach(sim, 0);
  await runUntil(sim, () => committed(first) >= 2, 20_000);
  const tabs = [first];
  for (let i = 1; i < n; i++) {
    sim.start(i);
    tabs.push(attach(sim, i));
  }
  await runUntil(sim, () => tabs.every((t) => view(t).phase === 'running'), 30_000);
  return { sim, tabs };
}

/** Every tab's hash at the highest height all of them still remember. */
function agreeOnHashes(tabs: Tab[]): number {
  const h = Math.min(...tabs.map(committed));
  const hashes = new Set(tabs.map((t) => t.service.committedHash(h)));
  expect(hashes.size).toBe(1);
  expect([...hashes][0]).toMatch(/^[0-9a-f]{64}$/);
  return h;
}

describe('ConsensusService on the simulated overlay', () => {
  it('the first node writes genesis and commits alone; newcomers fetch and check it, sync, request stake and become validators', async () => {
    const { sim, tabs } = await network(4, 11);
    const [first, ...newcomers] = tabs as [Tab, ...Tab[]];
    expect(view(first).wroteGenesis).toBe(true);
    expect(view(first).validators.map((v) => v.id)).toEqual([sim.get(0).id]);
    for (const t of newcomers) {
      expect(view(t).wroteGenesis).toBe(false);
      expect(view(t).genesisHash).toBe(view(first).genesisHash);
      expect(view(t).self.status).toBe('observer');
      expect(view(t).self.power).toBe(0);
    }
    // Stored: genesis, snapshot and blocks under the room.
    expect([...first.storage.map.keys()].some((k) => k === 'sim/genesis')).toBe(true);
    expect([...first.storage.map.keys()].some((k) => k.startsWith('sim/block/'))).toBe(true);

    for (const t of newcomers) await t.service.requestStake();
    await runUntil(sim, () => tabs.every((t) => view(t).validators.filter((v) => v.inSet).length === 4), 30_000);
    for (const t of tabs) {
      expect(view(t).self.status).toBe('validator');
      const rows = view(t).validators;
      expect(rows.every((r) => r.stake === 1000 && !r.jailed)).toBe(true);
      // Equal stake, about equal power (reputation moves it a little): a quarter each.
      for (const r of rows) expect(Math.abs(r.share - 0.25)).toBeLessThan(0.01);
    }
    const before = Math.min(...tabs.map(committed));
    await runUntil(sim, () => tabs.every((t) => committed(t) >= before + 5), 30_000);
    agreeOnHashes(tabs);
    // Identical blocks at a common height, byte for byte.
    const h = agreeOnHashes(tabs);
    const blocks = new Set(tabs.map((t) => Buffer.from(t.service.recentBlock(h) ?? new Uint8Array()).toString('hex')));
    expect(blocks.size).toBe(1);
  }, 120_000);

  it('equivocation from the developer switch: evidence committed, slashed 5%, reputation 0 and jailed on every node; heights go on', async () => {
    const { sim, tabs } = await network(5, 12);
    for (const t of tabs.slice(1)) await t.service.requestStake();
    await runUntil(sim, () => tabs.every((t) => view(t).validators.filter((v) => v.inSet).length === 5), 40_000);
    const culprit = tabs[2] as Tab;
    const culpritId = sim.get(2).id;
    const switchedAt = Math.max(...tabs.map(committed));
    culprit.service.setMisbehaviour('equivocate');
    const honest = tabs.filter((t) => t !== culprit);
    await runUntil(sim, () => honest.every((t) => view(t).validators.find((v) => v.id === culpritId)?.jailed === true), 30_000);
    // Promptly: the first double vote is carried by the very next block (it used to be refused while
    // its height was undecided, and counted only if a copy happened to arrive after the commit).
    for (const t of honest) {
      const ev = view(t).evidence.find((e) => e.offender === culpritId);
      expect(ev?.committedHeight).toBe((ev?.offenceHeight ?? 0) + 1);
      expect(ev?.committedHeight).toBeLessThanOrEqual(switchedAt + 3);
      expect(view(t).dropped['evidence invalid']).toBeUndefined();
    }
    culprit.service.setMisbehaviour('none');
    for (const t of honest) {
      const row = view(t).validators.find((v) => v.id === culpritId);
      expect(row).toMatchObject({ stake: 950, reputation: 0, jailed: true, tombstoned: true, power: 0, inSet: false });
      const ev = view(t).evidence.find((e) => e.offender === culpritId);
      expect(ev).toMatchObject({ kind: 'duplicate-vote', slashed: 50, stakeAfter: 950 });
      expect(view(t).validators.filter((v) => v.inSet)).toHaveLength(4);
    }
    // Punished once: one evidence record per node.
    for (const t of honest) expect(view(t).evidence.filter((e) => e.offender === culpritId)).toHaveLength(1);
    const after = Math.min(...honest.map(committed));
    await runUntil(sim, () => honest.every((t) => committed(t) >= after + 4), 30_000);
    agreeOnHashes(honest);
  }, 120_000);

  it('a silent validator is jailed for downtime (1%) once its window fills; a conflicting proposer is slashed as a double signer', async () => {
    const { sim, tabs } = await network(5, 16);
    for (const t of tabs.slice(1)) await t.service.requestStake();
    await runUntil(sim, () => tabs.every((t) => view(t).validators.filter((v) => v.inSet).length === 5), 40_000);
    const quiet = tabs[4] as Tab;
    const quietId = sim.get(4).id;
    const loud = tabs[1] as Tab;
    quiet.service.setMisbehaviour('silent');
    loud.service.setMisbehaviour('conflict');
    const honest = tabs.filter((t) => t !== quiet);
    const loudId = sim.get(1).id;
    const others = honest.filter((t) => t !== loud);
    const jailed = (t: Tab, id: string) => view(t).validators.find((v) => v.id === id)?.jailed === true;
    await runUntil(sim, () => honest.every((t) => jailed(t, quietId)) && others.every((t) => jailed(t, loudId)), 120_000);
    for (const t of honest) {
      const row = view(t).validators.find((v) => v.id === quietId);
      expect(row).toMatchObject({ stake: 990, jailed: true, tombstoned: false, inSet: false });
      expect(view(t).evidence.find((e) => e.offender === quietId)).toMatchObject({ kind: 'downtime', slashed: 10 });
    }
    // Two signed proposals for one round are duplicate-proposal evidence, punished as a double sign.
    expect(view(loud).misbehaviourActs).toBeGreaterThan(0);
    loud.service.setMisbehaviour('none');
    for (const t of others) {
      expect(view(t).validators.find((v) => v.id === loudId)).toMatchObject({ stake: 950, reputation: 0, jailed: true, tombstoned: true, inSet: false });
      expect(view(t).evidence.filter((e) => e.offender === loudId)).toEqual([expect.objectContaining({ kind: 'duplicate-proposal', slashed: 50, stakeAfter: 950 })]);
    }
    const after = Math.min(...others.map(committed));
    await runUntil(sim, () => others.every((t) => committed(t) >= after + 3), 30_000);
    agreeOnHashes(others);
  }, 120_000);

  it('a restarted validator resumes on the same chain from its storage, and keeps committing', async () => {
    const { sim, tabs } = await network(4, 13);
    for (const t of tabs.slice(1)) await t.service.requestStake();
    await runUntil(sim, () => tabs.every((t) => view(t).validators.filter((v) => v.inSet).length === 4), 30_000);
    const victim = tabs[1] as Tab;
    const genesis = view(victim).genesisHash;
    await victim.service.flushed();
    const heightBefore = committed(victim);
    victim.service.stop();
    sim.stopNode(1);
    await sim.runFor(2000);
    sim.restart(1);
    const back = attach(sim, 1, victim.storage);
    tabs[1] = back;
    await runUntil(sim, () => view(back).phase === 'running', 10_000);
    expect(view(back).genesisHash).toBe(genesis);
    expect(view(back).wroteGenesis).toBe(false);
    // Resumed from its own snapshot, not from scratch.
    expect(committed(back)).toBeGreaterThanOrEqual(heightBefore);
    const target = Math.max(...tabs.map(committed)) + 3;
    await runUntil(sim, () => tabs.every((t) => committed(t) >= target), 30_000);
    agreeOnHashes(tabs);
    expect(view(back).self.status).toBe('validator');
  }, 120_000);

  it('two nodes that each wrote genesis converge on the earlier one when they meet', async () => {
    const sim = await Simulator.create({ nodes: 2, seed: 14, autoStart: false });
    sim.partition([[0], [1]], { closeLinks: true });
    sim.start(0);
    const a = attach(sim, 0);
    await sim.runFor(500);
    sim.start(1);
    const b = attach(sim, 1);
    await runUntil(sim, () => committed(a) >= 2 && committed(b) >= 2, 30_000);
    expect(view(a).wroteGenesis && view(b).wroteGenesis).toBe(true);
    expect(view(a).genesisHash).not.toBe(view(b).genesisHash);
    const winner = compareGenesis(
      { timeMs: view(a).genesisTimeMs ?? 0, hash: Buffer.from(view(a).genesisHash ?? '', 'hex') },
      { timeMs: view(b).genesisTimeMs ?? 0, hash: Buffer.from(view(b).genesisHash ?? '', 'hex') },
    ) < 0 ? a : b;
    const loser = winner === a ? b : a;
    const winning = view(winner).genesisHash;
    sim.heal();
    await runUntil(sim, () => view(loser).genesisHash === winning && view(loser).phase === 'running', 30_000);
    expect(view(loser).wroteGenesis).toBe(false);
    expect(view(winner).genesisHash).toBe(winning);
    // The loser's storage now holds the winner's chain only.
    const target = committed(winner) + 2;
    await runUntil(sim, () => committed(loser) >= target, 20_000);
    agreeOnHashes([winner, loser]);
  }, 60_000);

  it('a commit of the losing chain still in flight when its genesis loses is neither stored nor shown', async () => {
    // Once `hold` is set, block writes wait (in real time, outside the simulator's events) until it
    // clears: the loser's next commit is stuck in flight when the winner's genesis arrives.
    class HoldingStorage extends MemoryChainStorage {
      hold: (() => boolean) | null = null;
      override async put(key: string, value: Uint8Array): Promise<void> {
        while (key.includes('/block/') && this.hold?.() === true) await new Promise((r) => setTimeout(r, 0));
        await super.put(key, value);
      }
    }
    const sim = await Simulator.create({ nodes: 2, seed: 16, autoStart: false });
    sim.partition([[0], [1]], { closeLinks: true });
    sim.start(0);
    const winner = attach(sim, 0);
    await sim.runFor(500);
    sim.start(1);
    const storage = new HoldingStorage();
    const loser = attach(sim, 1, storage);
    await runUntil(sim, () => committed(winner) >= 2 && committed(loser) >= 3, 30_000);
    const losing = view(loser).genesisHash;
    storage.hold = () => view(loser).genesisConflicts === 0;
    await sim.runFor(3000);
    // Its state moved to the next height, whose commit waits for the block write to report it.
    const stuck = committed(loser);
    expect(view(loser).commits.some((c) => c.height === stuck)).toBe(false);
    const losingHashes = new Set(view(loser).commits.map((c) => c.hash));
    sim.heal();
    const winning = view(winner).genesisHash;
    await runUntil(sim, () => view(loser).genesisHash === winning && view(loser).phase === 'running', 30_000);
    const target = committed(winner) + 3;
    await runUntil(sim, () => committed(loser) >= target, 30_000);
    expect(losing).not.toBe(winning);
    // Every commit shown is the winner's block of that height, none of the dropped chain's.
    for (const c of view(loser).commits) {
      expect(losingHashes.has(c.hash)).toBe(false);
      expect(c.hash).toBe(winner.service.committedHash(c.height) ?? c.hash);
    }
    // What it stored is the winner's chain: a restart resumes it (a snapshot of the dropped chain would fail its check).
    await sim.runFor(1000);
    const restarted = new ConsensusService(sim.get(1).node, { signer: sim.get(1).signer, verifier: sim.crypto, storage, room: 'sim' });
    loser.service.stop();
    sim.at(0, () => restarted.start());
    await runUntil(sim, () => restarted.view().phase === 'running', 10_000);
    expect(restarted.view().genesisHash).toBe(winning);
    expect(restarted.view().detail).toMatch(/^synced at height/);
    expect(restarted.refused['stored chain unreadable']).toBeUndefined();
    expect(view(loser).dropped['commit of a dropped chain ignored']).toBe(1);
  }, 60_000);

  it('a pinned genesis is the only one accepted', async () => {
    const sim = await Simulator.create({ nodes: 2, seed: 15, autoStart: false });
    sim.start(0);
    const a = attach(sim, 0);
    await runUntil(sim, () => committed(a) >= 1, 20_000);
    sim.start(1);
    const b = attach(sim, 1, new MemoryChainStorage(), { pinnedGenesis: 'ab'.repeat(32) });
    await sim.runFor(8000);
    expect(view(b).phase).toBe('waiting-for-genesis');
    expect(view(b).wroteGenesis).toBe(false);
    expect(view(b).genesisHash).toBeNull();
  }, 60_000);

  it('a tab with no stake offering a genesis dated 0 after commits started moves nobody; the user may still choose to switch', async () => {
    const sim = await Simulator.create({ nodes: 4, seed: 17, autoStart: false });
    sim.start(0);
    const first = attach(sim, 0);
    await runUntil(sim, () => committed(first) >= 2, 20_000);
    const tabs = [first];
    for (const i of [1, 2]) {
      sim.start(i);
      tabs.push(attach(sim, i));
    }
    await runUntil(sim, () => tabs.every((t) => view(t).phase === 'running'), 30_000);
    for (const t of tabs.slice(1)) await t.service.requestStake();
    await runUntil(sim, () => tabs.every((t) => view(t).validators.filter((v) => v.inSet).length === 3), 30_000);
    const honest = view(first).genesisHash;
    // The attacker: no service, no stake; a genesis dated 0 with itself the only validator, offered to everyone.
    sim.start(3);
    const attacker = sim.get(3);
    const forged = encodeGenesis(makeGenesis({ chainId: 'sim-0', timeMs: 0, validators: [{ publicKey: attacker.node.publicKey, stake: 1000 }] }));
    const forgedHash = Buffer.from(genesisHash(forged)).toString('hex');
    await sim.runFor(2000);
    const offer = (): void => {
      void attacker.node.broadcast(MessageType.ChainHello, encodeHello({ genesisHash: genesisHash(forged), genesisTimeMs: 0, height: 1_000_000, startedAtMs: 0 }));
      for (const p of attacker.node.connectedPeers()) void attacker.node.sendTo(p, MessageType.ChainGenesis, encodeGenesisMessage(forged)).catch(() => undefined);
    };
    const before = Math.min(...tabs.map(committed));
    for (let k = 0; k < 3; k++) {
      offer();
      await sim.runFor(2000);
    }
    await runUntil(sim, () => tabs.every((t) => committed(t) >= before + 4), 30_000);
    for (const t of tabs) {
      expect(view(t).genesisHash).toBe(honest);
      expect(view(t).phase).toBe('running');
      expect(view(t).dropped["another network's genesis refused"]).toBeGreaterThanOrEqual(1);
      expect(view(t).foreignGenesis).toMatchObject({ from: attacker.id, hash: forgedHash, timeMs: 0 });
    }
    agreeOnHashes(tabs);
    // Only the user's explicit choice moves a tab (it leaves the honest chain and looks for the forged one's peers).
    expect(await tabs[2]!.service.switchToOfferedGenesis()).toBe(true);
    expect(view(tabs[2]!).genesisHash).toBe(forgedHash);
    expect(view(tabs[2]!).foreignGenesis).toBeNull();
  }, 120_000);

  it('with autoStake and the faucet on, a newcomer requests stake and becomes a validator by itself', async () => {
    const sim = await Simulator.create({ nodes: 3, seed: 18, autoStart: false });
    sim.start(0);
    const first = attach(sim, 0);
    await runUntil(sim, () => committed(first) >= 2, 20_000);
    sim.start(1);
    sim.start(2);
    const auto = attach(sim, 1, new MemoryChainStorage(), { autoStake: true });
    const manual = attach(sim, 2);
    await runUntil(sim, () => view(auto).validators.some((v) => v.self && v.inSet), 30_000);
    expect(view(auto).self.status).toBe('validator');
    expect(view(auto).self.stake).toBe(1000);
    // Without it the tab stays an observer until the user asks.
    expect(view(manual).self.status).toBe('observer');
    expect(view(manual).self.canRequestStake).toBe(true);
  }, 60_000);
});
