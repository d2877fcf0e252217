import type { DashboardActions } from './boot.ts';
import type { DashboardStore } from './dashboard-store.ts';
import { DashboardContext, useDashboard } from './use-dashboard.ts';
import { IdentityCard } from './components/IdentityCard.tsx';
import { PeersTable } from './components/PeersTable.tsx';
import { CountersPanel } from './components/CountersPanel.tsx';
import { BroadcastPanel } from './components/BroadcastPanel.tsx';
import { SecAggPanel } from './components/SecAggPanel.tsx';
import { ConsensusPanel } from './components/ConsensusPanel.tsx';
import { AuditPanel } from './components/AuditPanel.tsx';

export function App({ store, actions }: { store: DashboardStore; actions: DashboardActions }) {
  return (
    <DashboardContext.Provider value={store}>
      <Shell actions={actions} />
    </DashboardContext.Provider>
  );
}

function Shell({ actions }: { actions: DashboardActions }) {
  const phase = useDashboard((s) => s.phase);
  const error = useDashboard((s) => s.error);
  return (
    <div className="shell">
      <header className="topbar">
        <h1>
          <img src="/favicon.svg" alt="" width={22} height={22} /> Aegis
        </h1>
        <span className="tagline">private computation among peers</span>
      </header>
      {phase === 'failed' && (
        <div className="card error" role="alert">
          This tab could not start its node: {error}
        </div>
      )}
      {phase === 'starting' && <div className="card muted">Starting node…</div>}
      {phase === 'running' && (
        <main className="grid">
          <IdentityCard onChangeRoom={actions.changeRoom} />
          <CountersPanel />
          <PeersTable />
          <SecAggPanel onSetInput={actions.setInput} onStartRound={actions.startRound} onSetAdversaryModel={actions.setAdversaryModel} />
          <ConsensusPanel actions={actions.consensus} />
          <AuditPanel actions={actions.audit} />
          <BroadcastPanel onBroadcast={actions.broadcastTest} />
        </main>
      )}
    </div>
  );
}
