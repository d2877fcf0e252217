import { describe, expect, it, vi } from 'vitest';
import { nobleEd25519, type Signer } from '../../src/core/crypto/ed25519.ts';
import { nodeIdFromPublicKey } from '../../src/core/crypto/node-id.ts';
import { VoteType } from '../../src/core/consensus/types.ts';
import { decodeLedgerHead } from '../../src/core/ledger/ledger-messages.ts';
import { leafHash, verifyInclusion } from '../../src/core/ledger/merkle.ts';
import { MemoryLogStorage, type LogBatch } from '../../src/core/ledger/storage.ts';
import { parseTreeHead } from '../../src/core/ledger/tree-head.ts';
import { verifyExportedLog } from '../../src/core/ledger/verify.ts';
import type { Envelope } from '../../src/core/net/envelope.ts';
import { sealEnvelope } from '../../src/core/net/envelope.ts';
import { MessageType } from '../../src/core/net/message-types.ts';
import { commitmentOfEnvelope, maskedInputBody } from '../secagg/masked-input-fixture.ts';
import { commitTranscript } from '../../src/core/secagg/transcript-root.ts';
import { LedgerService, type LedgerNode } from '../../src/node/ledger-service.ts';
import { VirtualClock } from '../../src/sim/virtual-clock.ts';
import { sampleBlockProof, signer as seededSigner } from './helpers.ts';

/** One node with no peers: what it broadcasts is kept, timers run on a virtual clock. */
function stubNode(s: Signer, clock: VirtualClock): LedgerNode & { sent: { type: number; body: Uint8Array }[] } {
  const sent: { type: number; body: Uint8Array }[] = [];
  return {
    id: nodeIdFromPublicKey(s.publicKey),
    publicKey: s.publicKey,
    clock,
    sent,
    broadcast: async (type: number, body: Uint8Array) => {
      sent.push({ type, body });
      return {} as Envelope;
    },
    sendTo: async () => ({}) as Envelope,
    onMessage: () => () => {},
    schedule: (task: () => unknown) => void task(),
    publicKeyOf: () => undefined,
  } as unknown as LedgerNode & { sent: { type: number; body: Uint8Array }[] };
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 0));
};

function runTimers(clock: VirtualClock, untilMs: number): void {
  for (;;) {
    const next = clock.peek();
    if (next === undefined || next > untilMs) break;
    clock.runNext();
  }
}

async function setup(storage = new MemoryLogStorage(), key = 1) {
  const s = await seededSigner(key);
  const clock = new VirtualClock(1_767_225_600_000);
  const node = stubNode(s, clock);
  const submitted: unknown[] = [];
  const svc = await LedgerService.start({ node, signer: s, verifier: nobleEd25519, storage, submitEvidence: (e) => submitted.push(e), gossipIntervalMs: 60_000 });
  return { svc, node, clock, storage, submitted, signer: s };
}

const vote = (height: number) => ({ voteType: VoteType.Prevote, height, round: 0, blockHash: new Uint8Array(32).fill(height % 256) });

describe('LedgerService over MemoryLogStorage', () => {
  it('opens with a first (empty) head and gossips each new head', async () => {
    const { svc, node } = await setup();
    const snap = svc.snapshot();
    expect(snap.status).toBe('ready');
    expect(snap.head?.size).toBe(0);
    await svc.recordVote(vote(1));
    await svc.signAndGossip();
    const gossiped = node.sent.filter((m) => m.type === MessageType.LedgerHead);
    expect(gossiped.length).toBe(1);
    const h = decodeLedgerHead(gossiped[0]!.body);
    expect(h.ok && parseTreeHead(h.value.head).ok && (parseTreeHead(h.value.head) as { value: { size: number } }).value.size).toBe(1);
  });

  it('records arriving together share one commit, with consecutive indices', async () => {
    const { svc, storage } = await setup();
    const commit = vi.spyOn(storage, 'commit');
    const indices = await Promise.all(Array.from({ length: 10 }, (_, i) => svc.recordVote(vote(i))));
    expect(indices.map((r) => (r.ok ? r.value : -1))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const appends = commit.mock.calls.filter(([b]) => (b as LogBatch).entries.length > 0);
    expect(appends.length).toBe(1);
    expect(svc.snapshot().recent.map((e) => e.index)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  });

  it('head policy: a head after 16 own entries at once, after 2 s for fewer, never for peer heads alone', async () => {
    const { svc, clock } = await setup();
    await Promise.all(Array.from({ length: 16 }, (_, i) => svc.recordVote(vote(i))));
    await flush();
    expect(svc.snapshot().head?.size).toBe(16);

    await svc.recordStakeEvent({ event: 'reputation', height: 3, amount: 2, total: 502 });
    await flush();
    expect(svc.snapshot().head?.size).toBe(16);
    const t0 = clock.now();
    runTimers(clock, t0 + 1999);
    await flush();
    expect(svc.snapshot().head?.size).toBe(16);
    runTimers(clock, t0 + 2000);
    await flush();
    expect(svc.snapshot().head?.size).toBe(17);

    // A passive entry (a peer's head) is appended but starts no head timer.
    const peerLog = await setup(new MemoryLogStorage(), 9);
    const peerHead = peerLog.svc.auditLog!.head!;
    await svc.record({ kind: 'peer-head', peer: peerLog.signer.publicKey, head: peerHead.bytes });
    await flush();
    const t1 = clock.now();
    runTimers(clock, t1 + 10_000);
    await flush();
    expect(svc.snapshot()).toMatchObject({ size: 18, head: { size: 17 }, unsigned: 1 });
  });

  it('a log that fails its start-up check is shown as failed and never appended to', async () => {
    const { svc, storage } = await setup();
    await svc.recordVote(vote(1));
    await svc.signAndGossip();
    // Rewrite the stored entry under the signed head.
    const entries = (storage as unknown as { entryList: Uint8Array[] }).entryList;
    const first = entries[0]!;
    first[first.length - 1] = (first[first.length - 1] as number) ^ 1;
    const commit = vi.spyOn(storage, 'commit');
    const again = await setup(storage);
    const snap = again.svc.snapshot();
    expect(snap.status).toBe('failed');
    expect(snap.error).toMatch(/start-up check/);
    expect(snap.recent).toEqual([]);
    const r = await again.svc.recordVote(vote(2));
    expect(r).toMatchObject({ ok: false, error: expect.stringMatching(/start-up check/) });
    expect(commit).not.toHaveBeenCalled();
  });

  it('contribution and receipt: the receipt proves the commitment of the envelope that left is in the transcript', async () => {
    const { svc } = await setup();
    const roundId = new Uint8Array(16).fill(4);
    const others = await Promise.all([2, 3, 4].map((k) => seededSigner(k)));
    const me = await seededSigner(1);
    const masked = async (s: Signer, n: number) =>
      (await sealEnvelope({ type: MessageType.SecAggMaskedInput, sender: s.publicKey, sequence: n, body: await maskedInputBody(s, roundId, Uint32Array.of(n, 1, 2)) }, s)).bytes;
    const mine = await masked(me, 2);
    const open = (await sealEnvelope({ type: MessageType.SecAggOpen, sender: others[0]!.publicKey, sequence: 1, body: new Uint8Array(3) }, others[0]!)).bytes;
    const transcript = [open, await masked(others[0]!, 1), mine, await masked(others[1]!, 3), await masked(others[2]!, 4)];

    expect((await svc.recordContribution(roundId, mine)).ok).toBe(true);
    const blockHash = new Uint8Array(32).fill(8);
    const qc = { height: 12, round: 0, blockHash, signatures: [{ validatorIndex: 0, signature: new Uint8Array(64).fill(1) }] };
    const block = sampleBlockProof(roundId, 12, new Uint8Array(32).fill(4));
    const r = await svc.recordReceipt({ roundId, height: 12, blockHash, qc, block, transcript });
    expect(r).toEqual({ ok: true, value: 1 });
    const entry = (await svc.auditLog!.entryBytes(1, 2))[0]!;
    const { decodeEntry } = await import('../../src/core/ledger/entry.ts');
    const d = decodeEntry(entry);
    if (!d.ok || d.value.kind !== 'receipt') throw new Error('not a receipt');
    const t = d.value.transcript;
    const tc = commitTranscript(roundId, transcript);
    if (!tc.ok) throw new Error(tc.error);
    // Leaves: the four commitments sorted by node id, then the unmasking material.
    expect(t).toMatchObject({ leafIdx: tc.value.contributors.indexOf(nodeIdFromPublicKey(me.publicKey)), treeSize: 5 });
    expect(t.commitment).toEqual(commitmentOfEnvelope(roundId, mine));
    expect(t.root).toEqual(tc.value.root);
    expect(verifyInclusion(t.leafIdx, t.treeSize, leafHash(t.commitment), t.proof, t.root).ok).toBe(true);

    // Not a contributor, or a transcript without our input: refused with a reason.
    expect(await svc.recordReceipt({ roundId: new Uint8Array(16).fill(5), height: 12, blockHash, qc, block, transcript })).toMatchObject({ ok: false });
    expect(await svc.recordReceipt({ roundId, height: 12, blockHash, qc, block, transcript: transcript.filter((b) => b !== mine) })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/not in the round's transcript/),
    });

    const exported = await svc.exportLog();
    const verdict = await verifyExportedLog(JSON.stringify(exported), { verifier: nobleEd25519 });
    expect(verdict.failures).toEqual([]);
    expect(verdict.receiptQcs).toBe('not-checked');
  });

  it('reopening restores recent entries and keeps the log and its heads', async () => {
    const { svc, storage } = await setup();
    await Promise.all(Array.from({ length: 5 }, (_, i) => svc.recordVote(vote(i))));
    const head = await svc.signAndGossip();
    const again = await setup(storage);
    const snap = again.svc.snapshot();
    expect(snap.size).toBe(5);
    expect(snap.head?.rootHex).toBe(Buffer.from(head!.root).toString('hex'));
    expect(snap.recent.map((e) => e.kind)).toEqual(['vote', 'vote', 'vote', 'vote', 'vote']);
    expect(await again.svc.entriesPage(1, 3)).toHaveLength(2);
  });

  it('recent keeps the newest 200 summaries, after a batch larger than that and after reopening', async () => {
    const { svc, storage } = await setup();
    const stake = (i: number) => ({ event: 'reputation' as const, height: i, amount: i % 2 === 0 ? i : -i, total: 500 + i });
    await Promise.all(Array.from({ length: 250 }, (_, i) => (i % 3 === 0 ? svc.recordStakeEvent(stake(i)) : svc.recordVote(vote(i)))));
    await Promise.all(Array.from({ length: 30 }, (_, i) => svc.recordVote(vote(250 + i))));
    const stored = (await svc.entriesPage(80, 280)).reverse();
    expect(stored.map((e) => e.index)).toEqual(Array.from({ length: 200 }, (_, i) => 279 - i));
    expect(svc.snapshot().recent).toEqual(stored);
    const again = await setup(storage);
    expect(again.svc.snapshot().recent).toEqual(stored);
  });

  it('fork my log: a second head of the same size, same previous head, different root; the stored log is unchanged', async () => {
    const { svc, node, storage } = await setup();
    await Promise.all(Array.from({ length: 3 }, (_, i) => svc.recordVote(vote(i))));
    const r = await svc.forkLog();
    expect(r.ok).toBe(true);
    const heads = node.sent.filter((m) => m.type === MessageType.LedgerHead).map((m) => {
      const d = decodeLedgerHead(m.body);
      if (!d.ok) throw new Error(d.error);
      const p = parseTreeHead(d.value.head);
      if (!p.ok) throw new Error(p.error);
      return p.value;
    });
    const [real, forked] = heads.slice(-2);
    expect(real!.size).toBe(3);
    expect(forked!.size).toBe(3);
    expect(forked!.prevHash).toEqual(real!.prevHash);
    expect(forked!.root).not.toEqual(real!.root);
    const { checkSplitViewEvidence } = await import('../../src/core/ledger/split-view.ts');
    const v = await checkSplitViewEvidence({ kind: 'split-view', logOwner: node.publicKey, headA: real!.bytes, headB: forked!.bytes }, nobleEd25519);
    expect(v).toMatchObject({ valid: true, proven: 'same-size' });
    const reopened = await setup(storage);
    expect(reopened.svc.snapshot()).toMatchObject({ status: 'ready', size: 3, head: { size: 3 } });
  });
});
