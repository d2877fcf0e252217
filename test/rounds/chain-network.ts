// A 4-validator chain of unmodified AegisNodes over the seeded in-memory network (virtual time),
// each running consensus, secure aggregation, its audit log and a ChainRoundService: shared by the
// chain-round simulator tests.
import { expect } from 'vitest';
import type { CommitInfo } from '../../src/core/consensus/chain.ts';
import type { ConsensusParams } from '../../src/core/consensus/genesis.ts';
import type { SecAggParams } from '../../src/core/secagg/params.ts';
import { nobleAesCtrPrg } from '../../src/core/crypto/prg.ts';
import { nobleX25519 } from '../../src/core/crypto/x25519.ts';
import { fromBase64 } from '../../src/core/ledger/base64.ts';
import { decodeEntry, type LogEntry } from '../../src/core/ledger/entry.ts';
import { MemoryLogStorage } from '../../src/core/ledger/storage.ts';
import { ChainRoundService, type ChainRoundsOptions } from '../../src/node/chain-rounds.ts';
import { MemoryChainStorage } from '../../src/node/chain-storage.ts';
import { ConsensusService } from '../../src/node/consensus-service.ts';
import { connectSecAggToLedger } from '../../src/node/ledger-secagg.ts';
import { LedgerService } from '../../src/node/ledger-service.ts';
import { SecAggService } from '../../src/node/secagg-service.ts';
import { Simulator } from '../../src/sim/simulator.ts';
import { sharedCrypto } from '../sim-helpers.ts';

export const N = 4;

export interface Tab {
  consensus: ConsensusService;
  secagg: SecAggService;
  ledger: LedgerService;
  rounds: ChainRoundService;
  commits: CommitInfo[];
}

export async function runUntil(sim: Simulator, pred: () => boolean, maxVirtualMs: number): Promise<void> {
  expect(await sim.runUntil(pred, { maxVirtualMs, pollMs: 100 })).toBe(true);
}

/** The running chain with all N nodes validators and `inputs[i]` set on node i. */
export async function network(
  inputs: readonly (readonly number[])[],
  rounds: Pick<ChainRoundsOptions, 'maxShipBytes' | 'sampledChunks'> = {},
  /** Genesis parameters for the chain the first tab writes (e.g. small windows). */
  genesisParams?: Partial<ConsensusParams>,
): Promise<{ sim: Simulator; tabs: Tab[] }> {
  const sim = await Simulator.create({ nodes: N, seed: 21, autoStart: false, crypto: await sharedCrypto() });
  const deps = { x25519: nobleX25519, prg: nobleAesCtrPrg, verifier: sim.crypto };
  const tabs: Tab[] = [];
  const attach = async (i: number): Promise<Tab> => {
    const s = sim.get(i);
    const consensus = new ConsensusService(s.node, { signer: s.signer, verifier: sim.crypto, storage: new MemoryChainStorage(), room: 'sim', ...(genesisParams ? { genesisParams } : {}) });
    const secagg = new SecAggService(s.node, deps);
    const ledger = await LedgerService.start({ node: s.node, signer: s.signer, verifier: sim.crypto, storage: new MemoryLogStorage() });
    connectSecAggToLedger(secagg, ledger);
    const service = new ChainRoundService({ node: s.node, secagg, consensus, deps, recordReceipt: (r) => ledger.recordReceipt(r), ...rounds });
    const commits: CommitInfo[] = [];
    consensus.hooks.commit.push((c) => commits.push(c));
    sim.at(0, () => consensus.start());
    return { consensus, secagg, ledger, rounds: service, commits };
  };
  sim.start(0);
  tabs.push(await attach(0));
  await runUntil(sim, () => tabs[0]!.consensus.view().committedHeight >= 2, 20_000);
  for (let i = 1; i < N; i++) {
    sim.start(i);
    tabs.push(await attach(i));
  }
  await runUntil(sim, () => tabs.every((t) => t.consensus.view().phase === 'running'), 30_000);
  for (const t of tabs.slice(1)) await t.consensus.requestStake();
  await runUntil(sim, () => tabs.every((t) => t.consensus.view().validators.filter((v) => v.inSet).length === N), 40_000);
  tabs.forEach((t, i) => t.secagg.setInput([...inputs[i]!]));
  return { sim, tabs };
}

export const entriesOf = async (t: Tab): Promise<LogEntry[]> =>
  (await t.ledger.exportLog()).entries.map((e) => {
    const d = decodeEntry(fromBase64(e.leaf)!);
    if (!d.ok) throw new Error(d.error);
    return d.value;
  });

/**
 * A round whose aggregator misbehaves by `misbehave` (default: claims a tampered sum; every tab is
 * switched, only the aggregator claims):
 * opened by tab 2, run until every honest validator refused a block for a result and a later
 * height committed. `refusedAt[i]`: the heights at which tab i refused a block for a result.
 */
export async function tamperedRound(
  sim: Simulator,
  tabs: readonly Tab[],
  params: Partial<SecAggParams>,
  misbehave: (rounds: ChainRoundService) => void = (rounds) => {
    rounds.tamperResults = true;
  },
): Promise<{ roundHex: string; badIndex: number; honest: Tab[]; refusedAt: number[][] }> {
  for (const t of tabs) misbehave(t.rounds);
  const refusedAt: number[][] = tabs.map(() => []);
  tabs.forEach((t, i) => {
    const c = t.consensus.chainApp!;
    const check = c.checkBlock.bind(c);
    c.checkBlock = async (h, b) => {
      const r = await check(h, b);
      if (!r.ok && r.error.startsWith('result')) refusedAt[i]!.push(h);
      return r;
    };
  });
  const roundHex = await tabs[2]!.rounds.open(params);
  await runUntil(sim, () => tabs.every((t) => t.rounds.view(roundHex)?.status === 'open'), 20_000);
  const badIndex = sim.nodes.findIndex((s) => s.id === tabs[0]!.rounds.view(roundHex)!.aggregator);
  const honest = tabs.filter((_, i) => i !== badIndex);
  await runUntil(sim, () => honest.every((t) => refusedAt[tabs.indexOf(t)]!.length > 0) && honest.every((t) => t.consensus.view().committedHeight > Math.max(...refusedAt.flat()) + 1), 60_000);
  return { roundHex, badIndex, honest, refusedAt };
}
