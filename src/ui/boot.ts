// Starts the tab's node and connects it to the dashboard store; exposes a developer/test hook.
import type { AegisNode } from '../node/aegis-node.ts';
import type { SecAggService } from '../node/secagg-service.ts';
import type { SecAggParams } from '../core/secagg/params.ts';
import type { AdversaryModel } from '../core/secagg/threshold-rule.ts';
import { isValidRoom, roomFromUrl, startBrowserNode } from '../platform/browser-node.ts';
import { bindNode, bindSecAgg, createDashboardStore, type DashboardStore } from './dashboard-store.ts';
import { MessageType } from '../core/net/message-types.ts';
import type { ConsensusService } from '../node/consensus-service.ts';
import type { ConsensusActions } from './components/ConsensusPanel.tsx';
import { bindConsensus } from './consensus-slice.ts';
import type { LedgerService } from '../node/ledger-service.ts';
import { bindLedger } from './audit-slice.ts';
import { auditActions, type AuditActions } from './audit-actions.ts';
import type { ChainRoundService } from '../node/chain-rounds.ts';
import { bindChainRounds } from './chain-rounds-slice.ts';

export interface DashboardActions {
  broadcastTest(text: string): void;
  changeRoom(room: string): string | null;
  /** Contribute `values` to the next rounds (null: stop); `labels` name the coordinates locally. */
  setInput(values: readonly number[] | null, labels?: readonly string[] | null): void;
  /**
   * Open a round: through the chain (an open-round transaction; the chain designates the aggregator)
   * once this tab's chain runs, else directly, aggregated by this node. Resolves to its id.
   */
  startRound(params: Partial<SecAggParams>): Promise<string>;
  /** This tab's own adversary model: 'semi-honest' joins rounds below the malicious-safe threshold floor. */
  setAdversaryModel(model: AdversaryModel): void;
  /** The chain: request stake, developer misbehaviour. */
  consensus: ConsensusActions;
  /** The audit log: audit a peer, export, page through entries, "Fork my log" (audit-actions.ts). */
  audit: AuditActions;
}

/** Developer and end-to-end test hook: `window.__aegis`. */
export interface AegisDebugHook {
  node: AegisNode;
  snapshot(): ReturnType<AegisNode['snapshot']>;
  /** Seal a valid test broadcast, flip one bit at `bitIndex`, send it raw to `peerId`. */
  sendTampered(peerId: string, bitIndex: number): Promise<boolean>;
  /** The tab's secure-aggregation service: `setInput([...])`, `startRound({...})`, `views()`. */
  secagg: SecAggService;
  /** The tab's chain: `view()`, `requestStake()`, `setMisbehaviour(mode)`, `committedHash(h)`. */
  consensus: ConsensusService;
  /** The tab's audit log: `record(...)`, `snapshot()`, `auditPeer(id)`, `forkLog()`, `exportLog()`. */
  ledger: LedgerService;
  /** Chain rounds: `open({...})`, `views()`, `view(roundId)`; developer switches `tamperResults`, `tamperUnsampledResults`, `withholdOpenings`. */
  rounds: ChainRoundService;
}

declare global {
  interface Window {
    __aegis?: AegisDebugHook;
  }
}

export function bootDashboard(): { store: DashboardStore; actions: DashboardActions } {
  const store = createDashboardStore();
  let node: AegisNode | null = null;
  let secagg: SecAggService | null = null;
  let consensus: ConsensusService | null = null;
  let ledger: LedgerService | null = null;
  let rounds: ChainRoundService | null = null;
  // Column names of the input the user set from a CSV, tied to the exact array the service holds,
  // so an input set any other way (typed, or through the hook) shows without them.
  let labelled: { input: readonly number[] | null; labels: readonly string[] } | null = null;
  const room = roomFromUrl(new URL(location.href));
  startBrowserNode(room).then(
    (started) => {
      node = started.node;
      const n = started.node;
      bindNode(store, n, { ...started.identity, cryptoBackend: started.cryptoBackend, secureContext: started.secureContext });
      secagg = started.secagg;
      bindSecAgg(store, started.secagg, (input) => (labelled && labelled.input === input ? labelled.labels : null));
      consensus = started.consensus;
      bindConsensus(store, started.consensus);
      ledger = started.ledger;
      bindLedger(store, started.ledger);
      rounds = started.rounds;
      bindChainRounds(store, started.rounds);
      window.__aegis = {
        node: n,
        secagg: started.secagg,
        consensus: started.consensus,
        ledger: started.ledger,
        rounds: started.rounds,
        snapshot: () => n.snapshot(),
        async sendTampered(peerId, bitIndex) {
          const env = await n.seal(MessageType.TestBroadcast, new Uint8Array(40));
          const bytes = env.bytes.slice();
          const i = Math.floor(bitIndex / 8) % bytes.length;
          bytes[i] = (bytes[i] as number) ^ (1 << bitIndex % 8);
          return n.sendRawGossip(peerId, bytes);
        },
      };
    },
    (e: unknown) => store.setState({ phase: 'failed', error: e instanceof Error ? e.message : String(e) }),
  );
  return {
    store,
    actions: {
      broadcastTest: (text) => void node?.broadcastTest(text),
      changeRoom: (next) => {
        if (!isValidRoom(next)) return 'A room name is 1–64 letters, digits, ".", "_" or "-".';
        const url = new URL(location.href);
        url.searchParams.set('room', next);
        location.assign(url.toString());
        return null;
      },
      setInput: (values, labels = null) => {
        if (!secagg) return;
        secagg.setInput(values);
        labelled = labels ? { input: secagg.currentInput, labels } : null;
      },
      startRound: (params) => {
        if (rounds && consensus?.view().phase === 'running') return rounds.open(params);
        return secagg ? secagg.startRound(params) : Promise.reject(new Error('the node has not started yet'));
      },
      setAdversaryModel: (model) => secagg?.setAdversaryModel(model),
      consensus: {
        requestStake: () => (consensus ? consensus.requestStake() : Promise.reject(new Error('the node has not started yet'))),
        setMisbehaviour: (mode) => consensus?.setMisbehaviour(mode),
        switchGenesis: () => (consensus ? consensus.switchToOfferedGenesis() : Promise.resolve(false)),
      },
      audit: auditActions(() => ledger),
    },
  };
}
