// Split-view detection. Nodes gossip their latest signed tree heads; each keeps the last head it
// accepted per peer and, when a head of another size arrives, asks that peer for the consistency
// proof between the two. Two signed heads of one log that no proof reconciles are evidence:
//   - same size, different roots: two histories, proven by the heads alone;
//   - two different heads naming the same previous head: the log forked (an honest log signs one
//     successor per head), proven by the heads alone;
//   - different sizes and the owner's consistency proof fails (or never comes): the evidence stands
//     until the owner publishes a proof that verifies, which anyone can then check.
// checkSplitViewEvidence is the pure check anyone runs on a SplitViewEvidence.
import { bytesEqual, bytesToHex } from '../bytes.ts';
import type { SplitViewEvidence } from '../consensus/types.ts';
import { BoundedMap } from '../bounded-map.ts';
import type { Verifier } from '../crypto/ed25519.ts';
import { verifyConsistency, type Hash } from './merkle.ts';
import { verifyTreeHead, type SignedTreeHead } from './tree-head.ts';

export type HeadObservation =
  /** First head seen from this peer, or an older one already known consistent: recorded. */
  | { kind: 'recorded' }
  /** Nothing new (same head, or a re-signed head of the same tree). */
  | { kind: 'same' }
  /** Ask the peer for consistencyProof(size1, size2) and pass it to `resolve`. */
  | { kind: 'need-proof'; size1: number; size2: number }
  /** The peer's head (and proof) verified: it only appended. */
  | { kind: 'consistent'; size: number }
  | { kind: 'split-view'; evidence: SplitViewEvidence; reason: string }
  /** Not a validly signed head of this peer: dropped (the caller counts it). */
  | { kind: 'invalid'; reason: string };

function evidence(owner: Uint8Array, a: SignedTreeHead, b: SignedTreeHead): SplitViewEvidence {
  return { kind: 'split-view', logOwner: owner.slice(), headA: a.bytes.slice(), headB: b.bytes.slice() };
}

/** Reasons two heads are a split view without any proof, or null. */
function provenFork(a: SignedTreeHead, b: SignedTreeHead): string | null {
  if (bytesEqual(a.bytes, b.bytes)) return null;
  if (a.size === b.size && !bytesEqual(a.root, b.root)) return `two different roots for size ${a.size}`;
  if (a.size !== b.size && bytesEqual(a.prevHash, b.prevHash)) return 'two different successors of one head';
  return null;
}

/** Peers whose last head is kept (least recently seen forgotten first; a forgotten peer starts over). */
export const MONITOR_PEERS_KEPT = 4096;

export class SplitViewMonitor {
  private readonly last: BoundedMap<string, SignedTreeHead>;
  /** A head waiting for its consistency proof, per peer. */
  private readonly pending: BoundedMap<string, SignedTreeHead>;

  constructor(
    private readonly verifier: Verifier,
    peersKept = MONITOR_PEERS_KEPT,
  ) {
    this.last = new BoundedMap(peersKept);
    this.pending = new BoundedMap(peersKept);
  }

  /** Peers with a last head, and with a head waiting for a proof (both bounded by `peersKept`). */
  get tracked(): { last: number; pending: number } {
    return { last: this.last.size, pending: this.pending.size };
  }

  /** The last head accepted from `peer`. */
  lastHead(peer: Uint8Array): SignedTreeHead | undefined {
    return this.last.get(bytesToHex(peer));
  }

  /** A signed head from `peer` arrived (gossip, or a reply to an audit). */
  async observe(peer: Uint8Array, headBytes: Uint8Array): Promise<HeadObservation> {
    const v = await verifyTreeHead(headBytes, this.verifier);
    if (!v.ok) return { kind: 'invalid', reason: v.error };
    const head = v.value;
    if (!bytesEqual(head.publicKey, peer)) return { kind: 'invalid', reason: 'head is signed by another key than the peer' };
    const key = bytesToHex(peer);
    const last = this.last.get(key);
    if (last === undefined) {
      this.last.set(key, head);
      return { kind: 'recorded' };
    }
    const fork = provenFork(last, head);
    if (fork !== null) return { kind: 'split-view', evidence: evidence(peer, last, head), reason: fork };
    if (head.size === last.size) return { kind: 'same' };
    const [small, large] = head.size < last.size ? [head, last] : [last, head];
    if (small.size === 0) {
      // Every tree extends the empty one.
      if (head === large) this.last.set(key, head);
      return { kind: 'consistent', size: large.size };
    }
    this.pending.set(key, head);
    return { kind: 'need-proof', size1: small.size, size2: large.size };
  }

  /** The peer's consistency proof for its pending head. */
  resolve(peer: Uint8Array, proof: readonly Hash[]): HeadObservation {
    const p = this.takePending(peer);
    if (p === null) return { kind: 'invalid', reason: 'no head is waiting for a proof from this peer' };
    const { key, head, small, large } = p;
    const v = verifyConsistency(small.size, large.size, proof, small.root, large.root);
    if (!v.ok) return { kind: 'split-view', evidence: evidence(peer, small, large), reason: `consistency proof ${small.size} → ${large.size} fails: ${v.error}` };
    if (head === large) this.last.set(key, head);
    return { kind: 'consistent', size: large.size };
  }

  /** The peer never answered (timeout): the unreconciled pair is evidence. */
  unanswered(peer: Uint8Array): HeadObservation {
    const p = this.takePending(peer);
    if (p === null) return { kind: 'invalid', reason: 'no head is waiting for a proof from this peer' };
    const { small, large } = p;
    return { kind: 'split-view', evidence: evidence(peer, small, large), reason: `no consistency proof ${small.size} → ${large.size}` };
  }

  /** Removes the peer's head waiting for a proof; with the last head it is checked against, by size. */
  private takePending(peer: Uint8Array): { key: string; head: SignedTreeHead; small: SignedTreeHead; large: SignedTreeHead } | null {
    const key = bytesToHex(peer);
    const head = this.pending.get(key);
    const last = this.last.get(key);
    if (head === undefined || last === undefined) return null;
    this.pending.delete(key);
    const [small, large] = head.size < last.size ? [head, last] : [last, head];
    return { key, head, small, large };
  }
}

export type EvidenceVerdict =
  /** Proven by the two signed heads alone: penalise at once. */
  | { valid: true; proven: 'same-size' | 'same-parent'; reason: string }
  /** Different sizes and no verifying proof given: stands until the owner publishes one. */
  | { valid: true; proven: 'unreconciled'; size1: number; size2: number; reason: string }
  | { valid: false; reason: string };

/**
 * Check split-view evidence: both heads signed by `logOwner`, different, and not reconciled. A
 * `reconcile` proof (the owner's consistency proof between the two sizes), if it verifies, refutes
 * an unreconciled pair; it can never refute a same-size or same-parent fork.
 */
export async function checkSplitViewEvidence(
  e: SplitViewEvidence,
  verifier: Verifier,
  reconcile?: readonly Hash[],
): Promise<EvidenceVerdict> {
  if (e.kind !== 'split-view') return { valid: false, reason: 'not split-view evidence' };
  const [a, b] = await Promise.all([verifyTreeHead(e.headA, verifier), verifyTreeHead(e.headB, verifier)]);
  if (!a.ok) return { valid: false, reason: `head A: ${a.error}` };
  if (!b.ok) return { valid: false, reason: `head B: ${b.error}` };
  if (!bytesEqual(a.value.publicKey, e.logOwner) || !bytesEqual(b.value.publicKey, e.logOwner))
    return { valid: false, reason: 'a head is not signed by the accused log owner' };
  if (bytesEqual(a.value.bytes, b.value.bytes)) return { valid: false, reason: 'the two heads are the same' };
  const fork = provenFork(a.value, b.value);
  if (fork !== null) return { valid: true, proven: a.value.size === b.value.size ? 'same-size' : 'same-parent', reason: fork };
  if (a.value.size === b.value.size) return { valid: false, reason: 'same size and same root: one tree, signed twice' };
  const [small, large] = a.value.size < b.value.size ? [a.value, b.value] : [b.value, a.value];
  if (small.size === 0) return { valid: false, reason: 'every tree extends the empty tree' };
  if (reconcile !== undefined && verifyConsistency(small.size, large.size, reconcile, small.root, large.root).ok)
    return { valid: false, reason: `reconciled: the consistency proof ${small.size} → ${large.size} verifies` };
  return {
    valid: true,
    proven: 'unreconciled',
    size1: small.size,
    size2: large.size,
    reason: `no verifying consistency proof ${small.size} → ${large.size}`,
  };
}
