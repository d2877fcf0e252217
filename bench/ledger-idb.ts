// The ledger-idb suite (issue 5, "Benchmark": append throughput to IndexedDB), in a real Chromium
// tab: the audit log's appends (AuditLog over IdbLogStorage: entry + new tree nodes in one
// readwrite transaction) one entry per transaction, and batched (what LedgerService does with
// records that arrive together). Median of runs, entries of ~56 B (precommit votes).
//   npm run bench -- --suite ledger-idb [--quick]
import { newBenchContext } from './lib/browser.ts';
import { median } from './lib/stats.ts';
import type { BenchEnv, Suite, SuiteReport } from './lib/suite.ts';
import { formatNumber, markdownTable } from './lib/table.ts';
import type { AppendRun } from './page/ledger-bench.ts';

export async function runLedgerIdbBench(env: BenchEnv): Promise<SuiteReport> {
  const runs = env.quick ? 3 : 5;
  const plans = [
    { batch: 1, entries: env.quick ? 500 : 2000 },
    { batch: 100, entries: env.quick ? 5000 : 20_000 },
    { batch: 1000, entries: env.quick ? 10_000 : 50_000 },
  ];
  const context = await newBenchContext(env.browser);
  const rows: { batch: number; entries: number; runs: AppendRun[]; medianPerSecond: number }[] = [];
  try {
    const page = await context.newPage();
    await page.goto(`${env.httpUrl}/bench.html`, { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => window.aegisLedgerBench !== undefined, undefined, { timeout: 20_000 });
    for (const plan of plans) {
      const list: AppendRun[] = [];
      for (let r = 0; r < runs; r++) list.push(await page.evaluate(([n, b]) => window.aegisLedgerBench!.append(n, b), [plan.entries, plan.batch] as const));
      const med = median(list.map((x) => x.entriesPerSecond));
      env.log(`ledger-idb: batch ${plan.batch}: ${formatNumber(med, 0)} entries/s (median of ${runs})`);
      rows.push({ ...plan, runs: list, medianPerSecond: Math.round(med) });
    }
  } finally {
    await context.close();
  }
  const bytesPerEntry = rows[0] ? rows[0].runs[0]!.bytesStored / rows[0].entries : 0;
  return {
    suite: 'ledger-idb',
    data: { runs, rows },
    tables: [
      {
        title: 'Audit-log appends into IndexedDB in a Chromium tab (entry + tree nodes per transaction)',
        markdown: markdownTable(
          ['>entries per transaction', '>entries', '>entries/s (median)', '>ms (median)'],
          rows.map((r) => [String(r.batch), String(r.entries), formatNumber(r.medianPerSecond, 0), formatNumber(median(r.runs.map((x) => x.ms)), 0)]),
        ),
      },
    ],
    notes: [
      `~${formatNumber(bytesPerEntry, 0)} B stored per entry (entry bytes + 32 B per new tree node, ~2 per append). LedgerService turns records that arrive together into one transaction; one per entry is the worst case (a node recording a lone vote).`,
    ],
  };
}

export const ledgerIdbSuite: Suite = { name: 'ledger-idb', run: runLedgerIdbBench };
