// Where suites put their machine-readable output: bench/results/<suite>.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

export interface RunMeta {
  timestamp: string;
  quick: boolean;
  node: string;
  chromium: string;
  machine: { platform: string; release: string; cpus: number; cpuModel: string; memoryGiB: number };
  /** Whether the run was inside a loopback-only network namespace (set by bench/run.mjs). */
  networkNamespace: 'loopback-only' | 'host';
}

export function runMeta(quick: boolean, chromiumVersion: string): RunMeta {
  const c = cpus();
  return {
    timestamp: new Date().toISOString(),
    quick,
    node: process.version,
    chromium: chromiumVersion,
    machine: {
      platform: platform(),
      release: release(),
      cpus: c.length,
      cpuModel: c[0]?.model ?? 'unknown',
      memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    },
    networkNamespace: process.env['AEGIS_BENCH_NETNS'] === 'loopback-only' ? 'loopback-only' : 'host',
  };
}

export function writeResult(suite: string, data: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${suite}.json`);
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
  return path;
}
