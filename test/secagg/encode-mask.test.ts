// engine.encodeMask: a contributor's step 3 in one engine call (encoding with PRG coins, masking, chunk
// root), so in the browser all of it runs in the worker. Checked against the separate pieces, in
// process and through the worker protocol over a MessageChannel (input and results transferred).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nobleAesCtrPrg } from '../../src/core/crypto/prg.ts';
import { encodeVectorWithCoins, inputVector, quantizationStep } from '../../src/core/secagg/encoding.ts';
import { localEngine } from '../../src/core/secagg/engine.ts';
import { dispatch, RemoteEngine } from '../../src/core/secagg/engine-protocol.ts';
import { chunkRoot } from '../../src/core/secagg/masked-chunks.ts';
import { DEFAULT_PARAMS } from '../../src/core/secagg/params.ts';
import { webCryptoAesCtrPrg } from '../../src/platform/webcrypto-prg.ts';

const seed = (b: number): Uint8Array => new Uint8Array(32).fill(b);
const enc = { clipping_range: 2, quantization_range: 1000 };
const pairs = [
  { seed: seed(3), sign: 1 as const },
  { seed: seed(4), sign: -1 as const },
];

describe('encodeVectorWithCoins', () => {
  it('rounds each coordinate to one of its two neighbours on the grid, up exactly when the coin is below the fraction', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.double({ min: -3, max: 3, noNaN: true }), fc.integer({ min: 0, max: 2 ** 32 - 1 })), { minLength: 1, maxLength: 50 }), (cells) => {
        const input = cells.map(([x]) => x);
        const coins = Uint32Array.from(cells.map(([, c]) => c));
        const out = encodeVectorWithCoins(input, enc, coins);
        cells.forEach(([x, c], i) => {
          const v = (Math.min(2, Math.max(-2, x)) + 2) * (1000 / 4);
          const up = c / 2 ** 32 < v - Math.floor(v);
          expect(out[i]).toBe(Math.min(1000, Math.floor(v) + (up ? 1 : 0)));
        });
      }),
    );
  });

  it('is unbiased over PRG coins: the mean of many encodings decodes to the input', async () => {
    const x = 0.3337;
    const trials = 20_000;
    const coins = await nobleAesCtrPrg.expand(seed(9), trials);
    const out = encodeVectorWithCoins(new Float64Array(trials).fill(x), DEFAULT_PARAMS, coins);
    let sum = 0;
    for (const q of out) sum += q;
    // The mean encoding, decoded as one contributor's value (the sum itself would wrap the ring).
    const mean = (sum / trials) * quantizationStep(DEFAULT_PARAMS) - DEFAULT_PARAMS.clipping_range;
    expect(Math.abs(mean - x)).toBeLessThan(quantizationStep(DEFAULT_PARAMS) / 10);
  });

  it('refuses coins of the wrong length and NaN inputs', () => {
    expect(() => encodeVectorWithCoins([1, 2], enc, new Uint32Array(1))).toThrow(/"uniform"/);
    expect(() => inputVector([1, Number.NaN])).toThrow(/NaN/);
  });
});

describe('engine.encodeMask', () => {
  const input = Float64Array.from({ length: 3001 }, (_, i) => Math.sin(i) * 3);

  it('equals encoding with PRG(roundingSeed) coins, then mask, then chunk root; same words with WebCrypto and noble', async () => {
    const noble = localEngine(nobleAesCtrPrg);
    const webcrypto = localEngine(webCryptoAesCtrPrg(globalThis.crypto.subtle));
    const encoded = encodeVectorWithCoins(input, enc, await nobleAesCtrPrg.expand(seed(1), input.length));
    const masked = await noble.mask(encoded.slice(), seed(2), pairs);
    for (const engine of [noble, webcrypto]) {
      const r = await engine.encodeMask(input.slice(), enc, seed(1), seed(2), pairs);
      expect(Array.from(r.encoded)).toEqual(Array.from(encoded));
      expect(Array.from(r.masked)).toEqual(Array.from(masked));
      expect(Array.from(r.chunkRoot)).toEqual(Array.from(chunkRoot(masked)));
    }
    // Another rounding seed rounds differently (the coins come from it).
    const other = await noble.encodeMask(input.slice(), enc, seed(7), seed(2), pairs);
    expect(Array.from(other.encoded)).not.toEqual(Array.from(encoded));
  });

  it('through the worker protocol: same results, the input transferred away, the vectors transferred back; chunkRoots too', async () => {
    const local = localEngine(nobleAesCtrPrg);
    const { port1, port2 } = new MessageChannel();
    port2.onmessage = (event: MessageEvent) => void dispatch(local, event.data).then(({ message, transfer }) => port2.postMessage(message, transfer));
    const remote = new RemoteEngine((message, transfer) => port1.postMessage(message, transfer), 'remote');
    port1.onmessage = (event: MessageEvent) => remote.receive(event.data);
    try {
      const want = await local.encodeMask(input.slice(), enc, seed(1), seed(2), pairs);
      const sent = input.slice();
      const got = await remote.encodeMask(sent, enc, seed(1), seed(2), pairs);
      expect(sent.byteLength).toBe(0);
      expect(Array.from(got.encoded)).toEqual(Array.from(want.encoded));
      expect(Array.from(got.masked)).toEqual(Array.from(want.masked));
      expect(Array.from(got.chunkRoot)).toEqual(Array.from(want.chunkRoot));
      // Programmer errors reject before anything is transferred.
      const kept = input.slice();
      await expect(remote.encodeMask(kept, { clipping_range: 0, quantization_range: 10 }, seed(1), seed(2), pairs)).rejects.toThrow(/clipping_range/);
      await expect(remote.encodeMask(kept, enc, new Uint8Array(3), seed(2), pairs)).rejects.toThrow(/roundingSeed/);
      expect(kept.length).toBe(input.length);
      // chunkRoots: the vectors go to the worker and come back with their roots, in order.
      const a = Uint32Array.from({ length: 2500 }, (_, i) => i * 7);
      const b = Uint32Array.from({ length: 1024 }, (_, i) => i ^ 0xabcd);
      const hashed = await remote.chunkRoots([a.slice(), b.slice()]);
      expect(hashed.vectors.map((v) => Array.from(v))).toEqual([Array.from(a), Array.from(b)]);
      expect(hashed.roots.map((r) => Array.from(r))).toEqual([Array.from(chunkRoot(a)), Array.from(chunkRoot(b))]);
      expect(Array.from(hashed.roots[0]!)).not.toEqual(Array.from(hashed.roots[1]!));
    } finally {
      port1.close();
      port2.close();
    }
  });
});
