// Boots a full Aegis node inside a browser tab: crypto backend, identity slot, WebRTC network.
import { bytesToHex } from '../core/bytes.ts';
import { AegisNode } from '../node/aegis-node.ts';
import { SecAggService } from '../node/secagg-service.ts';
import type { ConsensusService } from '../node/consensus-service.ts';
import { startBrowserConsensus } from './browser-consensus.ts';
import type { LedgerService } from '../node/ledger-service.ts';
import { startBrowserLedger } from './browser-ledger.ts';
import { ChainRoundService, chainExportMaterial, chainReceiptCheck } from '../node/chain-rounds.ts';
import { cryptoRandom } from './crypto-random.ts';
import { openAegisDB } from './db.ts';
import { claimIdentity, identitySigner, type HeldIdentity } from './identity-store.ts';
import { signalingUrlFor } from './signaling-url.ts';
import { wallClock } from './wall-clock.ts';
import { detectEd25519Backend, webCryptoIdentityKeyPairs } from './webcrypto-ed25519.ts';
import { detectPrgBackend } from './webcrypto-prg.ts';
import { detectX25519Backend } from './webcrypto-x25519.ts';
import { WebRtcNetwork } from './webrtc-network.ts';
import { createWorkerEngine, exposeEngineDebugHook } from './worker-engine.ts';

export const DEFAULT_ROOM = 'aegis';
const ROOM_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

export function isValidRoom(room: string): boolean {
  return ROOM_PATTERN.test(room);
}

export function roomFromUrl(url: URL): string {
  const room = url.searchParams.get('room') ?? DEFAULT_ROOM;
  return isValidRoom(room) ? room : DEFAULT_ROOM;
}

export interface BrowserNode {
  node: AegisNode;
  secagg: SecAggService;
  /** The tab's chain (IndexedDB `chain` store, keyed by room). */
  consensus: ConsensusService;
  /** The tab's audit log (IndexedDB). */
  ledger: LedgerService;
  /** Rounds opened by transaction, aggregated by the chain's choice, with receipts in the audit log. */
  rounds: ChainRoundService;
  identity: Omit<HeldIdentity, 'key' | 'release'> & {
    /** How the private key rests in IndexedDB: a non-extractable CryptoKey, or the raw seed (no WebCrypto). */
    keyAtRest: 'non-extractable' | 'raw-seed';
  };
  cryptoBackend: string;
  secureContext: boolean;
}

/**
 * One task boundary: the page's timers, input and rendering run before the caller goes on. A
 * MessageChannel message, not setTimeout, which a background tab throttles to once a second.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(null);
  });
}

export async function startBrowserNode(room: string): Promise<BrowserNode> {
  const [backend, x25519, prg] = await Promise.all([detectEd25519Backend(), detectX25519Backend(), detectPrgBackend()]);
  const random = cryptoRandom();
  const db = await openAegisDB();
  // Key pairs with a non-extractable private CryptoKey wherever WebCrypto Ed25519 passed its self-test.
  const keyPairs = backend.name === 'webcrypto' ? webCryptoIdentityKeyPairs(crypto.subtle) : null;
  const held = await claimIdentity({
    db,
    locks: 'locks' in navigator && navigator.locks ? navigator.locks : null,
    session: globalThis.sessionStorage ?? null,
    keyPairs,
    randomSecretKey: () => random.bytes(32),
    now: () => Date.now(),
    pageToken: bytesToHex(random.bytes(16)),
  });
  addEventListener('pagehide', () => held.release());
  // `crypto.subtle` is absent outside secure contexts, whatever the type says.
  const subtle: SubtleCrypto | undefined = globalThis.crypto?.subtle;
  const signer = await identitySigner(held.key, backend, keyPairs, subtle);
  const network = new WebRtcNetwork({ signalingUrl: signalingUrlFor(location) });
  // Masking, mask removal, Shamir and hashing multi-MB envelopes run in a Web Worker (in the page if no worker starts).
  const engine = createWorkerEngine();
  const sha256Large = async (bytes: Uint8Array): Promise<Uint8Array> => (await engine.sha256([bytes]))[0] as Uint8Array;
  const node = new AegisNode({ signer, verifier: backend, network, clock: wallClock, random, room, sha256Large, yieldLarge: yieldToEventLoop });
  exposeEngineDebugHook(engine, prg);
  const secagg = new SecAggService(node, { x25519, prg, verifier: backend, engine });
  addEventListener('pagehide', () => node.stop());
  node.start();
  const ledger = await startBrowserLedger({ db, node, signer, verifier: backend, secagg });
  const consensus = startBrowserConsensus({ db, node, signer, backend, room, ledger });
  const rounds = new ChainRoundService({
    node,
    secagg,
    consensus,
    deps: { x25519, prg, verifier: backend, engine },
    recordReceipt: (r) => ledger.recordReceipt(r),
  });
  ledger.setReceiptQcCheck(chainReceiptCheck(consensus, backend));
  ledger.setExportChain(() => chainExportMaterial(consensus.chainApp));
  return {
    node,
    secagg,
    consensus,
    ledger,
    rounds,
    identity: { slot: held.slot, exclusivity: held.exclusivity, keyAtRest: held.key.kind === 'key-pair' ? 'non-extractable' : 'raw-seed' },
    cryptoBackend: backend.name,
    secureContext: globalThis.isSecureContext === true,
  };
}
