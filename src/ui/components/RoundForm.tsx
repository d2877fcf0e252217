import { useState } from 'react';
import { DEFAULT_PARAMS, validateParams, type SecAggParams } from '../../core/secagg/params.ts';

/** A form field's text as a number; blank is NaN (Number('') would be 0), so validation names it. */
const toNumber = (s: string): number => (s.trim() === '' ? Number.NaN : Number(s));

/**
 * Open a round: through the chain when it runs (an open-round transaction; the proposer of the block
 * that commits it aggregates), else aggregated by this node. Parameters carry Flower's SecAgg+ names; the dimension is
 * the length of this node's input (typed in only when this node aggregates without contributing).
 */
export function RoundForm({
  inputLength,
  clippingRange,
  onClippingRange,
  onStart,
  viaChain = false,
}: {
  inputLength: number | null;
  clippingRange: string;
  onClippingRange: (v: string) => void;
  onStart: (params: Partial<SecAggParams>) => Promise<string>;
  /** The tab's chain runs: the round opens by transaction. */
  viaChain?: boolean;
}) {
  const [minContributors, setMinContributors] = useState(String(DEFAULT_PARAMS.min_contributors));
  const [timeout, setTimeoutMs] = useState(String(DEFAULT_PARAMS.timeout));
  const [dimension, setDimension] = useState('1');
  const [error, setError] = useState<string | null>(null);
  const [started, setStarted] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (): Promise<void> => {
    setStarted(null);
    const params: Partial<SecAggParams> = {
      dimension: inputLength ?? toNumber(dimension),
      clipping_range: toNumber(clippingRange),
      min_contributors: toNumber(minContributors),
      timeout: toNumber(timeout),
    };
    const v = validateParams({ ...DEFAULT_PARAMS, ...params });
    if (!v.ok) {
      setError(v.error);
      return;
    }
    setError(null);
    setBusy(true);
    try {
      const id = await onStart(params);
      setStarted(id);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="secagg-form"
      aria-label="start a round"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <h3>Start a round</h3>
      <p className="small muted" data-testid="secagg-start-mode" data-chain={String(viaChain)}>
        {viaChain
          ? 'Opened by a transaction on the chain: the proposer of the block that commits it aggregates; every node with an input of the same length joins, and contributors get a receipt in their audit log.'
          : 'This node aggregates; every node in the room with an input of the same length joins.'}
      </p>
      <div className="params">
        <label>
          <code>clipping_range</code>
          <input data-testid="param-clipping-range" inputMode="decimal" value={clippingRange} onChange={(e) => onClippingRange(e.target.value)} />
        </label>
        <label>
          <code>min_contributors</code>
          <input data-testid="param-min-contributors" inputMode="numeric" value={minContributors} onChange={(e) => setMinContributors(e.target.value)} />
        </label>
        <label>
          <span>
            <code>timeout</code> <span className="muted">ms, per stage</span>
          </span>
          <input data-testid="param-timeout" inputMode="numeric" value={timeout} onChange={(e) => setTimeoutMs(e.target.value)} />
        </label>
        <label>
          <code>dimension</code>
          {inputLength !== null ? (
            <input value={inputLength} readOnly title="the length of this node's input" />
          ) : (
            <input data-testid="param-dimension" inputMode="numeric" value={dimension} onChange={(e) => setDimension(e.target.value)} />
          )}
        </label>
      </div>
      {inputLength === null && <p className="small warn">You have no input: this node will aggregate without contributing.</p>}
      <button type="submit" data-testid="secagg-start" disabled={busy}>
        {busy ? 'Opening…' : 'Start a round'}
      </button>
      {error && (
        <p className="error-text small" data-testid="secagg-start-error" role="alert">
          {error}
        </p>
      )}
      {started && !error && <p className="small muted">Round {started.slice(0, 8)} {viaChain ? 'submitted to the chain' : 'opened'}.</p>}
    </form>
  );
}
