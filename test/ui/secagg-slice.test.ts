import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RoundView } from '../../src/node/secagg-service.ts';
import { DEFAULT_PARAMS } from '../../src/core/secagg/params.ts';
import { applySecAgg, bindSecAgg, createDashboardStore, roundProgress, type SecAggSource } from '../../src/ui/dashboard-store.ts';

function view(over: Partial<RoundView> = {}): RoundView {
  return {
    roundId: 'ab'.repeat(16),
    aggregator: 'a'.repeat(32),
    params: { ...DEFAULT_PARAMS, dimension: 2 },
    openedAtMs: 1000,
    aggregatorStage: null,
    aggregatorCounts: null,
    participantStage: 'not-joined',
    inputPreview: [],
    maskedPreview: [],
    result: null,
    abortReason: null,
    refusedReason: null,
    stageLog: [],
    ...over,
  };
}

const log = (...stages: string[]): RoundView['stageLog'] => stages.map((stage, i) => ({ stage, atMs: 1000 + i }));

class FakeService implements SecAggSource {
  refused: Record<string, number> = {};
  private input: number[] | null = null;
  private rounds: RoundView[] = [];
  private listeners = new Set<() => void>();
  get currentInput(): readonly number[] | null {
    return this.input;
  }
  views(): RoundView[] {
    return this.rounds.slice();
  }
  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
  setInput(v: number[] | null): void {
    this.input = v;
    for (const l of this.listeners) l();
  }
  addRound(v: RoundView): void {
    this.rounds.unshift(v);
    for (const l of this.listeners) l();
  }
}

describe('dashboard store: secagg slice (no React)', () => {
  afterEach(() => vi.useRealTimers());

  it('starts not ready and empty', () => {
    const s = createDashboardStore().getState().secagg;
    expect(s).toEqual({ ready: false, views: [], input: null, inputLabels: null, refused: {} });
  });

  it('copies views, input and refused counters, and keeps labels only when they fit the input', () => {
    const store = createDashboardStore();
    const svc = new FakeService();
    svc.setInput([1, 2]);
    svc.refused['bad'] = 2;
    applySecAgg(store, svc, ['age', 'income']);
    let s = store.getState().secagg;
    expect(s.ready).toBe(true);
    expect(s.input).toEqual([1, 2]);
    expect(s.inputLabels).toEqual(['age', 'income']);
    expect(s.refused).toEqual({ bad: 2 });
    svc.refused['bad'] = 3; // a copy, not the service's live object
    expect(store.getState().secagg.refused).toEqual({ bad: 2 });
    applySecAgg(store, svc, ['only-one']);
    s = store.getState().secagg;
    expect(s.inputLabels).toBeNull();
  });

  it('follows the service, batching bursts of changes', () => {
    vi.useFakeTimers();
    const store = createDashboardStore();
    const svc = new FakeService();
    const views = vi.spyOn(svc, 'views');
    const labels = ['x'];
    let labelled: readonly number[] | null = null;
    const unbind = bindSecAgg(store, svc, (input) => (input === labelled ? labels : null), 100);
    expect(store.getState().secagg.ready).toBe(true);
    expect(views).toHaveBeenCalledTimes(1);
    const v = [4];
    labelled = v;
    svc.setInput(v);
    for (let i = 0; i < 5; i++) svc.addRound(view({ roundId: String(i).repeat(32), openedAtMs: i }));
    expect(store.getState().secagg.views).toHaveLength(0);
    vi.advanceTimersByTime(100);
    expect(views).toHaveBeenCalledTimes(2);
    const s = store.getState().secagg;
    expect(s.views.map((r) => r.roundId[0])).toEqual(['4', '3', '2', '1', '0']);
    expect(s.input).toEqual([4]);
    expect(s.inputLabels).toEqual(['x']);
    svc.setInput([5]); // set some other way (e.g. the test hook): no labels
    vi.advanceTimersByTime(100);
    expect(store.getState().secagg.inputLabels).toBeNull();
    unbind();
    svc.setInput(null);
    vi.advanceTimersByTime(500);
    expect(store.getState().secagg.input).toEqual([5]);
  });
});

describe('roundProgress', () => {
  const states = (v: RoundView): string => roundProgress(v).steps.map((s) => s.state[0]).join('');

  it('an aggregator that also participates shows the round (not its own participant, which runs ahead), with counts', () => {
    const v = view({
      aggregatorStage: 'mask',
      aggregatorCounts: { advertised: 5, revealed: 0, shared: 5, masked: 2, signed: 0, unmasked: 0 },
      participantStage: 'masked',
      stageLog: log('opened', 'advertised', 'advertise: received', 'share', 'shared', 'share: received', 'mask', 'masked', 'mask: received'),
    });
    const p = roundProgress(v);
    expect(p.status).toBe('running');
    expect(p.stage).toBe('mask');
    expect(states(v)).toBe('ddcppp');
    expect(p.steps.map((s) => s.count)).toEqual([5, 5, 2, 0, 0, null]);
  });

  it('a participant sees a stage in progress from the moment it sent its part until the next bundle', () => {
    expect(roundProgress(view({ participantStage: 'advertised', stageLog: log('advertised') })).stage).toBe('advertise');
    expect(roundProgress(view({ participantStage: 'shared', stageLog: log('advertised', 'shared') })).stage).toBe('share');
    const v = view({ participantStage: 'signed', stageLog: log('advertised', 'shared', 'masked', 'signed') });
    expect(states(v)).toBe('dddcpp');
    expect(roundProgress(v).steps.every((s) => s.count === null)).toBe(true);
  });

  it('a finished round is all done, with its result', () => {
    const v = view({
      participantStage: 'unmasked',
      stageLog: log('advertised', 'shared', 'masked', 'signed', 'unmasked', 'result'),
      result: { contributors: ['a', 'b', 'c'], dropped: [], sum: Float64Array.of(1, 2), mean: Float64Array.of(1 / 3, 2 / 3), transcriptHash: '', verified: true, verifyDetail: '' },
    });
    expect(roundProgress(v)).toMatchObject({ status: 'done', stage: 'result' });
    expect(states(v)).toBe('dddddd');
  });

  it('an aborted round marks the stage that failed; an observer can only mark the result', () => {
    const participant = view({ participantStage: 'advertised', abortReason: 'x', stageLog: log('advertised', 'result') });
    expect(states(participant)).toBe('fppppp');
    const late = view({ participantStage: 'masked', abortReason: 'x', stageLog: log('advertised', 'shared', 'masked', 'result') });
    expect(states(late)).toBe('ddfppp');
    const agg = view({
      aggregatorStage: 'aborted',
      participantStage: 'advertised',
      abortReason: 'only 2 participants advertised, min_contributors is 3',
      stageLog: log('opened', 'advertised', 'advertise: received', 'aborted', 'result'),
    });
    expect(roundProgress(agg)).toMatchObject({ status: 'aborted', stage: 'aborted' });
    expect(states(agg)).toBe('fppppp'); // the aggregator view: it never left advertise
    const observer = view({ abortReason: 'x', stageLog: log('observed', 'result') });
    expect(states(observer)).toBe('pppppf');
    expect(roundProgress(view({ stageLog: log('observed') }))).toMatchObject({ status: 'running', stage: 'advertise' });
  });
});
