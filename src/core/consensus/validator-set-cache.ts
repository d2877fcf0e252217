// tryMakeValidatorSet memoised by content, for one verification job: the receipts of many heights
// carry the same deciding set, and rebuilding it (an id per key, a sort, the set's hash) for each
// one costs more than comparing it with the sets already built. Exact: a hit needs every key, id
// and power equal, in order, and tryMakeValidatorSet is a pure function of them.
import { bytesEqual, bytesToHex } from '../bytes.ts';
import type { Result } from '../result.ts';
import type { Validator, ValidatorSet } from './types.ts';
import { tryMakeValidatorSet } from './validator-set.ts';

export type MakeValidatorSet = (validators: readonly Validator[]) => Result<ValidatorSet>;

/** Distinct lists kept (a log's receipts see a handful at a time; older ones are dropped first). */
const DEFAULT_LIMIT = 64;

const sameList = (a: readonly Validator[], b: readonly Validator[]): boolean =>
  a.length === b.length && a.every((v, i) => {
    const w = b[i] as Validator;
    return v.id === w.id && v.power === w.power && bytesEqual(v.publicKey, w.publicKey);
  });

export function validatorSetCache(limit = DEFAULT_LIMIT): MakeValidatorSet {
  if (!Number.isInteger(limit) || limit < 1) throw new Error('"limit" must be a positive integer');
  // Bucketed by length and first key; a bucket holds the lists seen with their results (copies).
  const byFirst = new Map<string, { list: Validator[]; set: Result<ValidatorSet> }[]>();
  let kept = 0;
  return (validators) => {
    const first = validators[0];
    const k = first === undefined || !(first.publicKey instanceof Uint8Array) ? '' : `${validators.length}:${bytesToHex(first.publicKey)}`;
    const bucket = byFirst.get(k) ?? [];
    const hit = bucket.find((x) => sameList(x.list, validators));
    if (hit !== undefined) return hit.set;
    const set = tryMakeValidatorSet(validators);
    if (kept >= limit) {
      byFirst.clear();
      kept = 0;
    }
    const copy = validators.map((v) => ({ id: v.id, publicKey: v.publicKey instanceof Uint8Array ? v.publicKey.slice() : v.publicKey, power: v.power }));
    byFirst.set(k, [...(byFirst.get(k) ?? []), { list: copy, set }]);
    kept++;
    return set;
  };
}
