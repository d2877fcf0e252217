import { useState } from 'react';
import { useDashboard } from '../use-dashboard.ts';
import { fp, ms } from '../format.ts';

export function IdentityCard({ onChangeRoom }: { onChangeRoom: (room: string) => string | null }) {
  const snap = useDashboard((s) => s.snapshot);
  const info = useDashboard((s) => s.info);
  const [room, setRoom] = useState('');
  const [roomError, setRoomError] = useState<string | null>(null);
  if (!snap) return null;
  const connected = snap.peers.filter((p) => p.status === 'connected').length;
  return (
    <section className="card identity" aria-label="identity">
      <h2>This node</h2>
      <dl>
        <dt>Identity</dt>
        <dd>
          <code className="fingerprint" data-testid="fingerprint" title={snap.id}>
            {fp(snap.id)}
          </code>
          <span className="muted small" data-testid="identity-info">
            {' '}
            slot {info?.slot} · {info?.exclusivity} · key {info?.keyAtRest === 'non-extractable' ? 'non-extractable' : 'stored raw'}
          </span>
        </dd>
        <dt>Node id</dt>
        <dd>
          <code className="small wrap" data-testid="node-id">
            {snap.id}
          </code>
        </dd>
        <dt>Network</dt>
        <dd>
          <span className="pill" data-testid="room">
            {snap.room}
          </span>{' '}
          <span className={`status ${snap.networkStatus}`} data-testid="network-status">
            {snap.networkStatus}
          </span>
          {snap.networkDetail && <span className="muted small"> {snap.networkDetail}</span>}
        </dd>
        <dt>Overlay</dt>
        <dd>
          {snap.overlayMode} · {connected}/{snap.overlayTarget} linked
        </dd>
        <dt>Formed in</dt>
        <dd data-testid="formation">{ms(snap.formationMs)}</dd>
        <dt>Crypto</dt>
        <dd>
          Ed25519 via {info?.cryptoBackend}
          {info && !info.secureContext && <span className="warn small"> (insecure context: WebCrypto unavailable)</span>}
        </dd>
      </dl>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          setRoomError(onChangeRoom(room.trim()));
        }}
      >
        <input
          aria-label="room name"
          placeholder="join another room"
          value={room}
          onChange={(e) => setRoom(e.target.value)}
        />
        <button type="submit">Join</button>
      </form>
      {roomError && <p className="warn small">{roomError}</p>}
    </section>
  );
}
