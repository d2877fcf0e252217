// The round tests' view of src/sim/secagg-round.ts: one round between an aggregator and n
// participants in memory, with real signed envelopes and noble crypto (deterministic for a seed).
import type { Random } from '../../src/core/clock.ts';
import { NOBLE_BACKENDS, runSecAggRound, SECAGG_STAGES, type SecAggRoundOutcome, type SecAggRoundSetup, type SecAggStage } from '../../src/sim/secagg-round.ts';

export type Stage = SecAggStage;
export const STAGES: readonly Stage[] = SECAGG_STAGES;
export type RoundSetup = SecAggRoundSetup;
export type RoundOutcome = SecAggRoundOutcome;

/** Noble backends with the given randomness (what recomputeFromTranscript and participants need). */
export const deps = (random: Random) => ({ x25519: NOBLE_BACKENDS.x25519, prg: NOBLE_BACKENDS.prg, verifier: NOBLE_BACKENDS.ed25519, random });

export const runRound = (setup: RoundSetup): Promise<RoundOutcome> => runSecAggRound(setup);
