import { describe, expect, it } from 'vitest';
import { nobleEd25519 } from '../../src/core/crypto/ed25519.ts';
import type { AuditLog } from '../../src/core/ledger/audit-log.ts';
import type { ConsistencyResponse, EntriesResponse, HeadsResponse, SizePair } from '../../src/core/ledger/ledger-messages.ts';
import type { SignedTreeHead } from '../../src/core/ledger/tree-head.ts';
import { auditPeer, type AuditTransport } from '../../src/node/ledger-audit.ts';
import { memoryLog } from '../ledger/helpers.ts';

// "Audit a peer" compares what the peer shows now with the head this node last saw from it: a
// history rewritten or shrunk since then fails, naming why, even when the new history is itself
// a perfectly valid log.

/** The three paged requests answered straight from a peer's log. */
function transportOf(log: AuditLog): AuditTransport {
  return {
    heads: async (from, max): Promise<HeadsResponse> => {
      const all = await log.heads();
      return { requestId: 0, total: all.length, from, heads: all.slice(from, from + max).map((h) => h.bytes) };
    },
    entries: async (from, to, size): Promise<EntriesResponse> => {
      const bytes = await log.entryBytes(from, Math.min(to, from + 16));
      return { requestId: 0, from, proofTreeSize: size, entries: await Promise.all(bytes.map(async (b, i) => ({ bytes: b, proof: await log.inclusionProof(from + i, size) }))) };
    },
    consistency: async (pairs: SizePair[]): Promise<ConsistencyResponse> => ({
      requestId: 0,
      answers: await Promise.all(pairs.map(async (p) => ({ ...p, proof: p.size1 > 0 && p.size1 <= p.size2 ? await log.consistencyProof(p.size1, p.size2) : null }))),
    }),
  };
}

const vote = (h: number, round = 0) => ({ kind: 'vote' as const, timeMs: 1, voteType: 1 as const, height: h, round, blockHash: null });

/** A log of `n` votes (round `round`) under key 2, with one signed head over them. */
async function history(n: number, round: number): Promise<{ log: AuditLog; head: SignedTreeHead }> {
  const { log } = await memoryLog(2);
  for (let i = 0; i < n; i++) await log.append(vote(i, round));
  return { log, head: await log.signHead() };
}

describe('audit a peer against the head last seen from it', () => {
  it('passes when the history only grew since the last look', async () => {
    const { log, head: seen } = await history(5, 0);
    for (let i = 5; i < 9; i++) await log.append(vote(i));
    await log.signHead();
    const r = await auditPeer(log.publicKey, transportOf(log), { verifier: nobleEd25519, lastSeen: seen });
    expect(r.failures).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.checks.at(-1)).toMatch(/history only grew since our last look \(size 5 → 9/);
  });

  it('fails, naming it, when the history was rewritten since the last look (a valid log of its own)', async () => {
    const { head: seen } = await history(5, 0);
    const { log: rewritten } = await history(7, 1); // same key, other entries
    const r = await auditPeer(rewritten.publicKey, transportOf(rewritten), { verifier: nobleEd25519, lastSeen: seen });
    expect(r.ok).toBe(false);
    expect(r.failures).toEqual(['history rewritten: the first 5 entries no longer have the root of the head we saw']);
    const alone = await auditPeer(rewritten.publicKey, transportOf(rewritten), { verifier: nobleEd25519 });
    expect(alone.ok).toBe(true); // only the comparison with the last look catches it
  });

  it('fails, naming it, when the history shrank since the last look', async () => {
    const { head: seen } = await history(8, 0);
    const { log: shorter } = await history(3, 0); // a prefix of what was seen: shrank, not rewritten
    const r = await auditPeer(shorter.publicKey, transportOf(shorter), { verifier: nobleEd25519, lastSeen: seen });
    expect(r.ok).toBe(false);
    expect(r.failures).toEqual(['history shrank: we saw a head of size 8, its latest is 3']);
  });

  it('fails when the head last seen was signed by another key', async () => {
    const { head: seen } = await history(2, 0);
    const { log: other } = await memoryLog(3);
    await other.append(vote(1));
    await other.signHead();
    const r = await auditPeer(other.publicKey, transportOf(other), { verifier: nobleEd25519, lastSeen: seen });
    expect(r.failures).toEqual(['last seen head: signed by another key']);
  });
});
