// The dashboard's state: a zustand vanilla store fed from the node's snapshots. It knows nothing of
// React (components subscribe to slices through `useDashboard`), so it is testable on its own.
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { AegisNode, NodeSnapshot } from '../node/aegis-node.ts';

export interface NodeInfo {
  slot: number;
  exclusivity: 'web-locks' | 'lease';
  cryptoBackend: string;
  secureContext: boolean;
}

export interface DashboardState {
  phase: 'starting' | 'running' | 'failed';
  error: string | null;
  info: NodeInfo | null;
  snapshot: NodeSnapshot | null;
  /** Recent RTT samples per peer, oldest first, for the sparkline. */
  rttHistory: Record<string, number[]>;
}

export type DashboardStore = StoreApi<DashboardState>;

const RTT_HISTORY = 30;

export function createDashboardStore(): DashboardStore {
  return createStore<DashboardState>()(() => ({
    phase: 'starting',
    error: null,
    info: null,
    snapshot: null,
    rttHistory: {},
  }));
}

/** Push a new snapshot into the store, extending per-peer RTT histories. */
export function applySnapshot(store: DashboardStore, snapshot: NodeSnapshot): void {
  const prev = store.getState().rttHistory;
  const rttHistory: Record<string, number[]> = {};
  for (const p of snapshot.peers) {
    const h = prev[p.id] ?? [];
    rttHistory[p.id] = p.rttMs !== null && h[h.length - 1] !== p.rttMs ? [...h, p.rttMs].slice(-RTT_HISTORY) : h;
  }
  store.setState({ snapshot, rttHistory, phase: 'running' });
}

/** Keep the store in step with a node, at most every `intervalMs` (snapshots are not free). */
export function bindNode(store: DashboardStore, node: AegisNode, info: NodeInfo, intervalMs = 200): () => void {
  store.setState({ info });
  let scheduled = false;
  const update = (): void => {
    scheduled = false;
    applySnapshot(store, node.snapshot());
  };
  const unsubscribe = node.subscribe(() => {
    if (scheduled) return;
    scheduled = true;
    setTimeout(update, intervalMs);
  });
  update();
  const periodic = setInterval(update, 1000); // ages and RTTs move even without events
  return () => {
    unsubscribe();
    clearInterval(periodic);
  };
}
