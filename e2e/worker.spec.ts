import { createHash } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { localEngine } from '../src/core/secagg/engine.ts';
import { webCryptoAesCtrPrg } from '../src/platform/webcrypto-prg.ts';
import { probeInputs, probeMasking, type ProbeRun } from './engine-probe.ts';

// Issue 3: "Heavy work — mask expansion, Shamir, vector arithmetic — runs in a dedicated Web Worker
// with transferable buffers; the page stays responsive during a round with a 1M-entry vector."
// In a real tab: the node's engine runs in the worker, masks a 1,000,000-entry vector with 8
// neighbours to the same words as the page's own engine and Node, and while it does, the longest
// gap between setTimeout(0) ticks on the main thread stays under 100 ms.

const M = 1_000_000;
const K = 8;
const MAX_BLOCK_MS = 100;

test('secure-aggregation masking runs in a Web Worker: same words as the page and Node, main thread free', async ({ page }) => {
  test.setTimeout(120_000);
  await page.goto(`/?room=worker-${Date.now().toString(36)}`);
  await page.waitForFunction(() => window.__aegis !== undefined && window.__aegisEngine !== undefined, undefined, { timeout: 20_000 });

  // (a) The debug hook carries the node's secure-aggregation service, and it uses the worker engine.
  const hooked = await page.evaluate(async () => {
    const secagg = (window.__aegis as unknown as { secagg?: { engine?: unknown } } | undefined)?.secagg;
    const engine = window.__aegisEngine?.engine as { ready?: Promise<string> } | undefined;
    return { hasSecAgg: secagg !== undefined, sameEngine: secagg?.engine === engine, name: await engine?.ready };
  });
  expect(hooked.hasSecAgg).toBe(true);
  expect(hooked.sameEngine).toBe(true);
  expect(hooked.name).toBe('worker: aes-ctr/webcrypto, wasm-simd ring');

  // (b) 1M entries, 8 neighbours: worker, page (WebCrypto), page (noble) and Node give the same words.
  const { encoded, selfSeed, pairs } = probeInputs(M, K);
  const inNode = await localEngine(webCryptoAesCtrPrg(globalThis.crypto.subtle)).mask(encoded, selfSeed, pairs);
  const want = createHash('sha256').update(new Uint8Array(inNode.buffer)).digest('hex');
  const worker = await probeMasking(page, 'node-engine', M, K);
  const pageWebCrypto = await probeMasking(page, 'page-detected', M, K);
  const pageNoble = await probeMasking(page, 'page-noble', M, K);
  for (const r of [worker, pageWebCrypto, pageNoble]) expect(r.sha256, r.engine).toBe(want);

  // (c) Responsiveness. The worker must keep every main-thread block under 100 ms. On the main thread
  // the same masking is one long task: with WebCrypto (Chromium's AES-CTR did not yield here: 1 tick
  // in ~75 ms) and far longer with noble's PRG, what a page in an insecure context has.
  const row = (r: ProbeRun): string =>
    `${r.engine.padEnd(42)} ${r.ms.toFixed(0).padStart(5)} ms total, longest main-thread gap ${r.maxGapMs.toFixed(1).padStart(6)} ms, longest long task ${r.longestTaskMs.toFixed(0).padStart(4)} ms, ${r.ticks} ticks`;
  console.log(`masking m = ${M.toLocaleString('en-US')}, k = ${K}:\n  ${[worker, pageWebCrypto, pageNoble].map(row).join('\n  ')}`);
  expect(worker.engine).toMatch(/^worker: /);
  expect(worker.maxGapMs).toBeLessThan(MAX_BLOCK_MS);
  expect(worker.longestTaskMs).toBeLessThan(MAX_BLOCK_MS);
  expect(pageWebCrypto.maxGapMs).toBeGreaterThan(3 * worker.maxGapMs);
  expect(pageNoble.maxGapMs).toBeGreaterThan(Math.max(MAX_BLOCK_MS, 3 * worker.maxGapMs));
});
