// createWorkerEngine with fake workers (a MessageChannel with dispatch on the far side): calls wait
// for the worker's hello and then go through it; every way a worker can fail to start falls back
// to the page engine; a worker that dies after starting rejects what it held, and the page takes over.
import { afterEach, describe, expect, it } from 'vitest';
import { nobleAesCtrPrg } from '../../src/core/crypto/prg.ts';
import { localEngine, type SecAggEngine } from '../../src/core/secagg/engine.ts';
import { dispatch, engineHello, engineStartFailed } from '../../src/core/secagg/engine-protocol.ts';
import { createWorkerEngine, type WorkerEngineOptions, type WorkerLike } from '../../src/platform/worker-engine.ts';
import { SeededRandom } from '../../src/sim/seeded-random.ts';

const seed = (b: number): Uint8Array => new Uint8Array(32).fill(b);
const reference = localEngine(nobleAesCtrPrg);
const fallback = async (): Promise<SecAggEngine> => localEngine(nobleAesCtrPrg, SeededRandom.fromSeed(1), { simd: false });

type Behaviour = 'serve' | 'ignore';

class FakeWorker implements WorkerLike {
  onmessage: ((event: MessageEvent) => void) | null = null;
  onerror: ((event: ErrorEvent) => void) | null = null;
  onmessageerror: ((event: MessageEvent) => void) | null = null;
  terminated = false;
  received = 0;
  private readonly channel = new MessageChannel();

  constructor(hello: 'ready' | 'failed' | 'none', behaviour: Behaviour = 'serve') {
    const { port1, port2 } = this.channel;
    port1.onmessage = (event: MessageEvent) => this.onmessage?.(event);
    const engine = localEngine(nobleAesCtrPrg, SeededRandom.fromSeed(2));
    port2.onmessage = (event: MessageEvent) => {
      this.received++;
      if (behaviour === 'serve')
        void dispatch(engine, event.data).then(({ message, transfer, wipe }) => {
          port2.postMessage(message, transfer);
          wipe?.();
        });
    };
    if (hello === 'ready') port2.postMessage(engineHello(`fake: ${engine.name}`));
    if (hello === 'failed') port2.postMessage(engineStartFailed('no getRandomValues'));
  }

  postMessage(message: unknown, transfer: Transferable[]): void {
    this.channel.port1.postMessage(message, transfer);
  }

  terminate(): void {
    this.terminated = true;
    this.channel.port1.close();
    this.channel.port2.close();
  }

  fail(message: string): void {
    this.onerror?.({ message, preventDefault() {} } as ErrorEvent);
  }
}

const workers: FakeWorker[] = [];
afterEach(() => {
  for (const w of workers.splice(0)) w.terminate();
});

function engineWith(worker: FakeWorker | (() => never), options: Partial<WorkerEngineOptions> = {}) {
  if (worker instanceof FakeWorker) workers.push(worker);
  return createWorkerEngine({ createWorker: worker instanceof FakeWorker ? () => worker : worker, fallback, readyTimeoutMs: 2000, ...options });
}

async function expectMasksRight(engine: SecAggEngine): Promise<void> {
  const encoded = Uint32Array.from({ length: 1001 }, (_, i) => i * 2654435761);
  const want = await reference.mask(encoded.slice(), seed(1), [{ seed: seed(2), sign: -1 }]);
  expect(Array.from(await engine.mask(encoded, seed(1), [{ seed: seed(2), sign: -1 }]))).toEqual(Array.from(want));
}

describe('createWorkerEngine', () => {
  it('goes through the worker once it said hello, and is named after it', async () => {
    const worker = new FakeWorker('ready');
    const engine = engineWith(worker);
    expect(engine.name).toBe('worker (starting)');
    await expectMasksRight(engine); // issued before the hello arrived: it waited
    expect(await engine.ready).toBe('worker: fake: aes-ctr/noble, wasm-simd ring');
    expect(worker.received).toBe(1);
    const shares = await engine.split(seed(5), 2, 3);
    expect(Array.from(await engine.combine(shares.slice(1), 2))).toEqual(Array.from(seed(5)));
  });

  it('falls back to the page when the Worker constructor throws', async () => {
    const engine = engineWith(() => {
      throw new Error('Worker is not defined');
    });
    await expectMasksRight(engine);
    expect(engine.name).toBe('page: aes-ctr/noble, js ring (worker failed to start: Worker is not defined)');
  });

  it('falls back when the worker reports that its engine could not start', async () => {
    const worker = new FakeWorker('failed');
    const engine = engineWith(worker);
    await expectMasksRight(engine);
    expect(engine.name).toMatch(/^page: .*worker engine failed: no getRandomValues/);
    expect(worker.terminated).toBe(true);
    expect(worker.received).toBe(0);
  });

  it('falls back when the script fails to load (an error event before any hello)', async () => {
    const worker = new FakeWorker('none');
    const engine = engineWith(worker);
    worker.fail('404 secagg-worker.js');
    await expectMasksRight(engine);
    expect(engine.name).toMatch(/worker error: 404 secagg-worker\.js/);
    expect(worker.received).toBe(0); // nothing was transferred into a worker that never ran
  });

  it('falls back when no hello comes in time', async () => {
    const worker = new FakeWorker('none');
    const engine = engineWith(worker, { readyTimeoutMs: 30 });
    await expectMasksRight(engine);
    expect(engine.name).toMatch(/no worker answer in 30 ms/);
  });

  it('a worker that dies after starting rejects the calls it held; later calls run in the page', async () => {
    const worker = new FakeWorker('ready', 'ignore');
    const engine = engineWith(worker);
    await engine.ready;
    const held = engine.mask(new Uint32Array(8), seed(1), []);
    await new Promise((r) => setTimeout(r, 20));
    worker.fail('out of memory');
    await expect(held).rejects.toThrow('secagg worker failed: worker error: out of memory');
    expect(worker.terminated).toBe(true);
    await expectMasksRight(engine);
    expect(engine.name).toMatch(/^page: /);
  });

  it('close stops the worker and hands later calls to the page', async () => {
    const worker = new FakeWorker('ready');
    const engine = engineWith(worker);
    await engine.ready;
    engine.close();
    expect(worker.terminated).toBe(true);
    await expectMasksRight(engine);
    expect(engine.name).toMatch(/^page: .*closed/);
  });
});
