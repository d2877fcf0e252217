// Shared fixtures for ledger tests: seeded signers, entries of every kind, a log over memory storage.
import { compactResult } from '../../src/core/consensus/block.ts';
import { nobleEd25519, type Signer } from '../../src/core/crypto/ed25519.ts';
import { nodeIdFromPublicKey } from '../../src/core/crypto/node-id.ts';
import { VoteType } from '../../src/core/consensus/types.ts';
import { AuditLog } from '../../src/core/ledger/audit-log.ts';
import type { LogEntry, ReceiptBlockProof } from '../../src/core/ledger/entry.ts';
import { MemoryLogStorage } from '../../src/core/ledger/storage.ts';
import { signTreeHead, NO_PREVIOUS_HEAD } from '../../src/core/ledger/tree-head.ts';

export function seedKey(i: number): Uint8Array {
  const k = new Uint8Array(32).fill(0x5a);
  k[0] = i;
  return k;
}

export const signer = (i: number): Promise<Signer> => nobleEd25519.signer(seedKey(i));

const filled = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v);

/** A syntactically valid (not chain-checked) header + result item for a receipt's codec tests. */
export function sampleBlockProof(roundId: Uint8Array, height: number, transcriptRoot: Uint8Array): ReceiptBlockProof {
  const h = (v: number) => filled(32, v);
  return {
    header: {
      chainId: 'test-chain',
      height,
      timeMs: 1_700_000_000_000,
      prevBlockHash: h(11),
      lastCommitHash: h(12),
      validatorsHash: h(13),
      nextValidatorsHash: h(13),
      appStateRoot: h(14),
      txRoot: h(15),
      resultsRoot: h(16),
      evidenceRoot: h(17),
      proposer: h(18),
    },
    result: compactResult({ roundId, transcriptHash: transcriptRoot, sum: Uint32Array.of(1, 2, 3), contributors: [filled(16, 19)], dropouts: [] }),
    resultIdx: 1,
    resultCount: 3,
    resultProof: [h(20), h(21)],
    validators: [{ id: nodeIdFromPublicKey(h(22)), publicKey: h(22), power: 10 }],
    contributorProof: [h(23)],
  };
}

/** One entry of each kind (and a nil vote), deterministic from `i`. */
export async function sampleEntries(i = 0): Promise<LogEntry[]> {
  const peer = await signer(200);
  const head = await signTreeHead({ size: 3 + i, root: filled(32, 7), timeMs: 1000 + i, prevHash: NO_PREVIOUS_HEAD }, peer);
  const t = 1_700_000_000_000 + i * 10;
  return [
    { kind: 'contribution', timeMs: t, roundId: filled(16, 1 + i), commitment: filled(32, 2) },
    { kind: 'vote', timeMs: t + 1, voteType: VoteType.Prevote, height: 5 + i, round: 0, blockHash: filled(32, 3) },
    { kind: 'vote', timeMs: t + 2, voteType: VoteType.Precommit, height: 5 + i, round: 1, blockHash: null },
    {
      kind: 'receipt',
      timeMs: t + 3,
      roundId: filled(16, 1 + i),
      height: 5 + i,
      blockHash: filled(32, 3),
      qc: { height: 5 + i, round: 0, blockHash: filled(32, 3), signatures: [{ validatorIndex: 0, signature: filled(64, 9) }] },
      block: sampleBlockProof(filled(16, 1 + i), 5 + i, filled(32, 4)),
      transcript: { commitment: filled(32, 2), leafIdx: 0, treeSize: 1, root: filled(32, 4), proof: [] },
    },
    { kind: 'stake', timeMs: t + 4, event: 'slash', height: 6 + i, amount: -50, total: 950 },
    { kind: 'stake', timeMs: t + 5, event: 'reputation', height: 6 + i, amount: 3, total: 503 },
    { kind: 'peer-head', timeMs: t + 6, peer: peer.publicKey, head: head.bytes },
  ];
}

export async function memoryLog(key = 1, storage = new MemoryLogStorage()): Promise<{ log: AuditLog; storage: MemoryLogStorage; now: { t: number } }> {
  const now = { t: 1_700_000_000_000 };
  const opened = await AuditLog.open({ storage, signer: await signer(key), verifier: nobleEd25519, clock: { now: () => now.t } });
  if (!opened.ok) throw new Error(opened.error);
  return { log: opened.value, storage, now };
}
