// engine.sha256: multi-MB envelopes (message ids, transcript hashes) hashed where the engine runs —
// in the browser the worker, with WebCrypto's SHA-256 there. Checked against the page's noble
// sha256 in process, with an injected digest, and through the worker protocol over a MessageChannel
// (the caller's buffers copied, not taken); and the transcript hash from engine hashes equals the
// in-page transcriptHash.
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/crypto/hash.ts';
import { nobleAesCtrPrg } from '../../src/core/crypto/prg.ts';
import { localEngine } from '../../src/core/secagg/engine.ts';
import { dispatch, encodeRequest, RemoteEngine, type EngineRequest } from '../../src/core/secagg/engine-protocol.ts';
import { transcriptHash, transcriptHashOf } from '../../src/core/secagg/transcript.ts';
import { detectWebCryptoSha256, webCryptoSha256 } from '../../src/platform/webcrypto-sha256.ts';

const data = (n: number, salt: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + salt * 7 + (i >> 8)) & 0xff);
const hex = (hs: readonly Uint8Array[]): string[] => hs.map(bytesToHex);

describe('engine.sha256', () => {
  const inputs = [data(0, 1), data(1, 2), data(1000, 3), data(300_001, 4), data(70_000, 5).subarray(123, 65_000)];
  const want = hex(inputs.map((d) => sha256(d)));

  it('equals noble sha256 in process, with noble and with WebCrypto digests', async () => {
    expect(hex(await localEngine(nobleAesCtrPrg).sha256(inputs))).toEqual(want);
    const digest = webCryptoSha256(globalThis.crypto.subtle);
    expect(hex(await localEngine(nobleAesCtrPrg, undefined, { digest }).sha256(inputs))).toEqual(want);
    expect(await detectWebCryptoSha256()).not.toBeNull();
  });

  it('refuses what is not a list of byte arrays', async () => {
    const e = localEngine(nobleAesCtrPrg);
    await expect(e.sha256('x' as unknown as Uint8Array[])).rejects.toThrow(/"data"/);
    await expect(e.sha256([new Uint32Array(2) as unknown as Uint8Array])).rejects.toThrow(/"data\[0\]"/);
  });

  it('encodeRequest copies each buffer compactly and transfers the copy: the caller keeps its bytes', () => {
    const backing = data(1000, 9);
    const view = backing.subarray(100, 300);
    const { message, transfer } = encodeRequest(3, { op: 'sha256', data: [view, backing] });
    const m = message as Extract<EngineRequest, { op: 'sha256' }>;
    expect(transfer).toHaveLength(2);
    expect(transfer).not.toContain(backing.buffer);
    expect(m.data[0]!.buffer.byteLength).toBe(200);
    expect(bytesToHex(m.data[0]!)).toBe(bytesToHex(view));
  });

  it('through the worker protocol: same hashes, the inputs still whole on the caller side', async () => {
    const worker = localEngine(nobleAesCtrPrg, undefined, { digest: webCryptoSha256(globalThis.crypto.subtle) });
    const { port1, port2 } = new MessageChannel();
    port2.onmessage = (event: MessageEvent) => void dispatch(worker, event.data).then(({ message, transfer }) => port2.postMessage(message, transfer));
    const remote = new RemoteEngine((message, transfer) => port1.postMessage(message, transfer), 'remote');
    port1.onmessage = (event: MessageEvent) => remote.receive(event.data);
    try {
      expect(hex(await remote.sha256(inputs))).toEqual(want);
      expect(inputs.map((d) => d.length)).toEqual([0, 1, 1000, 300_001, 64_877]);
      expect(hex(inputs.map((d) => sha256(d)))).toEqual(want);
      await expect(remote.sha256([{} as Uint8Array])).rejects.toThrow(/"data\[0\]"/);
    } finally {
      port1.close();
      port2.close();
    }
  });

  it('transcriptHashOf the engine hashes is transcriptHash', async () => {
    const envelopes = [data(10, 1), data(200_000, 2), data(5, 3)];
    expect(bytesToHex(transcriptHashOf(await localEngine(nobleAesCtrPrg).sha256(envelopes)))).toBe(bytesToHex(transcriptHash(envelopes)));
  });
});
