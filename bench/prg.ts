// Mask PRG candidates, timed on the same seeds: WebCrypto AES-256-CTR (the chosen aegis/prg/aes-ctr/v1
// where crypto.subtle exists), its noble fallback, and noble ChaCha20 (aegis/prg/chacha20/v1).
// Self-contained and free of Node imports, so the same function also runs in a page or worker.
//   npx tsx bench/prg.ts [--runs N] [--words 1000000,10000000]
import {
  nobleAesCtrPrg,
  nobleChaCha20Prg,
  PRG_V1,
  type PrgAlgorithm,
  type PrgBackend,
} from '../src/core/crypto/prg.ts';
import { webCryptoAesCtrPrg } from '../src/platform/webcrypto-prg.ts';

export interface PrgBenchRow {
  backend: string;
  algorithm: PrgAlgorithm;
  words: number;
  runs: number;
  medianMs: number;
  /** Keystream bytes (4 per word) per second, in 10^9 bytes. */
  gbPerSecond: number;
}

export interface PrgBenchResult {
  /** The algorithm the protocol uses (core/crypto/prg.ts PRG_V1). */
  chosen: PrgAlgorithm;
  rows: PrgBenchRow[];
}

export interface PrgBenchOptions {
  words?: readonly number[];
  runs?: number;
  backends?: readonly PrgBackend[];
}

export const DEFAULT_PRG_BENCH_WORDS: readonly number[] = [1_000_000, 10_000_000];

function medianOf(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function defaultBackends(): PrgBackend[] {
  const subtle = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  const backends: PrgBackend[] = [];
  if (subtle !== undefined) backends.push(webCryptoAesCtrPrg(subtle));
  backends.push(nobleAesCtrPrg, nobleChaCha20Prg);
  return backends;
}

export async function benchPrg(options: PrgBenchOptions = {}): Promise<PrgBenchResult> {
  const words = options.words ?? DEFAULT_PRG_BENCH_WORDS;
  const runs = options.runs ?? 5;
  const backends = options.backends ?? defaultBackends();
  const seed = new Uint8Array(32);
  const rows: PrgBenchRow[] = [];
  for (const backend of backends) {
    await backend.expand(seed, 1 << 16); // warm-up: JIT, key import paths
    for (const n of words) {
      const times: number[] = [];
      let sink = 0;
      for (let r = 0; r < runs; r++) {
        seed[0] = r; // a fresh key each run, as in a round
        const t0 = performance.now();
        const out = await backend.expand(seed, n);
        times.push(performance.now() - t0);
        sink ^= out[n - 1] ?? 0;
      }
      if (sink === 0.5) throw new Error('unreachable'); // keeps the output observable
      const medianMs = medianOf(times);
      rows.push({ backend: backend.name, algorithm: backend.algorithm, words: n, runs, medianMs, gbPerSecond: (n * 4) / (medianMs * 1e6) });
    }
  }
  return { chosen: PRG_V1, rows };
}

export function formatPrgBench(result: PrgBenchResult): string {
  const lines = ['| backend | words | median ms | GB/s |', '|---|---:|---:|---:|'];
  for (const r of result.rows)
    lines.push(`| ${r.backend} | ${r.words.toLocaleString('en-US')} | ${r.medianMs.toFixed(1)} | ${r.gbPerSecond.toFixed(2)} |`);
  lines.push('', `chosen: ${result.chosen}`);
  return lines.join('\n');
}

function cliArgs(argv: readonly string[]): PrgBenchOptions {
  const options: PrgBenchOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--runs' && value !== undefined) {
      options.runs = Number(value);
      i++;
    } else if (flag === '--words' && value !== undefined) {
      options.words = value.split(',').map(Number);
      i++;
    } else throw new Error(`unknown argument ${String(flag)}; usage: npx tsx bench/prg.ts [--runs N] [--words 1000000,10000000]`);
  }
  return options;
}

// CLI guard: run only when this file is the entry point (`process.argv[1]`, absolute or relative),
// not when imported, and never in a browser (no `process`).
function isEntryPoint(): boolean {
  const entry = (globalThis as { process?: { argv?: string[] } }).process?.argv?.[1]?.replace(/\\/g, '/');
  if (entry === undefined || entry === '') return false;
  const self = decodeURIComponent(new URL(import.meta.url).pathname);
  return self === entry || self.endsWith(`/${entry.replace(/^\.\//, '')}`);
}

if (isEntryPoint()) {
  const argv = (globalThis as { process?: { argv?: string[] } }).process?.argv ?? [];
  console.log(formatPrgBench(await benchPrg(cliArgs(argv.slice(2)))));
}
