// `aegis sim secagg --quantization-range Q`: the ring is Z_2^32, so n × Q must stay below 2^32. The
// refusal names the flag that fixes it, and the flag does: the same node count runs with a smaller Q.
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { captureCliOutput } from '../cli-output.ts';

const out = captureCliOutput({ stdout: true });

describe('aegis sim secagg --quantization-range', () => {
  it('refuses n × quantization_range ≥ 2^32 before the round, naming the flag', async () => {
    // 1024 × 2^22 = 2^32: one past the default bound.
    expect(await main(['sim', 'secagg', '--nodes', '1024', '--dim', '2', '--seed', '1', '--json'])).not.toBe(0);
    expect(out.join('')).toMatch(/1024 participants × quantization_range 4194304 .* does not fit modulus_range 4294967296.*--quantization-range/);
  });

  it('uses the given quantization_range in the round', async () => {
    expect(await main(['sim', 'secagg', '--nodes', '4', '--dim', '3', '--seed', '2', '--quantization-range', '1000', '--json'])).toBe(0);
    const report = JSON.parse(out.join('')) as { ok: boolean; params: { quantization_range: number }; tolerance: number };
    expect(report.ok).toBe(true);
    expect(report.params.quantization_range).toBe(1000);
    // Complete graph of 4: 4 shares per secret, t = ⌊2·4/3⌋ + 1 (reported as in effect, not 0).
    expect(report.params).toMatchObject({ num_shares: 4, reconstruction_threshold: 3, auto: true });
    expect(report.tolerance).toBeCloseTo((4 * 16) / 1000, 12); // 4 contributors × one step 2C/Q, C = 8
  });

  it('rejects a non-integer or out-of-range value as a usage error', async () => {
    expect(await main(['sim', 'secagg', '--nodes', '4', '--dim', '3', '--seed', '2', '--quantization-range', '1.5'])).toBe(2);
    expect(await main(['sim', 'secagg', '--nodes', '4', '--dim', '3', '--seed', '2', '--quantization-range', '0'])).toBe(2);
  });
});
