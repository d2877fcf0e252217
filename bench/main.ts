// `npm run bench` (through bench/run.mjs): serves dist/ with the signaling server on 127.0.0.1,
// launches headless Chromium, runs the suites, writes bench/results/<suite>.json, prints tables.
//   --quick          one run per measurement (under a minute)
//   --suite NAME     only that suite (default: all)
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSignalingServer } from '../signaling-server/server.ts';
import { consensusSuite } from './consensus.ts';
import { consensusTabsSuite } from './consensus-tabs.ts';
import { networkSuite } from './network.ts';
import { prgSuite } from './prg-suite.ts';
import { secaggSuite } from './secagg.ts';
import { secaggScaleSuite } from './secagg-scale.ts';
import { ledgerSuite } from './ledger.ts';
import { ledgerIdbSuite } from './ledger-idb.ts';
import { launchBrowser } from './lib/browser.ts';
import { runMeta, writeResult } from './lib/results.ts';
import type { Suite, SuiteReport } from './lib/suite.ts';

const SUITES: Suite[] = [networkSuite, prgSuite, secaggSuite, secaggScaleSuite, ledgerSuite, ledgerIdbSuite, consensusSuite, consensusTabsSuite];

function parseArgs(argv: string[]): { quick: boolean; suites: string[] } {
  let quick = false;
  const suites: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--quick') quick = true;
    else if (a === '--suite') suites.push(argv[++i] ?? '');
    else if (a.startsWith('--suite=')) suites.push(a.slice('--suite='.length));
    else if (a === '--help' || a === '-h') {
      console.log(`usage: npm run bench [-- --quick] [-- --suite ${SUITES.map((s) => s.name).join('|')}]`);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  for (const s of suites) if (!SUITES.some((x) => x.name === s)) throw new Error(`unknown suite "${s}"`);
  return { quick, suites };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const dist = join(root, 'dist');
  for (const f of ['index.html', 'bench.html']) {
    if (!existsSync(join(dist, f))) throw new Error(`dist/${f} is missing: run \`npx vite build\` (bench/run.mjs does)`);
  }
  const started = Date.now();
  const log = (m: string): void => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${m}`);
  // Default limits, as `npm start` runs it: formation times include the server's rate limiting.
  const server = await createSignalingServer({ port: 0, host: '127.0.0.1', staticDir: dist });
  const browser = await launchBrowser();
  const reports: SuiteReport[] = [];
  try {
    const meta = runMeta(args.quick, browser.version());
    log(`Chromium ${meta.chromium}, Node ${meta.node}, ${meta.machine.cpus} CPUs, network: ${meta.networkNamespace}${args.quick ? ', quick' : ''}`);
    for (const suite of SUITES) {
      if (args.suites.length > 0 && !args.suites.includes(suite.name)) continue;
      const t0 = Date.now();
      const report = await suite.run({ browser, httpUrl: server.httpUrl, quick: args.quick, log });
      const durationS = Math.round((Date.now() - t0) / 100) / 10;
      const path = writeResult(suite.name, { suite: suite.name, ...meta, durationS, ...report.data, notes: report.notes });
      log(`${suite.name}: done in ${durationS} s → ${path}`);
      reports.push(report);
    }
  } finally {
    await browser.close().catch(() => {});
    await server.close();
  }
  for (const report of reports) {
    console.log(`\n## ${report.suite}\n`);
    for (const t of report.tables) console.log(`### ${t.title}\n\n${t.markdown}\n`);
    for (const n of report.notes) console.log(`- ${n}`);
  }
  console.log(`\ntotal ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
