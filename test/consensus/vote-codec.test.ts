// Codecs for votes, proposals, QCs and duplicate-vote evidence: round-trips on random values, every
// truncation and any trailing byte rejected as an error value (never a throw), out-of-range fields rejected.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import { proposalSignBytes, voteSignBytes } from '../../src/core/consensus/sign-bytes.ts';
import type { Proposal, QuorumCertificate, Vote } from '../../src/core/consensus/types.ts';
import {
  decodeDuplicateVoteEvidence,
  decodeProposal,
  decodeQuorumCertificate,
  decodeVote,
  encodeDuplicateVoteEvidence,
  encodeProposal,
  encodeQuorumCertificate,
  encodeVote,
} from '../../src/core/consensus/vote-codec.ts';

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const height = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const arbVote: fc.Arbitrary<Vote> = fc.record({
  type: fc.constantFrom(1 as const, 2 as const),
  height,
  round: fc.integer({ min: 0, max: 1_000_000 }),
  blockHash: fc.option(bytes(32), { nil: null }),
  validator: bytes(32),
  signature: bytes(64),
});
const arbProposal: fc.Arbitrary<Proposal> = fc
  .record({ height, round: fc.integer({ min: 0, max: 1000 }), blockHash: bytes(32), proposer: bytes(32), signature: bytes(64), f: fc.double({ min: 0, max: 1, noNaN: true }) })
  .map(({ f, ...p }) => ({ ...p, polRound: Math.floor(f * (p.round + 1)) - 1 >= p.round ? p.round - 1 : Math.floor(f * (p.round + 1)) - 1 }));
const arbQc: fc.Arbitrary<QuorumCertificate> = fc.record({
  height,
  round: fc.integer({ min: 0, max: 1000 }),
  blockHash: bytes(32),
  signatures: fc.array(fc.record({ validatorIndex: fc.nat(10_000), signature: bytes(64) }), { maxLength: 6 }),
});

function checkCodec<T>(arb: fc.Arbitrary<T>, enc: (v: T) => Uint8Array, dec: (b: Uint8Array) => { ok: boolean }) {
  fc.assert(
    fc.property(arb, (v) => {
      const b = enc(v);
      const back = dec(b);
      expect(back).toEqual({ ok: true, value: v });
      for (let n = 0; n < b.length; n++) expect(dec(b.subarray(0, n)).ok).toBe(false);
      const longer = new Uint8Array(b.length + 1);
      longer.set(b);
      expect(dec(longer).ok).toBe(false);
    }),
    { numRuns: 60 },
  );
}

describe('vote codec', () => {
  it('round-trips votes and rejects every truncation', () => checkCodec(arbVote, encodeVote, decodeVote));
  it('round-trips proposals and rejects every truncation', () => checkCodec(arbProposal, encodeProposal, decodeProposal));
  it('round-trips QCs and rejects every truncation', () =>
    checkCodec(arbQc, encodeQuorumCertificate, decodeQuorumCertificate));
  it('round-trips duplicate-vote evidence and rejects every truncation', () =>
    checkCodec(
      fc.record({ kind: fc.constant('duplicate-vote' as const), voteA: arbVote, voteB: arbVote }),
      encodeDuplicateVoteEvidence,
      decodeDuplicateVoteEvidence,
    ));

  it('rejects a wrong version, an unknown vote type, a bad hasBlock flag and polRound >= round', () => {
    const v: Vote = { type: 1, height: 5, round: 2, blockHash: null, validator: new Uint8Array(32), signature: new Uint8Array(64) };
    const b = encodeVote(v);
    const at = (i: number, x: number) => {
      const c = b.slice();
      c[i] = x;
      return c;
    };
    expect(decodeVote(b).ok).toBe(true);
    expect(decodeVote(at(0, 2))).toMatchObject({ ok: false, error: expect.stringContaining('version') });
    expect(decodeVote(at(1, 3))).toMatchObject({ ok: false, error: expect.stringContaining('type') });
    expect(decodeVote(at(14, 2))).toMatchObject({ ok: false, error: expect.stringContaining('hasBlock') });
    const p: Proposal = { height: 1, round: 3, polRound: 2, blockHash: new Uint8Array(32), proposer: new Uint8Array(32), signature: new Uint8Array(64) };
    const pb = encodeProposal(p);
    pb[16] = 4; // polRound + 1 = 4 → polRound 3 = round
    expect(decodeProposal(pb)).toMatchObject({ ok: false, error: expect.stringContaining('polRound') });
  });

  it('rejects a QC whose count asks for more than the bytes present without allocating', () => {
    const qc = encodeQuorumCertificate({ height: 1, round: 0, blockHash: new Uint8Array(32), signatures: [] });
    new DataView(qc.buffer).setUint32(45, 9_999);
    expect(decodeQuorumCertificate(qc)).toMatchObject({ ok: false, error: expect.stringContaining('truncated') });
    new DataView(qc.buffer).setUint32(45, 20_000);
    expect(decodeQuorumCertificate(qc)).toMatchObject({ ok: false, error: expect.stringContaining('limit') });
  });

  it('throws, naming the field, when asked to encode a malformed value', () => {
    const v: Vote = { type: 1, height: 5, round: 2, blockHash: new Uint8Array(31), validator: new Uint8Array(32), signature: new Uint8Array(64) };
    expect(() => encodeVote(v)).toThrow(/blockHash/);
  });
});

describe('sign bytes', () => {
  it('differ in every field and between votes and proposals', () => {
    const h = new Uint8Array(32).fill(7);
    const base = bytesToHex(voteSignBytes('c', 1, 1, 0, h));
    const variants = [
      voteSignBytes('d', 1, 1, 0, h),
      voteSignBytes('c', 2, 1, 0, h),
      voteSignBytes('c', 1, 2, 0, h),
      voteSignBytes('c', 1, 1, 1, h),
      voteSignBytes('c', 1, 1, 0, null),
      voteSignBytes('c', 1, 1, 0, new Uint8Array(32).fill(8)),
      proposalSignBytes('c', 1, 0, -1, h),
    ].map(bytesToHex);
    expect(new Set([base, ...variants]).size).toBe(variants.length + 1);
    expect(bytesToHex(proposalSignBytes('c', 1, 1, -1, h))).not.toBe(bytesToHex(proposalSignBytes('c', 1, 1, 0, h)));
  });
  it('throws on a bad chain id, a polRound not below round, a short hash', () => {
    expect(() => voteSignBytes('', 1, 1, 0, null)).toThrow(/chainId/);
    expect(() => proposalSignBytes('c', 1, 1, 1, new Uint8Array(32))).toThrow(/polRound/);
    expect(() => voteSignBytes('c', 1, 1, 0, new Uint8Array(3))).toThrow(/blockHash/);
  });
});
