#!/usr/bin/env node
// Runs the Playwright suite inside a loopback-only network namespace (`unshare -n`), so no test
// packet can leave the machine; falls back to running directly where unshare is not permitted.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(chromium)) {
  console.error(`e2e: Chromium not found at ${chromium}. Install it: apt-get install -y chromium`);
  process.exit(1);
}
const args = process.argv.slice(2);
const quoted = args.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
const inner = `ip link set lo up && exec npx playwright test ${quoted}`;

const probe = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up'], { stdio: 'ignore' });
let result;
if (probe.status === 0) {
  console.log('e2e: running inside a loopback-only network namespace');
  result = spawnSync('unshare', ['-n', 'sh', '-c', inner], { stdio: 'inherit' });
} else {
  console.log('e2e: unshare not permitted here; running in the normal network namespace (loopback only by config)');
  result = spawnSync('npx', ['playwright', 'test', ...args], { stdio: 'inherit' });
}
process.exit(result.status ?? 1);
