import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeenCache } from '../../src/core/net/seen-cache.ts';

// Without this, fast-check's default size ('small') caps `maxLength` at about 10 elements.
fc.configureGlobal({ ...fc.readConfigureGlobal(), defaultSizeToMaxWhenMaxSpecified: true });

describe('SeenCache', () => {
  it('remembers an id for exactly ttlMs', () => {
    const c = new SeenCache(1000, 10);
    expect(c.has('m1', 0)).toBe(false);
    c.add('m1', 5000);
    expect(c.has('m1', 5000)).toBe(true);
    expect(c.has('m1', 5999)).toBe(true);
    expect(c.has('m1', 6000)).toBe(false);
    expect(c.has('m2', 5000)).toBe(false);
  });

  it('adding again extends the lifetime', () => {
    const c = new SeenCache(1000, 10);
    c.add('m', 0);
    c.add('m', 900);
    expect(c.has('m', 1500)).toBe(true);
    expect(c.has('m', 1900)).toBe(false);
    expect(c.size).toBe(1);
  });

  it('prune() drops expired entries and keeps live ones', () => {
    const c = new SeenCache(1000, 10);
    c.add('old', 0);
    c.add('mid', 400);
    c.add('new', 800);
    c.prune(1400);
    expect(c.size).toBe(1);
    expect(c.has('new', 1400)).toBe(true);
  });

  it('never holds more than maxEntries; evicts the least recently added first', () => {
    const c = new SeenCache(60_000, 3);
    for (const id of ['a', 'b', 'c', 'd']) c.add(id, 0);
    expect(c.size).toBe(3);
    expect(['a', 'b', 'c', 'd'].map((id) => c.has(id, 1))).toEqual([false, true, true, true]);
    c.add('b', 2); // refreshed: now the most recent
    c.add('e', 3);
    expect(['b', 'c', 'd', 'e'].map((id) => c.has(id, 4))).toEqual([true, false, true, true]);
  });

  it('follows its specification on random histories (monotonic time)', () => {
    const event = fc.record({ id: fc.nat(15).map((n) => `m${n}`), dtMs: fc.nat(400) });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 300 }), fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 12 }), (events, ttl, max) => {
        const c = new SeenCache(ttl, max);
        const lastAdded = new Map<string, number>(); // id -> time of its latest add, in add order
        let now = 0;
        for (const { id, dtMs } of events) {
          now += dtMs;
          c.add(id, now);
          lastAdded.delete(id);
          lastAdded.set(id, now);
          expect(c.size).toBeLessThanOrEqual(max);
          const recent = new Set([...lastAdded.keys()].slice(-max));
          const wrong = [...lastAdded].filter(([known, t]) => c.has(known, now) !== (now - t < ttl && recent.has(known)));
          if (wrong.length > 0) throw new Error(`at ${now}ms has() is wrong for ${wrong.map(([k]) => k).join(', ')}`);
        }
      }),
      { numRuns: 500 },
    );
  });
});
