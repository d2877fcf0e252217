// `aegis sim audit` and `aegis verify` through the CLI entry point: exit codes 0 / 1 / 2, the same
// file for a seed, and a tampered file refused with the reason.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { captureCliOutput } from '../cli-output.ts';

const dir = mkdtempSync(join(tmpdir(), 'aegis-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const out = captureCliOutput();

describe('aegis sim audit / aegis verify', () => {
  it('writes a deterministic log that verifies; a tampered copy exits 1 with the reason', async () => {
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    expect(await main(['sim', 'audit', '--entries', '30', '--seed', '4', '--export', a, '--head-every', '4'])).toBe(0);
    expect(await main(['sim', 'audit', '--entries', '30', '--seed', '4', '--export', b, '--head-every', '4'])).toBe(0);
    const text = readFileSync(a, 'utf8');
    expect(readFileSync(b, 'utf8')).toBe(text);
    const doc = JSON.parse(text) as { entries: unknown[]; heads: unknown[] };
    expect(doc.entries).toHaveLength(30);
    expect(doc.heads).toHaveLength(8);

    out.length = 0;
    expect(await main(['verify', a])).toBe(0);
    expect(out[0]).toMatch(/^✓ valid audit log: 30 entries, 8 signed heads/);
    // The export carries genesis and certificates: every receipt is checked in full, offline.
    expect(out.join('\n')).toMatch(/receipts: 5 fully checked offline through genesis [0-9a-f]{16}… and its certificates \(entries 3, 9, 15, 21, 27\)/);
    const bare = join(dir, 'bare.json');
    const { genesis: _g, certificates: _c, ...rest } = JSON.parse(text) as Record<string, unknown>;
    writeFileSync(bare, JSON.stringify(rest));
    out.length = 0;
    expect(await main(['verify', bare])).toBe(0);
    expect(out.join('\n')).toMatch(/receipts: QCs not checked \(the export carries no genesis and set-change certificates\)/);

    const tampered = join(dir, 't.json');
    writeFileSync(tampered, text.replace(/"leafIdx": 7/, '"leafIdx": 8'));
    out.length = 0;
    expect(await main(['verify', tampered, '--json'])).toBe(1);
    const verdict = JSON.parse(out[0] as string) as { ok: boolean; failures: { where: string }[] };
    expect(verdict.ok).toBe(false);
    expect(verdict.failures.map((f) => f.where)).toContain('entries[7].inclusion.leafIdx');
  });

  it('usage errors exit 2', async () => {
    expect(await main(['verify'])).toBe(2);
    expect(await main(['verify', join(dir, 'missing.json')])).toBe(2);
    expect(await main(['verify', 'a', 'b'])).toBe(2);
    expect(await main(['sim', 'audit', '--entries', '3', '--seed', '1'])).toBe(2);
    expect(await main(['sim', 'audit', '--entries', 'x', '--seed', '1', '--export', join(dir, 'x.json')])).toBe(2);
    expect(out.join('')).toMatch(/--export is required/);
  });
});
