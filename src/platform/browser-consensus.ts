// The tab's chain: a ConsensusService over IndexedDB (`chain` store, keyed by room), with batched
// signature checks off the UI's critical path (batch-verifier.ts), `?genesis=HASH` pinning, and
// the thin connection to the audit log.
import type { IDBPDatabase } from 'idb';
import type { Ed25519Backend, Signer } from '../core/crypto/ed25519.ts';
import type { AegisNode } from '../node/aegis-node.ts';
import { connectConsensusToLedger } from '../node/consensus-ledger.ts';
import { ConsensusService } from '../node/consensus-service.ts';
import type { LedgerService } from '../node/ledger-service.ts';
import { browserBatchVerifier } from './batch-verifier.ts';
import type { AegisDB } from './db.ts';
import { idbChainStorage } from './idb-chain-storage.ts';

const HASH_PATTERN = /^[0-9a-fA-F]{64}$/;

/** `?genesis=<64 hex digits>` pins the network's genesis; anything else is ignored. */
export function pinnedGenesisFromUrl(url: URL): string | null {
  const g = url.searchParams.get('genesis');
  return g !== null && HASH_PATTERN.test(g) ? g.toLowerCase() : null;
}

export function startBrowserConsensus(opts: {
  db: IDBPDatabase<AegisDB>;
  node: AegisNode;
  signer: Signer;
  backend: Ed25519Backend;
  room: string;
  ledger?: LedgerService | null;
}): ConsensusService {
  const batch = browserBatchVerifier(opts.backend);
  const consensus = new ConsensusService(opts.node, {
    signer: opts.signer,
    verifier: opts.backend,
    batchVerifier: batch,
    get verifyBackend() {
      return batch.name();
    },
    storage: idbChainStorage(opts.db),
    room: opts.room,
    pinnedGenesis: pinnedGenesisFromUrl(new URL(location.href)),
    // A new tab takes faucet stake and joins by itself where the faucet is on; `?autostake=0` opts out (the button stays).
    autoStake: new URL(location.href).searchParams.get('autostake') !== '0',
    wallMs: () => performance.now(),
  });
  if (opts.ledger) connectConsensusToLedger(consensus, opts.ledger, opts.node.publicKey);
  addEventListener('pagehide', () => consensus.stop());
  void consensus.start();
  return consensus;
}
