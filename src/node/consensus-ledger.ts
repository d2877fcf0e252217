// The thin connection between consensus and the audit log (issue 5's hooks): this node's own votes
// and the chain's stake, slash, reputation and jail changes to THIS node go into its log; proven
// split-view evidence from the log goes into the chain's evidence pool. The blocks this node saw
// committed feed the "full replica" side of the storage figure (with secure aggregation's masked
// inputs, ledger-secagg.ts): a full replica keeps every block since genesis.
import { bytesEqual } from '../core/bytes.ts';
import type { CommitInfo } from '../core/consensus/chain.ts';
import type { ConsensusService } from './consensus-service.ts';
import type { LedgerService, ReplicaEstimate } from './ledger-service.ts';

/** What a full replica keeps of the chain: every block to `height`, each of the average size seen. */
export function blocksReplicaEstimate(height: number, sampledBytes: number, sampledBlocks: number): ReplicaEstimate {
  if (sampledBlocks === 0 || height === 0) return { bytes: 0, basis: 'blocks: none seen committed yet' };
  const average = Math.round(sampledBytes / sampledBlocks);
  return {
    bytes: height * average,
    basis: `every block: height ${height} × ${average} B average block (with its QC) over the ${sampledBlocks} block${sampledBlocks === 1 ? '' : 's'} this tab saw committed`,
  };
}

export function connectConsensusToLedger(consensus: ConsensusService, ledger: LedgerService, self: Uint8Array): void {
  ledger.setSubmitEvidence((e) => void consensus.submitEvidence(e));
  consensus.hooks.ownVote.push((v) => void ledger.recordVote({ voteType: v.type, height: v.height, round: v.round, blockHash: v.blockHash }));
  consensus.hooks.commit.push((c) => recordStakeEvents(ledger, c, self));
  const seen = { height: 0, bytes: 0, blocks: 0 };
  consensus.hooks.commit.push((c) => {
    seen.height = Math.max(seen.height, c.height);
    const stored = consensus.chainApp?.blocks.get(c.height);
    if (stored === undefined) return;
    seen.bytes += stored.bytes.length + qcBytes(c.qc.signatures.length);
    seen.blocks++;
  });
  ledger.addReplicaSource(() => blocksReplicaEstimate(seen.height, seen.bytes, seen.blocks));
}

/** A QC as a block carries it: height, round, hash, then (index, signature) per signer. */
const qcBytes = (signatures: number): number => 8 + 4 + 32 + signatures * (2 + 64);

function recordStakeEvents(ledger: LedgerService, c: CommitInfo, self: Uint8Array): void {
  const h = c.height;
  for (const e of c.events) {
    if (e.kind === 'stake' && bytesEqual(e.validator, self))
      void ledger.recordStakeEvent({ event: e.change === 'bond' ? 'stake' : 'unstake', height: h, amount: e.change === 'bond' ? e.amount : -e.amount, total: e.stake });
    else if (e.kind === 'slash' && bytesEqual(e.validator, self))
      void ledger.recordStakeEvent({ event: 'slash', height: h, amount: -e.burned, total: e.stake });
    else if (e.kind === 'jail' && bytesEqual(e.validator, self)) void ledger.recordStakeEvent({ event: 'jail', height: h, amount: 0, total: e.untilHeight });
    else if (e.kind === 'unjail' && bytesEqual(e.validator, self)) void ledger.recordStakeEvent({ event: 'unjail', height: h, amount: 0, total: 0 });
    else if (e.kind === 'reputation')
      for (const r of e.changes)
        if (bytesEqual(r.validator, self) && (r.after === 0 || Math.floor(r.after / 10_000) !== Math.floor(r.before / 10_000)))
          // Every block moves reputation a little; the log keeps steps of 0.01 and drops to 0.
          void ledger.recordStakeEvent({ event: 'reputation', height: h, amount: r.after - r.before, total: r.after });
  }
}
