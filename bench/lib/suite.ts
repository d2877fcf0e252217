// What bench/main.ts hands every suite, and what a suite hands back.
import type { Browser } from '@playwright/test';

export interface BenchEnv {
  browser: Browser;
  /** Base URL of the signaling server that also serves dist/ (index.html and bench.html). */
  httpUrl: string;
  quick: boolean;
  log(message: string): void;
}

export interface SuiteReport {
  suite: string;
  /** Everything measured: configuration, every sample, summaries. Written to bench/results/<suite>.json. */
  data: Record<string, unknown>;
  /** Printed at the end of the run. */
  tables: { title: string; markdown: string }[];
  notes: string[];
}

export interface Suite {
  name: string;
  run(env: BenchEnv): Promise<SuiteReport>;
}
