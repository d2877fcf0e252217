// The dashboard's state: a zustand vanilla store fed from the node's snapshots. It knows nothing of
// React (components subscribe to slices through `useDashboard`), so it is testable on its own.
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { AegisNode, NodeSnapshot } from '../node/aegis-node.ts';
import type { RoundView, SecAggService } from '../node/secagg-service.ts';
import { EMPTY_CONSENSUS, type ConsensusSlice } from './consensus-slice.ts';
import { EMPTY_AUDIT, type AuditSlice } from './audit-slice.ts';
import { EMPTY_CHAIN_ROUNDS, type ChainRoundsSlice } from './chain-rounds-slice.ts';
import { bindThrottled } from './throttled-bind.ts';

export interface NodeInfo {
  slot: number;
  exclusivity: 'web-locks' | 'lease';
  /** The identity's private key in IndexedDB: a non-extractable CryptoKey, or the raw seed. */
  keyAtRest: 'non-extractable' | 'raw-seed';
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
  secagg: SecAggSlice;
  /** The tab's chain (consensus-slice.ts). */
  consensus: ConsensusSlice;
  /** The tab's audit log (audit-slice.ts). */
  audit: AuditSlice;
  /** Secure-aggregation rounds opened through the chain (chain-rounds-slice.ts). */
  chainRounds: ChainRoundsSlice;
}

/** Secure aggregation as the dashboard shows it: this node's rounds and what it contributes. */
export interface SecAggSlice {
  /** False until the node's SecAggService is bound. */
  ready: boolean;
  /** Rounds this node heard of, newest first. */
  views: RoundView[];
  /** What this node contributes to the next rounds (null: it only observes). */
  input: readonly number[] | null;
  /** Column names for `input` when it came from a CSV file (local only: never sent). */
  inputLabels: readonly string[] | null;
  /** Refused secure-aggregation messages, by reason. */
  refused: Record<string, number>;
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
    secagg: { ready: false, views: [], input: null, inputLabels: null, refused: {} },
    consensus: EMPTY_CONSENSUS,
    audit: EMPTY_AUDIT,
    chainRounds: EMPTY_CHAIN_ROUNDS,
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

/** What the store needs of a SecAggService (an interface, so tests can feed a stub). */
export type SecAggSource = Pick<SecAggService, 'views' | 'currentInput' | 'refused' | 'subscribe'>;

/** Copy the service's state into the store; `labels` names the input's coordinates, if known. */
export function applySecAgg(store: DashboardStore, source: SecAggSource, labels: readonly string[] | null = null): void {
  const input = source.currentInput;
  store.setState({
    secagg: {
      ready: true,
      views: source.views(),
      input,
      inputLabels: input && labels && labels.length === input.length ? labels : null,
      refused: { ...source.refused },
    },
  });
}

/**
 * Keep the store's `secagg` slice in step with a service, at most every `intervalMs`.
 * `labelsOf(input)` returns column names for the service's current input (e.g. from the CSV the
 * user loaded), or null when the input came from elsewhere (typed, or set through the test hook).
 */
export function bindSecAgg(
  store: DashboardStore,
  source: SecAggSource,
  labelsOf: (input: readonly number[] | null) => readonly string[] | null = () => null,
  intervalMs = 100,
): () => void {
  return bindThrottled((l) => source.subscribe(l), () => applySecAgg(store, source, labelsOf(source.currentInput)), intervalMs);
}

/** The stages a round goes through, as the dashboard names them (Bonawitz et al. §4, plus the result). */
export const ROUND_STAGES = ['advertise', 'share', 'mask', 'consistency', 'unmask', 'result'] as const;
export type RoundStageName = (typeof ROUND_STAGES)[number];

export interface RoundProgress {
  status: 'running' | 'done' | 'aborted';
  /** The stage in progress, 'result' when done, 'aborted' when it released nothing. */
  stage: RoundStageName | 'aborted';
  steps: Array<{
    name: RoundStageName;
    state: 'done' | 'current' | 'pending' | 'failed';
    /** Messages the aggregator received in this stage (only known on the aggregating node). */
    count: number | null;
  }>;
}

// Entries of RoundView.stageLog, mapped to the last stage they show complete (-1: none yet).
// A participant entry names what this node just sent, so that stage is still being collected
// ("shared": the advertise stage closed, share is in progress). Aggregator entries name the stage it
// entered (or "<stage>: received"). A node that aggregates shows the aggregator's view: its own
// participant runs ahead of the round while the aggregator still waits for the others.
// A sparse round's graph-seed reveal (graph-seed.ts) is shown as part of "share": it fixes whom to share with.
const PARTICIPANT_DONE: Record<string, number> = { observed: -1, advertised: -1, revealed: 0, shared: 0, masked: 1, signed: 2, unmasked: 3 };
const AGGREGATOR_DONE: Record<string, number> = { opened: -1, advertise: -1, reveal: 0, share: 0, mask: 1, consistency: 2, unmask: 3, done: 4 };

const COUNT_OF: Record<RoundStageName, keyof NonNullable<RoundView['aggregatorCounts']> | null> = {
  advertise: 'advertised',
  share: 'shared',
  mask: 'masked',
  consistency: 'signed',
  unmask: 'unmasked',
  result: null,
};

/** Where a round stands, from what this node saw of it (pure; the round card draws this). */
export function roundProgress(view: RoundView): RoundProgress {
  const table = view.aggregatorStage !== null ? AGGREGATOR_DONE : PARTICIPANT_DONE;
  let doneThrough = -1;
  for (const { stage } of view.stageLog) {
    const d = table[stage.split(':')[0] ?? ''];
    if (d !== undefined) doneThrough = Math.max(doneThrough, d);
  }
  const finished = view.stageLog.some((s) => s.stage === 'result');
  const tookPart = view.aggregatorStage !== null || view.participantStage !== 'not-joined';
  const aborted = finished && view.result === null;
  const last = ROUND_STAGES.length - 1;
  // An observer only sees the opening and the result, so it cannot say which stage failed.
  const failedAt = aborted ? (tookPart ? Math.min(doneThrough + 1, last) : last) : -1;
  const current = finished ? -1 : Math.min(doneThrough + 1, last);
  const steps = ROUND_STAGES.map((name, i) => {
    const key = COUNT_OF[name];
    const count = key && view.aggregatorCounts ? view.aggregatorCounts[key] : null;
    const state: RoundProgress['steps'][number]['state'] =
      i === failedAt ? 'failed' : finished && !aborted ? 'done' : i === current ? 'current' : i <= doneThrough ? 'done' : 'pending';
    return { name, state, count };
  });
  const stage: RoundProgress['stage'] = aborted ? 'aborted' : finished ? 'result' : (ROUND_STAGES[current] as RoundStageName);
  return { status: aborted ? 'aborted' : finished ? 'done' : 'running', stage, steps };
}
