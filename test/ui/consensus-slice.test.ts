import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ConsensusView } from '../../src/node/consensus-view.ts';
import { applyConsensus, bindConsensus, latencySummary, percentile, quorumPower, stakeStatusText, voteFills, type ConsensusSource } from '../../src/ui/consensus-slice.ts';
import { createDashboardStore } from '../../src/ui/dashboard-store.ts';

function view(over: Partial<ConsensusView> = {}): ConsensusView {
  return {
    phase: 'running',
    detail: '',
    chainId: 'room-abc',
    genesisHash: 'ab'.repeat(32),
    genesisTimeMs: 1,
    wroteGenesis: false,
    pinned: false,
    genesisConflicts: 0,
    foreignGenesis: null,
    forks: [],
    height: 5,
    committedHeight: 4,
    round: 0,
    step: 'prevote',
    proposer: 'a'.repeat(32),
    proposerIsSelf: false,
    totalPower: 300,
    prevotes: [],
    precommits: [],
    commits: [],
    validators: [],
    evidence: [],
    pendingTransactions: 0,
    pendingEvidence: 0,
    self: { id: 'b'.repeat(32), status: 'observer', balance: 0, stake: 0, power: 0, faucetEnabled: true, faucetAmount: 1000, canRequestStake: true },
    misbehaviour: 'none',
    misbehaviourActs: 0,
    dropped: {},
    verify: { count: 0, wallMs: 0, backend: 'webcrypto' },
    ...over,
  };
}

class FakeService implements ConsensusSource {
  current = view();
  private listeners = new Set<() => void>();
  view(): ConsensusView {
    return this.current;
  }
  subscribe(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  emit(): void {
    for (const l of this.listeners) l();
  }
}

afterEach(() => vi.useRealTimers());

describe('consensus slice', () => {
  it('is empty until bound, then follows the service at most every interval', () => {
    vi.useFakeTimers();
    const store = createDashboardStore();
    expect(store.getState().consensus).toEqual({ ready: false, view: null });
    const svc = new FakeService();
    const unbind = bindConsensus(store, svc, 100);
    expect(store.getState().consensus.view?.committedHeight).toBe(4);
    svc.current = view({ committedHeight: 9 });
    svc.emit();
    svc.emit();
    expect(store.getState().consensus.view?.committedHeight).toBe(4);
    vi.advanceTimersByTime(100);
    expect(store.getState().consensus.view?.committedHeight).toBe(9);
    unbind();
    svc.current = view({ committedHeight: 12 });
    svc.emit();
    vi.advanceTimersByTime(5000);
    expect(store.getState().consensus.view?.committedHeight).toBe(9);
    applyConsensus(store, svc);
    expect(store.getState().consensus.view?.committedHeight).toBe(12);
  });

  it('vote bars fill towards the 2/3 line: quorum means more than 2/3 of the power', () => {
    expect(quorumPower(300)).toBe(201);
    expect(quorumPower(4)).toBe(3);
    expect(quorumPower(0)).toBe(0);
    const fills = voteFills(
      [
        { target: 'aa', power: 201 },
        { target: 'nil', power: 99 },
      ],
      300,
    );
    expect(fills[0]).toMatchObject({ fraction: 0.67, quorum: true });
    expect(fills[1]).toMatchObject({ quorum: false });
    expect(voteFills([{ target: 'aa', power: 200 }], 300)[0]?.quorum).toBe(false);
  });

  it('latency percentiles and block interval come from the recent commits', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([5, 1, 3], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4, 100], 99)).toBe(100);
    const commits = [10, 20, 30, 40].map((latencyMs, i) => ({ height: i + 1, hash: '', round: 0, latencyMs, atMs: 1000 * i, transactions: 0, evidence: 0 }));
    expect(latencySummary(view({ commits }))).toEqual({ p50: 20, p99: 40, intervalMs: 1000 });
  });

  it('says where the tab stands on its way to validating', () => {
    expect(stakeStatusText(view())).toMatch(/^observer: no stake, no power/);
    expect(stakeStatusText(view({ self: { ...view().self, status: 'bonded' } }))).toMatch(/next recompute/);
  });
});
