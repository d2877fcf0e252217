// Split-view detection: consistent growth is accepted; two histories are caught and the evidence
// checks out for anyone; a proof that verifies refutes unreconciled evidence.
import { describe, expect, it } from 'vitest';
import { nobleEd25519 } from '../../src/core/crypto/ed25519.ts';
import { checkSplitViewEvidence, SplitViewMonitor } from '../../src/core/ledger/split-view.ts';
import { MemoryLogStorage } from '../../src/core/ledger/storage.ts';
import { memoryLog, sampleEntries } from './helpers.ts';

async function twoHistories() {
  // One key, two storages: the node shows history A to some peers and B to others.
  const a = await memoryLog(7, new MemoryLogStorage());
  const b = await memoryLog(7, new MemoryLogStorage());
  const common = (await sampleEntries(0)).slice(0, 4);
  await a.log.appendMany(common);
  await b.log.appendMany(common);
  const base = await a.log.signHead();
  await b.log.signHead();
  await a.log.appendMany((await sampleEntries(1)).slice(0, 3));
  await b.log.appendMany((await sampleEntries(2)).slice(0, 3));
  return { a: a.log, b: b.log, base };
}

describe('SplitViewMonitor', () => {
  it('accepts a head that only appended, after checking the proof', async () => {
    const { log } = await memoryLog(3);
    await log.appendMany(await sampleEntries());
    const h1 = await log.signHead();
    const m = new SplitViewMonitor(nobleEd25519);
    expect(await m.observe(log.publicKey, h1.bytes)).toEqual({ kind: 'recorded' });
    expect(await m.observe(log.publicKey, h1.bytes)).toEqual({ kind: 'same' });
    await log.append((await sampleEntries(1))[0]!);
    const h2 = await log.signHead();
    expect(await m.observe(log.publicKey, h2.bytes)).toEqual({ kind: 'need-proof', size1: h1.size, size2: h2.size });
    expect(m.resolve(log.publicKey, await log.consistencyProof(h1.size, h2.size))).toEqual({ kind: 'consistent', size: h2.size });
    expect(m.lastHead(log.publicKey)?.size).toBe(h2.size);
    // A head filed under another peer is invalid.
    expect((await m.observe(new Uint8Array(32), h2.bytes)).kind).toBe('invalid');
  });

  it('catches a fork at the same size, and two successors of one head, with evidence anyone can check', async () => {
    const { a, b } = await twoHistories();
    const ha = await a.signHead();
    const hb = await b.signHead();
    const m = new SplitViewMonitor(nobleEd25519);
    await m.observe(a.publicKey, ha.bytes);
    const seen = await m.observe(b.publicKey, hb.bytes);
    expect(seen.kind).toBe('split-view');
    if (seen.kind !== 'split-view') return;
    expect(await checkSplitViewEvidence(seen.evidence, nobleEd25519)).toMatchObject({ valid: true, proven: 'same-size' });
    // Two successors of the same head, different sizes.
    await b.append((await sampleEntries(3))[0]!);
    const hb2 = await b.signHead();
    const ev = { kind: 'split-view' as const, logOwner: a.publicKey, headA: ha.bytes, headB: hb2.bytes };
    // hb2 names hb, not the shared base: not same-parent, so it stands until a proof reconciles it.
    expect(await checkSplitViewEvidence(ev, nobleEd25519)).toMatchObject({ valid: true, proven: 'unreconciled' });
  });

  it('a failed consistency proof is evidence; a real proof refutes it; forged evidence is refused', async () => {
    const { a, b, base } = await twoHistories();
    const hb = await b.signHead();
    const m = new SplitViewMonitor(nobleEd25519);
    await m.observe(a.publicKey, base.bytes);
    await a.append((await sampleEntries(4))[0]!);
    expect((await m.observe(a.publicKey, hb.bytes)).kind).toBe('need-proof');
    // The node answers from history A, which does not lead to B's root.
    const out = m.resolve(a.publicKey, await a.consistencyProof(base.size, hb.size - 1 >= base.size ? hb.size - 1 : base.size));
    expect(out.kind).toBe('split-view');
    if (out.kind !== 'split-view') return;
    expect(await checkSplitViewEvidence(out.evidence, nobleEd25519)).toMatchObject({ valid: true, proven: 'unreconciled' });
    // Honest pair: the real proof reconciles it, so the "evidence" is refuted.
    const ev = { kind: 'split-view' as const, logOwner: b.publicKey, headA: base.bytes, headB: hb.bytes };
    expect(await checkSplitViewEvidence(ev, nobleEd25519, await b.consistencyProof(base.size, hb.size))).toMatchObject({ valid: false });
    // Same head twice, or a head of someone else, is not evidence.
    expect(await checkSplitViewEvidence({ ...ev, headB: base.bytes }, nobleEd25519)).toMatchObject({ valid: false });
    expect(await checkSplitViewEvidence({ ...ev, logOwner: new Uint8Array(32) }, nobleEd25519)).toMatchObject({ valid: false });
    const broken = hb.bytes.slice();
    broken[broken.length - 5] = (broken[broken.length - 5] as number) ^ 1;
    expect(await checkSplitViewEvidence({ ...ev, headB: broken }, nobleEd25519)).toMatchObject({ valid: false });
    // A silent peer leaves the pair as evidence too.
    const m2 = new SplitViewMonitor(nobleEd25519);
    await m2.observe(a.publicKey, base.bytes);
    await m2.observe(a.publicKey, hb.bytes);
    expect(m2.unanswered(a.publicKey).kind).toBe('split-view');
  });
});
