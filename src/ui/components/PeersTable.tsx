import { useDashboard } from '../use-dashboard.ts';
import { fp, ms } from '../format.ts';
import { Sparkline } from './Sparkline.tsx';

export function PeersTable() {
  const snap = useDashboard((s) => s.snapshot);
  const history = useDashboard((s) => s.rttHistory);
  if (!snap) return null;
  return (
    <section className="card wide" aria-label="peers">
      <h2>
        Peers <span className="muted small">({snap.peers.length} in room)</span>
      </h2>
      {snap.peers.length === 0 ? (
        <p className="muted">No other node in this room yet. Open this URL in another tab or device.</p>
      ) : (
        <div className="table-scroll">
          <table data-testid="peers">
            <thead>
              <tr>
                <th>Peer</th>
                <th>State</th>
                <th>RTT</th>
                <th className="hide-narrow">Recent RTT</th>
                <th className="hide-narrow">Dialled by</th>
              </tr>
            </thead>
            <tbody>
              {snap.peers.map((p) => (
                <tr key={p.id} data-peer={p.id} data-status={p.status}>
                  <td>
                    <code title={p.id}>{fp(p.id)}</code>
                  </td>
                  <td>
                    <span className={`status ${p.status}`}>{p.status}</span>
                    {p.reconnectAttempts > 0 && p.status !== 'connected' && (
                      <span className="muted small"> retry {p.reconnectAttempts}</span>
                    )}
                  </td>
                  <td>{ms(p.rttMs, 1)}</td>
                  <td className="hide-narrow">
                    <Sparkline values={history[p.id] ?? []} />
                  </td>
                  <td className="hide-narrow muted small">{p.status === 'member' ? '' : p.initiator ? 'us' : 'them'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
