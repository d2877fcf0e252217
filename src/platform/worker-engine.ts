// The page's SecAggEngine: every call goes to a dedicated module worker (worker/secagg-worker.ts),
// vectors transferred both ways, so masking a 1M-entry vector never blocks the main thread. Until
// the worker says it is ready, calls wait (nothing is transferred to a worker that may never run);
// if it cannot start — construction throws, the script fails to load, no hello in time — the
// engine falls back to `localEngine` in the page, which computes the same words.
import { nobleAesCtrPrg, type PrgBackend } from '../core/crypto/prg.ts';
import type { Share } from '../core/crypto/shamir.ts';
import { localEngine, type EncodedMasked, type Encoding, type LocalEngineOptions, type PairMask, type SecAggEngine } from '../core/secagg/engine.ts';
import { isEngineHello, RemoteEngine } from '../core/secagg/engine-protocol.ts';
import { cryptoRandom } from './crypto-random.ts';
import { detectPrgBackend } from './webcrypto-prg.ts';
import { hostEngine } from './host-engine.ts';

/** What the engine uses of a Worker (tests pass a fake one). */
export interface WorkerLike {
  postMessage(message: unknown, transfer: Transferable[]): void;
  terminate(): void;
  onmessage: ((event: MessageEvent) => void) | null;
  onerror: ((event: ErrorEvent) => void) | null;
  onmessageerror: ((event: MessageEvent) => void) | null;
}

export interface WorkerEngineOptions {
  /** Starts the worker; default: the bundled worker/secagg-worker.ts. */
  createWorker?: () => WorkerLike;
  /** The in-page engine used when no worker runs; default: `hostEngine`, the engine the worker runs. */
  fallback?: () => Promise<SecAggEngine>;
  /** How long to wait for the worker's hello before falling back. */
  readyTimeoutMs?: number;
}

export const DEFAULT_WORKER_READY_TIMEOUT_MS = 10_000;

function bundledWorker(): WorkerLike {
  // This exact `new Worker(new URL(..., import.meta.url), { type: 'module' })` form is what Vite
  // recognises to bundle the worker as its own chunk.
  return new Worker(new URL('../worker/secagg-worker.ts', import.meta.url), { type: 'module' });
}

export interface WorkerEngine extends SecAggEngine {
  /** Resolves with the engine's name once it is known to run in the worker or in the page. */
  readonly ready: Promise<string>;
  /** Stop the worker; later calls run in the page. */
  close(): void;
}

class WorkerBackedEngine implements WorkerEngine {
  private target: Promise<SecAggEngine>;
  private current: SecAggEngine | null = null;
  private worker: WorkerLike | null = null;
  private remote: RemoteEngine | null = null;
  private fallbackReason = '';
  readonly ready: Promise<string>;

  constructor(private readonly options: WorkerEngineOptions) {
    this.target = new Promise<SecAggEngine>((resolve) => this.start(resolve));
    this.ready = this.target.then(() => this.name);
  }

  get name(): string {
    if (this.current === null) return 'worker (starting)';
    if (this.current === this.remote) return this.current.name;
    return `page: ${this.current.name}${this.fallbackReason ? ` (${this.fallbackReason})` : ''}`;
  }

  private start(resolve: (engine: SecAggEngine | Promise<SecAggEngine>) => void): void {
    let settled = false;
    const fallBack = (reason: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      this.stopWorker();
      resolve(this.fallback(reason));
    };
    const timeoutMs = this.options.readyTimeoutMs ?? DEFAULT_WORKER_READY_TIMEOUT_MS;
    const timer = setTimeout(() => fallBack(`no worker answer in ${timeoutMs} ms`), timeoutMs);
    let worker: WorkerLike;
    try {
      worker = (this.options.createWorker ?? bundledWorker)();
    } catch (e) {
      fallBack(`worker failed to start: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    this.worker = worker;
    worker.onmessage = (event) => {
      const data: unknown = event.data;
      if (!settled && isEngineHello(data)) {
        if (!data.ready) return fallBack(`worker engine failed: ${data.error}`);
        settled = true;
        clearTimeout(timer);
        this.remote = new RemoteEngine((message, transfer) => worker.postMessage(message, transfer), `worker: ${data.engine}`);
        this.current = this.remote;
        resolve(this.remote);
        return;
      }
      this.remote?.receive(data);
    };
    worker.onerror = (event) => {
      event.preventDefault?.();
      const reason = `worker error: ${event.message || 'the script failed to load or threw'}`;
      if (!settled) fallBack(reason);
      else this.crashed(reason);
    };
    worker.onmessageerror = () => this.crashed('worker sent a message that could not be read');
  }

  /** After the worker ran: its pending calls are lost (their vectors went with it); the page takes over. */
  private crashed(reason: string): void {
    if (this.remote === null || this.current !== this.remote) return;
    this.remote.close(new Error(`secagg worker failed: ${reason}`));
    this.stopWorker();
    this.target = this.fallback(reason);
  }

  private fallback(reason: string): Promise<SecAggEngine> {
    this.fallbackReason = reason;
    return (this.options.fallback ?? hostEngine)().then((engine) => {
      this.current = engine;
      return engine;
    });
  }

  private stopWorker(): void {
    this.worker?.terminate();
    this.worker = null;
  }

  close(): void {
    if (this.remote && this.current === this.remote) this.crashed('closed');
    else this.stopWorker();
  }

  async mask(encoded: Uint32Array, selfSeed: Uint8Array, pairs: readonly PairMask[]): Promise<Uint32Array> {
    return (await this.target).mask(encoded, selfSeed, pairs);
  }

  async encodeMask(input: Float64Array, encoding: Encoding, roundingSeed: Uint8Array, selfSeed: Uint8Array, pairs: readonly PairMask[]): Promise<EncodedMasked> {
    return (await this.target).encodeMask(input, encoding, roundingSeed, selfSeed, pairs);
  }

  async unmaskSum(vectors: readonly Uint32Array[], terms: readonly PairMask[], dimension: number): Promise<Uint32Array> {
    return (await this.target).unmaskSum(vectors, terms, dimension);
  }

  async chunkRoots(vectors: readonly Uint32Array[]): Promise<{ vectors: Uint32Array[]; roots: Uint8Array[] }> {
    return (await this.target).chunkRoots(vectors);
  }

  async sha256(data: readonly Uint8Array[]): Promise<Uint8Array[]> {
    return (await this.target).sha256(data);
  }

  async split(secret: Uint8Array, threshold: number, shareCount: number): Promise<Share[]> {
    return (await this.target).split(secret, threshold, shareCount);
  }

  async combine(shares: readonly Share[], threshold: number): Promise<Uint8Array> {
    return (await this.target).combine(shares, threshold);
  }
}

/** The page-side proxy of the secure-aggregation worker, falling back to the page if it cannot run. */
export function createWorkerEngine(options: WorkerEngineOptions = {}): WorkerEngine {
  return new WorkerBackedEngine(options);
}

/** Developer and end-to-end test hook: `window.__aegisEngine` (see e2e/worker.spec.ts). */
export interface EngineDebugHook {
  /** The engine the node's SecAggService uses. */
  engine: SecAggEngine;
  /** A fresh engine on the page's main thread: the detected PRG, or noble's (the insecure-context fallback). */
  pageEngine(options?: { noblePrg?: boolean } & LocalEngineOptions): SecAggEngine;
}

declare global {
  interface Window {
    __aegisEngine?: EngineDebugHook;
  }
}

export function exposeEngineDebugHook(engine: SecAggEngine, detectedPrg: PrgBackend): void {
  window.__aegisEngine = {
    engine,
    pageEngine: (options = {}) => localEngine(options.noblePrg ? nobleAesCtrPrg : detectedPrg, cryptoRandom(), options),
  };
}
