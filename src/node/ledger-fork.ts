// The developer panel's "Fork my log": a realistic split view. The node signs a second head of its
// latest size whose tree has the last entry rewritten (its time moved by 1 ms), naming the same
// previous head as the real one — two heads of one size with different roots, and two successors
// of one head: evidence the two signed heads prove alone. Nothing of the fork is stored.
import type { Signer } from '../core/crypto/ed25519.ts';
import type { AuditLog } from '../core/ledger/audit-log.ts';
import { decodeEntry, encodeEntry } from '../core/ledger/entry.ts';
import { leafHash } from '../core/ledger/merkle.ts';
import { MemoryTree } from '../core/ledger/tree.ts';
import { signTreeHead, type SignedTreeHead } from '../core/ledger/tree-head.ts';

export async function forkedHead(log: AuditLog, real: SignedTreeHead, signer: Signer): Promise<SignedTreeHead> {
  if (real.size === 0) throw new Error('"real" must cover at least one entry');
  const tree = new MemoryTree();
  const CHUNK = 1000;
  for (let from = 0; from < real.size - 1; from += CHUNK) {
    for (const b of await log.entryBytes(from, Math.min(real.size - 1, from + CHUNK))) tree.append(leafHash(b));
  }
  const [lastBytes] = await log.entryBytes(real.size - 1, real.size);
  const last = decodeEntry(lastBytes as Uint8Array);
  if (!last.ok) throw new Error(`stored entry ${real.size - 1} does not decode: ${last.error}`);
  tree.append(leafHash(encodeEntry({ ...last.value, timeMs: last.value.timeMs + 1 })));
  return signTreeHead({ size: real.size, root: tree.root(), timeMs: real.timeMs, prevHash: real.prevHash }, signer);
}
