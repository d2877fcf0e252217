import { useEffect, useState } from 'react';
import type { NodeId } from '../../core/crypto/node-id.ts';
import type { AuditView, EvidenceView } from '../../node/ledger-service.ts';
import type { EntrySummary } from '../../node/ledger-summary.ts';
import type { AuditActions } from '../audit-actions.ts';
import { storageRatio } from '../audit-slice.ts';
import { bytes, fp, ms } from '../format.ts';
import { useDashboard } from '../use-dashboard.ts';

const PAGE = 25;
const time = (t: number): string => (t > 0 ? new Date(t).toLocaleTimeString() : '—');

/**
 * The audit log: this node's entries and latest signed head, audits of peers with the list of what
 * was checked, the export file, storage against a full replica, split-view evidence, and (in the
 * developer section) "Fork my log".
 */
export function AuditPanel({ actions }: { actions: AuditActions }) {
  const audit = useDashboard((s) => s.audit);
  // Select the stored array (a fresh array from a selector would re-render forever).
  const peerInfo = useDashboard((s) => s.snapshot?.peers);
  const peers = (peerInfo ?? []).filter((p) => p.status === 'connected').map((p) => p.id);
  const [page, setPage] = useState(0);
  const [rows, setRows] = useState<EntrySummary[] | null>(null);
  const [peer, setPeer] = useState<NodeId | ''>('');
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const l = audit.ledger;
  const size = l?.size ?? 0;

  // Page 0 is the newest entries (kept in memory); older pages are read from storage.
  useEffect(() => {
    if (page === 0) return setRows(null);
    const to = Math.max(0, size - page * PAGE);
    let live = true;
    actions.entriesPage(Math.max(0, to - PAGE), to).then((r) => live && setRows(r.reverse()), () => live && setRows([]));
    return () => {
      live = false;
    };
  }, [page, size, actions]);

  if (!audit.ready || !l) return null;
  const shown = page === 0 ? l.recent.slice(0, PAGE) : (rows ?? []);
  const pages = Math.max(1, Math.ceil(size / PAGE));
  const chosen = peer !== '' && peers.includes(peer) ? peer : (peers[0] ?? '');
  const run = (what: string, f: () => Promise<unknown>): void => {
    setBusy(what);
    setMessage(null);
    f().then(
      () => setBusy(null),
      (e: unknown) => {
        setBusy(null);
        setMessage(e instanceof Error ? e.message : String(e));
      },
    );
  };
  const ratio = storageRatio(l.storage.selfBytes, l.storage.replica.bytes);
  return (
    <section className="card wide audit" aria-label="audit log" data-testid="audit-panel">
      <h2>
        Audit log <span className="muted small">this node's signed, append-only record (RFC 9162 Merkle tree)</span>
      </h2>
      {l.status === 'failed' && (
        <p className="error-text" role="alert" data-testid="audit-failed">
          {l.error} — nothing is appended to this log.
        </p>
      )}
      {l.status === 'ready' && l.error && <p className="error-text small">{l.error}</p>}
      <dl>
        <dt>entries</dt>
        <dd data-testid="audit-size">{size}</dd>
        <dt>signed head</dt>
        <dd data-testid="audit-head">
          {l.head ? (
            <>
              size <span data-testid="audit-head-size">{l.head.size}</span>, root{' '}
              <code data-testid="audit-head-root" title={l.head.rootHex}>
                {l.head.rootHex.slice(0, 16)}
              </code>
              , {time(l.head.timeMs)}
              {l.unsigned > 0 && <span className="muted small"> ({l.unsigned} newer, unsigned yet)</span>}
            </>
          ) : (
            '—'
          )}
        </dd>
        <dt>storage</dt>
        <dd data-testid="audit-storage">
          {bytes(l.storage.selfBytes)} here
          {l.storage.replica.bytes > 0 ? (
            <>
              {' '}
              vs ≥ {bytes(l.storage.replica.bytes)} for a full replica (every block and every masked input){ratio ? ` (${ratio})` : ''}
            </>
          ) : null}
          <div className="muted small">full replica estimated from: {l.storage.replica.basis}</div>
        </dd>
      </dl>

      <h3>Entries</h3>
      <div className="table-scroll">
        <table className="audit-entries" data-testid="audit-entries">
          <thead>
            <tr>
              <th className="num">#</th>
              <th>kind</th>
              <th>what</th>
              <th>time</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((e) => (
              <tr key={e.index} data-kind={e.kind}>
                <td className="num">{e.index}</td>
                <td>{e.kind}</td>
                <td className="summary">{e.summary}</td>
                <td className="small">{time(e.timeMs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {size === 0 && <p className="muted small">No entries yet: contributions, votes, receipts, stake events and peers' heads appear here.</p>}
      {pages > 1 && (
        <div className="row pager">
          <button className="secondary" disabled={page === 0} onClick={() => setPage(page - 1)}>
            newer
          </button>
          <span className="small muted">
            page {page + 1} of {pages}
          </span>
          <button className="secondary" disabled={page + 1 >= pages} onClick={() => setPage(page + 1)}>
            older
          </button>
        </div>
      )}

      <h3>Audit a peer</h3>
      <div className="row">
        <select aria-label="peer to audit" data-testid="audit-peer-select" value={chosen} onChange={(e) => setPeer(e.target.value)}>
          {peers.length === 0 && <option value="">no connected peer</option>}
          {peers.map((p) => (
            <option key={p} value={p}>
              {fp(p)}
            </option>
          ))}
        </select>
        <button data-testid="audit-run" disabled={chosen === '' || busy !== null} onClick={() => run('audit', () => actions.auditPeer(chosen))}>
          {l.auditing ? `auditing ${fp(l.auditing)}…` : 'Audit'}
        </button>
        <button className="secondary" data-testid="audit-export" disabled={busy !== null || l.status !== 'ready'} onClick={() => run('export', () => actions.exportLog())}>
          Export
        </button>
      </div>
      {message && <p className="error-text small">{message}</p>}
      {l.audits.map((a, i) => (
        <AuditVerdict key={`${a.peer}-${a.atMs}`} audit={a} open={i === 0} />
      ))}

      <h3>Split views</h3>
      {l.evidence.length === 0 ? (
        <p className="muted small">No peer has shown two histories.</p>
      ) : (
        <ul className="evidence" data-testid="audit-evidence">
          {l.evidence.map((e) => (
            <Evidence key={`${e.peer}-${e.atMs}-${e.headB.rootHex}`} e={e} />
          ))}
        </ul>
      )}
      {Object.keys(l.refused).length > 0 && (
        <p className="small muted" data-testid="audit-refused">
          refused: {Object.entries(l.refused).map(([why, n]) => `${why} ×${n}`).join(' · ')}
        </p>
      )}
      {l.peerHeadsDeferred > 0 && (
        <p className="small muted" data-testid="audit-deferred">
          peer heads not logged (one per peer per 30 s; the split-view check still saw them): {l.peerHeadsDeferred}
        </p>
      )}

      <details className="dev">
        <summary>Developer tools (misbehave on purpose)</summary>
        <p className="small">
          <strong>Fork my log</strong> signs and gossips a second head of this log's size over a rewritten last entry. Every peer that sees both
          heads holds proof of a split view, and this node can be penalised for it.
        </p>
        <button className="danger" data-testid="dev-fork-log" disabled={busy !== null || l.status !== 'ready'} onClick={() => run('fork', () => actions.forkLog().then((r) => !r.ok && setMessage(r.error)))}>
          Fork my log
        </button>
        {l.forks > 0 && <span className="small warn"> conflicting heads signed: {l.forks}</span>}
      </details>
    </section>
  );
}

function AuditVerdict({ audit: a, open }: { audit: AuditView; open: boolean }) {
  return (
    <details className={`verdict ${a.ok ? 'ok' : 'bad'}`} open={open} data-testid="audit-verdict" data-ok={a.ok}>
      <summary>
        {a.ok ? <span className="ok-text">✓ verified</span> : <span className="error-text">✗ failed</span>} {fp(a.peer)}: {a.entries} entries, {a.heads} heads
        in {ms(a.elapsedMs, 1)} <span className="muted small">at {time(a.atMs)}</span>
      </summary>
      {a.failures.length > 0 && (
        <ul className="error-text small">
          {a.failures.map((f, i) => (
            <li key={i}>{f}</li>
          ))}
        </ul>
      )}
      <ul className="small checks">
        {a.checks.map((c, i) => (
          <li key={i}>{c}</li>
        ))}
        {a.receiptQcs === 'not-checked' && <li className="warn">receipts' quorum certificates not checked: no validator sets known here yet</li>}
      </ul>
    </details>
  );
}

function Evidence({ e }: { e: EvidenceView }) {
  return (
    <li className={e.status} data-peer={e.peer} data-status={e.status}>
      <strong>{fp(e.peer)}</strong> <span className={e.status === 'proven' ? 'error-text' : 'warn'}>{e.status}</span>: {e.reason}
      <div className="small muted">
        heads: size {e.headA.size} root {e.headA.rootHex.slice(0, 12)} vs size {e.headB.size} root {e.headB.rootHex.slice(0, 12)}
        {e.status === 'proven' ? (e.submitted ? ' · submitted to consensus' : ' · not submitted (consensus not wired)') : ' · not submitted (not self-proving)'}
      </div>
    </li>
  );
}
