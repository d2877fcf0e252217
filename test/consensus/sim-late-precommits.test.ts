// A validator whose precommits always arrive a little after the first 2/3 (a slower phone, a loaded
// tab) but within the commit wait: its precommits join the next block's last commit (the driver
// extends the QC after deciding, Chain.extendLastCommit), so it keeps its reputation and is never
// jailed for downtime. The control run, with an application that takes no extension, shows what
// the fix prevents: the slow validator is counted absent, loses reputation and is jailed.
import { describe, expect, it } from 'vitest';
import { runConsensusSim, type SimChainApp } from '../../src/sim/consensus-sim.ts';
import { ChainSimApp } from '../../src/sim/chain-sim-app.ts';
import { MICROS } from '../../src/core/consensus/genesis.ts';

const SLOW = 3;
const HEIGHTS = 30;
const params = { reputationStartMicros: MICROS / 2, downtimeWindowBlocks: 10 };

async function run(extend: boolean, seed: number) {
  return runConsensusSim({
    validators: 4,
    seed,
    heights: HEIGHTS,
    powers: [10, 10, 10, 10],
    crypto: 'fast',
    delayMs: 50,
    jitterMs: 10,
    // Its precommit lands ~200 ms after the other three (a quorum without it), well within 1 s.
    slowSenders: [{ node: SLOW, extraMs: 200 }],
    commitWaitMs: 1000,
    makeApp: (ctx): SimChainApp => {
      const app = new ChainSimApp(ctx, params);
      // The control: an application without the extension (as before the fix).
      return extend ? app : Object.assign(app, { extendLastCommit: undefined });
    },
  });
}

describe('late precommits join the next last commit', () => {
  it('a validator slower than the first 2/3 keeps its reputation and is never jailed for downtime', async () => {
    for (const seed of [1, 2]) {
      const r = await run(true, seed);
      expect(r.safetyViolations).toEqual([]);
      const slowId = r.nodes[SLOW]!.id;
      for (const table of r.validators) {
        const slow = table.find((v) => v.id === slowId)!;
        expect(slow.jailed, `seed ${seed}`).toBe(false);
        // Every validator signed every last commit: all gained alike.
        expect(slow.reputation, `seed ${seed}`).toBeGreaterThan(0.5);
        for (const v of table) expect(v.reputation).toBe(slow.reputation);
      }
      // The QCs the engine decided with lacked the slow validator's precommit; the extension added it.
      const honest = r.nodes.filter((n) => n.index !== SLOW);
      expect(honest.every((n) => (n.counters['commit-extended'] ?? 0) >= HEIGHTS / 2)).toBe(true);
    }
  });

  it('control: without the extension the slow validator is counted absent, loses reputation and is jailed', async () => {
    const r = await run(false, 1);
    const slowId = r.nodes[SLOW]!.id;
    const slow = r.validators[0]!.find((v) => v.id === slowId)!;
    expect(slow.reputation).toBeLessThan(0.5);
    expect(slow.jailed).toBe(true);
  });
});
