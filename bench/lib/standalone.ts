// A suite run on its own (`node bench/<suite>.ts [--quick]`, no browser): timed log lines, the
// result file, then the tables and notes, as bench/main.ts prints them.
import { runMeta, writeResult } from './results.ts';
import type { SuiteReport } from './suite.ts';

export async function runStandalone(quick: boolean, run: (quick: boolean, log: (message: string) => void) => Promise<SuiteReport>): Promise<void> {
  const started = Date.now();
  const log = (m: string): void => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${m}`);
  const report = await run(quick, log);
  const durationS = Math.round((Date.now() - started) / 100) / 10;
  const path = writeResult(report.suite, { suite: report.suite, ...runMeta(quick, 'not used'), durationS, ...report.data, notes: report.notes });
  for (const t of report.tables) console.log(`\n### ${t.title}\n\n${t.markdown}`);
  console.log('');
  for (const n of report.notes) console.log(`- ${n}`);
  console.log(`\n${path}, ${durationS} s`);
}
