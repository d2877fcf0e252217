import type { ChainRoundView } from '../../node/chain-rounds.ts';
import type { RoundView } from '../../node/secagg-service.ts';
import { ChainRoundLine } from './ChainRoundLine.tsx';
import { roundProgress, type RoundProgress } from '../dashboard-store.ts';
import { fp, ms } from '../format.ts';
import { coordinateLabel, hex32, num, VectorView } from './VectorView.tsx';

// Narrow screens show the short label (the stage names: ConsistencyCheck → "check").
const STEP_LABEL: Record<RoundProgress['steps'][number]['name'], [string, string]> = {
  advertise: ['advertise', 'advertise'],
  share: ['share', 'share'],
  mask: ['mask', 'mask'],
  consistency: ['consistency', 'check'],
  unmask: ['unmask', 'unmask'],
  result: ['result', 'result'],
};

function StageSteps({ progress }: { progress: RoundProgress }) {
  return (
    <ol className="stages" aria-label="stages">
      {progress.steps.map((s, i) => {
        // "4/5": of the 5 that completed the stage before, 4 answered this one.
        const before = progress.steps[i - 1]?.count ?? null;
        return (
          <li key={s.name} className={`stage ${s.state}`} data-state={s.state}>
            <span className="stage-dot" aria-hidden />
            <span className="stage-name" title={s.name}>
              <span className="long">{STEP_LABEL[s.name][0]}</span>
              <span className="short">{STEP_LABEL[s.name][1]}</span>
            </span>
            {s.count !== null && (
              <span className="stage-count" title={before !== null ? `${s.count} of the ${before} from the stage before` : `${s.count} received`}>
                {before !== null ? `${s.count}/${before}` : s.count}
              </span>
            )}
          </li>
        );
      })}
    </ol>
  );
}

/** This node's input next to the masked vector that actually left it. */
function MaskedComparison({ view, labels, over }: { view: RoundView; labels: readonly string[] | null; over: boolean }) {
  const pending = over ? 'not sent' : '…';
  const rows = Math.max(view.inputPreview.length, view.maskedPreview.length);
  const named = labels && labels.length === view.params.dimension ? labels : null;
  return (
    <div className="table-scroll">
      <table className="masked-compare">
        <thead>
          <tr>
            <th>column</th>
            <th>your input (stays here)</th>
            <th>masked, as sent (uint32)</th>
          </tr>
        </thead>
        <tbody>
          {Array.from({ length: rows }, (_, i) => (
            <tr key={i}>
              <td className="label-cell">{coordinateLabel(named, i)}</td>
              <td className="num">{view.inputPreview[i] !== undefined ? num(view.inputPreview[i] as number) : ''}</td>
              <td>
                {view.maskedPreview[i] !== undefined ? <code className="masked">{hex32(view.maskedPreview[i] as number)}</code> : <span className="muted small">{pending}</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {/* Plain-text copies for tests and screen readers. */}
      <p className="sr-only">
        input <span data-testid="input-preview">{view.inputPreview.map(num).join(', ')}</span>; masked{' '}
        <span data-testid="masked-preview">{view.maskedPreview.map(hex32).join(' ')}</span>
      </p>
      {view.params.dimension > rows && rows > 0 && <p className="muted small">first {rows} of {view.params.dimension} coordinates</p>}
    </div>
  );
}

export function RoundCard({
  view,
  selfId,
  labels,
  chain = null,
}: {
  view: RoundView;
  selfId: string | null;
  labels: readonly string[] | null;
  /** Set for a round opened through the chain. */
  chain?: ChainRoundView | null;
}) {
  const progress = roundProgress(view);
  const mine = view.aggregator === selfId;
  const result = view.result;
  const last = view.stageLog[view.stageLog.length - 1];
  const elapsed = progress.status !== 'running' && last ? last.atMs - view.openedAtMs : null;
  const joined = view.participantStage !== 'not-joined';
  const p = view.params;
  const named = labels && labels.length === p.dimension ? labels : null;
  return (
    <article
      className={`round ${progress.status}`}
      data-testid="round-card"
      data-round={view.roundId}
      data-stage={progress.stage}
      data-contributors={result ? result.contributors.length : 0}
    >
      <header className="round-head">
        <code className="round-id" title={view.roundId}>
          {view.roundId.slice(0, 8)}
        </code>
        <span className="small">
          aggregator <code title={view.aggregator}>{fp(view.aggregator)}</code>
          {mine && <b> (you)</b>}
        </span>
        <span className={`status ${progress.status}`}>
          {progress.status === 'running' ? progress.stage : progress.status}
          {elapsed !== null && ` · ${ms(elapsed)}`}
        </span>
      </header>
      <p className="muted small params-line">
        dimension {p.dimension} · clipping_range {num(p.clipping_range)} · min_contributors {p.min_contributors} · timeout {ms(p.timeout)}
      </p>
      {chain && <ChainRoundLine chain={chain} selfId={selfId} />}
      <StageSteps progress={progress} />

      {joined ? (
        <MaskedComparison view={view} labels={labels} over={progress.status !== 'running'} />
      ) : (
        <p className="small muted">
          {view.abortReason?.startsWith('not joined') ? view.abortReason : 'This node did not contribute to this round (no input set).'}
        </p>
      )}

      {result && (
        <div className="round-result">
          <p className="small">
            <b>{result.contributors.length}</b> contributed
            {result.dropped.length > 0 && (
              <>
                {' '}
                · <b>{result.dropped.length}</b> dropped{' '}
                <span className="muted">({result.dropped.map(fp).join(', ')})</span>
              </>
            )}
            {' · '}
            {result.verified === true ? (
              <span className="ok-text" data-testid="round-verified" data-verified="true" title={result.verifyDetail}>
                verified from transcript ✓
              </span>
            ) : (
              <span className={result.verified === false ? 'error-text' : 'warn'} data-testid="round-verified" data-verified={String(result.verified)}>
                {result.verified === false ? 'NOT verified: ' : 'not verified: '}
                {result.verifyDetail}
              </span>
            )}
          </p>
          <p className="small">
            sum{' '}
            <code data-testid="round-sum">{sumPreview(result.sum)}</code>
          </p>
          <VectorView sum={result.sum} mean={result.mean} labels={named} />
        </div>
      )}
      {view.refusedReason && (
        <p className="error-text small" data-testid="round-refused">
          this node refused the round: {view.refusedReason}
        </p>
      )}
      {progress.status === 'aborted' && (
        <p className="error-text small" data-testid="round-abort">
          released nothing: {view.abortReason ?? 'no reason given'}
        </p>
      )}
      {progress.status !== 'aborted' && joined && view.abortReason && (
        <p className="warn small">this node stopped taking part: {view.abortReason}</p>
      )}
    </article>
  );
}

const SUM_PREVIEW = 64;

/** The sum as text: every coordinate of a short vector, the first SUM_PREVIEW of a long one (a 1M-entry string would block the page). */
function sumPreview(sum: Float64Array): string {
  const shown = Array.from(sum.subarray(0, SUM_PREVIEW), num).join(', ');
  return sum.length > SUM_PREVIEW ? `${shown}, … (${sum.length - SUM_PREVIEW} more)` : shown;
}
