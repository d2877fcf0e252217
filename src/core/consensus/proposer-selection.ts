// Weighted round-robin proposer selection, as CometBFT spec/consensus/proposer-selection.md and
// types/validator_set.go: each step every priority grows by its power, the highest (ties: smallest
// id) proposes and drops by the total power. Before the steps, priorities are rescaled so their spread
// is at most 2·total and centred on 0. New validators start at −1.125·total, behind everyone.
// Over N steps each validator proposes ≈ N·power/total times. All arithmetic is exact integers.
//
// How the application carries priorities (they are application state, not part of the set hash):
// - genesis: makeValidatorSet(validators) — priorities 0.
// - the proposer of (height h, round r) is proposerIndex(set_h, r): the set's priorities stepped r+1
//   times on a copy. Rounds never change the stored priorities (as in CometBFT, where round
//   increments live on the consensus copy only).
// - after committing h: set_{h+1} = advanceValidatorSet(set_h, validators_{h+1}) — one step (round 0's
//   choice), then power changes keep their priority, removed validators are dropped, new ones start at
//   −1.125·total, rescale, centre. Every node applies this to the same committed data, so all agree.
import { makeValidatorSet } from './validator-set.ts';
import type { Validator, ValidatorSet } from './types.ts';

/** CometBFT PriorityWindowSizeFactor: the spread of priorities is kept within 2·total. */
export const PRIORITY_WINDOW_FACTOR = 2;

/** Go's integer division truncates toward zero. */
const quot = (a: number, b: number): number => Math.trunc(a / b);

/** RescalePriorities: if max − min exceeds diffMax, divide every priority by ⌈diff / diffMax⌉. */
export function rescalePriorities(priorities: number[], diffMax: number): void {
  if (priorities.length === 0 || diffMax <= 0) return;
  const diff = Math.max(...priorities) - Math.min(...priorities);
  if (diff <= diffMax) return;
  const ratio = Math.ceil(diff / diffMax);
  for (let i = 0; i < priorities.length; i++) priorities[i] = quot(priorities[i] as number, ratio);
}

/** shiftByAvgProposerPriority: subtract the floor of the mean (sum in BigInt, so it is exact). */
export function centrePriorities(priorities: number[]): void {
  if (priorities.length === 0) return;
  let sum = 0n;
  for (const p of priorities) sum += BigInt(p);
  const n = BigInt(priorities.length);
  // big.Int Div is Euclidean: floor for a positive divisor.
  let avg = sum / n;
  if (sum % n !== 0n && sum < 0n) avg -= 1n;
  const a = Number(avg);
  for (let i = 0; i < priorities.length; i++) priorities[i] = (priorities[i] as number) - a;
}

function step(set: ValidatorSet, pr: number[]): number {
  let chosen = 0;
  for (let i = 0; i < pr.length; i++) {
    pr[i] = (pr[i] as number) + (set.validators[i] as Validator).power;
    // Strictly greater: on a tie the earlier index (smaller id, the set is sorted) wins.
    if ((pr[i] as number) > (pr[chosen] as number)) chosen = i;
  }
  pr[chosen] = (pr[chosen] as number) - set.totalPower;
  return chosen;
}

/**
 * IncrementProposerPriority(times) on a copy: rescale, centre, then `times` steps.
 * Returns the new priorities and the index of the last step's proposer.
 */
export function incrementPriorities(
  set: ValidatorSet,
  times: number,
): { priorities: number[]; proposerIndex: number } {
  if (!Number.isInteger(times) || times < 1) throw new Error(`"times" must be a positive integer`);
  const pr = set.proposerPriorities.slice();
  rescalePriorities(pr, PRIORITY_WINDOW_FACTOR * set.totalPower);
  centrePriorities(pr);
  let chosen = 0;
  for (let t = 0; t < times; t++) chosen = step(set, pr);
  return { priorities: pr, proposerIndex: chosen };
}

/** Per set: priorities after the steps taken so far and the proposer of each round so far. */
const sequences = new WeakMap<ValidatorSet, { pr: number[]; byRound: number[] }>();

/** Index of the proposer of `round` at the set's height: the set's priorities stepped round+1 times. */
export function proposerIndex(set: ValidatorSet, round: number): number {
  if (!Number.isInteger(round) || round < 0) throw new Error(`"round" must be a non-negative integer`);
  let s = sequences.get(set);
  if (s === undefined) {
    const pr = set.proposerPriorities.slice();
    rescalePriorities(pr, PRIORITY_WINDOW_FACTOR * set.totalPower);
    centrePriorities(pr);
    s = { pr, byRound: [] };
    sequences.set(set, s);
  }
  // Rescale and centre happen once per IncrementProposerPriority(times) call, so stepping on from
  // the cached state gives the same answer as a fresh call with times = round + 1.
  while (s.byRound.length <= round) s.byRound.push(step(set, s.pr));
  return s.byRound[round] as number;
}

export function proposerOf(set: ValidatorSet, round: number): Validator {
  return set.validators[proposerIndex(set, round)] as Validator;
}

/**
 * The set of height h+1 from the set of h and the validators (with powers) that h's commit decided.
 * One step for h, then the change set is applied as CometBFT updateWithChangeSet.
 */
export function advanceValidatorSet(set: ValidatorSet, next: readonly Validator[]): ValidatorSet {
  const { priorities } = incrementPriorities(set, 1);
  const carried = new Map(set.validators.map((v, i) => [v.id, priorities[i] as number]));
  let total = 0;
  for (const v of next) total += v.power;
  const start = -(total + Math.floor(total / 8));
  const pr = next.map((v) => carried.get(v.id) ?? start);
  rescalePriorities(pr, PRIORITY_WINDOW_FACTOR * total);
  centrePriorities(pr);
  return makeValidatorSet(next, pr);
}
