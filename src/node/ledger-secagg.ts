// Wires a node's secure-aggregation service into its audit log: each masked input the node sends
// becomes a contribution entry (the commitment to the envelope exactly as sent), and the rounds the
// node saw finish feed the "full replica" side of the dashboard's storage figure.
import type { LedgerService, ReplicaEstimate } from './ledger-service.ts';
import type { RoundView, SecAggService } from './secagg-service.ts';

/** A SecAggMaskedInput envelope beyond its ring words: header, signature, round id, neighbour list (~8 ids). */
export const MASKED_INPUT_OVERHEAD_BYTES = 144 + 16 + 4 + 8 * 16;

/**
 * What a full replica keeps of the rounds this node saw finish: every contributor's masked input,
 * 4 bytes per coordinate plus the envelope around it. Rounds this node never heard of are not
 * counted, so the figure is a lower bound.
 */
export function secaggReplicaEstimate(views: readonly RoundView[]): ReplicaEstimate {
  let bytes = 0;
  let rounds = 0;
  let inputs = 0;
  for (const v of views) {
    if (v.result === null) continue;
    rounds++;
    inputs += v.result.contributors.length;
    bytes += v.result.contributors.length * (4 * v.params.dimension + MASKED_INPUT_OVERHEAD_BYTES);
  }
  return {
    bytes,
    basis: `every masked input: ${rounds} finished round${rounds === 1 ? '' : 's'} seen × their contributors (${inputs} masked inputs) × (4 B × dimension + ${MASKED_INPUT_OVERHEAD_BYTES} B envelope)`,
  };
}

export function connectSecAggToLedger(secagg: SecAggService, ledger: LedgerService): () => void {
  ledger.addReplicaSource(() => secaggReplicaEstimate(secagg.views()));
  return secagg.onContribution((c) => void ledger.recordContribution(c.roundId, c.envelope));
}
