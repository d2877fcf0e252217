import { totalRejected } from '../../node/counters.ts';
import { useDashboard } from '../use-dashboard.ts';
import { bytes } from '../format.ts';
import { BarChart } from './BarChart.tsx';

export function CountersPanel() {
  const snap = useDashboard((s) => s.snapshot);
  if (!snap) return null;
  const c = snap.counters;
  const rejected = Object.entries(c.rejected).filter(([, v]) => (v ?? 0) > 0);
  return (
    <section className="card" aria-label="message counters">
      <h2>Messages</h2>
      <BarChart
        rows={[
          { label: 'sent', value: c.sent },
          { label: 'received', value: c.received },
          { label: 'relayed', value: c.relayed },
          { label: 'duplicates', value: c.duplicates, tone: 'muted' },
          { label: 'rejected', value: totalRejected(c), tone: 'bad' },
        ]}
      />
      <p className="muted small">
        {bytes(c.bytesSent)} out · {bytes(c.bytesReceived)} in
      </p>
      {rejected.length > 0 && (
        <>
          <h3>Rejected, by reason</h3>
          <BarChart rows={rejected.map(([label, v]) => ({ label, value: v ?? 0, tone: 'bad' as const }))} />
          {snap.lastRejection && (
            <p className="small muted" data-testid="last-rejection">
              last: {snap.lastRejection.reason} from {snap.lastRejection.from.slice(0, 8)} — {snap.lastRejection.detail}
            </p>
          )}
        </>
      )}
    </section>
  );
}
