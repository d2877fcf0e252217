// The prg suite (issue 3: "WebCrypto AES-CTR keyed through HKDF, or ChaCha20 from @noble/ciphers —
// measure both, pick the faster"): bench/prg.ts's keystream timings for WebCrypto AES-256-CTR, noble
// AES-256-CTR and noble ChaCha20, on the same seeds, in Node and in a Chromium tab (bench.html,
// bench/page/prg-bench.ts).
//   npm run bench -- --suite prg [--quick]
import { closeQuietly, newBenchContext } from './lib/browser.ts';
import type { BenchEnv, Suite, SuiteReport } from './lib/suite.ts';
import { formatNumber, markdownTable } from './lib/table.ts';
import { benchPrg, type PrgBenchRow } from './prg.ts';

export function prgConfig(quick: boolean): { words: number[]; runs: number } {
  return { words: [1_000_000, 10_000_000], runs: quick ? 3 : 7 };
}

async function inChromium(env: BenchEnv, cfg: { words: number[]; runs: number }): Promise<PrgBenchRow[]> {
  const context = await newBenchContext(env.browser);
  try {
    const page = await context.newPage();
    await page.goto(`${env.httpUrl}/bench.html`, { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => window.aegisPrgBench !== undefined, undefined, { timeout: 20_000 });
    return (await page.evaluate((c) => window.aegisPrgBench!.run(c), cfg)).rows;
  } finally {
    await closeQuietly(context);
  }
}

export const prgSuite: Suite = {
  name: 'prg',
  async run(env: BenchEnv): Promise<SuiteReport> {
    const cfg = prgConfig(env.quick);
    const node = await benchPrg(cfg);
    for (const r of node.rows) env.log(`prg: node ${r.backend} ${r.words} words: ${r.medianMs.toFixed(1)} ms (${r.gbPerSecond.toFixed(2)} GB/s)`);
    const chromium = await inChromium(env, cfg);
    for (const r of chromium) env.log(`prg: chromium ${r.backend} ${r.words} words: ${r.medianMs.toFixed(1)} ms (${r.gbPerSecond.toFixed(2)} GB/s)`);
    const rows = [...node.rows.map((r) => ({ host: 'Node', ...r })), ...chromium.map((r) => ({ host: 'Chromium', ...r }))];
    const fastest = (host: string, words: number): string => {
      const of = rows.filter((r) => r.host === host && r.words === words).sort((a, b) => a.medianMs - b.medianMs);
      return of[0]?.backend ?? '-';
    };
    const largest = Math.max(...cfg.words);
    return {
      suite: 'prg',
      data: { config: cfg, chosen: node.chosen, rows },
      tables: [
        {
          title: 'Mask PRG keystream: WebCrypto AES-256-CTR vs noble AES-256-CTR vs noble ChaCha20',
          markdown: markdownTable(
            ['host', 'backend', '>words', '>median ms', '>GB/s'],
            rows.map((r) => [r.host, r.backend, r.words.toLocaleString('en-US'), formatNumber(r.medianMs, 1), formatNumber(r.gbPerSecond, 2)]),
          ),
        },
      ],
      notes: [
        `The protocol's PRG is ${node.chosen} (WebCrypto where crypto.subtle exists, noble's byte-identical AES-CTR otherwise). Fastest at ${largest.toLocaleString('en-US')} words: Node ${fastest('Node', largest)}, Chromium ${fastest('Chromium', largest)}.`,
        'Medians of runs with a fresh key each, after a warm-up; one expansion at a time (the engine keeps one more in flight).',
      ],
    };
  },
};
