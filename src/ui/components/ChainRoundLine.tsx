import type { ChainRoundView } from '../../node/chain-rounds.ts';
import { fp } from '../format.ts';

const STATUS_TEXT: Record<ChainRoundView['status'], string> = {
  submitted: 'transaction submitted, waiting for its block',
  open: 'opened by the chain',
  claimed: 'result claimed, validators check it against the transcript',
  committed: 'result committed',
  lapsed: 'lapsed: no result by the deadline',
};

/** A chain round's side of a round card: who the chain designated, the commit, this node's receipt. */
export function ChainRoundLine({ chain, selfId }: { chain: ChainRoundView; selfId: string | null }) {
  return (
    <div className="chain-round small" data-testid="round-chain" data-status={chain.status} data-round={chain.roundId}>
      <p>
        chain round <code title={chain.roundId}>{chain.roundId.slice(0, 8)}</code> · {STATUS_TEXT[chain.status]}
        {chain.openedHeight !== null && ` at height ${chain.openedHeight} (deadline ${chain.deadlineHeight ?? '?'})`}
      </p>
      {chain.aggregator !== null && (
        <p>
          aggregator{' '}
          <code data-testid="round-chain-aggregator" title={chain.aggregator}>
            {fp(chain.aggregator)}
          </code>
          {chain.aggregator === selfId && <b> (you)</b>} <span className="muted">— the proposer of the block that opened it</span>
        </p>
      )}
      {chain.claimDetail !== '' && <p className={chain.claimChecked === false ? 'error-text' : 'muted'}>{chain.claimDetail}</p>}
      {chain.resultHeight !== null && <p>result committed at height {chain.resultHeight}</p>}
      {chain.receipt !== null ? (
        <p className="ok-text" data-testid="round-receipt" data-height={chain.receipt.height}>
          receipt recorded (height {chain.receipt.height}) ✓
        </p>
      ) : (
        chain.receiptDetail !== '' && (
          <p className="muted" data-testid="round-receipt-detail">
            {chain.receiptDetail}
          </p>
        )
      )}
    </div>
  );
}
