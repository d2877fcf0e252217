// `aegis sim consensus`: N validators running the real consensus engine in the in-memory simulator
// (src/sim/consensus-sim.ts), real Ed25519, seeded random powers, B of them Byzantine with one
// strategy. Reports, for every node, whether it was Byzantine and the block hash it committed at
// each height; the evidence committed; final power (and stake/reputation where the application has
// them) per validator. Same seed, same JSON.
//
// Powers are the application's, not the simulator's seeded numbers: with the chain application the
// seeded numbers are stakes and the power rule (power.ts: reputation multiplier, share cap) turns
// them into the set of the first height, which is what votes are weighed by.
import { nodeIdFromPublicKey } from '../core/crypto/node-id.ts';
import type { ValidatorSet } from '../core/consensus/types.ts';
import { ChainSimApp } from '../sim/chain-sim-app.ts';
import { runConsensusSim, TestChainAppAdapter, type ByzantineStrategy, type ConsensusSimResult, type SimChainApp } from '../sim/consensus-sim.ts';
import { SeededRandom } from '../sim/seeded-random.ts';

export interface SimConsensusArgs {
  validators: number;
  byzantine: number;
  strategy: ByzantineStrategy;
  heights: number;
  seed: number;
  json: boolean;
  /** 'chain' (default): the real chain application (stake, reputation, slashing); 'test': blocks = height + counter. */
  app?: 'chain' | 'test';
}

export interface SimConsensusReport {
  chainId: string;
  seed: number;
  strategy: ByzantineStrategy;
  heights: number;
  /** Total power of the validator set of the application's first height. */
  totalPower: number;
  /** The Byzantine nodes' power in that set. */
  byzantinePower: number;
  /** Whether the Byzantine nodes hold at least 1/3 of that power (safety is then not guaranteed). */
  byzantineAtLeastOneThird: boolean;
  virtualMs: number;
  safetyViolations: number[];
  /** power: in the first height's set; finalPower: in the set after the last commit (first honest node's view). */
  nodes: { index: number; id: string; byzantine: boolean; power: number; finalPower: number; committed: string[] }[];
  evidence: { validator: string; height: number; round: number; type: 'prevote' | 'precommit' | 'proposal' }[];
  validators: ConsensusSimResult['validators'][number];
}

export async function simConsensusReport(a: SimConsensusArgs): Promise<SimConsensusReport> {
  const pick = SeededRandom.fromSeed(a.seed).fork('byzantine');
  const all = Array.from({ length: a.validators }, (_, i) => i);
  const byzantine: number[] = [];
  while (byzantine.length < Math.min(a.byzantine, a.validators)) {
    const i = all.splice(pick.int(all.length), 1)[0];
    if (i !== undefined) byzantine.push(i);
  }
  // Every node's app starts from the same genesis: the first one built names the starting set.
  let firstSet: ValidatorSet | null = null;
  const r = await runConsensusSim({
    validators: a.validators,
    seed: a.seed,
    heights: a.heights,
    byzantine,
    strategy: a.strategy,
    crypto: 'ed25519',
    makeApp: (ctx) => {
      const app: SimChainApp = a.app === 'test' ? new TestChainAppAdapter(ctx) : new ChainSimApp(ctx);
      firstSet ??= app.validatorSet(app.firstHeight ?? 0);
      return app;
    },
    maxVirtualMs: 120_000 + a.heights * 30_000,
  });
  // r.validators / r.evidence list honest nodes in order; the first honest node speaks for all
  // (the simulator's tests check they agree).
  const k = 0;
  const start: ValidatorSet = firstSet ?? r.genesis;
  const powerIn = (vs: readonly { id: string; power: number }[], id: string): number => vs.find((v) => v.id === id)?.power ?? 0;
  const finalReport = r.validators[k] ?? [];
  const byzantinePower = r.nodes.filter((x) => x.byzantine).reduce((sum, x) => sum + powerIn(start.validators, x.id), 0);
  return {
    chainId: r.chainId,
    seed: a.seed,
    strategy: a.strategy,
    heights: a.heights,
    totalPower: start.totalPower,
    byzantinePower,
    byzantineAtLeastOneThird: 3 * byzantinePower >= start.totalPower,
    virtualMs: Math.round(r.virtualMs),
    safetyViolations: r.safetyViolations,
    nodes: r.nodes.map((x) => ({ index: x.index, id: x.id, byzantine: x.byzantine, power: powerIn(start.validators, x.id), finalPower: powerIn(finalReport, x.id), committed: x.committed.slice(0, a.heights) })),
    evidence: (r.evidence[k] ?? []).map((e) =>
      e.kind === 'duplicate-proposal'
        ? { validator: nodeIdFromPublicKey(e.proposalA.proposer), height: e.proposalA.height, round: e.proposalA.round, type: 'proposal' as const }
        : {
            validator: nodeIdFromPublicKey(e.voteA.validator),
            height: e.voteA.height,
            round: e.voteA.round,
            type: e.voteA.type === 1 ? ('prevote' as const) : ('precommit' as const),
          },
    ),
    validators: finalReport,
  };
}

export async function runSimConsensus(a: SimConsensusArgs): Promise<void> {
  const rep = await simConsensusReport(a);
  if (a.json) {
    process.stdout.write(`${JSON.stringify(rep, null, 2)}\n`);
    return;
  }
  const lines = [
    `chain ${rep.chainId}: ${rep.nodes.length} validators, ${rep.nodes.filter((n) => n.byzantine).length} Byzantine (${a.strategy}), power ${rep.byzantinePower}/${rep.totalPower}${rep.byzantineAtLeastOneThird ? ' — at least 1/3, safety not guaranteed' : ''}`,
    `virtual time ${rep.virtualMs} ms; safety ${rep.safetyViolations.length === 0 ? 'held' : `VIOLATED at heights ${rep.safetyViolations.join(', ')}`}`,
    ...rep.nodes.map((n) => `  ${n.id.slice(0, 8)}${n.byzantine ? ' B' : '  '} power ${String(n.power).padStart(3)} → ${String(n.finalPower).padStart(3)}  ${n.committed.map((h) => h.slice(0, 8)).join(' ')}`),
    `evidence committed: ${rep.evidence.length === 0 ? 'none' : rep.evidence.map((e) => `${e.validator.slice(0, 8)}@${e.height}/${e.round}/${e.type}`).join(', ')}`,
    'validators (final):',
    ...rep.validators.map((v) => `  ${v.id.slice(0, 8)} power ${v.power}${v.stake !== undefined ? ` stake ${v.stake}` : ''}${v.reputation !== undefined ? ` reputation ${v.reputation}` : ''}${v.jailed ? ' jailed' : ''}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
