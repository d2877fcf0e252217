// Masks a vector through one of a tab's secure-aggregation engines (window.__aegisEngine, see
// src/platform/worker-engine.ts) while a setTimeout(0) loop and a long-task observer watch the main
// thread. Shared by e2e/worker.spec.ts and the secagg bench suite. The inputs are deterministic —
// x_i = i·0x9e3779b1 mod 2^32, seed j = (31j + b) mod 256, signs alternating — and `probeInputs`
// builds the same ones in Node.
import type { Page } from '@playwright/test';

export type ProbeEngine = 'node-engine' | 'page-detected' | 'page-noble';

export interface ProbeRun {
  engine: string;
  m: number;
  k: number;
  ms: number;
  /** Longest gap between consecutive setTimeout(0) ticks on the main thread while masking. */
  maxGapMs: number;
  /** Longest 'longtask' entry overlapping the masking (0: none over 50 ms). */
  longestTaskMs: number;
  ticks: number;
  sha256: string;
}

export function probeInputs(m: number, k: number): { encoded: Uint32Array; selfSeed: Uint8Array; pairs: { seed: Uint8Array; sign: 1 | -1 }[] } {
  const encoded = new Uint32Array(m);
  for (let i = 0; i < m; i++) encoded[i] = Math.imul(i, 0x9e3779b1) >>> 0;
  const seedOf = (j: number): Uint8Array => Uint8Array.from({ length: 32 }, (_, b) => (31 * j + b) & 0xff);
  return { encoded, selfSeed: seedOf(0), pairs: Array.from({ length: k }, (_, j) => ({ seed: seedOf(j + 1), sign: j % 2 === 0 ? 1 : -1 })) };
}

export async function probeMasking(page: Page, which: ProbeEngine, m: number, k: number): Promise<ProbeRun> {
  return page.evaluate(
    async ({ which, m, k }) => {
      const hook = window.__aegisEngine;
      if (!hook) throw new Error('no __aegisEngine hook');
      const engine = which === 'node-engine' ? hook.engine : hook.pageEngine({ noblePrg: which === 'page-noble' });
      const seedOf = (j: number): Uint8Array => Uint8Array.from({ length: 32 }, (_, b) => (31 * j + b) & 0xff);
      const pairs = Array.from({ length: k }, (_, j) => ({ seed: seedOf(j + 1), sign: (j % 2 === 0 ? 1 : -1) as 1 | -1 }));
      await engine.mask(new Uint32Array(16), seedOf(0), pairs); // warm up: worker start, key import, JIT
      const encoded = new Uint32Array(m);
      for (let i = 0; i < m; i++) encoded[i] = Math.imul(i, 0x9e3779b1) >>> 0;

      const longTasks: PerformanceEntry[] = [];
      const observer = new PerformanceObserver((list) => longTasks.push(...list.getEntries()));
      observer.observe({ type: 'longtask' });
      let last = performance.now();
      let maxGap = 0;
      let ticks = 0;
      let running = true;
      const tick = (): void => {
        const now = performance.now();
        maxGap = Math.max(maxGap, now - last);
        last = now;
        ticks++;
        if (running) setTimeout(tick, 0);
      };
      setTimeout(tick, 0);
      await new Promise((r) => setTimeout(r, 100)); // let the tick loop and earlier work settle

      const t0 = performance.now();
      maxGap = 0;
      last = t0;
      ticks = 0;
      const out = await engine.mask(encoded, seedOf(0), pairs);
      const ms = performance.now() - t0;
      maxGap = Math.max(maxGap, performance.now() - last);
      running = false;
      await new Promise((r) => setTimeout(r, 50)); // long-task entries arrive asynchronously
      observer.disconnect();
      const longestTaskMs = Math.max(0, ...longTasks.filter((e) => e.startTime + e.duration >= t0).map((e) => e.duration));
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', out as Uint32Array<ArrayBuffer>));
      const sha256 = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
      return { engine: engine.name, m, k, ms, maxGapMs: maxGap, longestTaskMs, ticks, sha256 };
    },
    { which, m, k },
  );
}

/** What a tab's main thread did between `startGapProbe` and `stopGapProbe`. */
export interface GapProbe {
  /** Longest gap between consecutive setTimeout(0) ticks. */
  maxGapMs: number;
  /** When it ended, ms after the probe started (to tell which stage it fell in). */
  maxGapAtMs: number;
  /** Longest 'longtask' entry (0: none over 50 ms). */
  longestTaskMs: number;
  ticks: number;
  ms: number;
  /** Every gap over 20 ms: [when it ended (epoch ms, performance.timeOrigin + now), its length]. */
  gaps: Array<[number, number]>;
}

interface ProbeState {
  t0: number;
  last: number;
  maxGap: number;
  maxGapAt: number;
  ticks: number;
  running: boolean;
  tasks: number[];
  gaps: Array<[number, number]>;
  observer: PerformanceObserver;
}

/** Start watching the tab's main thread: a setTimeout(0) loop and a long-task observer. */
export async function startGapProbe(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __gapProbe?: ProbeState };
    const t0 = performance.now();
    const observer = new PerformanceObserver((list) => state.tasks.push(...list.getEntries().map((e) => e.duration)));
    const state: ProbeState = { t0, last: t0, maxGap: 0, maxGapAt: 0, ticks: 0, running: true, tasks: [], gaps: [], observer };
    observer.observe({ type: 'longtask' });
    const tick = (): void => {
      const now = performance.now();
      if (now - state.last > 20) state.gaps.push([performance.timeOrigin + now, now - state.last]);
      if (now - state.last > state.maxGap) {
        state.maxGap = now - state.last;
        state.maxGapAt = now - state.t0;
      }
      state.last = now;
      state.ticks++;
      if (state.running) setTimeout(tick, 0);
    };
    setTimeout(tick, 0);
    w.__gapProbe = state;
  });
}

export async function stopGapProbe(page: Page): Promise<GapProbe> {
  return page.evaluate(async () => {
    const state = (window as unknown as { __gapProbe?: ProbeState }).__gapProbe;
    if (!state) throw new Error('no gap probe running');
    state.running = false;
    const ms = performance.now() - state.t0;
    await new Promise((r) => setTimeout(r, 50)); // long-task entries arrive asynchronously
    state.observer.disconnect();
    return { maxGapMs: state.maxGap, maxGapAtMs: state.maxGapAt, longestTaskMs: Math.max(0, ...state.tasks), ticks: state.ticks, ms, gaps: state.gaps };
  });
}
