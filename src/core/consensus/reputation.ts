// Reputation in [0, 1], held as integer micro-units (0..1_000_000), changed ONLY by these rules,
// applied while a committed block is applied (app-state.ts), so every honest node computes the same
// values and hence the same powers:
//   - each block's last commit (the QC of the previous height): every validator of that height whose
//     precommit is in it gains reputationCommitGainMicros, every other one loses
//     reputationAbsenceDecayMicros (gains are slow, absence costs more); the proposer's last commit
//     includes precommits that arrived after its decision (Chain.extendLastCommit), so "absent"
//     means missing when the next block was proposed, not merely slower than the first 2/3;
//   - each aggregation result in the block: contributors gain reputationRoundGainMicros, dropouts
//     lose reputationDropoutPenaltyMicros;
//   - proven misbehaviour (committed evidence): reputation becomes 0.
// Values are clamped to [0, 10^6]. A new candidate starts at reputationStartMicros.
import { MICROS } from './genesis.ts';

export interface ReputationParams {
  readonly reputationStartMicros: number;
  readonly reputationCommitGainMicros: number;
  readonly reputationAbsenceDecayMicros: number;
  readonly reputationRoundGainMicros: number;
  readonly reputationDropoutPenaltyMicros: number;
}

const clamp = (v: number): number => Math.min(MICROS, Math.max(0, v));

/** After one last-commit: did this validator's precommit make it in? */
export function afterCommit(reputationMicros: number, signed: boolean, p: ReputationParams): number {
  return clamp(reputationMicros + (signed ? p.reputationCommitGainMicros : -p.reputationAbsenceDecayMicros));
}

/** After a committed aggregation result that lists this node as contributor or dropout. */
export function afterRound(reputationMicros: number, contributed: boolean, p: ReputationParams): number {
  return clamp(reputationMicros + (contributed ? p.reputationRoundGainMicros : -p.reputationDropoutPenaltyMicros));
}

/** Proven misbehaviour. */
export function afterMisbehaviour(): number {
  return 0;
}
