// The dashboard's consensus slice: the ConsensusService's view copied into the store at most every
// `intervalMs`, plus the pure arithmetic the panel draws (vote bars against the 2/3 line, latency
// figures, the tab's staking status in words). React-free, tested without a DOM.
import type { ConsensusView, StakeStatus, VoteBar } from '../node/consensus-view.ts';
import type { ConsensusService } from '../node/consensus-service.ts';
import type { DashboardStore } from './dashboard-store.ts';
import { bindThrottled } from './throttled-bind.ts';

export interface ConsensusSlice {
  /** False until the tab's ConsensusService is bound. */
  ready: boolean;
  view: ConsensusView | null;
}

export const EMPTY_CONSENSUS: ConsensusSlice = { ready: false, view: null };

/** What the store needs of a ConsensusService (tests feed a stub). */
export type ConsensusSource = Pick<ConsensusService, 'view' | 'subscribe'>;

export function applyConsensus(store: DashboardStore, source: ConsensusSource): void {
  store.setState({ consensus: { ready: true, view: source.view() } });
}

export function bindConsensus(store: DashboardStore, source: ConsensusSource, intervalMs = 250): () => void {
  return bindThrottled((l) => source.subscribe(l), () => applyConsensus(store, source), intervalMs, 1000);
}

/** Smallest power that is more than 2/3 of `total` (3·p > 2·total). */
export function quorumPower(total: number): number {
  return total <= 0 ? 0 : Math.floor((2 * total) / 3) + 1;
}

export interface VoteFill extends VoteBar {
  /** Share of the total power, 0..1 (the bar's length). */
  fraction: number;
  /** This target holds more than 2/3 of the power. */
  quorum: boolean;
}

/** Bars for one vote type: each target's power as a share of the total, flagged once past 2/3. */
export function voteFills(bars: readonly VoteBar[], total: number): VoteFill[] {
  const q = quorumPower(total);
  return bars.map((b) => ({ ...b, fraction: total > 0 ? Math.min(1, b.power / total) : 0, quorum: total > 0 && b.power >= q }));
}

/** Nearest-rank percentile of unsorted values (null when empty). */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1] as number;
}

export function latencySummary(view: ConsensusView): { p50: number | null; p99: number | null; intervalMs: number | null } {
  const lat = view.commits.map((c) => c.latencyMs);
  const c = view.commits;
  const intervals = c.slice(1).map((x, i) => x.atMs - (c[i] as { atMs: number }).atMs);
  return { p50: percentile(lat, 50), p99: percentile(lat, 99), intervalMs: percentile(intervals, 50) };
}

const STATUS_WORDS: Record<StakeStatus, string> = {
  observer: 'observer: no stake, no power',
  requested: 'stake requested: waiting for faucet, join and bond to be committed',
  funded: 'funded: has a balance, not a validator candidate',
  candidate: 'candidate: joined, no stake bonded',
  bonded: 'bonded: enters the validator set at the next recompute',
  validator: 'validator',
  jailed: 'jailed',
};

export function stakeStatusText(view: ConsensusView): string {
  return STATUS_WORDS[view.self.status];
}

