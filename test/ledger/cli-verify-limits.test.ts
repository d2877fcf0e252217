// `aegis verify` at its edges: a reader that closes the pipe early (`| head`) and a file over the
// size limit. The pipe case runs the real command in a child process (the crash was Node's
// unhandled EPIPE on process.stdout, which an in-process test cannot see).
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { captureCliOutput } from '../cli-output.ts';
import { MAX_VERIFY_FILE_BYTES, verifyFileSizeError } from '../../src/cli/verify-limit.ts';

const dir = mkdtempSync(join(tmpdir(), 'aegis-verify-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const out = captureCliOutput();

describe('aegis verify limits', () => {
  it('a reader that closes stdout at once (| head): no EPIPE crash, the exit code is the verdict', async () => {
    const file = join(dir, 'log.json');
    await main(['sim', 'audit', '--entries', '40', '--seed', '3', '--export', file]);
    const verdict = await main(['verify', file]);
    expect(out.length).toBeGreaterThan(3); // lines that go to a closed pipe
    vi.restoreAllMocks();
    const child = spawn(process.execPath, [join(import.meta.dirname, '../../bin/aegis.mjs'), 'verify', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reader is gone before the first line
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(stderr).not.toMatch(/EPIPE|Error/);
    expect(code).toBe(verdict);
  }, 30_000);

  it('refuses a file above the documented limit with a clear error, before reading it', async () => {
    const big = join(dir, 'big.json');
    closeSync(openSync(big, 'w'));
    truncateSync(big, MAX_VERIFY_FILE_BYTES + 1); // sparse: no disk used
    expect(await main(['verify', big])).toBe(2);
    expect(out.join('')).toMatch(/is 512\.0 MiB, more than the 512\.0 MiB aegis verify reads/);
    expect(verifyFileSizeError('f', MAX_VERIFY_FILE_BYTES)).toBeNull();
    expect(MAX_VERIFY_FILE_BYTES).toBe(512 * 1024 * 1024);
  });
});
