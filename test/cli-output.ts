// Captures what the `aegis` CLI prints (console.log and stderr, optionally raw stdout writes) into
// one array per test, so CLI tests can assert on the text next to the exit code.
import { afterEach, beforeEach, vi } from 'vitest';

export function captureCliOutput(options: { stdout?: boolean } = {}): string[] {
  const out: string[] = [];
  const push = (s: string | Uint8Array): true => (out.push(String(s)), true);
  beforeEach(() => {
    out.length = 0;
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    if (options.stdout === true) vi.spyOn(process.stdout, 'write').mockImplementation(push);
    vi.spyOn(process.stderr, 'write').mockImplementation(push);
  });
  afterEach(() => vi.restoreAllMocks());
  return out;
}
