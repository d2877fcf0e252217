import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/core/clock.ts';
import { DEFAULT_MAX_REMEMBERED, ReplayGuard, type ReplayVerdict } from '../../src/core/net/replay-guard.ts';
import { SequenceCounter } from '../../src/core/net/sequence.ts';

// Without this, fast-check's default size ('small') caps `maxLength` at about 10 elements.
fc.configureGlobal({ ...fc.readConfigureGlobal(), defaultSizeToMaxWhenMaxSpecified: true });

/** The guard's per-sender memory, read only to check that it stays bounded. */
function seenSize(guard: ReplayGuard, sender: string): number {
  const senders = (guard as unknown as { senders: Map<string, { seen: Set<number> }> }).senders;
  return senders.get(sender)?.seen.size ?? 0;
}

describe('ReplayGuard', () => {
  it('fresh, then replay once accepted; senders are independent', () => {
    const g = new ReplayGuard();
    expect(g.check('alice', 100)).toBe('fresh');
    g.accept('alice', 100);
    expect(g.check('alice', 100)).toBe('replay');
    expect(g.check('alice', 101)).toBe('fresh');
    expect(g.check('alice', 99)).toBe('fresh'); // reordered, inside the window
    expect(g.check('bob', 100)).toBe('fresh');
  });

  it('window edges: exactly windowSize behind the highest is stale, one less is fresh', () => {
    const g = new ReplayGuard(4096);
    g.accept('a', 10_000);
    expect(g.check('a', 10_000 - 4096)).toBe('stale');
    expect(g.check('a', 10_000 - 4095)).toBe('fresh');
    expect(g.check('a', 0)).toBe('stale');
    g.accept('a', 10_000 - 4095);
    expect(g.check('a', 10_000 - 4095)).toBe('replay');
    g.accept('a', 20_000);
    expect(g.check('a', 10_001)).toBe('stale');
    expect(g.check('a', 20_000 - 4096)).toBe('stale');
    expect(g.check('a', 20_000 - 4095)).toBe('fresh');
    // Accepted ones that fell out of the window stay rejected, as replay or stale.
    expect(g.check('a', 10_000)).not.toBe('fresh');
    expect(g.check('a', 10_000 - 4095)).not.toBe('fresh');
  });

  it('works with clock-derived sequences near 2^53', () => {
    const g = new ReplayGuard(4096);
    const s = Number.MAX_SAFE_INTEGER - 10;
    g.accept('a', s);
    expect(g.check('a', s)).toBe('replay');
    expect(g.check('a', s + 1)).toBe('fresh');
    expect(g.check('a', s - 4096)).toBe('stale');
  });

  it('matches its specification on random histories', () => {
    const op = fc.record({ sender: fc.constantFrom('a', 'b', 'c'), seq: fc.nat(120) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 20 }), (ops, window, remembered) => {
        const g = new ReplayGuard(window, 10_000, remembered);
        const accepted = new Map<string, Set<number>>();
        const highest = new Map<string, number>();
        for (const { sender, seq } of ops) {
          const seen = accepted.get(sender) ?? new Set<number>();
          const top = highest.get(sender);
          const inWindow = top === undefined || seq > top - window;
          const newer = [...seen].filter((s) => s > seq).length;
          const verdict = g.check(sender, seq);
          // Specification: never fresh twice; behind the window, stale (or replay if accepted); in it,
          // fresh unless accepted before (then replay) — except that once `remembered` newer ones were
          // accepted it may be stale (the bound on memory).
          const allowed: ReplayVerdict[] = seen.has(seq) ? ['replay', 'stale'] : !inWindow ? ['stale'] : newer < remembered ? ['fresh'] : ['fresh', 'stale'];
          if (seen.has(seq) && inWindow && newer < remembered) allowed.splice(allowed.indexOf('stale'), 1);
          if (!allowed.includes(verdict)) throw new Error(`${sender}#${seq}: ${verdict}, expected ${allowed.join(' or ')}`);
          if (verdict === 'fresh') {
            g.accept(sender, seq);
            seen.add(seq);
            accepted.set(sender, seen);
            highest.set(sender, Math.max(top ?? seq, seq));
          }
          if (seenSize(g, sender) > 2 * remembered) throw new Error(`${sender} holds ${seenSize(g, sender)} sequences`);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('takes a message its sender’s later ones overtook by seconds (clock-derived sequences, the default window)', () => {
    // A 4 MB masked input still crossing the direct link while its sender's later broadcasts arrive
    // relayed: with a window of 4096 sequence numbers (4 ms of the sender's clock) it was stale.
    let nowMs = 1_795_498_555_605;
    const clock = { now: () => nowMs } as Clock;
    const seq = new SequenceCounter(clock);
    const g = new ReplayGuard();
    const masked = seq.next();
    const later: number[] = [];
    for (let i = 0; i < 50; i++) {
      nowMs += 100; // 5 s of votes and heads, one every 100 ms
      later.push(seq.next());
    }
    for (const s of later) {
      expect(g.check('a', s)).toBe('fresh');
      g.accept('a', s);
    }
    expect(g.check('a', masked)).toBe('fresh');
    g.accept('a', masked);
    expect(g.check('a', masked)).toBe('replay');
    // Ten minutes of the sender's clock later a message from then is stale; the accepted one stays refused.
    nowMs += 10 * 60_000;
    g.accept('a', seq.next());
    expect(g.check('a', masked + 1)).toBe('stale');
    expect(g.check('a', masked)).not.toBe('fresh');
  });

  it('overtaken by more than maxRemembered newer messages, a late one is stale and no accepted one is ever fresh again', () => {
    const g = new ReplayGuard(undefined, 10_000, 64);
    const late = 1_000_000;
    for (let s = late + 1; s <= late + 500; s++) g.accept('a', s);
    expect(g.check('a', late)).toBe('stale');
    for (let s = late + 1; s <= late + 500; s++) expect(g.check('a', s)).not.toBe('fresh');
    expect(seenSize(g, 'a')).toBeLessThanOrEqual(2 * 64);
    expect(g.check('a', late + 501)).toBe('fresh');
  });

  it('keeps memory bounded by count under the default time window', () => {
    const g = new ReplayGuard();
    for (let s = 1; s <= 20_000; s++) g.accept('a', s * 1000);
    expect(seenSize(g, 'a')).toBeLessThanOrEqual(2 * DEFAULT_MAX_REMEMBERED);
    expect(g.check('a', 20_000 * 1000 - 1)).toBe('fresh');
  });

  it('keeps per-sender memory bounded over a long stream, and never forgets inside the window', () => {
    const g = new ReplayGuard(256, 10_000, 256);
    let notFresh = 0;
    for (let s = 1; s <= 50_000; s++) {
      if (g.check('a', s) !== 'fresh') notFresh++;
      g.accept('a', s);
    }
    expect(notFresh).toBe(0);
    expect(seenSize(g, 'a')).toBeLessThanOrEqual(2 * 256);
    for (let s = 50_000 - 255; s <= 50_000; s++) expect(g.check('a', s)).toBe('replay');
    for (const s of [1, 40_000, 50_000 - 256]) expect(g.check('a', s)).not.toBe('fresh');
    for (const s of [0, -5]) expect(g.check('a', s)).toBe('stale');
  });

  it('bounds the number of senders by forgetting the first one seen', () => {
    const g = new ReplayGuard(4096, 3);
    for (const s of ['a', 'b', 'c']) g.accept(s, 10);
    g.accept('d', 10);
    expect(g.check('a', 10)).toBe('fresh'); // forgotten: a documented limit of a bounded guard
    for (const s of ['b', 'c', 'd']) expect(g.check(s, 10)).toBe('replay');
  });

  it('evicts the least recently active sender, so a flood of new keys cannot push out a talking one', () => {
    const g = new ReplayGuard(4096, 3);
    for (const s of ['a', 'b', 'c']) g.accept(s, 10);
    g.accept('a', 11); // a is active again: b is now the least recently active
    g.accept('d', 10);
    expect(g.check('b', 10)).toBe('fresh');
    for (const [s, q] of [['a', 11], ['c', 10], ['d', 10]] as const) expect(g.check(s, q)).toBe('replay');
  });
});
