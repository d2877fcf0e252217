import { describe, expect, it } from 'vitest';
import type { NodeSnapshot, PeerInfo } from '../../src/node/aegis-node.ts';
import { emptyCounters } from '../../src/node/counters.ts';
import { applySnapshot, createDashboardStore } from '../../src/ui/dashboard-store.ts';

function peer(id: string, rttMs: number | null): PeerInfo {
  return { id, status: 'connected', initiator: true, rttMs, connectedAtMs: 0, lastSeenMs: 0, reconnectAttempts: 0 };
}

function snap(peers: PeerInfo[]): NodeSnapshot {
  return {
    id: 'a'.repeat(32),
    publicKeyHex: '00'.repeat(32),
    room: 'aegis',
    networkStatus: 'online',
    networkDetail: '',
    overlayMode: 'full-mesh',
    overlayTarget: peers.length,
    peers,
    counters: emptyCounters(),
    startedAtMs: 0,
    formationMs: null,
    testBroadcasts: [],
    receivedTests: [],
    lastRejection: null,
  };
}

describe('dashboard store (no React)', () => {
  it('starts in the starting phase and switches to running on the first snapshot', () => {
    const store = createDashboardStore();
    expect(store.getState().phase).toBe('starting');
    applySnapshot(store, snap([]));
    expect(store.getState().phase).toBe('running');
  });

  it('keeps a bounded RTT history per peer, skipping repeats and nulls, and forgets departed peers', () => {
    const store = createDashboardStore();
    for (let i = 0; i < 40; i++) applySnapshot(store, snap([peer('p1', i), peer('p2', null)]));
    applySnapshot(store, snap([peer('p1', 39), peer('p2', null)]));
    const h = store.getState().rttHistory;
    expect(h['p1']).toHaveLength(30);
    expect(h['p1']?.[29]).toBe(39);
    expect(h['p1']?.[0]).toBe(10);
    expect(h['p2']).toEqual([]);
    applySnapshot(store, snap([peer('p2', 5)]));
    expect(store.getState().rttHistory['p1']).toBeUndefined();
    expect(store.getState().rttHistory['p2']).toEqual([5]);
  });
});
