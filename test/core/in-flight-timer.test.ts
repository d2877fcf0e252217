import { describe, expect, it } from 'vitest';
import { InFlightTimer } from '../../src/core/in-flight-timer.ts';

describe('InFlightTimer', () => {
  it('counts overlapping operations once (a union of intervals, never more than the elapsed time)', async () => {
    let now = 0;
    const t = new InFlightTimer(() => now);
    const gates: (() => void)[] = [];
    const op = (): Promise<void> => t.time(() => new Promise<void>((resolve) => gates.push(resolve)));
    const a = op(); // in flight from 0
    now = 10;
    const b = op(); // overlaps a
    now = 30;
    gates[0]!();
    await a;
    now = 50;
    expect(t.busyMs).toBe(50);
    gates[1]!();
    await b; // both done at 50: busy 0..50, not 50 + 40
    now = 80; // idle 50..80
    const c = op();
    now = 85;
    gates[2]!();
    await c;
    expect(t.busyMs).toBe(55);
    // A failing operation still ends its interval.
    const d = t.time(async () => {
      now = 90;
      throw new Error('boom');
    });
    await expect(d).rejects.toThrow('boom');
    now = 100;
    expect(t.busyMs).toBe(60);
  });
});
