// The tab's audit log: a LedgerService over IndexedDB (one key range per identity), fed by the
// tab's secure-aggregation service. A log that fails its start-up check still yields a service
// (status "failed", shown on the dashboard) so the rest of the node runs.
import type { IDBPDatabase } from 'idb';
import type { Signer, Verifier } from '../core/crypto/ed25519.ts';
import type { AegisNode } from '../node/aegis-node.ts';
import { connectSecAggToLedger } from '../node/ledger-secagg.ts';
import { LedgerService } from '../node/ledger-service.ts';
import type { SecAggService } from '../node/secagg-service.ts';
import type { AegisDB } from './db.ts';
import { IdbLogStorage } from './idb-log-storage.ts';

export async function startBrowserLedger(opts: {
  db: IDBPDatabase<AegisDB>;
  node: AegisNode;
  signer: Signer;
  verifier: Verifier;
  secagg: SecAggService;
}): Promise<LedgerService> {
  const storage = await IdbLogStorage.open(opts.db, opts.node.id);
  const ledger = await LedgerService.start({ node: opts.node, signer: opts.signer, verifier: opts.verifier, storage });
  connectSecAggToLedger(opts.secagg, ledger);
  addEventListener('pagehide', () => ledger.stop());
  return ledger;
}
