import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import type { ChunkOpenings } from '../../src/core/consensus/chunk-openings.ts';
import {
  decodeOpenings,
  decodeOpeningsRequest,
  encodeOpenings,
  encodeOpeningsRequest,
  MAX_PRIVATE_INDICES,
  widenClaim,
  type Openings,
  type OpeningsRequest,
} from '../../src/core/consensus/private-sample.ts';
import { decodeSampledClaim, encodeSampledClaim, type SampledClaim } from '../../src/core/consensus/sampled-claim.ts';
import { MessageType, messageTypes } from '../../src/core/net/message-types.ts';
import { CHUNK_WORDS } from '../../src/core/secagg/masked-chunks.ts';
import type { ChunkOpening } from '../../src/core/secagg/transcript.ts';

// The private sample's two messages (types 55, 56): round trips, strict decoding, registry bounds;
// and widenClaim, which merges the answer into the public claim.

const ID_A = bytesToHex(new Uint8Array(16).fill(0xa1));
const ID_B = bytesToHex(new Uint8Array(16).fill(0x0b));
const opening = (seed: number, words = CHUNK_WORDS, path = 2): ChunkOpening => ({
  words: Uint32Array.from({ length: words }, (_, i) => (seed * 7919 + i) >>> 0),
  proof: Array.from({ length: path }, (_, j) => new Uint8Array(32).fill((seed + j) & 0xff)),
});
const openingsOf = (indices: readonly number[], tag: number): Map<string, ChunkOpening[]> =>
  new Map([ID_A, ID_B].map((id, n) => [id, indices.map((c) => opening(tag * 1000 + n * 100 + c, c === 2 ? 100 : CHUNK_WORDS))]));

const REQUEST: OpeningsRequest = { roundId: new Uint8Array(16).fill(3), root: new Uint8Array(32).fill(9), indices: [1, 4, 7] };
const OPENINGS: Openings = { ...REQUEST, chunks: openingsOf(REQUEST.indices, 1) };

/** Every strict prefix of a valid encoding, and the encoding with a byte more: all refused. */
function expectStrict(bytes: Uint8Array, decode: (b: Uint8Array) => { ok: boolean }): void {
  for (const cut of [0, 1, 17, 49, 52, bytes.length - 33, bytes.length - 1]) expect(decode(bytes.subarray(0, cut)).ok).toBe(false);
  const longer = new Uint8Array(bytes.length + 1);
  longer.set(bytes);
  expect(decode(longer).ok).toBe(false);
}

describe('private-sample messages', () => {
  it('the request round-trips and is strict: truncated, trailing byte, bad version, too many or unordered indices refused', () => {
    const bytes = encodeOpeningsRequest(REQUEST);
    expect(bytes.length).toBe(1 + 16 + 32 + 4 + 3 * 4);
    expect(decodeOpeningsRequest(bytes)).toEqual({ ok: true, value: { ...REQUEST, indices: [...REQUEST.indices] } });
    expectStrict(bytes, decodeOpeningsRequest);
    const v2 = bytes.slice();
    v2[0] = 2;
    expect(decodeOpeningsRequest(v2)).toMatchObject({ ok: false, error: expect.stringMatching(/version 2/) });
    for (const indices of [[4, 1], [1, 1]])
      expect(decodeOpeningsRequest(encodeOpeningsRequest({ ...REQUEST, indices }))).toMatchObject({ ok: false, error: expect.stringMatching(/ascending/) });
    // A count over the bound is refused before anything is read for it.
    const many = bytes.slice();
    new DataView(many.buffer).setUint32(49, MAX_PRIVATE_INDICES + 1);
    expect(decodeOpeningsRequest(many)).toMatchObject({ ok: false, error: expect.stringMatching(/at most/) });
    expect(() => encodeOpeningsRequest({ ...REQUEST, indices: Array.from({ length: MAX_PRIVATE_INDICES + 1 }, (_, i) => i) })).toThrow();
    expect(() => encodeOpeningsRequest({ ...REQUEST, roundId: new Uint8Array(15) })).toThrow();
  });

  it('the largest request fits its registry bound; both types are direct', () => {
    const largest = encodeOpeningsRequest({ ...REQUEST, indices: Array.from({ length: MAX_PRIVATE_INDICES }, (_, i) => 0xffff_ff00 + i) });
    expect(decodeOpeningsRequest(largest).ok).toBe(true);
    expect(largest.length).toBeLessThanOrEqual(messageTypes.get(MessageType.ChainRoundOpeningsRequest)!.maxBodyBytes);
    expect(messageTypes.get(MessageType.ChainRoundOpeningsRequest)!.direct).toBe(true);
    expect(messageTypes.get(MessageType.ChainRoundOpenings)!.direct).toBe(true);
  });

  it('the openings round-trip (a short last chunk too) and are strict', () => {
    const bytes = encodeOpenings(OPENINGS);
    const d = decodeOpenings(bytes);
    if (!d.ok) throw new Error(d.error);
    expect(d.value.roundId).toEqual(OPENINGS.roundId);
    expect(d.value.root).toEqual(OPENINGS.root);
    expect(d.value.indices).toEqual(OPENINGS.indices);
    expect(d.value.chunks).toEqual(OPENINGS.chunks);
    expectStrict(bytes, decodeOpenings);
    const v0 = bytes.slice();
    v0[0] = 0;
    expect(decodeOpenings(v0)).toMatchObject({ ok: false, error: expect.stringMatching(/version 0/) });
    // A chunk longer than CHUNK_WORDS, a path longer than any tree's: refused.
    expect(decodeOpenings(encodeOpenings({ ...OPENINGS, indices: [1], chunks: new Map([[ID_A, [opening(1, CHUNK_WORDS + 1)]]]) })).ok).toBe(false);
    expect(decodeOpenings(encodeOpenings({ ...OPENINGS, indices: [1], chunks: new Map([[ID_A, [opening(1, 8, 65)]]]) })).ok).toBe(false);
    // Openings that do not match the indices are not encoded at all.
    expect(() => encodeOpenings({ ...OPENINGS, indices: [1] })).toThrow();
  });

  it('the sampled claim (whose openings encoding the answer shares) still round-trips', () => {
    const claim = baseClaim([0, 5]);
    const d = decodeSampledClaim(encodeSampledClaim(claim));
    if (!d.ok) throw new Error(d.error);
    expect(d.value.indices).toEqual([0, 5]);
    expect(d.value.chunks).toEqual(claim.chunks);
  });
});

function baseClaim(indices: number[]): SampledClaim {
  const result = { roundId: new Uint8Array(16).fill(3), transcriptHash: new Uint8Array(32).fill(9), sum: new Uint32Array(8), contributors: [], dropouts: [] };
  return { result, light: [], indices, chunks: openingsOf(indices, 0) };
}

describe('widenClaim', () => {
  it('merges the private openings in index order, the claim\'s at their places', () => {
    const claim = baseClaim([2, 5]);
    const priv = openingsOf([0, 3, 9], 1);
    const w = widenClaim(claim, [0, 3, 9], priv);
    if (!w.ok) throw new Error(w.error);
    expect(w.value.indices).toEqual([0, 2, 3, 5, 9]);
    for (const id of [ID_A, ID_B]) {
      const [p0, p3, p9] = priv.get(id)!;
      const [c2, c5] = claim.chunks.get(id)!;
      expect(w.value.chunks.get(id)).toEqual([p0, c2, p3, c5, p9]);
    }
    expect(w.value.result).toBe(claim.result);
  });

  it('refuses a missing or extra contributor, a wrong number of openings, an index the claim opens', () => {
    const claim = baseClaim([2, 5]);
    const missing: ChunkOpenings = new Map([[ID_A, openingsOf([0], 1).get(ID_A)!]]);
    expect(widenClaim(claim, [0], missing)).toMatchObject({ ok: false, error: expect.stringMatching(/openings for 1 contributors/) });
    const other = new Map(openingsOf([0], 1));
    other.delete(ID_B);
    other.set(bytesToHex(new Uint8Array(16).fill(0xcc)), openingsOf([0], 1).get(ID_A)!);
    expect(widenClaim(claim, [0], other)).toMatchObject({ ok: false, error: expect.stringMatching(/no private openings for contributor/) });
    expect(widenClaim(claim, [0, 1], openingsOf([0], 1))).toMatchObject({ ok: false, error: expect.stringMatching(/do not match the indices/) });
    expect(widenClaim(claim, [5], openingsOf([5], 1))).toMatchObject({ ok: false, error: expect.stringMatching(/already opens/) });
  });
});
