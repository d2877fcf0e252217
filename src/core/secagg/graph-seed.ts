// The public seed of a sparse round's neighbour graph, by commit-reveal among the participants.
//
// Why: the graph decides whose shares protect whom. A seed computed from the advertised keys alone
// can be ground by the aggregator — it chooses which advertisements to relay and can add keys of its
// own, trying seeds until some victim's holders are mostly its own nodes.
//
// How: each advertisement commits to a hash chain r_0 = H(r_1), r_1 = H(r_2), …, r_J = a fresh
// secret (J = REVEAL_ATTEMPTS), by r_0. The aggregator relays the advertisement list, which fixes
// every commitment. The list's hash picks a reveal committee (the first REVEAL_COMMITTEE_SIZE of the
// advertisers shuffled by H(list hash, attempt); everyone in a small round); each member reveals r_1
// in an envelope naming the list, and seed = H(list hash, attempt, the reveals relayed). An honest
// r_j reaches the aggregator only after the list it can no longer change. It may leave out at most
// revealTolerance(c) of the c members' reveals (3 of 32): what it can choose is which of at most 3
// to drop, Σ_{i≤3} C(32, i) = 5,489 seeds. More missing costs an attempt: the aggregator asks the
// next committee (picked by the list hash and the attempt number, never by the aggregator) for the
// next link of their chains, which the earlier reveals did not disclose (preimages). So an aggregator
// chooses among at most REVEAL_ATTEMPTS × 5,489 = 21,956 random graphs per round — where before it got
// as many as it could hash — and a round survives silent or withholding members: with 8% of the
// advertisers silent or corrupt a committee is short with 25% probability, all four with 0.4%. The
// committee is picked by a hash the aggregator can grind (by the advertisements it relays), but that
// helps only if at least 29 of a committee's 32 are its own: 3·10⁻³⁴ per try at 5% corrupt.
// Complete-graph rounds (n ≤ complete_graph_max) need no seed and skip all of this.
import { bytesEqual, concatBytes, hexToBytes, utf8ToBytes } from '../bytes.ts';
import { sha256, sha256Parts } from '../crypto/hash.ts';
import type { NodeId } from '../crypto/node-id.ts';
import { err, ok, type Result } from '../result.ts';
import { ROUND_ID_BYTES, type AdvertiseKeys, type SeedReveal } from './messages.ts';
import { seededPermutation } from './neighbour-graph.ts';

const CHAIN_TAG = utf8ToBytes('aegis/secagg/graph-seed-chain/v1');
const LIST_TAG = utf8ToBytes('aegis/secagg/advertisements/v1');
const RANK_TAG = utf8ToBytes('aegis/secagg/reveal-committee/v1');
const SEED_TAG = utf8ToBytes('aegis/secagg/graph-seed/v2');

export const GRAPH_SEED_REVEAL_BYTES = 32;
/** Reveal committee size: the seed takes every member's reveal that came, with at most revealTolerance missing. */
export const REVEAL_COMMITTEE_SIZE = 32;
/** Committees asked at most, one after another, before the round aborts (the aggregator's choice is among these). */
export const REVEAL_ATTEMPTS = 4;

/** Members of a committee of `size` whose reveals may be missing: 3 of 32, fewer in small committees (⌊size/10⌋). */
export function revealTolerance(size: number): number {
  return Math.min(3, Math.floor(size / 10));
}

const link = (r: Uint8Array): Uint8Array => sha256(concatBytes(CHAIN_TAG, r));

/** The hash chain of a secret: [r_0 (the commitment), r_1, …, r_J = secret]. */
export function revealChain(secret: Uint8Array): Uint8Array[] {
  if (secret.length !== GRAPH_SEED_REVEAL_BYTES) throw new Error(`"secret" must be ${GRAPH_SEED_REVEAL_BYTES} bytes, got ${secret.length}`);
  const chain: Uint8Array[] = [secret.slice()];
  for (let j = 0; j < REVEAL_ATTEMPTS; j++) chain.unshift(link(chain[0] as Uint8Array));
  return chain;
}

/** True when `reveal` is link `attempt` of the chain committed to by `commitment` (H^attempt(reveal) = r_0). */
export function opensCommitment(reveal: Uint8Array, attempt: number, commitment: Uint8Array): boolean {
  if (!isAttempt(attempt) || reveal.length !== GRAPH_SEED_REVEAL_BYTES) return false;
  let r = reveal;
  for (let j = 0; j < attempt; j++) r = link(r);
  return bytesEqual(r, commitment);
}

export function isAttempt(attempt: number): boolean {
  return Number.isInteger(attempt) && attempt >= 1 && attempt <= REVEAL_ATTEMPTS;
}

/**
 * The advertisement list a participant was shown, by hash: the round id and each advertiser's id
 * and advertisement body (keys and commitments) in node-id order. Every reveal names it, so the
 * transcript shows whether all participants were shown one list.
 */
export function advertisementListHash(roundId: Uint8Array, advertisements: ReadonlyMap<NodeId, Uint8Array>): Uint8Array {
  if (roundId.length !== ROUND_ID_BYTES) throw new Error(`"roundId" must be ${ROUND_ID_BYTES} bytes`);
  const parts: Uint8Array[] = [LIST_TAG, roundId];
  for (const id of [...advertisements.keys()].sort()) {
    const body = advertisements.get(id) as Uint8Array;
    // Length-prefixed: bodies of any length cannot run into each other.
    parts.push(hexToBytes(id), u32be(body.length), body);
  }
  return sha256Parts(parts);
}

const u32be = (n: number): Uint8Array => Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);

/** Who reveals in `attempt`, sorted: the first REVEAL_COMMITTEE_SIZE of the advertisers shuffled by H(list hash, attempt). */
export function revealCommittee(listHash: Uint8Array, attempt: number, advertisers: Iterable<NodeId>): NodeId[] {
  if (!isAttempt(attempt)) throw new Error(`"attempt" must be an integer in 1..${REVEAL_ATTEMPTS}, got ${attempt}`);
  const ids = [...advertisers];
  if (ids.length <= REVEAL_COMMITTEE_SIZE) return ids.sort();
  const seed = sha256(concatBytes(RANK_TAG, listHash, Uint8Array.of(attempt)));
  return seededPermutation(ids, seed).slice(0, REVEAL_COMMITTEE_SIZE).sort();
}

/** The graph seed: H(list hash, attempt, each relayed member's id and reveal in node-id order). */
export function graphSeed(listHash: Uint8Array, attempt: number, reveals: ReadonlyMap<NodeId, Uint8Array>): Uint8Array {
  const parts: Uint8Array[] = [SEED_TAG, listHash, Uint8Array.of(attempt)];
  for (const id of [...reveals.keys()].sort()) parts.push(hexToBytes(id), reveals.get(id) as Uint8Array);
  return sha256Parts(parts);
}

/** Why a reveal does not fit its advertisement, list and attempt, or null when it does. */
export function revealError(reveal: SeedReveal, advertised: AdvertiseKeys, roundId: Uint8Array, listHash: Uint8Array, attempt: number): string | null {
  if (!bytesEqual(reveal.roundId, roundId)) return 'belongs to another round';
  if (!bytesEqual(reveal.advertisementsHash, listHash)) return 'names another advertisement list';
  if (reveal.attempt !== attempt) return `is for attempt ${reveal.attempt}, not ${attempt}`;
  if (!opensCommitment(reveal.reveal, attempt, advertised.graphSeedCommitment)) return 'does not open its commitment';
  return null;
}

/** The committee members without a reveal, sorted. */
export function missingReveals(committee: Iterable<NodeId>, reveals: ReadonlyMap<NodeId, unknown>): NodeId[] {
  return [...committee].filter((id) => !reveals.has(id)).sort();
}

/** Why `missing` members are too many for a committee of `size`, naming them; null when within revealTolerance. */
export function shortCommitteeReason(missing: readonly NodeId[], size: number, attempt: number): string | null {
  const tolerance = revealTolerance(size);
  if (missing.length <= tolerance) return null;
  const named = missing.slice(0, 5).join(', ') + (missing.length > 5 ? `, … (${missing.length - 5} more)` : '');
  return `graph seed: ${missing.length} of the ${size} members of the attempt-${attempt} reveal committee did not reveal (${named}); at most ${tolerance} may be missing`;
}

/**
 * The graph seed from one attempt's reveals (decoded, one per sender): each from a member of the
 * attempt's committee, fitting its advertisement and the list; at most revealTolerance missing.
 * What a participant checks of the reveal bundle and an auditor of the transcript, alike.
 */
export function seedFromReveals(
  reveals: ReadonlyMap<NodeId, SeedReveal>,
  advertised: ReadonlyMap<NodeId, AdvertiseKeys>,
  roundId: Uint8Array,
  listHash: Uint8Array,
  attempt: number,
): Result<Uint8Array> {
  const committee = revealCommittee(listHash, attempt, advertised.keys());
  const members = new Set(committee);
  for (const [id, r] of reveals) {
    const a = advertised.get(id);
    if (a === undefined || !members.has(id)) return err(`the graph-seed reveal from ${id} is not from the attempt-${attempt} committee`);
    const why = revealError(r, a, roundId, listHash, attempt);
    if (why) return err(`the graph-seed reveal from ${id} ${why}`);
  }
  const short = shortCommitteeReason(missingReveals(committee, reveals), committee.length, attempt);
  if (short) return err(short);
  return ok(graphSeed(listHash, attempt, new Map([...reveals].map(([id, r]) => [id, r.reveal]))));
}
