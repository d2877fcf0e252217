import { expect, test, type Page } from '@playwright/test';
import { startGapProbe, stopGapProbe, type GapProbe } from './engine-probe.ts';
import { openNodes, waitForFullMesh } from './helpers.ts';
import { profileReport } from './profile-report.ts';

// Issue 3: "the page stays responsive during a round with a 1M-entry vector" — for the whole round,
// not only the masking (e2e/worker.spec.ts). Three tabs contribute M-entry vectors to one round
// aggregated by tab 0 (M = 1,000,000 by default, the size; AEGIS_ROUND_M for another); every
// tab shows the exact sum, verified from the transcript where it ships (up to 6 MiB of masked inputs:
// 250,000 entries; at 1M every tab says it is too large to ship). A contributor's own heavy steps —
// encoding, masking and the chunk root (engine.encodeMask, in the worker), signing and sending — must
// stay off its main thread: the spec prints the longest blocks and asserts only sanity bounds that
// catch the heavy work landing on the page again (noble masking alone blocks ~0.5 s at 1M, the whole
// round did ~2 s); speed itself is measured and quoted, not asserted (shared 2-core machines). The
// longest block over the whole round is printed per tab and bounded too (MAX_ROUND_BLOCK_MS for the
// gap, MAX_ROUND_LONG_TASK_MS for the longest single task): the aggregator's tab hashes nothing
// multi-MB on the page any more (message ids and the transcript hash go to the worker, engine.sha256). When a round aborts, each tab's counters (rejected by
// reason), link connects and drops and stage times are printed: that is how the lost 4 MB masked
// input was found (a stale-sequence refusal, and a link timed out behind a busy work queue).
// AEGIS_PROFILE=1 prints tab 1's hottest functions (AEGIS_PROFILE_TAB=0 the aggregator's, 0,1,2 every
// tab's), over the round and in its longest busy stretch; build with `npx vite build --minify false`
// for readable names.

const M = Number(process.env['AEGIS_ROUND_M'] ?? 1_000_000);
const TABS = 3;
/** Sanity bound (measured 0–78 ms on an unloaded 2-core machine, 144–361 ms before bulk u32 coding under load; goal 200 ms). */
const MAX_CONTRIBUTOR_BLOCK_MS = 1500;
/**
 * Sanity bound, every tab, the whole round (result handling included). Measured (4 runs, unloaded
 * 2-core machine): 111–192 ms on the aggregator's tab, 61–216 ms on the contributors' (medians
 * 117 / 127 / 73 ms; goal 200 ms), with the multi-MB hashing in the worker, u32 vectors coded in
 * bulk and the sealing of large envelopes split into tasks; before that 440 / 267 / 365 ms (0.5–0.7 s on the aggregator under
 * load, 0.6–1.9 s earlier still). A gap between timer ticks also counts time the OS gave other
 * processes: with a second test suite running beside it the aggregator's gap read 803 ms while its
 * longest long task (one task of its own blocking the page, PerformanceObserver) was 113 ms. So the
 * gap gets a loose bound and the long task the tight one: heavy work back on the page (noble SHA-256
 * over the 12 MB transcript alone took 0.15–0.3 s; the result handling was one 0.5–0.9 s task) would
 * cross it, a loaded machine does not.
 */
const MAX_ROUND_BLOCK_MS = 2500;
const MAX_ROUND_LONG_TASK_MS = 1000;
/** Tab i's input at j: a multiple of 0.25 (on the quantization grid, so the sum is exact). */
const valueAt = (i: number, j: number): number => (((j * 7 + i * 5) % 16) - 8) * 0.25;

test('a 3-tab round over large vectors: exact sum, no contributor main-thread block over the bound until its masked input is sent', async ({ browser }) => {
  test.setTimeout(240_000);
  const context = await browser.newContext({ permissions: ['camera', 'microphone'] });
  try {
    const pages: Page[] = [];
    for (let i = 0; i < TABS; i++) pages.push(await context.newPage());
    await openNodes(pages, `round1m-${Date.now().toString(36)}`);
    await waitForFullMesh(pages);
    await Promise.all(
      pages.map((p, i) =>
        p.evaluate(
          ({ i, m }) => window.__aegis!.secagg.setInput(Array.from({ length: m }, (_, j) => (((j * 7 + i * 5) % 16) - 8) * 0.25)), // = valueAt
          { i, m: M },
        ),
      ),
    );
    // The worker engine is up in every tab before the clock starts (its start is not the round's).
    for (const p of pages) await p.evaluate(() => (window.__aegisEngine!.engine as unknown as { ready: Promise<string> }).ready);
    for (const p of pages) await startGapProbe(p);
    // AEGIS_PROFILE=1: a CPU profile of tab 1 (a contributor), or of the tabs AEGIS_PROFILE_TAB lists
    // (e.g. 0 for the aggregator, 0,1,2 for all): top functions by self time over the round, and
    // those of each tab's longest busy stretch (what blocked its main thread longest).
    const profiled = process.env['AEGIS_PROFILE'] === '1' ? (process.env['AEGIS_PROFILE_TAB'] ?? '1').split(',').map(Number) : [];
    const cdps = await Promise.all(profiled.map((i) => context.newCDPSession(pages[i]!)));
    for (const cdp of cdps) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 250 });
      await cdp.send('Profiler.start');
    }
    const t0 = Date.now();
    await pages[0]!.evaluate((m) => window.__aegis!.secagg.startRound({ dimension: m, timeout: 120_000 }), M);
    const outcome = (p: Page) =>
      p.evaluate(() => {
        const r = window.__aegis!.secagg.views()[0];
        return {
          done: r?.result != null || r?.abortReason != null,
          contributors: r?.result?.contributors.length ?? 0,
          verified: r?.result?.verified ?? null,
          verifyDetail: r?.result?.verifyDetail ?? '',
          abort: r?.abortReason ?? null,
          stages: r?.stageLog.map((s) => s.stage).join(' > ') ?? '',
          refused: { ...window.__aegis!.secagg.refused },
        };
      });
    const outcomes = [];
    for (const p of pages) {
      await expect.poll(async () => (await outcome(p)).done, { timeout: 200_000, intervals: [250] }).toBe(true);
      outcomes.push(await outcome(p));
    }
    console.log(outcomes);
    if (outcomes.some((o) => o.abort !== null)) {
      // Why a masked input went missing: each tab's counters (rejected by reason), link connects and
      // drops, and stage times, all relative to the round's start.
      const startedAt = t0;
      for (const [i, p] of pages.entries()) {
        const why = await p.evaluate((startedAt) => {
          const a = window.__aegis!;
          const s = a.snapshot();
          const rel = (ms: number): number => ms - startedAt;
          return {
            id: s.id.slice(0, 8),
            counters: s.counters,
            lastRejection: s.lastRejection,
            peers: s.peers.map((q) => `${q.id.slice(0, 8)} ${q.status} connected at ${q.connectedAtMs === null ? '-' : rel(q.connectedAtMs)}`),
            linkEvents: a.node.linkEvents().map((e) => `${rel(e.atMs)} ms ${e.event} ${e.peer.slice(0, 8)}: ${e.detail}`),
            stages: a.secagg.views()[0]?.stageLog.map((x) => `${x.stage} @${rel(x.atMs)}`) ?? [],
          };
        }, startedAt);
        const gaps = await stopGapProbe(p);
        console.log(`tab ${i}:`, JSON.stringify(why, null, 1), `longest main-thread block ${gaps.maxGapMs.toFixed(0)} ms; blocks over 1 s (ending at ms after the start, length):`,
          gaps.gaps.filter(([, gap]) => gap > 1000).map(([end, gap]) => `${(end - startedAt).toFixed(0)}: ${gap.toFixed(0)}`));
      }
    }
    for (const o of outcomes) expect(o).toMatchObject({ contributors: TABS, abort: null });
    // A result ships its transcript while the masked inputs fit 6 MiB (transcriptExpected): then every
    // tab recomputes the sum from it. Over that (3 × 4 MB at 1M entries) no tab can, and says so (a
    // direct round has no consensus; chain rounds check sampled chunks instead).
    const ships = 4 * M * TABS <= 6 * 1024 * 1024;
    for (const o of outcomes)
      if (ships) expect(o.verified).toBe(true);
      else expect(o).toMatchObject({ verified: null, verifyDetail: expect.stringMatching(/too large to ship/) });
    const roundMs = Date.now() - t0;
    for (const [k, cdp] of cdps.entries()) {
      const { profile } = await cdp.send('Profiler.stop');
      console.log(`tab ${profiled[k]}: CPU profile\n${profileReport(profile)}`);
    }
    const probes: GapProbe[] = [];
    for (const p of pages) probes.push(await stopGapProbe(p));

    // The exact sum, at coordinates spread over the vector.
    const at = [0, 1, 2, 3, 12_345, M >> 1, M - 1];
    for (const p of pages) {
      const got = await p.evaluate((at) => at.map((j) => window.__aegis!.secagg.views()[0]!.result!.sum[j]), at);
      expect(got).toEqual(at.map((j) => valueAt(0, j) + valueAt(1, j) + valueAt(2, j)));
    }
    console.log(
      `${M.toLocaleString('en-US')}-entry round among ${TABS} tabs: ${roundMs} ms; longest main-thread block per tab (tab 0 aggregates):\n  ` +
        probes.map((g, i) => `tab ${i}: ${g.maxGapMs.toFixed(0)} ms at +${g.maxGapAtMs.toFixed(0)} ms, longest long task ${g.longestTaskMs.toFixed(0)} ms, ${g.ticks} ticks`).join('\n  '),
    );
    // A contributor's own heavy steps — encoding, masking, chunk root (the worker), signing and sending
    // its masked input — end when its stage log says 'masked': no gap over the bound until then.
    for (const i of [1, 2]) {
      const maskedAt = await pages[i]!.evaluate(() => window.__aegis!.secagg.views()[0]!.stageLog.find((s) => s.stage === 'masked')!.atMs);
      const before = Math.max(0, ...probes[i]!.gaps.filter(([end, gap]) => end - gap <= maskedAt).map(([, gap]) => gap));
      console.log(`tab ${i}: longest block from the round's start to its masked input sent: ${before.toFixed(0)} ms`);
      expect(before).toBeLessThan(MAX_CONTRIBUTOR_BLOCK_MS);
    }
    for (const g of probes) {
      expect(g.maxGapMs).toBeLessThan(MAX_ROUND_BLOCK_MS);
      expect(g.longestTaskMs).toBeLessThan(MAX_ROUND_LONG_TASK_MS);
    }
  } finally {
    await context.close();
  }
});
