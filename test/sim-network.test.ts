// The in-memory transport on its own, driven by scripted fake nodes (no AegisNode): signaling
// notices, link setup and channel bindings, ordering, copying, faults and interception.
import { describe, expect, it } from 'vitest';
import type { NodeId } from '../src/core/crypto/node-id.ts';
import type { ChannelBinding, NetworkStatus, PeerLink } from '../src/node/transport.ts';
import { SimNetwork, type SimNetworkOptions } from '../src/sim/memory-network.ts';
import { SeededRandom } from '../src/sim/seeded-random.ts';
import { VirtualClock } from '../src/sim/virtual-clock.ts';

class FakeNode {
  readonly log: string[] = [];
  readonly links: PeerLink[] = [];
  readonly bindings = new Map<PeerLink, ChannelBinding>();
  readonly received: { from: NodeId; bytes: Uint8Array; atMs: number }[] = [];
  status: NetworkStatus = 'offline';
  readonly adapter;

  constructor(
    readonly id: NodeId,
    private readonly w: World,
  ) {
    this.adapter = w.net.adapter();
  }

  start(room = 'r'): this {
    this.adapter.start(this.id, room, {
      onPeerJoined: (p) => this.log.push(`joined ${p}`),
      onPeerLeft: (p) => this.log.push(`left ${p}`),
      onInbound: (link) => {
        this.log.push(`inbound ${link.remoteId}`);
        this.attach(link);
      },
      onStatus: (s) => {
        this.status = s;
      },
    });
    return this;
  }

  dial(peer: FakeNode): PeerLink {
    const link = this.adapter.dial(peer.id);
    this.attach(link);
    return link;
  }

  private attach(link: PeerLink): void {
    this.links.push(link);
    link.attach({
      onOpen: (b) => {
        this.bindings.set(link, b);
        this.log.push(`open ${link.remoteId}`);
      },
      onMessage: (m) => this.received.push({ from: link.remoteId, bytes: m, atMs: this.w.clock.now() }),
      onClose: (r) => this.log.push(`close ${link.remoteId}: ${r}`),
    });
  }

  linkTo(peer: FakeNode): PeerLink {
    const l = this.links.find((x) => x.remoteId === peer.id);
    if (!l) throw new Error(`${this.id} has no link to ${peer.id}`);
    return l;
  }
}

class World {
  readonly clock = new VirtualClock();
  readonly net: SimNetwork;
  constructor(options: SimNetworkOptions = {}, seed = 1) {
    this.net = new SimNetwork(this.clock, SeededRandom.fromSeed(seed), options);
  }
  node(id: string): FakeNode {
    return new FakeNode(id, this);
  }
  run(ms: number): void {
    const end = this.clock.now() + ms;
    while ((this.clock.peek() ?? Infinity) <= end) this.clock.runNext();
    this.clock.advanceTo(end);
  }
}

/** Two started nodes with an open link A -> B. */
function pair(options: SimNetworkOptions = {}, seed = 1) {
  const w = new World(options, seed);
  const a = w.node('A').start();
  const b = w.node('B').start();
  w.run(100);
  const ab = a.dial(b);
  w.run(1000);
  return { w, a, b, ab, ba: b.linkTo(a) };
}

const bytes = (...xs: number[]): Uint8Array => Uint8Array.from(xs);

describe('SimNetwork: signaling', () => {
  it('tells a newcomer the members and the members the newcomer, then reports leaving', () => {
    const w = new World();
    const a = w.node('A').start();
    w.run(100);
    const b = w.node('B').start();
    const c = w.node('C').start('other room');
    w.run(100);
    expect(a.status).toBe('online');
    expect(a.log).toEqual(['joined B']);
    expect(b.log).toEqual(['joined A']);
    expect(c.log).toEqual([]);
    b.adapter.stop();
    w.run(49);
    expect(a.log).toEqual(['joined B']);
    w.run(100);
    expect(a.log).toEqual(['joined B', 'left B']);
    expect(w.net.roomMembers('r')).toEqual(['A']);
  });
});

describe('SimNetwork: links', () => {
  it('opens a link in both directions with consistent per-link fingerprints', () => {
    const { w, a, b, ab, ba } = pair();
    expect(b.log).toContain('inbound A');
    expect(ab.initiator).toBe(true);
    expect(ba.initiator).toBe(false);
    const fa = a.bindings.get(ab) as ChannelBinding;
    const fb = b.bindings.get(ba) as ChannelBinding;
    expect(fa.localFingerprint).toMatch(/^sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(fa.localFingerprint).toBe(fb.remoteFingerprint);
    expect(fb.localFingerprint).toBe(fa.remoteFingerprint);
    expect(fa.localFingerprint).not.toBe(fb.localFingerprint);
    // A second link between the same nodes gets fresh certificates.
    const ab2 = a.dial(b);
    w.run(1000);
    expect((a.bindings.get(ab2) as ChannelBinding).localFingerprint).not.toBe(fa.localFingerprint);
  });

  it('gives a man-in-the-middle link mismatched fingerprints on both sides', () => {
    const w = new World();
    const a = w.node('A').start();
    const b = w.node('B').start();
    w.run(100);
    w.net.mitm('A', 'B');
    const ab = a.dial(b);
    w.run(1000);
    const fa = a.bindings.get(ab) as ChannelBinding;
    const fb = b.bindings.get(b.linkTo(a)) as ChannelBinding;
    expect(fa.remoteFingerprint).not.toBe(fb.localFingerprint);
    expect(fb.remoteFingerprint).not.toBe(fa.localFingerprint);
    expect(w.net.links().find((l) => l.initiator === 'A')?.mitm).toBe(true);
  });

  it('delivers in order despite jitter, after at least the base latency', () => {
    const { w, ab, b } = pair({ link: { latencyMs: 10, latencySpreadMs: 0, jitterMs: 50 } });
    const t0 = w.clock.now();
    for (let i = 0; i < 200; i++) ab.send(bytes(i));
    w.run(1000);
    expect(b.received.map((r) => r.bytes[0])).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(Math.min(...b.received.map((r) => r.atMs - t0))).toBeGreaterThanOrEqual(10);
  });

  it('reorders only when asked to (fault injection)', () => {
    const { w, ab, b } = pair({ link: { latencyMs: 10, jitterMs: 50, reorder: true } });
    for (let i = 0; i < 200; i++) ab.send(bytes(i));
    w.run(1000);
    const order = b.received.map((r) => r.bytes[0]);
    expect([...order].sort((x, y) => (x as number) - (y as number))).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(order).not.toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('paces messages by bandwidth', () => {
    const { w, ab, b } = pair({ link: { latencyMs: 10, latencySpreadMs: 0, jitterMs: 0, bandwidthBytesPerSec: 10_000 } });
    const t0 = w.clock.now();
    ab.send(new Uint8Array(1000));
    ab.send(new Uint8Array(1000));
    w.run(1000);
    expect(b.received.map((r) => r.atMs - t0)).toEqual([110, 210]);
  });

  it('copies messages: neither side can mutate what the other holds', () => {
    const { w, ab, b } = pair();
    const buf = bytes(1, 2, 3);
    ab.send(buf);
    buf[0] = 99;
    w.run(500);
    expect(b.received[0]?.bytes).toEqual(bytes(1, 2, 3));
  });

  it('delivers messages sent before a close, then the close', () => {
    const { w, a, b, ab } = pair();
    ab.send(bytes(1));
    ab.send(bytes(2));
    ab.close('bye');
    expect(() => ab.send(bytes(3))).toThrow(/closed/);
    w.run(500);
    expect(b.received.map((r) => r.bytes[0])).toEqual([1, 2]);
    expect(b.log.at(-1)).toBe('close A: bye');
    expect(a.log.some((l) => l.startsWith('close'))).toBe(false); // no echo to the closer
    expect(w.net.links()).toEqual([]);
  });

  it('fails a dial to someone not in the room; a dial to a crashed node just never opens', () => {
    const w = new World();
    const a = w.node('A').start();
    const b = w.node('B').start();
    w.run(100);
    const ghost = new World().node('Z');
    a.dial(ghost);
    w.net.crash('B');
    a.dial(b);
    w.run(2000);
    expect(a.log.filter((l) => l.startsWith('close'))).toEqual(['close Z: peer unavailable']);
    expect(a.log.some((l) => l.startsWith('open'))).toBe(false);
    expect(() => a.adapter.dial('A')).toThrow(/self/);
  });

  it('closes the links of a stopped node', () => {
    const { w, a, b } = pair();
    b.adapter.stop();
    w.run(500);
    expect(a.log).toContain('close B: network stopped');
    expect(a.log).toContain('left B');
  });
});

describe('SimNetwork: faults', () => {
  it('drops traffic across a partition (in flight too) until heal', () => {
    const { w, ab, ba, a, b } = pair({ link: { latencyMs: 20 } });
    const dropped: string[] = [];
    w.net.observe({ dropped: (m, reason) => dropped.push(`${m.from}->${m.to} ${reason}`) });
    ab.send(bytes(1)); // in flight when the partition starts
    w.net.partition([['A'], ['B']]);
    expect(w.net.blocked('A', 'B')).toBe(true);
    ab.send(bytes(2));
    ba.send(bytes(3));
    w.run(500);
    expect(b.received).toEqual([]);
    expect(a.received).toEqual([]);
    expect(dropped).toEqual(['A->B partitioned', 'B->A partitioned', 'A->B partitioned']);
    expect(a.log.some((l) => l.startsWith('close'))).toBe(false); // silent, not closed
    w.net.heal();
    ab.send(bytes(4));
    w.run(500);
    expect(b.received.map((r) => r.bytes[0])).toEqual([4]);
  });

  it('can fail the links across a partition outright', () => {
    const w = new World();
    const [a, b, c] = ['A', 'B', 'C'].map((id) => w.node(id).start()) as [FakeNode, FakeNode, FakeNode];
    w.run(100);
    a.dial(b);
    a.dial(c);
    w.run(1000);
    w.net.partition([['A', 'B']], { closeLinks: true }); // C is alone in the unlisted group
    w.run(10);
    expect(a.log).toContain('close C: network partition');
    expect(c.log).toContain('close A: network partition');
    expect(a.log.some((l) => l.startsWith('close B'))).toBe(false);
    expect(() => w.net.partition([['A'], ['A']])).toThrow(/two partition groups/);
  });

  it('silences a crashed node; signaling reports it gone after crashDetectMs', () => {
    const { w, ab, ba, a, b } = pair({ signaling: { crashDetectMs: 5000 } });
    w.net.crash('B');
    ab.send(bytes(1));
    ba.send(bytes(2));
    w.run(4000);
    expect(b.received).toEqual([]);
    expect(a.received).toEqual([]);
    expect(a.log.some((l) => l.startsWith('close') || l.startsWith('left'))).toBe(false);
    w.run(2000);
    expect(a.log.at(-1)).toBe('left B');
    expect(w.net.isCrashed('B')).toBe(true);
  });

  it('loses messages at the configured rate only when asked to', () => {
    const { w, ab, b } = pair({ link: { dropRate: 0.5 } });
    for (let i = 0; i < 400; i++) ab.send(bytes(i & 0xff));
    w.run(1000);
    expect(b.received.length).toBeGreaterThan(120);
    expect(b.received.length).toBeLessThan(280);
    expect(w.net.trafficOf('A').framesDropped).toBe(400 - b.received.length);
  });

  it('breaks the links between two nodes on demand', () => {
    const { w, a, b } = pair();
    expect(w.net.breakLinks('A', 'B', 'ICE failed')).toBe(1);
    w.run(10);
    expect(a.log.at(-1)).toBe('close B: ICE failed');
    expect(b.log.at(-1)).toBe('close A: ICE failed');
  });
});

describe('SimNetwork: interception', () => {
  it('passes, drops, replaces and multiplies messages, by sender and receiver', () => {
    const { w, ab, ba, a, b } = pair();
    const remove = w.net.intercept(
      (m) => {
        const x = m.bytes[0] as number;
        if (x === 1) return undefined;
        if (x === 2) return null;
        if (x === 3) return bytes(30);
        return [bytes(40), bytes(41)];
      },
      { from: 'A', to: 'B' },
    );
    for (const x of [1, 2, 3, 4]) ab.send(bytes(x));
    ba.send(bytes(2)); // other direction: untouched
    w.run(500);
    expect(b.received.map((r) => r.bytes[0])).toEqual([1, 30, 40, 41]);
    expect(a.received.map((r) => r.bytes[0])).toEqual([2]);
    remove();
    ab.send(bytes(2));
    w.run(500);
    expect(b.received.map((r) => r.bytes[0])).toEqual([1, 30, 40, 41, 2]);
    expect(w.net.trafficOf('A')).toMatchObject({ framesSent: 5, framesDropped: 1 });
    expect(w.net.trafficOf('B')).toMatchObject({ framesReceived: 5, bytesReceived: 5 });
  });

  it('lets an interceptor tamper without touching the sender’s buffer', () => {
    const { w, ab, b } = pair();
    w.net.intercept((m) => {
      m.bytes[0] = 7; // in-place edit of the in-flight copy
      return undefined;
    });
    const buf = bytes(1);
    ab.send(buf);
    w.run(500);
    expect(buf[0]).toBe(1);
    expect(b.received[0]?.bytes[0]).toBe(7);
  });
});

describe('SimNetwork: determinism', () => {
  it('replays the same delivery times for the same seed', () => {
    const times = (seed: number): number[] => {
      const { w, ab, b } = pair({ link: { jitterMs: 30 } }, seed);
      for (let i = 0; i < 20; i++) ab.send(bytes(i));
      w.run(1000);
      return b.received.map((r) => r.atMs);
    };
    expect(times(3)).toEqual(times(3));
    expect(times(3)).not.toEqual(times(4));
  });
});
