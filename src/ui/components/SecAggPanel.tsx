import { useState } from 'react';
import { DEFAULT_PARAMS, type SecAggParams } from '../../core/secagg/params.ts';
import type { AdversaryModel } from '../../core/secagg/threshold-rule.ts';
import { useDashboard } from '../use-dashboard.ts';
import { InputEditor } from './InputEditor.tsx';
import { pendingChainRounds } from '../chain-rounds-slice.ts';
import { ChainRoundLine } from './ChainRoundLine.tsx';
import { RoundCard } from './RoundCard.tsx';
import { RoundForm } from './RoundForm.tsx';

/**
 * Secure aggregation: set a private input, start a round, watch rounds stage by stage, read the
 * verified sum. The only thing that leaves this tab is the masked vector shown in each round.
 */
export function SecAggPanel({
  onSetInput,
  onStartRound,
  onSetAdversaryModel,
}: {
  onSetInput: (values: readonly number[] | null, labels: readonly string[] | null) => void;
  onStartRound: (params: Partial<SecAggParams>) => Promise<string>;
  onSetAdversaryModel: (model: AdversaryModel) => void;
}) {
  const secagg = useDashboard((s) => s.secagg);
  const selfId = useDashboard((s) => s.snapshot?.id ?? null);
  const chainRounds = useDashboard((s) => s.chainRounds);
  const viaChain = useDashboard((s) => s.chainRounds.ready && s.consensus.view?.phase === 'running');
  const [clippingRange, setClippingRange] = useState(String(DEFAULT_PARAMS.clipping_range));
  const [semiHonest, setSemiHonest] = useState(false);
  if (!secagg.ready) return null;
  const c = Number(clippingRange);
  const refused = Object.entries(secagg.refused);
  return (
    <section className="card wide secagg" aria-label="secure aggregation">
      <h2>
        Secure aggregation <span className="muted small">the room learns the sum, nobody sees your values</span>
      </h2>
      <div className="secagg-top">
        <InputEditor
          input={secagg.input}
          inputLabels={secagg.inputLabels}
          clippingRange={clippingRange.trim() !== '' && Number.isFinite(c) && c > 0 ? c : null}
          onUse={onSetInput}
        />
        <RoundForm
          inputLength={secagg.input?.length ?? null}
          clippingRange={clippingRange}
          onClippingRange={setClippingRange}
          onStart={onStartRound}
          viaChain={viaChain}
        />
      </div>
      <label className="small" title="A round's reconstruction_threshold is chosen by its aggregator. Below ⌊2(k+1)/3⌋ + 1 an aggregator that shows different survivor lists can learn an input; by default this tab refuses such rounds.">
        <input
          type="checkbox"
          data-testid="secagg-semi-honest"
          checked={semiHonest}
          onChange={(e) => {
            setSemiHonest(e.target.checked);
            onSetAdversaryModel(e.target.checked ? 'semi-honest' : 'malicious');
          }}
        />{' '}
        join rounds with a low threshold (semi-honest: trusts the aggregator not to equivocate survivor lists)
      </label>
      <h3>Rounds</h3>
      {pendingChainRounds(chainRounds, secagg.views.map((v) => v.roundId)).map((c) => (
        <ChainRoundLine key={c.roundId} chain={c} selfId={selfId} />
      ))}
      {secagg.views.length === 0 ? (
        <p className="muted small">No round yet. Start one, or wait for another node to start one.</p>
      ) : (
        <div className="rounds" data-testid="rounds">
          {secagg.views.map((v) => (
            <RoundCard key={v.roundId} view={v} selfId={selfId} labels={secagg.inputLabels} chain={chainRounds.byRound[v.roundId] ?? null} />
          ))}
        </div>
      )}
      {refused.length > 0 && (
        <p className="small muted" data-testid="secagg-refused">
          refused messages: {refused.map(([why, n]) => `${why} ×${n}`).join(' · ')}
        </p>
      )}
    </section>
  );
}
