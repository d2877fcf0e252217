// The consensus suite (issue 4, "CLI and benchmark"): the real engine (ConsensusDriver + Tendermint)
// over the real chain application (ChainSimApp: blocks, last commits, reputation, the power rule) in
// the in-memory simulator (src/sim/consensus-sim.ts) with a fixed one-way delay δ, for 4, 16, 64 and
// 100 validators. Signature work is real noble Ed25519 and is charged to each node in virtual time at
// the per-operation cost measured at the start of the same run, so commit latency includes it as if
// every node computed in parallel on its own CPU. Reported beside the floor of one height: the
// critical path 3δ (proposal, prevotes, precommits) + 3 signatures (proposal, prevote, precommit) +
// verifying the proposal and the smallest quorum of prevotes and of precommits (q − 1 others each,
// q = fewest validators holding > 2/3 of the power); goal ≤ 1.5× the floor. The share of time a node
// spends verifying is measured: virtual time with one of its batches in flight (a union of
// intervals) over the run. Real-tab latency (8 tabs) is the consensus-tabs suite.
//   npm run bench -- --suite consensus [--quick]      (or: npx tsx bench/consensus.ts [--quick])
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nobleEd25519 } from '../src/core/crypto/ed25519.ts';
import { voteSignBytes } from '../src/core/consensus/sign-bytes.ts';
import { ChainSimApp } from '../src/sim/chain-sim-app.ts';
import { runConsensusSim } from '../src/sim/consensus-sim.ts';
import { round, summarize } from '../src/sim/stats.ts';
import { runStandalone } from './lib/standalone.ts';
import type { BenchEnv, Suite, SuiteReport } from './lib/suite.ts';

const SELF = fileURLToPath(import.meta.url);
const DELTA_MS = 50;

async function measureSignatureCost(samples: number): Promise<{ signMs: number; verifyMs: number }> {
  const signer = await nobleEd25519.signer(new Uint8Array(32).fill(7));
  const msgs = Array.from({ length: samples }, (_, i) => voteSignBytes('bench', 1, i, 0, new Uint8Array(32).fill(i & 0xff)));
  const sigs: Uint8Array[] = [];
  let t = performance.now();
  for (const m of msgs) sigs.push(await signer.sign(m));
  const signMs = (performance.now() - t) / samples;
  t = performance.now();
  for (let i = 0; i < samples; i++) await nobleEd25519.verify(signer.publicKey, msgs[i] as Uint8Array, sigs[i] as Uint8Array);
  const verifyMs = (performance.now() - t) / samples;
  return { signMs, verifyMs };
}

/** Fewest validators (largest powers first) holding more than 2/3 of the total: a node's fastest quorum. */
export function smallestQuorum(powers: readonly number[]): number {
  const total = powers.reduce((t, p) => t + p, 0);
  let held = 0;
  let k = 0;
  for (const p of [...powers].sort((x, y) => y - x)) {
    held += p;
    k++;
    if (3 * held > 2 * total) return k;
  }
  return k;
}

export async function runConsensusBench(quick: boolean, log: (m: string) => void): Promise<SuiteReport> {
  const cost = await measureSignatureCost(quick ? 100 : 400);
  log(`Ed25519 (noble): sign ${cost.signMs.toFixed(3)} ms, verify ${cost.verifyMs.toFixed(3)} ms`);
  const sizes = [4, 16, 64, 100];
  const heights = quick ? 4 : 12;
  const rows: Record<string, unknown>[] = [];
  for (const n of sizes) {
    const wall0 = performance.now();
    const stakes = Array.from({ length: n }, (_, i) => 10 + (i % 7));
    const r = await runConsensusSim({
      validators: n,
      seed: 1000 + n,
      heights,
      delayMs: DELTA_MS,
      crypto: 'ed25519',
      cpuCost: cost,
      powers: stakes,
      makeApp: (ctx) => new ChainSimApp(ctx),
      wallMs: () => performance.now(),
    });
    const wallMs = performance.now() - wall0;
    // Block interval at each node: commit of h minus commit of h − 1 (the first height includes start-up).
    const intervals: number[] = [];
    for (const x of r.nodes) for (let h = 1; h < heights; h++) intervals.push((x.commitAtMs[h] as number) - (x.commitAtMs[h - 1] as number));
    const s = summarize(intervals);
    // The chain's powers (share cap applied), as the votes are weighed.
    const q = smallestQuorum(r.genesis.validators.map((v) => v.power));
    const criticalVerifies = 1 + 2 * (q - 1);
    const floorMs = 3 * DELTA_MS + 3 * cost.signMs + criticalVerifies * cost.verifyMs;
    const lastCommit = Math.max(...r.nodes.map((x) => x.commitAtMs[heights - 1] as number));
    const firstCommit = Math.min(...r.nodes.map((x) => x.commitAtMs[0] as number));
    const verifyShares = r.nodes.map((x) => x.verifyBusyMs / r.virtualMs);
    const row = {
      validators: n,
      heights,
      commitLatencyP50Ms: round(s.p50, 1),
      commitLatencyP99Ms: round(s.p99, 1),
      quorumValidators: q,
      floorMs: round(floorMs, 1),
      ratioToFloor: round(s.p50 / floorMs, 3),
      heightsPerSecond: round(((heights - 1) * 1000) / (lastCommit - firstCommit), 2),
      verifyShareOfTimeP50: round(summarize(verifyShares).p50, 3),
      verifyShareOfTimeMax: round(Math.max(...verifyShares), 3),
      verificationsPerNodePerHeight: round(r.nodes.reduce((t, x) => t + (x.counters.verified ?? 0), 0) / n / heights, 1),
      simulatorWallMs: round(wallMs, 0),
      simulatorVerifyShareOfWall: round(r.verifyWallMs / wallMs, 3),
      safetyViolations: r.safetyViolations.length,
    };
    rows.push(row);
    log(`n=${n}: p50 ${row.commitLatencyP50Ms} ms vs floor ${row.floorMs} ms (${row.ratioToFloor}×), ${row.heightsPerSecond} heights/s, wall ${row.simulatorWallMs} ms`);
  }
  const header = '| validators | commit p50 (ms) | p99 (ms) | quorum | floor 3δ+sig (ms) | ratio | heights/s | time verifying (p50 / max node) | simulator: wall verifying |';
  const lines = rows.map(
    (r) =>
      `| ${r.validators} | ${r.commitLatencyP50Ms} | ${r.commitLatencyP99Ms} | ${r.quorumValidators} | ${r.floorMs} | ${r.ratioToFloor}× | ${r.heightsPerSecond} | ${r.verifyShareOfTimeP50} / ${r.verifyShareOfTimeMax} | ${r.simulatorVerifyShareOfWall} |`,
  );
  return {
    suite: 'consensus',
    data: { deltaMs: DELTA_MS, signatureCost: { signMs: round(cost.signMs, 4), verifyMs: round(cost.verifyMs, 4) }, rows },
    tables: [{ title: `Consensus in the simulator (chain application), δ = ${DELTA_MS} ms one-way, noble Ed25519 charged per node`, markdown: [header, '|---|---|---|---|---|---|---|---|---|', ...lines].join('\n') }],
    notes: [
      `floor = 3δ + 3 signatures + (1 + 2(q − 1)) verifications (the proposal, then q − 1 others' prevotes and precommits, q = fewest validators with > 2/3 of the power), at the ${cost.signMs.toFixed(3)} ms / ${cost.verifyMs.toFixed(3)} ms measured in this run; goal ≤ 1.5×`,
      'time verifying = virtual time with one of the node\'s signature batches in flight (a union of intervals) over the run; a node verifies every vote that arrives, not only a quorum',
      'simulator: wall verifying = wall time with any real check in flight over the simulator\'s wall time; it shares verdicts between nodes, so this is the process, not a node',
    ],
  };
}

export const consensusSuite: Suite = {
  name: 'consensus',
  run: (env: BenchEnv) => runConsensusBench(env.quick, env.log),
};

if (process.argv[1] !== undefined && resolve(process.argv[1]) === SELF) {
  await runStandalone(process.argv.includes('--quick'), runConsensusBench);
}
