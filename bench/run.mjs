#!/usr/bin/env node
// `npm run bench`: builds the app if dist/ lacks either page or is older than the sources, then runs bench/main.ts inside a
// loopback-only network namespace (`unshare -n`), so no benchmark packet can leave the machine;
// falls back to running directly where unshare is not permitted. Arguments pass through (--quick).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(chromium)) {
  console.error(`bench: Chromium not found at ${chromium}. Install it: apt-get install -y chromium`);
  process.exit(1);
}

/** Newest modification time under `path` (files only), 0 if it does not exist. */
function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const e of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, e)));
  return newest;
}

// Build when a page is missing, or when the app's sources changed since the last build: a stale
// dist/ would silently benchmark old code.
const pages = ['index.html', 'bench.html'].map((f) => join(root, 'dist', f));
const missing = !pages.every((f) => existsSync(f));
const builtAt = missing ? 0 : Math.min(...pages.map((f) => statSync(f).mtimeMs));
const sources = ['src', 'bench/page', 'index.html', 'bench.html', 'vite.config.ts', 'public'].map((p) => join(root, p));
const stale = !missing && Math.max(...sources.map(newestMtime)) > builtAt;
if (missing || stale) {
  console.log(`bench: building the app (npx vite build): dist/ ${missing ? 'is incomplete' : 'is older than the sources'}`);
  const build = spawnSync('npx', ['vite', 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

const args = process.argv.slice(2);
const quoted = args.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
const inner = `ip link set lo up && AEGIS_BENCH_NETNS=loopback-only exec npx tsx bench/main.ts ${quoted}`;

const probe = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up'], { stdio: 'ignore' });
let result;
if (probe.status === 0) {
  console.log('bench: running inside a loopback-only network namespace');
  result = spawnSync('unshare', ['-n', 'sh', '-c', inner], { cwd: root, stdio: 'inherit' });
} else {
  console.log('bench: unshare not permitted here; running in the normal network namespace (127.0.0.1 only by config)');
  result = spawnSync('npx', ['tsx', 'bench/main.ts', ...args], { cwd: root, stdio: 'inherit' });
}
process.exit(result.status ?? 1);
