import { useState } from 'react';
import { useDashboard } from '../use-dashboard.ts';
import { fp, ms } from '../format.ts';

export function BroadcastPanel({ onBroadcast }: { onBroadcast: (text: string) => void }) {
  const snap = useDashboard((s) => s.snapshot);
  const [text, setText] = useState('hello from this tab');
  if (!snap) return null;
  const members = snap.peers.map((p) => p.id);
  return (
    <section className="card wide" aria-label="test broadcast">
      <h2>Broadcast a test message</h2>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          onBroadcast(text);
        }}
      >
        <input aria-label="test message" value={text} maxLength={500} onChange={(e) => setText(e.target.value)} />
        <button type="submit" data-testid="broadcast">
          Broadcast
        </button>
      </form>
      {snap.receivedTests.length > 0 && (
        <div className="small" data-testid="received-tests">
          <h3>Received</h3>
          <ul className="deliveries">
            {snap.receivedTests.slice(0, 8).map((r) => (
              <li key={r.id} className="ok">
                <code>{fp(r.from)}</code> “{r.text}”
              </li>
            ))}
          </ul>
        </div>
      )}
      {snap.testBroadcasts.map((b) => {
        const delivered = Object.keys(b.deliveries).length;
        return (
          <div className="broadcast" key={b.id} data-testid="broadcast-record" data-delivered={delivered}>
            <div className="small">
              “{b.text}” — delivered to {delivered}/{members.length}
            </div>
            <ul className="deliveries">
              {members.map((id) => {
                const t = b.deliveries[id];
                return (
                  <li key={id} className={t === undefined ? 'pending' : 'ok'}>
                    <code>{fp(id)}</code> {t === undefined ? 'waiting' : ms(t)}
                  </li>
                );
              })}
            </ul>
          </div>
        );
      })}
    </section>
  );
}
