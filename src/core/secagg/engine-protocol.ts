// Messages between the page and the secure-aggregation worker: each request carries an id and one
// SecAggEngine call, each reply the same id and the result or the error's message. Big vectors
// travel as TRANSFERRED ArrayBuffers (zero-copy): the page gives up the vector it hands over, the
// worker gives up the result. Seeds, secrets and shares are small and copied.
//
// Pure: no Worker, no DOM. `dispatch` is the worker's side, `RemoteEngine` the page's; the Node
// tests run both over a MessageChannel, platform/worker-engine.ts and worker/secagg-worker.ts wire
// them to a real Worker.
import type { Share } from '../crypto/shamir.ts';
import {
  assertDimension,
  assertEncoding,
  assertInput,
  assertSeed,
  assertTerms,
  assertVector,
  type EncodedMasked,
  type Encoding,
  type PairMask,
  type SecAggEngine,
} from './engine.ts';

/** Sent in every message as `v`; a peer speaking another version is answered with an error. */
export const ENGINE_PROTOCOL_VERSION = 1;
type V = typeof ENGINE_PROTOCOL_VERSION;

export type EngineCall =
  | { op: 'mask'; encoded: Uint32Array; selfSeed: Uint8Array; pairs: PairMask[] }
  | { op: 'encodeMask'; input: Float64Array; encoding: Encoding; roundingSeed: Uint8Array; selfSeed: Uint8Array; pairs: PairMask[] }
  | { op: 'unmaskSum'; vectors: Uint32Array[]; terms: PairMask[]; dimension: number }
  | { op: 'chunkRoots'; vectors: Uint32Array[] }
  | { op: 'sha256'; data: Uint8Array[] }
  | { op: 'split'; secret: Uint8Array; threshold: number; shareCount: number }
  | { op: 'combine'; shares: Share[]; threshold: number };

export type EngineOp = EngineCall['op'];
export type EngineRequest = EngineCall & { v: V; id: number };

export type EngineReply =
  | { v: V; id: number; ok: true; vector: Uint32Array }
  | { v: V; id: number; ok: true; encoded: Uint32Array; vector: Uint32Array; chunkRoot: Uint8Array }
  | { v: V; id: number; ok: true; shares: Share[] }
  | { v: V; id: number; ok: true; vectors: Uint32Array[]; roots: Uint8Array[] }
  | { v: V; id: number; ok: true; hashes: Uint8Array[] }
  | { v: V; id: number; ok: true; secret: Uint8Array }
  | { v: V; id: number; ok: false; error: string };

/** The worker's first message: its engine is up (and what it runs), or it could not start. */
export type EngineHello = { v: V; hello: true; ready: true; engine: string } | { v: V; hello: true; ready: false; error: string };

/** A message and the buffers to transfer with it (postMessage's second argument). */
export interface Outbound<T> {
  message: T;
  transfer: ArrayBuffer[];
  /** Call once the message is posted (postMessage clones synchronously): wipes the secrets it carried. */
  wipe?: () => void;
}

export function engineHello(engineName: string): EngineHello {
  return { v: ENGINE_PROTOCOL_VERSION, hello: true, ready: true, engine: engineName };
}

export function engineStartFailed(error: string): EngineHello {
  return { v: ENGINE_PROTOCOL_VERSION, hello: true, ready: false, error };
}

export function isEngineHello(data: unknown): data is EngineHello {
  const d = data as Partial<{ v: unknown; hello: unknown; ready: unknown; engine: unknown; error: unknown }> | null;
  return (
    typeof d === 'object' &&
    d !== null &&
    d.v === ENGINE_PROTOCOL_VERSION &&
    d.hello === true &&
    ((d.ready === true && typeof d.engine === 'string') || (d.ready === false && typeof d.error === 'string'))
  );
}

/**
 * A vector whose whole buffer can be transferred: `v` itself when it alone spans a plain ArrayBuffer
 * not yet in `transfer`, a compact copy otherwise (a view into a bigger buffer, a SharedArrayBuffer,
 * the same buffer listed twice). Adds the buffer to `transfer`.
 */
export function transferable<T extends Uint8Array | Uint32Array | Float64Array>(v: T, transfer: ArrayBuffer[]): T {
  const whole = v.buffer instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength;
  const own = whole && !transfer.includes(v.buffer as ArrayBuffer) ? v : (v.slice() as T);
  transfer.push(own.buffer as ArrayBuffer);
  return own;
}

/** Small arrays are copied compactly: cloning a view would copy its whole underlying buffer. */
const copyTerms = (terms: readonly PairMask[]): PairMask[] => terms.map((t) => ({ seed: t.seed.slice(), sign: t.sign }));
const copyShares = (shares: readonly Share[]): Share[] => shares.map((s) => ({ x: s.x, y: s.y.slice() }));

/** The request for one call; the caller has validated the arguments. */
export function encodeRequest(id: number, call: EngineCall): Outbound<EngineRequest> {
  const transfer: ArrayBuffer[] = [];
  const head = { v: ENGINE_PROTOCOL_VERSION, id } as const;
  switch (call.op) {
    case 'mask':
      return {
        message: { ...head, op: 'mask', encoded: transferable(call.encoded, transfer), selfSeed: call.selfSeed.slice(), pairs: copyTerms(call.pairs) },
        transfer,
      };
    case 'encodeMask':
      return {
        message: {
          ...head,
          op: 'encodeMask',
          input: transferable(call.input, transfer),
          encoding: { clipping_range: call.encoding.clipping_range, quantization_range: call.encoding.quantization_range },
          roundingSeed: call.roundingSeed.slice(),
          selfSeed: call.selfSeed.slice(),
          pairs: copyTerms(call.pairs),
        },
        transfer,
      };
    case 'unmaskSum':
      return {
        message: { ...head, op: 'unmaskSum', vectors: call.vectors.map((v) => transferable(v, transfer)), terms: copyTerms(call.terms), dimension: call.dimension },
        transfer,
      };
    case 'chunkRoots':
      return { message: { ...head, op: 'chunkRoots', vectors: call.vectors.map((v) => transferable(v, transfer)) }, transfer };
    case 'sha256':
      // The caller keeps its buffers: each is copied compactly (a view into a bigger buffer would
      // clone all of it) and the copy transferred.
      return { message: { ...head, op: 'sha256', data: call.data.map((d) => transferable(d.slice(), transfer)) }, transfer };
    case 'split':
      return { message: { ...head, op: 'split', secret: call.secret.slice(), threshold: call.threshold, shareCount: call.shareCount }, transfer };
    case 'combine':
      return { message: { ...head, op: 'combine', shares: copyShares(call.shares), threshold: call.threshold }, transfer };
  }
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** An error reply; id -1 when the request had no usable id. */
export function errorReply(id: unknown, error: string): Outbound<EngineReply> {
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) id = -1;
  return { message: { v: ENGINE_PROTOCOL_VERSION, id: id as number, ok: false, error }, transfer: [] };
}

/**
 * The worker's side: run one request on `engine` and build the reply. Never throws: a malformed
 * request or a failing call becomes an error reply (id -1 when the request has no usable id).
 */
export async function dispatch(engine: SecAggEngine, data: unknown): Promise<Outbound<EngineReply>> {
  const r = data as Partial<Record<string, unknown>> | null;
  const id = typeof r === 'object' && r !== null && Number.isSafeInteger(r['id']) ? (r['id'] as number) : -1;
  if (id < 0) return errorReply(-1, 'malformed engine request: no id');
  const req = r as Record<string, unknown>;
  if (req['v'] !== ENGINE_PROTOCOL_VERSION) return errorReply(id, `engine protocol version ${String(req['v'])}, expected ${ENGINE_PROTOCOL_VERSION}`);
  try {
    switch (req['op']) {
      case 'mask': {
        const vector = await engine.mask(req['encoded'] as Uint32Array, req['selfSeed'] as Uint8Array, req['pairs'] as PairMask[]);
        return vectorReply(id, vector);
      }
      case 'encodeMask': {
        const r = await engine.encodeMask(
          req['input'] as Float64Array,
          req['encoding'] as Encoding,
          req['roundingSeed'] as Uint8Array,
          req['selfSeed'] as Uint8Array,
          req['pairs'] as PairMask[],
        );
        const transfer: ArrayBuffer[] = [];
        const encoded = transferable(r.encoded, transfer);
        const vector = transferable(r.masked, transfer);
        return { message: { v: ENGINE_PROTOCOL_VERSION, id, ok: true, encoded, vector, chunkRoot: r.chunkRoot }, transfer };
      }
      case 'unmaskSum': {
        const vectors = req['vectors'];
        if (!Array.isArray(vectors)) return errorReply(id, '"vectors" must be an array');
        return vectorReply(id, await engine.unmaskSum(vectors as Uint32Array[], req['terms'] as PairMask[], req['dimension'] as number));
      }
      case 'chunkRoots': {
        const vectors = req['vectors'];
        if (!Array.isArray(vectors)) return errorReply(id, '"vectors" must be an array');
        const r = await engine.chunkRoots(vectors as Uint32Array[]);
        const transfer: ArrayBuffer[] = [];
        const back = r.vectors.map((v) => transferable(v, transfer));
        return { message: { v: ENGINE_PROTOCOL_VERSION, id, ok: true, vectors: back, roots: r.roots }, transfer };
      }
      case 'sha256': {
        const data = req['data'];
        if (!Array.isArray(data)) return errorReply(id, '"data" must be an array');
        return { message: { v: ENGINE_PROTOCOL_VERSION, id, ok: true, hashes: await engine.sha256(data as Uint8Array[]) }, transfer: [] };
      }
      case 'split': {
        const shares = await engine.split(req['secret'] as Uint8Array, req['threshold'] as number, req['shareCount'] as number);
        return { message: { v: ENGINE_PROTOCOL_VERSION, id, ok: true, shares }, transfer: [], wipe: () => wipeShares(shares) };
      }
      case 'combine': {
        const shares = req['shares'];
        if (!Array.isArray(shares)) return errorReply(id, '"shares" must be an array');
        const secret = await engine.combine(shares as Share[], req['threshold'] as number);
        return { message: { v: ENGINE_PROTOCOL_VERSION, id, ok: true, secret }, transfer: [], wipe: () => secret.fill(0) };
      }
      default:
        return errorReply(id, `unknown engine operation ${JSON.stringify(req['op'])}`);
    }
  } catch (e) {
    return errorReply(id, errorMessage(e));
  } finally {
    wipeRequestSecrets(req);
  }
}

/** The seeds, secret or shares a request carried: this side's copies, done with once answered. */
function wipeRequestSecrets(req: Record<string, unknown>): void {
  const wipe = (b: unknown): void => {
    if (b instanceof Uint8Array) b.fill(0);
  };
  wipe(req['selfSeed']);
  wipe(req['secret']);
  wipe(req['roundingSeed']);
  for (const key of ['pairs', 'terms'] as const) {
    const terms = req[key];
    if (Array.isArray(terms)) for (const t of terms) wipe((t as { seed?: unknown } | null)?.seed);
  }
  if (Array.isArray(req['shares'])) wipeShares(req['shares'] as unknown[]);
}

function wipeShares(shares: readonly unknown[]): void {
  for (const s of shares) {
    const y = (s as { y?: unknown } | null)?.y;
    if (y instanceof Uint8Array) y.fill(0);
  }
}

function vectorReply(id: number, vector: Uint32Array): Outbound<EngineReply> {
  const transfer: ArrayBuffer[] = [];
  return { message: { v: ENGINE_PROTOCOL_VERSION, id, ok: true, vector: transferable(vector, transfer) }, transfer };
}

interface Pending {
  op: EngineOp;
  resolve(reply: Record<string, unknown>): void;
  reject(error: Error): void;
}

/**
 * The page's side: a SecAggEngine whose calls are posted as requests. Feed every message from the
 * worker to `receive`. Arguments are checked here, before anything is transferred, so a programmer
 * error rejects without emptying the caller's vectors.
 */
export class RemoteEngine implements SecAggEngine {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closedWith: Error | null = null;

  constructor(
    private readonly post: (message: EngineRequest, transfer: ArrayBuffer[]) => void,
    readonly name: string,
  ) {}

  get pendingCount(): number {
    return this.pending.size;
  }

  async mask(encoded: Uint32Array, selfSeed: Uint8Array, pairs: readonly PairMask[]): Promise<Uint32Array> {
    assertVector(encoded, 'encoded');
    assertSeed(selfSeed, 'selfSeed');
    assertTerms(pairs, 'pairs');
    const words = encoded.length; // read before the transfer empties `encoded`
    const reply = await this.call({ op: 'mask', encoded, selfSeed, pairs: [...pairs] });
    return this.vectorOf(reply, words);
  }

  async encodeMask(input: Float64Array, encoding: Encoding, roundingSeed: Uint8Array, selfSeed: Uint8Array, pairs: readonly PairMask[]): Promise<EncodedMasked> {
    assertInput(input);
    assertEncoding(encoding);
    assertSeed(roundingSeed, 'roundingSeed');
    assertSeed(selfSeed, 'selfSeed');
    assertTerms(pairs, 'pairs');
    const words = input.length; // read before the transfer empties `input`
    const reply = await this.call({ op: 'encodeMask', input, encoding, roundingSeed, selfSeed, pairs: [...pairs] });
    const root = reply['chunkRoot'];
    if (!(root instanceof Uint8Array) || root.length !== 32) throw new Error('malformed engine reply: no chunk root');
    return { encoded: this.vectorOf({ vector: reply['encoded'] }, words), masked: this.vectorOf(reply, words), chunkRoot: root };
  }

  async unmaskSum(vectors: readonly Uint32Array[], terms: readonly PairMask[], dimension: number): Promise<Uint32Array> {
    assertDimension(dimension);
    if (!Array.isArray(vectors)) throw new Error('"vectors" must be an array');
    vectors.forEach((v, i) => assertVector(v, `vectors[${i}]`, dimension));
    assertTerms(terms, 'terms');
    const reply = await this.call({ op: 'unmaskSum', vectors: [...vectors], terms: [...terms], dimension });
    return this.vectorOf(reply, dimension);
  }

  async chunkRoots(vectors: readonly Uint32Array[]): Promise<{ vectors: Uint32Array[]; roots: Uint8Array[] }> {
    if (!Array.isArray(vectors)) throw new Error('"vectors" must be an array');
    vectors.forEach((v, i) => assertVector(v, `vectors[${i}]`));
    const lengths = vectors.map((v) => v.length);
    const reply = await this.call({ op: 'chunkRoots', vectors: [...vectors] });
    const back = reply['vectors'];
    const roots = reply['roots'];
    if (!Array.isArray(back) || !Array.isArray(roots) || back.length !== lengths.length || roots.length !== lengths.length)
      throw new Error('malformed engine reply: no vectors and roots');
    if (!roots.every((r) => r instanceof Uint8Array && r.length === 32)) throw new Error('malformed engine reply: bad chunk root');
    return { vectors: back.map((v, i) => this.vectorOf({ vector: v }, lengths[i] as number)), roots: roots as Uint8Array[] };
  }

  async sha256(data: readonly Uint8Array[]): Promise<Uint8Array[]> {
    if (!Array.isArray(data)) throw new Error('"data" must be an array');
    data.forEach((d, i) => {
      if (!(d instanceof Uint8Array)) throw new Error(`"data[${i}]" must be a Uint8Array`);
    });
    const reply = await this.call({ op: 'sha256', data: [...data] });
    const hashes = reply['hashes'];
    if (!Array.isArray(hashes) || hashes.length !== data.length || !hashes.every((h) => h instanceof Uint8Array && h.length === 32))
      throw new Error('malformed engine reply: no hashes');
    return hashes as Uint8Array[];
  }

  async split(secret: Uint8Array, threshold: number, shareCount: number): Promise<Share[]> {
    if (!(secret instanceof Uint8Array)) throw new Error('"secret" must be a Uint8Array');
    const reply = await this.call({ op: 'split', secret, threshold, shareCount });
    const shares = reply['shares'];
    if (!Array.isArray(shares) || !shares.every(isShare)) throw new Error('malformed engine reply: no shares');
    return shares;
  }

  async combine(shares: readonly Share[], threshold: number): Promise<Uint8Array> {
    if (!Array.isArray(shares) || !shares.every(isShare)) throw new Error('"shares" must be an array of shares');
    const reply = await this.call({ op: 'combine', shares: [...shares], threshold });
    const secret = reply['secret'];
    if (!(secret instanceof Uint8Array)) throw new Error('malformed engine reply: no secret');
    return secret;
  }

  /** Settle the request a reply answers. Returns false for anything that is not such a reply. */
  receive(data: unknown): boolean {
    const d = data as Partial<Record<string, unknown>> | null;
    if (typeof d !== 'object' || d === null || d['v'] !== ENGINE_PROTOCOL_VERSION || typeof d['id'] !== 'number') return false;
    const p = this.pending.get(d['id']);
    if (!p) return false;
    this.pending.delete(d['id']);
    if (d['ok'] === true) p.resolve(d as Record<string, unknown>);
    else p.reject(new Error(typeof d['error'] === 'string' ? d['error'] : `engine ${p.op} failed`));
    return true;
  }

  /** Reject every pending call and all later ones (the worker is gone). */
  close(error: Error): void {
    this.closedWith = error;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  private call(call: EngineCall): Promise<Record<string, unknown>> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = this.nextId++;
    const { message, transfer } = encodeRequest(id, call);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { op: call.op, resolve, reject });
      try {
        this.post(message, transfer);
      } catch (e) {
        this.pending.delete(id);
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  private vectorOf(reply: Record<string, unknown>, length: number): Uint32Array {
    const v = reply['vector'];
    if (!(v instanceof Uint32Array) || v.length !== length) throw new Error('malformed engine reply: no vector of the right length');
    return v;
  }
}

function isShare(s: unknown): s is Share {
  const share = s as Partial<Share> | null;
  return typeof share === 'object' && share !== null && typeof share.x === 'number' && share.y instanceof Uint8Array;
}
