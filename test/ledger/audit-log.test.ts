// The audit log over storage: appends, heads, proofs, the start-up self-check, atomic commits, and
// the refusal to sign a head inconsistent with the previous one.
import { describe, expect, it } from 'vitest';
import { nobleEd25519 } from '../../src/core/crypto/ed25519.ts';
import { AuditLog } from '../../src/core/ledger/audit-log.ts';
import { encodeEntry } from '../../src/core/ledger/entry.ts';
import { leafHash, rootFromLeafHashes, verifyConsistency, verifyInclusion } from '../../src/core/ledger/merkle.ts';
import { MemoryLogStorage, type LogBatch } from '../../src/core/ledger/storage.ts';
import { memoryLog, sampleEntries, signer } from './helpers.ts';

describe('AuditLog', () => {
  it('appends, signs chained heads, proves inclusion and consistency', async () => {
    const { log, now } = await memoryLog();
    const entries = [...(await sampleEntries(0)), ...(await sampleEntries(1))];
    expect(await log.append(entries[0]!)).toBe(0);
    expect(await log.appendMany(entries.slice(1, 5))).toBe(1);
    const h1 = await log.signHead();
    expect(h1.size).toBe(5);
    expect(await log.signHead()).toBe(h1); // nothing new: same head
    for (const e of entries.slice(5)) await log.append(e);
    now.t += 1000;
    const h2 = await log.signHead();
    expect(h2.prevHash).toEqual(h1.hash);
    expect(h2.timeMs).toBe(now.t);
    expect(h2.root).toEqual(rootFromLeafHashes(entries.map((e) => leafHash(encodeEntry(e)))));
    for (let i = 0; i < entries.length; i++) {
      const p = await log.inclusionProof(i);
      expect(verifyInclusion(i, h2.size, leafHash(encodeEntry(entries[i]!)), p, h2.root).ok).toBe(true);
    }
    expect(verifyConsistency(h1.size, h2.size, await log.consistencyProof(h1.size), h1.root, h2.root).ok).toBe(true);
    expect(await log.rootAt(5)).toEqual(h1.root);
    expect((await log.heads()).map((h) => h.size)).toEqual([5, entries.length]);
  });

  it('reopens from storage and checks it; corrupted storage is refused with the reason', async () => {
    const storage = new MemoryLogStorage();
    const { log } = await memoryLog(1, storage);
    await log.appendMany(await sampleEntries());
    await log.signHead();
    await log.append((await sampleEntries(2))[0]!);
    const again = await memoryLog(1, storage);
    expect(again.log.size).toBe(8);
    expect(again.log.root).toEqual(log.root);
    expect(again.log.head?.size).toBe(7);

    // Another node's key cannot open this log.
    const foreign = await AuditLog.open({ storage, signer: await signer(9), verifier: nobleEd25519, clock: { now: () => 0 } });
    expect(foreign.ok || foreign.error).toMatch(/not this node's/);

    // An entry changed under a signed head.
    const tampered = Object.create(storage) as MemoryLogStorage;
    tampered.entries = async (from, to) => {
      const list = await storage.entries(from, to);
      if (from === 0 && list[2]) list[2] = encodeEntry({ ...(await sampleEntries(5))[2]! });
      return list;
    };
    const bad = await AuditLog.open({ storage: tampered, signer: await signer(1), verifier: nobleEd25519, clock: { now: () => 0 } });
    expect(bad.ok || bad.error).toMatch(/differs from signed head 0/);

    // A stored tree node corrupted.
    const badNodes = Object.create(storage) as MemoryLogStorage;
    badNodes.nodes = async (keys) => (await storage.nodes(keys)).map((h) => (h ? h.map((x) => x ^ 1) : h));
    const bn = await AuditLog.open({ storage: badNodes, signer: await signer(1), verifier: nobleEd25519, clock: { now: () => 0 } });
    expect(bn.ok || bn.error).toMatch(/tree nodes differ/);
  });

  it('a failed commit (tab killed mid-append) leaves the log as before', async () => {
    const storage = new MemoryLogStorage();
    const { log } = await memoryLog(1, storage);
    await log.appendMany((await sampleEntries()).slice(0, 3));
    const before = log.root;
    const failing = Object.create(storage) as MemoryLogStorage;
    failing.commit = async (_b: LogBatch) => {
      throw new Error('transaction aborted');
    };
    const reopened = await AuditLog.open({ storage: failing, signer: await signer(1), verifier: nobleEd25519, clock: { now: () => 0 } });
    if (!reopened.ok) throw new Error(reopened.error);
    await expect(reopened.value.append((await sampleEntries())[3]!)).rejects.toThrow(/aborted/);
    expect(reopened.value.size).toBe(3);
    expect(reopened.value.root).toEqual(before);
    // The log keeps working after the failure (the queue is not poisoned).
    await expect(reopened.value.inclusionProof(1)).resolves.toHaveLength(2);
  });

  it('never signs a head inconsistent with the previous one', async () => {
    const storage = new MemoryLogStorage();
    const { log } = await memoryLog(1, storage);
    await log.appendMany((await sampleEntries()).slice(0, 4));
    await log.signHead();
    await log.append((await sampleEntries())[4]!);
    // Storage now returns a different history for the old part of the tree.
    storage.nodes = ((orig) => async (keys) => (await orig(keys)).map((h, i) => (keys[i]!.level === 0 && h ? h.map((x) => x ^ 0xff) : h)))(storage.nodes.bind(storage));
    await expect(log.signHead()).rejects.toThrow(/refusing to sign a head inconsistent/);
  });
});
