// What the Audit panel can ask of the tab's LedgerService (null until the node has started).
import type { NodeId } from '../core/crypto/node-id.ts';
import type { Result } from '../core/result.ts';
import type { AuditView, HeadView, LedgerService } from '../node/ledger-service.ts';
import type { EntrySummary } from '../node/ledger-summary.ts';

export interface AuditActions {
  auditPeer(peer: NodeId): Promise<AuditView>;
  /** Download the export file (`aegis verify FILE` checks it). Resolves to the file name. */
  exportLog(): Promise<string>;
  entriesPage(from: number, to: number): Promise<EntrySummary[]>;
  /** Developer tool: sign and gossip a conflicting head (see LedgerService.forkLog). */
  forkLog(): Promise<Result<{ real: HeadView; forked: HeadView }>>;
}

const notStarted = (): Promise<never> => Promise.reject(new Error('the node has not started yet'));

export function auditActions(ledger: () => LedgerService | null): AuditActions {
  return {
    auditPeer: (peer) => ledger()?.auditPeer(peer) ?? notStarted(),
    entriesPage: (from, to) => ledger()?.entriesPage(from, to) ?? notStarted(),
    forkLog: () => ledger()?.forkLog() ?? notStarted(),
    async exportLog() {
      const l = ledger();
      if (!l) return notStarted();
      const doc = await l.exportLog();
      const name = `aegis-log-${doc.origin.slice('aegis.log/'.length, 'aegis.log/'.length + 8)}-${doc.entries.length}.json`;
      const url = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 1)], { type: 'application/json' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = name;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      return name;
    },
  };
}
