// The dashboard's chain-rounds slice: ChainRoundService's views (chain round id, designated
// aggregator, commit height, receipt) copied into the store at most every `intervalMs`, keyed by
// round id so each round card finds its own. React-free, tested without a DOM.
import type { ChainRoundService, ChainRoundView } from '../node/chain-rounds.ts';
import type { DashboardStore } from './dashboard-store.ts';
import { bindThrottled } from './throttled-bind.ts';

export interface ChainRoundsSlice {
  /** False until the tab's ChainRoundService is bound. */
  ready: boolean;
  /** By hex round id. */
  byRound: Record<string, ChainRoundView>;
  /** Refused claims, results and receipts, by reason. */
  refused: Record<string, number>;
}

export const EMPTY_CHAIN_ROUNDS: ChainRoundsSlice = { ready: false, byRound: {}, refused: {} };

/** What the store needs of a ChainRoundService (tests feed a stub). */
export type ChainRoundsSource = Pick<ChainRoundService, 'views' | 'refused' | 'subscribe'>;

export function applyChainRounds(store: DashboardStore, source: ChainRoundsSource): void {
  const byRound: Record<string, ChainRoundView> = {};
  for (const v of source.views()) byRound[v.roundId] = v;
  store.setState({ chainRounds: { ready: true, byRound, refused: { ...source.refused } } });
}

export function bindChainRounds(store: DashboardStore, source: ChainRoundsSource, intervalMs = 150): () => void {
  return bindThrottled((l) => source.subscribe(l), () => applyChainRounds(store, source), intervalMs);
}

/** Chain rounds this tab knows of that have no secure-aggregation view yet (the Open has not come). */
export function pendingChainRounds(slice: ChainRoundsSlice, secaggRoundIds: readonly string[]): ChainRoundView[] {
  const seen = new Set(secaggRoundIds);
  return Object.values(slice.byRound).filter((v) => !seen.has(v.roundId) && v.status !== 'lapsed' && v.status !== 'committed');
}
