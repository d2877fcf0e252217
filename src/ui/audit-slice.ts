// The dashboard's audit-log slice: the LedgerService's snapshot, copied into the store at most
// every `intervalMs` (React-free, so it is tested without a DOM).
import type { LedgerService, LedgerSnapshot } from '../node/ledger-service.ts';
import type { DashboardStore } from './dashboard-store.ts';
import { bindThrottled } from './throttled-bind.ts';

export interface AuditSlice {
  /** False until the tab's LedgerService is bound. */
  ready: boolean;
  ledger: LedgerSnapshot | null;
}

export const EMPTY_AUDIT: AuditSlice = { ready: false, ledger: null };

/** What the store needs of a LedgerService (an interface, so tests can feed a stub). */
export type LedgerSource = Pick<LedgerService, 'snapshot' | 'subscribe'>;

export function applyLedger(store: DashboardStore, source: LedgerSource): void {
  store.setState({ audit: { ready: true, ledger: source.snapshot() } });
}

export function bindLedger(store: DashboardStore, source: LedgerSource, intervalMs = 200): () => void {
  // Periodic too: the replica estimate follows rounds without a ledger event.
  return bindThrottled((l) => source.subscribe(l), () => applyLedger(store, source), intervalMs, 2000);
}

/** The storage figure as a sentence part: this node's bytes against a full replica's. */
export function storageRatio(selfBytes: number, replicaBytes: number): string | null {
  if (replicaBytes <= 0) return null;
  const r = selfBytes / replicaBytes;
  return r >= 0.01 ? `${(r * 100).toFixed(1)}% of a full replica` : `1/${Math.round(1 / r).toLocaleString('en')} of a full replica`;
}
