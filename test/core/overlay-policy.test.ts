import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Random } from '../../src/core/clock.ts';
import type { NodeId } from '../../src/core/crypto/node-id.ts';
import {
  decideOverlay,
  DEFAULT_OVERLAY,
  isFullMesh,
  shouldDial,
  type OverlayConfig,
  type OverlayView,
} from '../../src/core/net/overlay-policy.ts';

// Without this, fast-check's default size ('small') caps `maxLength` at about 10 elements.
fc.configureGlobal({ ...fc.readConfigureGlobal(), defaultSizeToMaxWhenMaxSpecified: true });

/** mulberry32: a tiny seeded PRNG, so decisions are reproducible. */
function seeded(seed: number): Random {
  let a = seed >>> 0;
  const float = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return { float, bytes: (n) => Uint8Array.from({ length: n }, () => Math.floor(float() * 256)) };
}

const id = (n: number): NodeId => n.toString(16).padStart(32, '0');

/** A room: self plus members (ids distinct), a linked subset, a backing-off subset. */
const roomArb = (maxMembers: number) =>
  fc
    .uniqueArray(fc.nat(1_000_000), { minLength: 1, maxLength: maxMembers + 1 })
    .chain((ns) => {
      const [self, ...members] = ns.map(id) as [NodeId, ...NodeId[]];
      return fc.record({
        self: fc.constant(self),
        members: fc.constant(members),
        linked: fc.subarray(members),
        strangers: fc.uniqueArray(fc.integer({ min: 2_000_000, max: 2_000_100 }).map(id), { maxLength: 3 }),
        backingOff: fc.subarray(members),
        seed: fc.nat(),
      });
    });

function view(r: { self: NodeId; members: NodeId[]; linked: NodeId[]; strangers: NodeId[]; backingOff: NodeId[] }): OverlayView {
  return {
    self: r.self,
    members: new Set(r.members),
    // Links to peers that are no longer members may still be open: they count for nothing.
    linked: new Set([...r.linked, ...r.strangers]),
    backingOff: new Set(r.backingOff),
  };
}

const config: OverlayConfig = { fullMeshMax: 6, degree: 4, degreeLow: 3, degreeHigh: 6 };

describe('overlay policy: full mesh', () => {
  it('applies while members + self ≤ fullMeshMax', () => {
    expect(isFullMesh(config, 5)).toBe(true);
    expect(isFullMesh(config, 6)).toBe(false);
    expect(isFullMesh(DEFAULT_OVERLAY, 11)).toBe(true);
    expect(isFullMesh(DEFAULT_OVERLAY, 12)).toBe(false);
  });

  it('exactly one of any two peers dials the other', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), (x, y) => {
        fc.pre(x !== y);
        return shouldDial(id(x), id(y)) !== shouldDial(id(y), id(x));
      }),
    );
    expect(shouldDial(id(1), id(1))).toBe(false);
  });

  it('dials exactly the unlinked, not-backing-off members with a higher id, in order; prunes nothing', () => {
    fc.assert(
      fc.property(roomArb(config.fullMeshMax - 1), (r) => {
        const v = view(r);
        const d = decideOverlay(v, config, seeded(r.seed));
        const expected = r.members.filter((p) => p > r.self && !v.linked.has(p) && !v.backingOff.has(p)).sort();
        expect(d).toEqual({ dial: expected, prune: [], mode: 'full-mesh', target: r.members.length });
        expect(d.dial).not.toContain(r.self);
      }),
      { numRuns: 2000 },
    );
  });

  it('every pair ends up dialled by exactly one side when nobody is linked yet', () => {
    const ids = [7, 3, 11, 5, 1].map(id);
    const dialsPerPair = new Map<string, number>();
    for (const self of ids) {
      const members = new Set(ids.filter((p) => p !== self));
      const d = decideOverlay({ self, members, linked: new Set(), backingOff: new Set() }, config, seeded(1));
      for (const p of d.dial) {
        const pair = [self, p].sort().join('|');
        dialsPerPair.set(pair, (dialsPerPair.get(pair) ?? 0) + 1);
      }
    }
    expect(dialsPerPair.size).toBe((ids.length * (ids.length - 1)) / 2);
    expect([...dialsPerPair.values()].every((n) => n === 1)).toBe(true);
  });
});

describe('overlay policy: partial mesh', () => {
  it('keeps the degree between degreeLow and degreeHigh, aiming for degree', () => {
    const branches = { below: 0, within: 0, above: 0 }; // linked count against degreeLow / degreeHigh
    fc.assert(
      fc.property(roomArb(30), (r) => {
        fc.pre(!isFullMesh(config, r.members.length));
        const v = view(r);
        const d = decideOverlay(v, config, seeded(r.seed));
        expect(d.mode).toBe('partial-mesh');
        expect(d.target).toBe(Math.min(config.degree, r.members.length));
        const linkedMembers = r.linked.length; // strangers do not count
        const candidates = r.members.filter((p) => !v.linked.has(p) && !v.backingOff.has(p));
        expect(new Set(d.dial).size).toBe(d.dial.length);
        expect(new Set(d.prune).size).toBe(d.prune.length);
        for (const p of d.dial) {
          expect(p).not.toBe(r.self);
          expect(candidates).toContain(p);
        }
        branches[linkedMembers < config.degreeLow ? 'below' : linkedMembers > config.degreeHigh ? 'above' : 'within']++;
        if (linkedMembers < config.degreeLow) {
          expect(d.dial).toHaveLength(Math.min(config.degree - linkedMembers, candidates.length));
          expect(d.prune).toEqual([]);
        } else if (linkedMembers > config.degreeHigh) {
          expect(d.dial).toEqual([]);
          expect(d.prune).toHaveLength(linkedMembers - config.degree);
          for (const p of d.prune) expect(r.linked).toContain(p);
        } else {
          expect(d).toMatchObject({ dial: [], prune: [] });
        }
      }),
      { numRuns: 2000 },
    );
    for (const n of Object.values(branches)) expect(n).toBeGreaterThan(100);
  });

  it('never dials backing-off peers, even when short of links', () => {
    const members = Array.from({ length: 20 }, (_, i) => id(i + 1));
    const backingOff = new Set(members.slice(0, 17));
    const d = decideOverlay({ self: id(0), members: new Set(members), linked: new Set(), backingOff }, config, seeded(9));
    expect(d.dial.sort()).toEqual(members.slice(17).sort());
  });

  it('is deterministic for a given random seed, and the seed spreads choices', () => {
    const members = new Set(Array.from({ length: 40 }, (_, i) => id(i + 1)));
    const v: OverlayView = { self: id(0), members, linked: new Set(), backingOff: new Set() };
    expect(decideOverlay(v, config, seeded(42))).toEqual(decideOverlay(v, config, seeded(42)));
    const chosen = new Set<NodeId>();
    for (let seed = 0; seed < 50; seed++) for (const p of decideOverlay(v, config, seeded(seed)).dial) chosen.add(p);
    expect(chosen.size).toBeGreaterThan(30);
  });

  it('does not depend on the iteration order of its sets', () => {
    const ids = Array.from({ length: 30 }, (_, i) => id(i * 7 + 1));
    const linked = ids.slice(0, 9);
    const forward: OverlayView = { self: id(0), members: new Set(ids), linked: new Set(linked), backingOff: new Set() };
    const backward: OverlayView = {
      self: id(0),
      members: new Set([...ids].reverse()),
      linked: new Set([...linked].reverse()),
      backingOff: new Set(),
    };
    expect(decideOverlay(forward, config, seeded(5))).toEqual(decideOverlay(backward, config, seeded(5)));
  });
});
