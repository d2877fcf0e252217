import { describe, expect, it } from 'vitest';
import {
  decodeConsistencyRequest,
  decodeConsistencyResponse,
  decodeEntriesRequest,
  decodeEntriesResponse,
  decodeHeadsRequest,
  decodeHeadsResponse,
  decodeLedgerHead,
  encodeConsistencyRequest,
  encodeConsistencyResponse,
  encodeEntriesRequest,
  encodeEntriesResponse,
  encodeHeadsRequest,
  encodeHeadsResponse,
  encodeLedgerHead,
  MAX_ENTRIES_PER_PAGE,
  MAX_HEADS_PER_PAGE,
  MAX_PROOFS_PER_MESSAGE,
} from '../../src/core/ledger/ledger-messages.ts';
import type { Result } from '../../src/core/result.ts';
import { encodeEntry } from '../../src/core/ledger/entry.ts';
import { sampleEntries } from './helpers.ts';

const h = (v: number): Uint8Array => new Uint8Array(32).fill(v);
const head = new TextEncoder().encode('aegis.log/…\n12\nroot\n');

interface Case {
  name: string;
  bytes: Uint8Array;
  decode: (b: Uint8Array) => Result<unknown>;
}

async function cases(): Promise<Case[]> {
  const entries = (await sampleEntries(1)).map(encodeEntry);
  return [
    { name: 'head', bytes: encodeLedgerHead({ head }), decode: decodeLedgerHead },
    { name: 'consistency request', bytes: encodeConsistencyRequest({ requestId: 7, pairs: [{ size1: 3, size2: 9 }, { size1: 9, size2: 40 }] }), decode: decodeConsistencyRequest },
    {
      name: 'consistency response',
      bytes: encodeConsistencyResponse({ requestId: 7, answers: [{ size1: 3, size2: 9, proof: [h(1), h(2)] }, { size1: 9, size2: 99, proof: null }] }),
      decode: decodeConsistencyResponse,
    },
    { name: 'heads request', bytes: encodeHeadsRequest({ requestId: 1, from: 64, max: 64 }), decode: decodeHeadsRequest },
    { name: 'heads response', bytes: encodeHeadsResponse({ requestId: 1, total: 3, from: 1, heads: [head, head] }), decode: decodeHeadsResponse },
    { name: 'entries request', bytes: encodeEntriesRequest({ requestId: 2, from: 0, to: 300, proofTreeSize: 300 }), decode: decodeEntriesRequest },
    {
      name: 'entries response',
      bytes: encodeEntriesResponse({ requestId: 2, from: 5, proofTreeSize: 40, entries: entries.map((bytes, i) => ({ bytes, proof: [h(i)] })) }),
      decode: decodeEntriesResponse,
    },
  ];
}

describe('ledger wire messages', () => {
  it('round-trip: decode(encode(m)) re-encodes to the same bytes', async () => {
    const c = await cases();
    const enc = [encodeLedgerHead, encodeConsistencyRequest, encodeConsistencyResponse, encodeHeadsRequest, encodeHeadsResponse, encodeEntriesRequest, encodeEntriesResponse] as ((m: never) => Uint8Array)[];
    c.forEach((x, i) => {
      const d = x.decode(x.bytes);
      expect(d.ok, x.name).toBe(true);
      if (d.ok) expect(enc[i]!(d.value as never), x.name).toEqual(x.bytes);
    });
    const r = decodeConsistencyResponse(c[2]!.bytes);
    expect(r.ok && r.value.answers[1]!.proof).toBeNull();
    const e = decodeEntriesResponse(c[6]!.bytes);
    expect(e.ok && e.value.entries.length).toBe(7);
  });

  it('every truncation, a trailing byte and an unknown version are rejected with an error value', async () => {
    for (const c of await cases()) {
      for (let n = 0; n < c.bytes.length; n++) expect(c.decode(c.bytes.subarray(0, n)).ok, `${c.name} cut at ${n}`).toBe(false);
      const longer = new Uint8Array(c.bytes.length + 1);
      longer.set(c.bytes);
      expect(c.decode(longer).ok, `${c.name} + 1 byte`).toBe(false);
      const v2 = c.bytes.slice();
      v2[0] = 2;
      expect(c.decode(v2), c.name).toMatchObject({ ok: false, error: expect.stringMatching(/version 2/) });
    }
  });

  it('bounds: counts over the page limits are refused on both sides', () => {
    const pairs = Array.from({ length: MAX_PROOFS_PER_MESSAGE + 1 }, () => ({ size1: 1, size2: 2 }));
    expect(() => encodeConsistencyRequest({ requestId: 1, pairs })).toThrow(/pairs/);
    expect(() => encodeConsistencyRequest({ requestId: 1, pairs: [] })).toThrow(/pairs/);
    expect(() => encodeHeadsRequest({ requestId: 1, from: 0, max: MAX_HEADS_PER_PAGE + 1 })).toThrow(/max/);
    expect(() => encodeEntriesRequest({ requestId: 1, from: 5, to: 4, proofTreeSize: 0 })).toThrow(/to/);
    expect(() => encodeEntriesResponse({ requestId: 1, from: 0, proofTreeSize: 0, entries: Array.from({ length: MAX_ENTRIES_PER_PAGE + 1 }, () => ({ bytes: new Uint8Array(3), proof: [] })) })).toThrow(/entries/);
    expect(() => encodeHeadsResponse({ requestId: 1, total: 1, from: 0, heads: [head, head] })).toThrow(/total/);

    // Hand-built bodies that claim too much.
    const req = encodeConsistencyRequest({ requestId: 1, pairs: [{ size1: 1, size2: 2 }] });
    req[5] = MAX_PROOFS_PER_MESSAGE + 1;
    expect(decodeConsistencyRequest(req).ok).toBe(false);
    const hr = encodeHeadsRequest({ requestId: 1, from: 0, max: 1 });
    hr[10] = 0;
    expect(decodeHeadsRequest(hr)).toMatchObject({ ok: false, error: expect.stringMatching(/max 0/) });
    const resp = encodeHeadsResponse({ requestId: 1, total: 2, from: 1, heads: [head] });
    resp[8] = 1; // total = 1: the page goes past it
    expect(decodeHeadsResponse(resp).ok).toBe(false);
    const er = encodeEntriesRequest({ requestId: 1, from: 5, to: 6, proofTreeSize: 0 });
    er[20] = 4; // to = 4 < from
    expect(decodeEntriesRequest(er).ok).toBe(false);
    const unavailable = encodeConsistencyResponse({ requestId: 1, answers: [{ size1: 1, size2: 2, proof: null }] });
    unavailable[unavailable.length - 1] = 1; // status "unavailable" but claims a hash
    expect(decodeConsistencyResponse(unavailable).ok).toBe(false);
  });
});
