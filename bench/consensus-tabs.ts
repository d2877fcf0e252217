// The consensus suite's real-tab half (issue 4: "commit latency p50/p99 among 8 real tabs"): eight
// headless Chromium tabs in one room, the first writes genesis, the other seven request stake from
// the faucet until all eight validate with equal stake; then every tab's commits are read for a
// number of heights. Commit latency at a tab = the time it committed a block minus the block's header
// time (the proposer stamps it when it builds the proposal, after the 1 s commit timeout), i.e.
// proposal → prevotes → precommits → commit over real WebRTC, signed envelopes and WebCrypto
// Ed25519, all tabs sharing this machine's CPUs. Also reported: the block interval (≈ 1 s commit
// timeout + latency) and the wall time each tab spent in batched signature checks.
//   npm run bench -- --suite consensus-tabs [--quick]
import type { Page } from '@playwright/test';
import type { ConsensusView } from '../src/node/consensus-view.ts';
import { closeQuietly, freshRoom, newBenchContext, newPages, sleep } from './lib/browser.ts';
import { round, summarize } from './lib/stats.ts';
import type { BenchEnv, Suite, SuiteReport } from './lib/suite.ts';

const TABS = 8;

const view = (p: Page): Promise<ConsensusView | null> =>
  p.evaluate(() => (window.__aegis?.consensus ? (JSON.parse(JSON.stringify(window.__aegis.consensus.view())) as ConsensusView) : null));

async function waitAll(pages: readonly Page[], pred: (v: ConsensusView) => boolean, what: string, timeoutMs: number): Promise<ConsensusView[]> {
  const t0 = Date.now();
  for (;;) {
    const vs = await Promise.all(pages.map(view));
    if (vs.every((v) => v !== null && pred(v))) return vs as ConsensusView[];
    if (Date.now() - t0 > timeoutMs) throw new Error(`consensus-tabs: timed out waiting for ${what}`);
    await sleep(250);
  }
}

async function run(env: BenchEnv): Promise<SuiteReport> {
  const heights = env.quick ? 15 : 40;
  const context = await newBenchContext(env.browser);
  try {
    const pages = await newPages(context, TABS);
    const room = freshRoom('bench-consensus');
    const url = `${env.httpUrl}/?room=${room}`;
    await pages[0]!.goto(url, { waitUntil: 'domcontentloaded' });
    await waitAll([pages[0]!], (v) => v.phase === 'running' && v.committedHeight >= 1, 'genesis', 30_000);
    await Promise.all(pages.slice(1).map((p) => p.goto(url, { waitUntil: 'domcontentloaded' })));
    await waitAll(pages, (v) => v.phase === 'running', 'all tabs synced', 60_000);
    for (const p of pages.slice(1)) await p.evaluate(() => window.__aegis!.consensus.requestStake());
    const joined = await waitAll(pages, (v) => v.validators.filter((r) => r.inSet).length === TABS, `${TABS} validators`, 60_000);
    const from = Math.max(...joined.map((v) => v.committedHeight)) + 1;
    env.log(`consensus-tabs: ${TABS} validators from height ${from}; measuring ${heights} heights`);
    const final = await waitAll(pages, (v) => v.committedHeight >= from + heights, `${heights} heights`, 30_000 + heights * 5_000);

    const latencies: number[] = [];
    const intervals: number[] = [];
    const rounds: number[] = [];
    for (const v of final) {
      const cs = v.commits.filter((c) => c.height >= from && c.height < from + heights);
      for (const c of cs) latencies.push(c.latencyMs);
      for (let i = 1; i < cs.length; i++) intervals.push((cs[i] as { atMs: number }).atMs - (cs[i - 1] as { atMs: number }).atMs);
      for (const c of cs) rounds.push(c.round);
    }
    // Every tab committed the same block at each measured height.
    const disagreements = (
      await Promise.all(
        Array.from({ length: heights }, async (_, k) => {
          const hs = await Promise.all(pages.map((p) => p.evaluate((h) => window.__aegis!.consensus.committedHash(h), from + k)));
          return new Set(hs).size === 1 ? 0 : 1;
        }),
      )
    ).reduce((a: number, b) => a + b, 0);
    const lat = summarize(latencies);
    const iv = summarize(intervals);
    const verify = final.map((v) => ({ backend: v.verify.backend, checks: v.verify.count, wallMs: round(v.verify.wallMs, 1) }));
    const data = {
      tabs: TABS,
      heights,
      fromHeight: from,
      commitLatencyMs: { p50: round(lat.p50, 1), p99: round(lat.p99, 1), mean: round(lat.mean, 1), max: round(lat.max, 1), samples: latencies.length },
      blockIntervalMs: { p50: round(iv.p50, 1), p99: round(iv.p99, 1) },
      roundsAboveZero: rounds.filter((r) => r > 0).length,
      disagreements,
      verify,
    };
    const table = [
      '| tabs | heights | commit latency p50 (ms) | p99 (ms) | max (ms) | block interval p50 (ms) | heights past round 0 | hash disagreements |',
      '|---|---|---|---|---|---|---|---|',
      `| ${TABS} | ${heights} | ${data.commitLatencyMs.p50} | ${data.commitLatencyMs.p99} | ${data.commitLatencyMs.max} | ${data.blockIntervalMs.p50} | ${data.roundsAboveZero} | ${disagreements} |`,
    ].join('\n');
    return {
      suite: 'consensus-tabs',
      data,
      tables: [{ title: `Consensus among ${TABS} real tabs (equal stake, WebRTC, one machine)`, markdown: table }],
      notes: [
        'latency = commit time at a tab − block header time (proposal built); every tab × height is one sample',
        `block interval includes the 1 s commit timeout (empty blocks); signature checks per tab: ${verify[0]?.backend ?? '?'}, ~${Math.round((verify.reduce((s, v) => s + (v.wallMs ?? 0), 0) / verify.length) || 0)} ms wall in total`,
      ],
    };
  } finally {
    await closeQuietly(context);
  }
}

export const consensusTabsSuite: Suite = { name: 'consensus-tabs', run };
