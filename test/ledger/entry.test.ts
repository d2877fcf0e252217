// Entry codec: every kind round-trips, and the decoder is strict (truncation, trailing bytes,
// unknown version/kind/event, non-canonical values are refused, never thrown).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteWriter } from '../../src/core/codec/index.ts';
import { compactResult, encodeHeader, encodeResult } from '../../src/core/consensus/block.ts';
import { decodeEntry, encodeEntry, ENTRY_VERSION, type LogEntry, type ReceiptEntry } from '../../src/core/ledger/entry.ts';
import { sampleEntries } from './helpers.ts';

describe('entry codec', () => {
  it('round-trips every kind', async () => {
    const entries = await sampleEntries();
    expect(new Set(entries.map((e) => e.kind)).size).toBe(5);
    for (const e of entries) {
      const bytes = encodeEntry(e);
      expect(bytes[0]).toBe(ENTRY_VERSION);
      expect(ENTRY_VERSION).toBe(3);
      const d = decodeEntry(bytes);
      expect(d).toEqual({ ok: true, value: e });
    }
  });

  it('v3 receipts carry header, compact result item and paths; v1 receipts (without them) still decode', async () => {
    const r = (await sampleEntries()).find((e): e is ReceiptEntry => e.kind === 'receipt')!;
    const v2 = encodeEntry(r);
    // v1 layout: the same fields without the block part that follows the QC.
    const qcEnd = 1 + 1 + 8 + 16 + 8 + 32 + 4 + new DataView(v2.buffer, v2.byteOffset).getUint32(66);
    const transcriptLen = 32 + 8 + 8 + 32 + 1 + 32 * r.transcript.proof.length;
    const v1 = new Uint8Array([1, ...v2.subarray(1, qcEnd), ...v2.subarray(v2.length - transcriptLen)]);
    const { block, ...legacy } = r;
    expect(block).toBeDefined();
    expect(decodeEntry(v1)).toEqual({ ok: true, value: legacy });
    // Written entries are always current: a receipt without its block is a programmer error.
    expect(() => encodeEntry(legacy)).toThrow(/"block" is required/);
    // A current receipt cut right after the QC (the v1 layout under a newer version byte) is refused.
    expect(decodeEntry(new Uint8Array([ENTRY_VERSION, ...v1.subarray(1)])).ok).toBe(false);
    expect(decodeEntry(new Uint8Array([2, ...v1.subarray(1)])).ok).toBe(false);
  });

  it('v3 receipts store a fixed-size result item whatever the contributor count', async () => {
    const r = (await sampleEntries()).find((e): e is ReceiptEntry => e.kind === 'receipt')!;
    const sizes = [1, 1000].map((n) => {
      const full = { roundId: r.roundId, transcriptHash: r.transcript.root, sum: new Uint32Array(8), contributors: Array.from({ length: n }, (_, i) => new Uint8Array(16).fill(i & 0xff)), dropouts: [] };
      return encodeEntry({ ...r, block: { ...r.block!, result: compactResult(full) } }).length;
    });
    expect(sizes[0]).toBe(sizes[1]);
  });

  it('v2 receipts (full result item, no contributor path) still decode, keeping the item', async () => {
    const r = (await sampleEntries()).find((e): e is ReceiptEntry => e.kind === 'receipt')!;
    const bp = r.block!;
    const full = { roundId: r.roundId, transcriptHash: r.transcript.root, sum: Uint32Array.of(1, 2, 3), contributors: [new Uint8Array(16).fill(19)], dropouts: [] };
    expect(compactResult(full)).toEqual(bp.result);
    const v3 = encodeEntry(r);
    const qcEnd = 1 + 1 + 8 + 16 + 8 + 32 + 4 + new DataView(v3.buffer, v3.byteOffset).getUint32(66);
    const t = r.transcript;
    const w = new ByteWriter().u8(2).bytes(v3.subarray(1, qcEnd));
    w.varBytes(encodeHeader(bp.header)).varBytes(encodeResult(full)).u32(bp.resultIdx).u32(bp.resultCount).u8(bp.resultProof.length);
    for (const p of bp.resultProof) w.bytes(p);
    w.u16(bp.validators.length);
    for (const v of bp.validators) w.bytes(v.publicKey).u64(v.power);
    w.bytes(t.commitment).u64(t.leafIdx).u64(t.treeSize).bytes(t.root).u8(t.proof.length);
    for (const p of t.proof) w.bytes(p);
    const { contributorProof: _, ...withoutPath } = bp;
    expect(decodeEntry(w.finish())).toEqual({ ok: true, value: { ...r, block: { ...withoutPath, legacyResult: full } } });
  });

  it('refuses every truncation and any trailing byte', async () => {
    for (const e of await sampleEntries()) {
      const bytes = encodeEntry(e);
      for (let n = 0; n < bytes.length; n++) expect(decodeEntry(bytes.subarray(0, n)).ok, `${e.kind} cut at ${n}`).toBe(false);
      expect(decodeEntry(new Uint8Array([...bytes, 0])).ok).toBe(false);
    }
  });

  it('refuses unknown versions, kinds, events and non-canonical fields', async () => {
    const [contribution, vote, , , slash] = (await sampleEntries()) as LogEntry[];
    const c = encodeEntry(contribution as LogEntry);
    const patch = (b: Uint8Array, at: number, v: number): Uint8Array => {
      const x = b.slice();
      x[at] = v;
      return x;
    };
    expect(decodeEntry(patch(c, 0, ENTRY_VERSION + 1)).ok).toBe(false); // version
    expect(decodeEntry(patch(c, 0, 0)).ok).toBe(false);
    expect(decodeEntry(patch(c, 1, 0)).ok).toBe(false); // kind
    expect(decodeEntry(patch(c, 1, 6)).ok).toBe(false);
    const v = encodeEntry(vote as LogEntry);
    expect(decodeEntry(patch(v, 10, 3)).ok).toBe(false); // vote type
    expect(decodeEntry(patch(v, 23, 2)).ok).toBe(false); // hasBlock
    const s = encodeEntry(slash as LogEntry);
    expect(decodeEntry(patch(s, 10, 7)).ok).toBe(false); // stake event
    expect(decodeEntry(patch(s, 19, 2)).ok).toBe(false); // sign byte
    const negZero = encodeEntry({ kind: 'stake', timeMs: 1, event: 'stake', height: 1, amount: 0, total: 0 });
    expect(decodeEntry(patch(negZero, 19, 1)).ok).toBe(false);
  });

  it('programmer errors throw with the field named', async () => {
    const [contribution] = (await sampleEntries()) as LogEntry[];
    expect(() => encodeEntry({ ...(contribution as LogEntry), timeMs: -1 })).toThrow(/timeMs/);
    expect(() => encodeEntry({ kind: 'contribution', timeMs: 1, roundId: new Uint8Array(3), commitment: new Uint8Array(32) })).toThrow(/roundId/);
    expect(() => encodeEntry({ kind: 'stake', timeMs: 1, event: 'stake', height: 1, amount: 0.5, total: 0 })).toThrow(/amount/);
  });

  it('random bytes never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        const d = decodeEntry(b);
        // Current-version entries are canonical (v1 ones re-encode as v2).
        if (d.ok && b[0] === ENTRY_VERSION) expect(encodeEntry(d.value)).toEqual(b);
      }),
    );
  });

  it('random stake and vote entries round-trip', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
        fc.constantFrom('stake', 'unstake', 'slash', 'reputation', 'jail', 'unjail' as const),
        (t, amount, event) => {
          const e: LogEntry = { kind: 'stake', timeMs: t, event, height: t, amount, total: Math.abs(amount) };
          expect(decodeEntry(encodeEntry(e))).toEqual({ ok: true, value: e });
        },
      ),
    );
  });
});
