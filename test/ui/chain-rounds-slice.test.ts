import { describe, expect, it } from 'vitest';
import type { ChainRoundView } from '../../src/node/chain-rounds.ts';
import { applyChainRounds, pendingChainRounds } from '../../src/ui/chain-rounds-slice.ts';
import { createDashboardStore } from '../../src/ui/dashboard-store.ts';

const round = (roundId: string, status: ChainRoundView['status']): ChainRoundView => ({
  roundId,
  status,
  aggregator: status === 'submitted' ? null : 'ab'.repeat(16),
  aggregatorIsSelf: false,
  openedHeight: status === 'submitted' ? null : 4,
  deadlineHeight: status === 'submitted' ? null : 124,
  resultHeight: status === 'committed' ? 9 : null,
  claimChecked: null,
  claimDetail: '',
  receipt: status === 'committed' ? { height: 9, entryIndex: 3 } : null,
  receiptDetail: '',
});

describe('chain-rounds slice', () => {
  it('keys views by round id, copies refusals, and lists chain rounds that have no round card yet', () => {
    const store = createDashboardStore();
    expect(store.getState().chainRounds.ready).toBe(false);
    const views = [round('01', 'submitted'), round('02', 'open'), round('03', 'committed'), round('04', 'lapsed')];
    const refused = { 'claim does not match its transcript': 2 };
    applyChainRounds(store, { views: () => views, refused, subscribe: () => () => {} });
    const s = store.getState().chainRounds;
    expect(s.ready).toBe(true);
    expect(Object.keys(s.byRound).sort()).toEqual(['01', '02', '03', '04']);
    expect(s.byRound['03']?.receipt).toEqual({ height: 9, entryIndex: 3 });
    expect(s.refused).toEqual(refused);
    expect(s.refused).not.toBe(refused);
    // 02 already has a secure-aggregation view; finished and lapsed rounds are not "pending".
    expect(pendingChainRounds(s, ['02']).map((v) => v.roundId)).toEqual(['01']);
  });
});
