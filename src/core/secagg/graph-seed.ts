// The public seed of a sparse round's neighbour graph, by commit-reveal among the participants.
//
// Why: the graph decides whose shares protect whom. A seed computed from the advertised keys alone
// can be ground by the aggregator — it chooses which advertisements to relay and can add keys of its
// own, trying seeds until some victim's holders are mostly its own nodes. So each participant puts a
// commitment H(r_u) to a fresh 32-byte r_u in its advertisement; the aggregator relays the
// advertisement list (which fixes every commitment); each participant then reveals r_u in an
// envelope that names that list by hash; the seed is H(list hash, every r_u). The aggregator learns
// an honest r_u only after the list it cannot change any more, and it may not leave a reveal out:
// every advertiser must reveal or the round aborts (choosing which reveals to drop would be
// grinding again). So an aggregator gets one random graph per round, visible on the chain or in the
// dashboard, instead of as many as it can hash. Complete-graph rounds (n ≤ complete_graph_max) need
// no seed and skip the reveal.
import { bytesEqual, concatBytes, hexToBytes, utf8ToBytes } from '../bytes.ts';
import { sha256 } from '../crypto/hash.ts';
import type { NodeId } from '../crypto/node-id.ts';
import { ROUND_ID_BYTES, type AdvertiseKeys, type SeedReveal } from './messages.ts';

const COMMIT_TAG = utf8ToBytes('aegis/secagg/graph-seed-commitment/v1');
const LIST_TAG = utf8ToBytes('aegis/secagg/advertisements/v1');
const SEED_TAG = utf8ToBytes('aegis/secagg/graph-seed/v2');

export const GRAPH_SEED_REVEAL_BYTES = 32;

export function commitGraphSeedShare(reveal: Uint8Array): Uint8Array {
  if (reveal.length !== GRAPH_SEED_REVEAL_BYTES) throw new Error(`"reveal" must be ${GRAPH_SEED_REVEAL_BYTES} bytes, got ${reveal.length}`);
  return sha256(concatBytes(COMMIT_TAG, reveal));
}

/**
 * The advertisement list a participant was shown, by hash: the round id and each advertiser's id
 * and advertisement body (keys and commitments) in node-id order. Every reveal names it, so the
 * transcript shows whether all participants were shown one list.
 */
export function advertisementListHash(roundId: Uint8Array, advertisements: ReadonlyMap<NodeId, Uint8Array>): Uint8Array {
  if (roundId.length !== ROUND_ID_BYTES) throw new Error(`"roundId" must be ${ROUND_ID_BYTES} bytes`);
  const parts: Uint8Array[] = [LIST_TAG, roundId];
  for (const id of [...advertisements.keys()].sort()) parts.push(hexToBytes(id), sha256(advertisements.get(id) as Uint8Array));
  return sha256(concatBytes(...parts));
}

/** The graph seed: H(list hash, r_u for every advertiser in node-id order). `reveals` must hold every advertiser. */
export function graphSeed(advertisementsHash: Uint8Array, reveals: ReadonlyMap<NodeId, Uint8Array>): Uint8Array {
  const parts: Uint8Array[] = [SEED_TAG, advertisementsHash];
  for (const id of [...reveals.keys()].sort()) parts.push(hexToBytes(id), reveals.get(id) as Uint8Array);
  return sha256(concatBytes(...parts));
}

/** Why a reveal does not fit its advertisement and list, or null when it does. */
export function revealError(reveal: SeedReveal, advertised: AdvertiseKeys, roundId: Uint8Array, listHash: Uint8Array): string | null {
  if (!bytesEqual(reveal.roundId, roundId)) return 'belongs to another round';
  if (!bytesEqual(reveal.advertisementsHash, listHash)) return 'names another advertisement list';
  if (!bytesEqual(commitGraphSeedShare(reveal.reveal), advertised.graphSeedCommitment)) return 'does not match its commitment';
  return null;
}

/** The advertisers without a reveal, sorted: any of them leaves the graph unfixed. */
export function missingReveals(advertisers: Iterable<NodeId>, reveals: ReadonlyMap<NodeId, unknown>): NodeId[] {
  return [...advertisers].filter((id) => !reveals.has(id)).sort();
}

/** "3 advertisers did not reveal their graph-seed share (a1b2…, …)": the abort reason, naming them. */
export function missingRevealsReason(missing: readonly NodeId[]): string {
  const named = missing.slice(0, 5).join(', ') + (missing.length > 5 ? `, … (${missing.length - 5} more)` : '');
  return `${missing.length} advertiser${missing.length === 1 ? '' : 's'} did not reveal a graph-seed share (${named}): a sparse round needs every one`;
}
