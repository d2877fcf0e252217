import { useState } from 'react';
import type { ConsensusView } from '../../node/consensus-view.ts';
import type { Misbehaviour } from '../../node/misbehave.ts';
import { latencySummary, quorumPower, stakeStatusText, voteFills } from '../consensus-slice.ts';
import { fp, ms } from '../format.ts';
import { useDashboard } from '../use-dashboard.ts';
import { Sparkline } from './Sparkline.tsx';

export interface ConsensusActions {
  requestStake(): Promise<void>;
  setMisbehaviour(mode: Misbehaviour): void;
  /** Leave this chain for the other network's genesis that was offered and refused (the user's choice). */
  switchGenesis(): Promise<boolean>;
}

/**
 * The chain as it is decided: where the engine stands, this round's votes by power against the 2/3
 * line, commit latency, validators, evidence, this tab's way into the set, and the developer switch.
 */
export function ConsensusPanel({ actions }: { actions: ConsensusActions }) {
  const slice = useDashboard((s) => s.consensus);
  const v = slice.view;
  if (!slice.ready || v === null) return null;
  return (
    <section className="card wide consensus" aria-label="consensus" data-testid="consensus" data-phase={v.phase} data-height={v.committedHeight}>
      <h2>
        Consensus <span className="muted small">stake × reputation weighted BFT</span>
      </h2>
      <Chain v={v} />
      <ForeignGenesis v={v} onSwitch={actions.switchGenesis} />
      <Forks v={v} />
      {v.phase === 'running' && (
        <>
          <Round v={v} />
          <Latency v={v} />
          <Stake v={v} onRequest={actions.requestStake} />
          <Validators v={v} />
          <EvidenceList v={v} />
          <Misbehave v={v} onSet={actions.setMisbehaviour} />
        </>
      )}
    </section>
  );
}

function Chain({ v }: { v: ConsensusView }) {
  return (
    <dl className="kv small">
      <dt>Status</dt>
      <dd data-testid="consensus-phase">
        {v.phase} <span className="muted">{v.detail}</span>
      </dd>
      <dt>Genesis</dt>
      <dd>
        <code className="wrap" data-testid="genesis-hash" title={v.genesisHash ?? ''}>
          {v.genesisHash ?? '—'}
        </code>
        {v.wroteGenesis && <span className="pill"> written by this tab</span>}
        {v.pinned && <span className="pill"> pinned</span>}
        {v.genesisConflicts > 0 && <span className="warn"> {v.genesisConflicts} conflicting genesis seen (earliest wins)</span>}
      </dd>
      <dt>Chain</dt>
      <dd>
        <code>{v.chainId ?? '—'}</code>
      </dd>
    </dl>
  );
}

/** A different genesis offered after start-up is refused, not followed: shown, and only the user may switch. */
function ForeignGenesis({ v, onSwitch }: { v: ConsensusView; onSwitch: () => Promise<boolean> }) {
  const f = v.foreignGenesis;
  if (f === null) return null;
  return (
    <p className="small warn" data-testid="foreign-genesis" data-from={f.from} data-hash={f.hash}>
      Another network&apos;s genesis <code title={f.hash}>{f.hash.slice(0, 16)}…</code> (dated {new Date(f.timeMs).toISOString()}) offered by{' '}
      <code title={f.from}>{fp(f.from)}</code>, refused ×{f.refused}: this tab stays on its chain.{' '}
      <button type="button" data-testid="switch-genesis" onClick={() => void onSwitch()}>
        Switch to it (drops this chain and its stake here)
      </button>
    </p>
  );
}

/** Safety lost: shown above everything else, with both blocks and who signed both. */
function Forks({ v }: { v: ConsensusView }) {
  if (v.forks.length === 0) return null;
  return (
    <div className="alarm error-text" role="alert" data-testid="fork-alarm" data-count={v.forks.length}>
      <strong>FORK: another part of the network committed a different block ({v.forks.length} alarm{v.forks.length > 1 ? 's' : ''})</strong>
      <ul className="small">
        {v.forks.map((f) => (
          <li key={`${f.height}/${f.theirHash}`} data-height={f.height}>
            height {f.height}: ours <code title={f.ourHash}>{f.ourHash.slice(0, 16)}…</code>, theirs <code title={f.theirHash}>{f.theirHash.slice(0, 16)}…</code> (from{' '}
            <code>{fp(f.from)}</code>); {f.doubleSigners.length > 0 ? (
              <>
                signed both: {f.doubleSigners.map((d) => <code key={d}>{fp(d)} </code>)}({((f.doubleSignedPower / Math.max(1, f.totalPower)) * 100).toFixed(1)}% of the power; evidence submitted)
              </>
            ) : (
              'the two commits are of different rounds: their QCs alone do not name the double-signers'
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

function Bars({ title, bars, total, testId }: { title: string; bars: ConsensusView['prevotes']; total: number; testId: string }) {
  const fills = voteFills(bars, total);
  const line = total > 0 ? (quorumPower(total) / total) * 100 : 66.7;
  return (
    <div className="vote-bars" data-testid={testId}>
      <div className="small muted">{title}</div>
      {fills.length === 0 && <div className="small muted">none yet</div>}
      {fills.map((b) => (
        <div className="bar-row" key={b.target} data-target={b.target} data-quorum={b.quorum}>
          <span className="bar-label">
            <code>{b.target}</code>
          </span>
          <span className="bar-track quorum-track">
            <span className={`bar-fill ${b.quorum ? 'ok' : 'muted'}`} style={{ width: `${b.fraction * 100}%` }} />
            <span className="quorum-line" style={{ left: `${line}%` }} title="2/3 of the power" />
          </span>
          <span className="bar-value">{(b.fraction * 100).toFixed(0)}%</span>
        </div>
      ))}
    </div>
  );
}

function Round({ v }: { v: ConsensusView }) {
  return (
    <>
      <h3>
        Height <span data-testid="consensus-height">{v.height}</span> · round <span data-testid="consensus-round">{v.round}</span> · {v.step}
      </h3>
      <p className="small">
        Proposer <code>{v.proposer ? fp(v.proposer) : '—'}</code>
        {v.proposerIsSelf && <span className="pill"> you</span>} · committed <strong data-testid="committed-height">{v.committedHeight}</strong> · total power {v.totalPower}
        {v.pendingTransactions > 0 && <span className="muted"> · {v.pendingTransactions} pending tx</span>}
      </p>
      <Bars title="Prevotes (bar = share of power; line = 2/3)" bars={v.prevotes} total={v.totalPower} testId="prevotes" />
      <Bars title="Precommits" bars={v.precommits} total={v.totalPower} testId="precommits" />
    </>
  );
}

function Latency({ v }: { v: ConsensusView }) {
  const s = latencySummary(v);
  return (
    <>
      <h3>Commit latency</h3>
      <p className="small">
        <Sparkline values={v.commits.map((c) => c.latencyMs)} width={160} height={28} /> p50 {ms(s.p50)} · p99 {ms(s.p99)} · a block every{' '}
        {ms(s.intervalMs)} <span className="muted">(proposal to commit; empty blocks wait 1 s)</span>
      </p>
    </>
  );
}

function Stake({ v, onRequest }: { v: ConsensusView; onRequest: () => Promise<void> }) {
  const [error, setError] = useState<string | null>(null);
  const s = v.self;
  return (
    <>
      <h3>This tab</h3>
      <p className="small" data-testid="stake-status" data-status={s.status}>
        {stakeStatusText(v)} · balance {s.balance} · stake {s.stake} · power {s.power}
      </p>
      {s.faucetEnabled && (s.status === 'observer' || s.status === 'funded' || s.status === 'candidate') && (
        <button type="button" data-testid="request-stake" disabled={!s.canRequestStake} onClick={() => onRequest().then(() => setError(null), (e: unknown) => setError(String(e)))}>
          Request stake ({s.faucetAmount} from the faucet, then join and bond)
        </button>
      )}
      {!s.faucetEnabled && s.status !== 'validator' && <p className="small muted">No faucet on this network: joined as a candidate; stake comes from a transfer.</p>}
      {error && <p className="small error-text">{error}</p>}
    </>
  );
}

function Validators({ v }: { v: ConsensusView }) {
  return (
    <>
      <h3>Validators</h3>
      <div className="table-scroll">
        <table data-testid="validators" className="small">
          <thead>
            <tr>
              <th>Node</th>
              <th className="num">Stake</th>
              <th className="num">Rep.</th>
              <th className="num">Power</th>
              <th className="num">Share</th>
              <th>State</th>
            </tr>
          </thead>
          <tbody>
            {v.validators.map((r) => (
              <tr key={r.id} data-validator={r.id} data-jailed={r.jailed} data-stake={r.stake} data-reputation={r.reputation}>
                <td>
                  <code title={r.id}>{fp(r.id)}</code>
                  {r.self && <span className="pill"> you</span>}
                </td>
                <td className="num">{r.stake}</td>
                <td className="num">{r.reputation.toFixed(3)}</td>
                <td className="num">{r.power}</td>
                <td className="num">{(r.share * 100).toFixed(1)}%</td>
                <td>{r.tombstoned ? <span className="error-text">jailed for good</span> : r.jailed ? <span className="warn">jailed</span> : r.inSet ? 'in set' : 'waiting'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function EvidenceList({ v }: { v: ConsensusView }) {
  return (
    <>
      <h3>Evidence</h3>
      {v.evidence.length === 0 ? (
        <p className="small muted">None committed.{v.pendingEvidence > 0 && ` ${v.pendingEvidence} pending.`}</p>
      ) : (
        <ul className="small evidence" data-testid="evidence">
          {v.evidence.map((e, i) => (
            <li key={`${e.offender}/${e.committedHeight}/${i}`} data-offender={e.offender} data-kind={e.kind}>
              <strong>{e.kind}</strong> by <code>{fp(e.offender)}</code> at height {e.offenceHeight}, committed at {e.committedHeight}: slashed {e.slashed} (stake
              now {e.stakeAfter}),{' '}
              {e.kind === 'downtime' ? 'jailed for a while (reputation not zeroed: it decays with each missed block)' : 'reputation 0, jailed'}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

const MODES: { mode: Misbehaviour; label: string }[] = [
  { mode: 'none', label: 'behave' },
  { mode: 'equivocate', label: 'equivocate (double-sign votes)' },
  { mode: 'silent', label: 'go silent' },
  { mode: 'conflict', label: 'propose conflicting blocks' },
];

function Misbehave({ v, onSet }: { v: ConsensusView; onSet: (m: Misbehaviour) => void }) {
  return (
    <details className="misbehave" open={v.misbehaviour !== 'none'}>
      <summary>Developer: misbehave</summary>
      <p className="small muted">Makes THIS tab Byzantine; every other tab should catch it. Equivocation is slashed and jailed for good.</p>
      <div className="misbehave-modes" role="radiogroup" aria-label="Developer: misbehave">
        {MODES.map((m) => (
          <label key={m.mode} className="small">
            <input type="radio" name="misbehave" data-testid={`misbehave-${m.mode}`} checked={v.misbehaviour === m.mode} onChange={() => onSet(m.mode)} /> {m.label}
          </label>
        ))}
      </div>
      {v.misbehaviour !== 'none' && <p className="small warn">misbehaving: {v.misbehaviour} ({v.misbehaviourActs} messages rewritten or withheld)</p>}
    </details>
  );
}
