import { describe, expect, it } from 'vitest';
import {
  decodeGenesisMessage,
  decodeHello,
  decodeSyncRequest,
  decodeSyncResponse,
  decodeTxMessage,
  encodeGenesisMessage,
  encodeHello,
  encodeSyncRequest,
  encodeSyncResponse,
  encodeTxMessage,
} from '../../src/core/consensus/chain-messages.ts';

describe('chain application messages (types 40–45)', () => {
  it('round-trip, and every truncation or extra byte is refused', () => {
    const hash = new Uint8Array(32).fill(3);
    const cases: [Uint8Array, (b: Uint8Array) => { ok: boolean }][] = [
      [encodeHello({ genesisHash: hash, genesisTimeMs: 1234, height: 9, startedAtMs: 77 }), decodeHello],
      [encodeGenesisMessage(new Uint8Array([1, 2, 3])), decodeGenesisMessage],
      [encodeSyncRequest(hash), decodeSyncRequest],
      [encodeSyncResponse({ genesisHash: hash, certificates: [], snapshot: null }), decodeSyncResponse],
      [encodeTxMessage(new Uint8Array([5, 6])), decodeTxMessage],
    ];
    for (const [bytes, decode] of cases) {
      expect(decode(bytes).ok).toBe(true);
      for (let n = 0; n < bytes.length; n++) expect(decode(bytes.subarray(0, n)).ok).toBe(false);
      const longer = new Uint8Array(bytes.length + 1);
      longer.set(bytes);
      expect(decode(longer).ok).toBe(false);
    }
    expect(decodeHello(encodeHello({ genesisHash: null, genesisTimeMs: 0, height: 0, startedAtMs: 5 }))).toEqual({
      ok: true,
      value: { genesisHash: null, genesisTimeMs: 0, height: 0, startedAtMs: 5 },
    });
    const h = decodeHello(cases[0]![0]);
    expect(h.ok && h.value).toEqual({ genesisHash: hash, genesisTimeMs: 1234, height: 9, startedAtMs: 77 });
  });
});
