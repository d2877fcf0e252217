// Ed25519 for simulated nodes: real signatures (so tampering tests mean something), made fast and
// deterministic.
//
// - Speed: WebCrypto Ed25519 (platform/webcrypto-ed25519.ts; `crypto.subtle` in Node 20 and
//   modern browsers) signs and verifies ~8x faster than @noble/curves in Node; noble remains the
//   fallback. A verification cache shared by all simulated nodes remembers (key, message,
//   signature) -> verdict, so a message flooded to 200 nodes is checked once, not 200 times.
//   Verification is a pure function, so caching changes no outcome; entries match on the exact key
//   and message bytes, so a tampered copy always misses.
// - Determinism: WebCrypto completes on a thread pool, in no fixed order. Every sign/verify goes
//   through an `OrderedGate` that hands results back strictly in the order the operations were
//   requested, one per macrotask, so the code awaiting them resumes in the same order on every run.
//   The simulator also asks the gate whether crypto is still in flight before it moves time on.
import { bytesEqual, bytesToHex } from '../core/bytes.ts';
import type { Ed25519Backend, Signer, Verifier } from '../core/crypto/ed25519.ts';
import { detectEd25519Backend, webCryptoEd25519 } from '../platform/webcrypto-ed25519.ts';

/** Resolves after the current macrotask, i.e. once every queued microtask has run. */
export function nextMacrotask(): Promise<void> {
  const g = globalThis as unknown as { setImmediate?: (fn: () => void) => unknown };
  if (typeof g.setImmediate === 'function') {
    const setImmediate = g.setImmediate;
    return new Promise((resolve) => void setImmediate(resolve));
  }
  return new Promise((resolve) => void setTimeout(resolve, 0));
}

/**
 * Runs async operations concurrently but releases their results in request order, each followed
 * by a macrotask so everything the previous result set off has run before the next is released.
 */
export class OrderedGate {
  private tail: Promise<void> = Promise.resolve();
  private inFlight = 0;
  private requested = 0;

  /** Operations requested and not yet released (with their follow-up microtasks drained). */
  get pending(): number {
    return this.inFlight;
  }

  /** Total operations requested so far. */
  get total(): number {
    return this.requested;
  }

  run<T>(op: () => Promise<T>): Promise<T> {
    this.inFlight++;
    this.requested++;
    let started: Promise<T>;
    try {
      started = op();
    } catch (e) {
      started = Promise.reject(e);
    }
    return new Promise<T>((resolve, reject) => {
      this.tail = this.tail.then(async () => {
        try {
          resolve(await started);
        } catch (e) {
          reject(e);
        }
        await nextMacrotask();
        this.inFlight--;
      });
    });
  }

  /** Resolves once nothing requested through the gate is outstanding. */
  async whenIdle(): Promise<void> {
    while (this.inFlight > 0) await this.tail;
  }
}

export interface SimCryptoOptions {
  /** The Ed25519 implementation underneath. Default: WebCrypto when available, else noble. */
  backend?: Ed25519Backend;
  /** Share verification verdicts between all nodes (default true). */
  verifyCache?: boolean;
  /** Bound on cached verdicts; the cache is cleared when it overflows. */
  verifyCacheEntries?: number;
}

interface CachedVerdict {
  publicKey: Uint8Array;
  message: Uint8Array;
  ok: boolean;
}

export interface SimCryptoStats {
  backend: string;
  signs: number;
  verifies: number;
  verifyCacheHits: number;
}

/** The crypto shared by every node of one simulation. */
export class SimCrypto implements Verifier {
  readonly gate = new OrderedGate();
  /** Signature (hex) -> verdicts for the (public key, message) pairs seen with it. */
  private readonly cache: Map<string, CachedVerdict[]> | null;
  private readonly maxEntries: number;
  private signs = 0;
  private verifies = 0;
  private hits = 0;

  private constructor(
    readonly backend: Ed25519Backend,
    options: SimCryptoOptions,
  ) {
    this.cache = options.verifyCache === false ? null : new Map();
    this.maxEntries = options.verifyCacheEntries ?? 200_000;
  }

  static async create(options: SimCryptoOptions = {}): Promise<SimCrypto> {
    const backend = options.backend ?? (await defaultSimBackend());
    return new SimCrypto(backend, options);
  }

  async signer(secretKey: Uint8Array): Promise<Signer> {
    const inner = await this.backend.signer(secretKey);
    return {
      publicKey: inner.publicKey,
      sign: (message) => {
        this.signs++;
        return this.gate.run(() => inner.sign(message));
      },
    };
  }

  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
    this.verifies++;
    const cache = this.cache;
    if (!cache) return this.gate.run(() => this.backend.verify(publicKey, message, signature));
    const key = bytesToHex(signature);
    const known = cache.get(key)?.find((v) => bytesEqual(v.publicKey, publicKey) && bytesEqual(v.message, message));
    if (known) {
      this.hits++;
      return Promise.resolve(known.ok);
    }
    const entry = { publicKey: publicKey.slice(), message: message.slice() };
    return this.gate.run(async () => {
      const ok = await this.backend.verify(entry.publicKey, entry.message, signature);
      if (cache.size >= this.maxEntries) cache.clear();
      const list = cache.get(key) ?? [];
      list.push({ ...entry, ok });
      cache.set(key, list);
      return ok;
    });
  }

  stats(): SimCryptoStats {
    return { backend: this.backend.name, signs: this.signs, verifies: this.verifies, verifyCacheHits: this.hits };
  }
}

/**
 * The platform's pick (WebCrypto Ed25519 after a known-answer test, else noble), with the WebCrypto
 * verification-key cache sized for hundreds of simulated identities instead of a page's peers.
 */
export async function defaultSimBackend(): Promise<Ed25519Backend> {
  const detected = await detectEd25519Backend();
  const subtle = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  if (detected.name === 'webcrypto' && subtle) return webCryptoEd25519(subtle, { maxCachedKeys: 100_000 });
  return detected;
}
