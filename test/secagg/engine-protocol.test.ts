// The worker protocol's pure parts — request encoding, dispatch, the page-side RemoteEngine — and
// both sides over a real MessageChannel (structured clone with transfer, as between page and worker).
import { afterEach, describe, expect, it } from 'vitest';
import { nobleAesCtrPrg } from '../../src/core/crypto/prg.ts';
import { localEngine, type SecAggEngine } from '../../src/core/secagg/engine.ts';
import {
  dispatch,
  encodeRequest,
  engineHello,
  engineStartFailed,
  isEngineHello,
  RemoteEngine,
  type EngineRequest,
} from '../../src/core/secagg/engine-protocol.ts';
import { recomputeFromTranscript } from '../../src/core/secagg/transcript.ts';
import { SeededRandom } from '../../src/sim/seeded-random.ts';
import { deps, runRound } from './round-harness.ts';

const seed = (b: number): Uint8Array => new Uint8Array(32).fill(b);
const local = localEngine(nobleAesCtrPrg, SeededRandom.fromSeed(1));

describe('encodeRequest', () => {
  it('transfers a vector that owns its whole buffer, and copies seeds compactly', () => {
    const encoded = new Uint32Array(1000);
    const big = new Uint8Array(64).fill(7);
    const { message, transfer } = encodeRequest(1, { op: 'mask', encoded, selfSeed: big.subarray(0, 32), pairs: [{ seed: big.subarray(32), sign: -1 }] });
    expect(transfer).toEqual([encoded.buffer]);
    expect(message).toMatchObject({ v: 1, id: 1, op: 'mask' });
    const m = message as Extract<EngineRequest, { op: 'mask' }>;
    expect(m.encoded).toBe(encoded);
    // A view's clone would carry its whole 64-byte buffer.
    expect(m.selfSeed.buffer.byteLength).toBe(32);
    expect(m.pairs[0]?.seed.buffer.byteLength).toBe(32);
  });

  it('copies a view into a bigger buffer, and a vector listed twice, instead of transferring a shared buffer', () => {
    const backing = new Uint32Array(100);
    const view = backing.subarray(10, 20);
    const whole = new Uint32Array(10);
    const { message, transfer } = encodeRequest(2, { op: 'unmaskSum', vectors: [view, whole, whole], terms: [], dimension: 10 });
    const m = message as Extract<EngineRequest, { op: 'unmaskSum' }>;
    expect(transfer).toHaveLength(3);
    expect(transfer).not.toContain(backing.buffer);
    expect(m.vectors[0]).not.toBe(view);
    expect(m.vectors[1]).toBe(whole);
    expect(m.vectors[2]).not.toBe(whole);
    expect(new Set(transfer).size).toBe(3);
  });
});

describe('dispatch (the worker side)', () => {
  it('answers a mask request with the vector, transferred', async () => {
    const req = encodeRequest(7, { op: 'mask', encoded: new Uint32Array(5), selfSeed: seed(1), pairs: [] }).message;
    const { message, transfer } = await dispatch(local, req);
    expect(message).toMatchObject({ v: 1, id: 7, ok: true });
    const vector = (message as { vector: Uint32Array }).vector;
    expect(transfer).toEqual([vector.buffer]);
    expect(Array.from(vector)).toEqual(Array.from(await local.mask(new Uint32Array(5), seed(1), [])));
  });

  it("wipes the request's seeds and secrets once answered, and offers to wipe the reply's after posting", async () => {
    const pairs = [{ seed: seed(2), sign: 1 as const }];
    const mask = { v: 1, id: 1, op: 'mask', encoded: new Uint32Array(3), selfSeed: seed(1), pairs };
    await dispatch(local, mask);
    expect(mask.selfSeed.every((b) => b === 0) && pairs[0]?.seed.every((b) => b === 0)).toBe(true);
    const split = { v: 1, id: 2, op: 'split', secret: seed(3), threshold: 2, shareCount: 3 };
    const out = await dispatch(local, split);
    expect(split.secret.every((b) => b === 0)).toBe(true);
    const shares = (out.message as { shares: { y: Uint8Array }[] }).shares;
    expect(shares[0]?.y.some((b) => b !== 0)).toBe(true);
    out.wipe?.();
    expect(shares.every((s) => s.y.every((b) => b === 0))).toBe(true);
  });

  it('turns malformed requests and failing calls into error replies, never throws', async () => {
    const cases: Array<[unknown, number, RegExp]> = [
      [null, -1, /no id/],
      ['mask', -1, /no id/],
      [{ id: 'x', v: 1, op: 'mask' }, -1, /no id/],
      [{ id: 3, v: 2, op: 'mask' }, 3, /version 2, expected 1/],
      [{ id: 4, v: 1, op: 'explode' }, 4, /unknown engine operation "explode"/],
      [{ id: 5, v: 1, op: 'mask', encoded: new Uint32Array(2), selfSeed: new Uint8Array(3), pairs: [] }, 5, /"selfSeed" must be 32 bytes/],
      [{ id: 6, v: 1, op: 'mask', encoded: [1, 2], selfSeed: seed(0), pairs: [] }, 6, /"encoded" must be a Uint32Array/],
      [{ id: 8, v: 1, op: 'unmaskSum', vectors: 'no', terms: [], dimension: 2 }, 8, /"vectors" must be an array/],
      [{ id: 9, v: 1, op: 'combine', shares: null, threshold: 2 }, 9, /"shares" must be an array/],
      [{ id: 10, v: 1, op: 'split', secret: new Uint8Array(32), threshold: 5, shareCount: 2 }, 10, /"shareCount"/],
    ];
    for (const [data, id, error] of cases) {
      const { message, transfer } = await dispatch(local, data);
      expect(message).toMatchObject({ v: 1, id, ok: false });
      expect((message as { error: string }).error).toMatch(error);
      expect(transfer).toEqual([]);
    }
  });
});

describe('hello', () => {
  it('recognises the ready and failed hellos and nothing else', () => {
    expect(isEngineHello(engineHello('x'))).toBe(true);
    expect(isEngineHello(engineStartFailed('no random'))).toBe(true);
    for (const other of [null, 1, { v: 1, id: 1, ok: true }, { v: 2, hello: true, ready: true, engine: 'x' }, { v: 1, hello: true, ready: true }])
      expect(isEngineHello(other)).toBe(false);
  });
});

/** A RemoteEngine on one port, dispatch(engine) on the other: page and worker in one Node process. */
function channel(engine: SecAggEngine): { remote: RemoteEngine; close(): void } {
  const { port1, port2 } = new MessageChannel();
  port2.onmessage = (event: MessageEvent) => {
    void dispatch(engine, event.data).then(({ message, transfer, wipe }) => {
      port2.postMessage(message, transfer);
      wipe?.();
    });
  };
  const remote = new RemoteEngine((message, transfer) => port1.postMessage(message, transfer), 'remote');
  port1.onmessage = (event: MessageEvent) => remote.receive(event.data);
  return {
    remote,
    close() {
      port1.close();
      port2.close();
    },
  };
}

describe('RemoteEngine over a MessageChannel', () => {
  const open: Array<{ close(): void }> = [];
  afterEach(() => {
    for (const c of open.splice(0)) c.close();
  });
  const connect = (engine: SecAggEngine = local): RemoteEngine => {
    const c = channel(engine);
    open.push(c);
    return c.remote;
  };

  it('masks like the local engine; the input buffer is transferred away (zero-copy), not cloned', async () => {
    const remote = connect();
    const rng = SeededRandom.fromSeed(2);
    const encoded = new Uint32Array(rng.bytes(4 * 10_001).buffer);
    const pairs = [
      { seed: seed(2), sign: 1 as const },
      { seed: seed(3), sign: -1 as const },
    ];
    const want = await local.mask(encoded.slice(), seed(1), pairs);
    const sent = encoded.slice();
    const got = await remote.mask(sent, seed(1), pairs);
    expect(sent.byteLength).toBe(0); // detached: the page gave it up
    expect(Array.from(got)).toEqual(Array.from(want));
  });

  it('keeps concurrent calls apart by id', async () => {
    const remote = connect();
    const calls = Array.from({ length: 12 }, (_, i) => remote.mask(new Uint32Array(i + 1).fill(i), seed(i), []));
    const results = await Promise.all(calls);
    for (let i = 0; i < 12; i++) expect(Array.from(results[i] as Uint32Array)).toEqual(Array.from(await local.mask(new Uint32Array(i + 1).fill(i), seed(i), [])));
    expect(remote.pendingCount).toBe(0);
  });

  it('Shamir through the channel', async () => {
    const remote = connect();
    const secret = seed(9);
    const shares = await remote.split(secret, 2, 4);
    expect(Array.from(await remote.combine(shares.slice(2), 2))).toEqual(Array.from(secret));
  });

  it("rejects with the engine's own error message, from either side", async () => {
    const remote = connect();
    // Caught on the page before anything is transferred: the caller keeps its vector.
    const mine = new Uint32Array(4);
    await expect(remote.mask(mine, new Uint8Array(31), [])).rejects.toThrow('"selfSeed" must be 32 bytes');
    expect(mine.byteLength).toBe(16);
    // Caught in the worker.
    await expect(remote.split(new Uint8Array(32), 5, 2)).rejects.toThrow('"shareCount" must be an integer in [threshold = 5, 255], got 2');
    await expect(remote.combine([{ x: 1, y: seed(1) }, { x: 1, y: seed(2) }], 2)).rejects.toThrow('"shares[1].x" repeats x = 1');
  });

  it('close rejects pending and later calls', async () => {
    const remote = new RemoteEngine(() => {}, 'void');
    const pending = remote.mask(new Uint32Array(2), seed(1), []);
    remote.close(new Error('worker gone'));
    await expect(pending).rejects.toThrow('worker gone');
    await expect(remote.combine([], 1)).rejects.toThrow('worker gone');
    expect(remote.receive({ v: 1, id: 1, ok: true, vector: new Uint32Array(2) })).toBe(false);
  });

  it('recomputeFromTranscript through the channel gives the aggregator’s sum', async () => {
    const inputs = [
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
      [-1, -2, -3],
      [0.5, 0, 2],
    ];
    const o = await runRound({ inputs, dropouts: { mask: [1] } }); // a dropped node: pairwise masks to remove
    expect(o.result).not.toBeNull();
    const remote = connect(localEngine(nobleAesCtrPrg));
    const r = await recomputeFromTranscript(o.transcript, { ...deps(SeededRandom.fromSeed(1)), engine: remote });
    expect(r.ok && Array.from(r.value.sum)).toEqual(Array.from(o.result?.sum ?? []));
    // A worker that is gone ends the recomputation with a reason instead of throwing through.
    remote.close(new Error('worker gone'));
    const gone = await recomputeFromTranscript(o.transcript, { ...deps(SeededRandom.fromSeed(1)), engine: remote });
    expect(gone).toEqual({ ok: false, error: 'secagg engine failed hashing a masked input: worker gone' });
  });
});
