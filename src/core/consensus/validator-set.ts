// Building and indexing a height's validator set. Sorted by id so every node numbers validators
// identically (QC signature indices refer to these positions); the hash commits to the ordered
// (publicKey, power) list so a header names exactly one set.
//
// hash = SHA-256(tag('aegis/consensus/validator-set/v1') ‖ u32 n ‖ n × (32 public key ‖ u64 power))
import { bytesToHex } from '../bytes.ts';
import { ByteWriter } from '../codec/index.ts';
import { ED25519_PUBLIC_KEY_BYTES } from '../crypto/ed25519.ts';
import { domainTag, sha256 } from '../crypto/hash.ts';
import { nodeIdFromPublicKey, type NodeId } from '../crypto/node-id.ts';
import { err, ok, type Result } from '../result.ts';
import { MAX_VALIDATORS } from './vote-codec.ts';
import type { Hash, Validator, ValidatorSet } from './types.ts';

/**
 * Bound on total power. Proposer priorities stay within a few multiples of the total (rescaled to a
 * spread of 2·total, new validators at −1.125·total), so 2^48 keeps every priority and every
 * 3·signed > 2·total comparison exact in doubles (< 2^53).
 */
export const MAX_TOTAL_POWER = 2 ** 48;

const SET_TAG = domainTag('aegis/consensus/validator-set/v1');

export function validatorSetHash(sorted: readonly Validator[]): Hash {
  const w = new ByteWriter(SET_TAG.length + 4 + sorted.length * 40).bytes(SET_TAG).u32(sorted.length);
  for (const v of sorted) w.bytes(v.publicKey).u64(v.power);
  return sha256(w.finish());
}

/**
 * Checks and sorts `validators` (by id); `priorities`, if given, are aligned with the input order
 * (default 0: a genesis set). Rejects, naming the entry: an empty set, too many, a key that is not
 * 32 bytes, an id that is not the key's id, duplicate ids or keys, power that is not a positive safe
 * integer, total above MAX_TOTAL_POWER, priorities that are not safe integers.
 */
export function tryMakeValidatorSet(
  validators: readonly Validator[],
  priorities?: readonly number[],
): Result<ValidatorSet> {
  if (validators.length === 0) return err('validator set is empty');
  if (validators.length > MAX_VALIDATORS) return err(`validator set has ${validators.length} entries, limit ${MAX_VALIDATORS}`);
  if (priorities !== undefined && priorities.length !== validators.length)
    return err('priorities must be aligned with validators');
  const seenKeys = new Set<string>();
  const seenIds = new Set<NodeId>();
  let total = 0;
  const entries: { v: Validator; p: number }[] = [];
  for (let i = 0; i < validators.length; i++) {
    const v = validators[i] as Validator;
    if (!(v.publicKey instanceof Uint8Array) || v.publicKey.length !== ED25519_PUBLIC_KEY_BYTES)
      return err(`validator ${i}: public key must be ${ED25519_PUBLIC_KEY_BYTES} bytes`);
    if (nodeIdFromPublicKey(v.publicKey) !== v.id) return err(`validator ${i}: id ${v.id} is not its key's id`);
    if (seenIds.has(v.id)) return err(`validator ${i}: duplicate id ${v.id}`);
    const key = bytesToHex(v.publicKey);
    if (seenKeys.has(key)) return err(`validator ${i}: duplicate public key`);
    if (!Number.isSafeInteger(v.power) || v.power <= 0) return err(`validator ${i}: power must be a positive integer, got ${v.power}`);
    total += v.power;
    if (total > MAX_TOTAL_POWER) return err(`total power exceeds ${MAX_TOTAL_POWER}`);
    const p = priorities === undefined ? 0 : (priorities[i] as number);
    if (!Number.isSafeInteger(p)) return err(`validator ${i}: priority must be a safe integer`);
    seenIds.add(v.id);
    seenKeys.add(key);
    entries.push({ v: { id: v.id, publicKey: v.publicKey.slice(), power: v.power }, p });
  }
  entries.sort((a, b) => (a.v.id < b.v.id ? -1 : a.v.id > b.v.id ? 1 : 0));
  const sorted = entries.map((e) => e.v);
  return ok({
    validators: sorted,
    totalPower: total,
    hash: validatorSetHash(sorted),
    proposerPriorities: entries.map((e) => e.p),
  });
}

/** As tryMakeValidatorSet, for trusted callers: throws on a bad entry. */
export function makeValidatorSet(validators: readonly Validator[], priorities?: readonly number[]): ValidatorSet {
  const r = tryMakeValidatorSet(validators, priorities);
  if (!r.ok) throw new Error(`"validators": ${r.error}`);
  return r.value;
}

const indexCache = new WeakMap<ValidatorSet, Map<string, number>>();

/** Position of the validator with this public key, or -1. */
export function indexOfValidator(set: ValidatorSet, publicKey: Uint8Array): number {
  let byKey = indexCache.get(set);
  if (byKey === undefined) {
    byKey = new Map(set.validators.map((v, i) => [bytesToHex(v.publicKey), i]));
    indexCache.set(set, byKey);
  }
  return byKey.get(bytesToHex(publicKey)) ?? -1;
}

/** Whether signers holding `power` of `total` are more than 2/3, in exact integer arithmetic. */
export function isQuorum(power: number, total: number): boolean {
  return 3 * power > 2 * total;
}

/** Whether `power` is more than 1/3 of `total` (f + 1 in the paper's terms). */
export function exceedsOneThird(power: number, total: number): boolean {
  return 3 * power > total;
}
