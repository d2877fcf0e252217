// recomputeFromTranscript: the aggregate as a deterministic function of signed envelopes, so any
// node can check an aggregator's claim. The transcript is, in order:
//   the aggregator's SecAggOpen, every SecAggAdvertise (U1), in a sparse round the SecAggSeedReveal
//   envelopes of the reveal attempt that fixed the graph (graph-seed.ts), every SecAggMaskedInput
//   (U3), every SecAggConsistency (U4) and every SecAggUnmask (U5) envelope — exactly as signed.
// A masked input counts only with its sender's signed statement (masked-chunks.ts) and a vector
// that matches the statement's chunk root; recomputeSampled checks the same round from the light
// transcript (statements instead of vectors) and sums only sampled chunks.
// From it: b_u is rebuilt for each u ∈ U3 (checked against u's commitment) and s_v^SK for each
// dropped v whose mask-key shares were revealed (checked against s_v^PK); then
//   sum = Σ_{u∈U3} y_u − Σ_{u∈U3} PRG(b_u) − Σ_{v dropped} Σ_{u∈U3∩N(v)} σ(u,v)·PRG(s_{u,v}).
// The SecAggEngine (a Web Worker in the browser) rebuilds the secrets, and computes that sum in one
// call once every check has passed.
import { bytesEqual, bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '../bytes.ts';
import type { Verifier } from '../crypto/ed25519.ts';
import { sha256 } from '../crypto/hash.ts';
import { nodeIdFromPublicKey, type NodeId } from '../crypto/node-id.ts';
import { prgRange, type PrgBackend } from '../crypto/prg.ts';
import type { Hash } from '../ledger/merkle.ts';
import { decodeShare, type Share } from '../crypto/shamir.ts';
import type { X25519Backend } from '../crypto/x25519.ts';
import { decodeEnvelope, verifyEnvelope, type Envelope } from '../net/envelope.ts';
import { MessageType } from '../net/message-types.ts';
import type { Result } from '../result.ts';
import { localEngine, type PairMask, type SecAggEngine } from './engine.ts';
import type { LightItem } from './light-transcript.ts';
import { chunkCount, chunkLength, chunkRoot, CHUNK_WORDS, verifyChunk, verifyStatement, type MaskedStatement } from './masked-chunks.ts';
import { addStream } from './masking.ts';
import {
  decodeAdvertiseKeys,
  decodeConsistencySig,
  decodeMaskedInput,
  decodeRoundOpen,
  decodeSeedReveal,
  decodeUnmaskShares,
  type AdvertiseKeys,
  type SeedReveal,
} from './messages.ts';
import { advertisementListHash, isAttempt, REVEAL_ATTEMPTS, seedFromReveals } from './graph-seed.ts';
import { graphShape, neighbourhoods, type GraphShape, type Neighbourhoods } from './neighbour-graph.ts';
import { checkRing, type SecAggParams } from './params.ts';
import { maskSign, pairwiseSeed } from './round-keys.ts';

export interface RecomputeDeps {
  verifier: Verifier;
  x25519: X25519Backend;
  prg: PrgBackend;
  /** Rebuilds the secrets and computes the sum (a Web Worker in the browser); default: in-process with `prg`. */
  engine?: SecAggEngine;
}

export interface AggregateResult {
  roundId: Uint8Array;
  aggregator: NodeId;
  params: SecAggParams;
  /** U3: whose inputs are in the sum, sorted. */
  contributors: NodeId[];
  /** U1 \ U3: advertised but did not finish the masked-input stage. */
  dropped: NodeId[];
  /** The ring sum Σ encode(x_u) over contributors. */
  sum: Uint32Array;
  transcriptHash: Uint8Array;
}

const SEED_COMMIT_TAG = utf8ToBytes('aegis/secagg/self-seed-commitment/v1');

export function commitSelfSeed(seed: Uint8Array): Uint8Array {
  return sha256(concatBytes(SEED_COMMIT_TAG, seed));
}

export interface RoundGraph {
  shape: GraphShape;
  neighbours: Neighbourhoods;
}

/** The round's neighbour graph over `ids`; `seed` (graph-seed.ts) is required unless the graph is complete. */
export function roundGraph(params: SecAggParams, ids: Iterable<NodeId>, seed: Uint8Array | null): RoundGraph {
  const sorted = [...ids].sort();
  const shape = graphShape(sorted.length, params);
  if (!shape.complete && seed === null) throw new Error('a sparse neighbour graph needs its graph seed');
  return { shape, neighbours: neighbourhoods(sorted, seed ?? new Uint8Array(32), shape) };
}

/** Sorted share holders of `owner`: its neighbours and itself. Share x = index + 1. */
export function holdersOf(owner: NodeId, graph: RoundGraph): NodeId[] {
  return [...(graph.neighbours.get(owner) ?? []), owner].sort();
}

export function transcriptHash(envelopes: readonly Uint8Array[]): Uint8Array {
  return transcriptHashOf(envelopes.map((e) => sha256(e)));
}

/** transcriptHash from each envelope's SHA-256 (e.g. hashed by the engine, off the page). */
export function transcriptHashOf(envelopeHashes: readonly Uint8Array[]): Uint8Array {
  return sha256(concatBytes(utf8ToBytes('aegis/secagg/transcript/v1'), ...envelopeHashes));
}

class TranscriptError extends Error {}

function fail(msg: string): never {
  throw new TranscriptError(msg);
}

async function openEnvelope(bytes: Uint8Array, type: number, verifier: Verifier, what: string): Promise<Envelope> {
  const d = decodeEnvelope(bytes);
  if (!d.ok) fail(`${what}: ${d.error}`);
  if (d.value.type !== type) fail(`${what}: unexpected message type ${d.value.type}`);
  if (!(await verifyEnvelope(d.value, verifier))) fail(`${what}: bad signature`);
  return d.value;
}

/** An engine call whose failure (a worker that died, say) ends the recomputation with a reason. */
async function viaEngine<T>(call: () => Promise<T>, what: string): Promise<T> {
  try {
    return await call();
  } catch (e) {
    fail(`secagg engine failed ${what}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function body<T>(r: Result<T>, what: string): T {
  if (!r.ok) fail(`${what}: ${r.error}`);
  return r.value;
}

export async function recomputeFromTranscript(envelopes: readonly Uint8Array[], deps: RecomputeDeps): Promise<Result<AggregateResult>> {
  return guarded(async () => {
    const r = await openRound(envelopes.map((bytes) => ({ kind: 'envelope', bytes })), deps);
    let sum: Uint32Array;
    let hashes: Uint8Array[];
    try {
      // The decoded masked vectors are ours alone: the engine may take them. The envelopes (MBs each)
      // are hashed by the engine too, meanwhile.
      const vectors = r.contributors.map((id) => r.vectors.get(id) as Uint32Array);
      [sum, hashes] = await Promise.all([
        viaEngine(() => r.engine.unmaskSum(vectors, r.terms, r.params.dimension), 'removing the masks'),
        viaEngine(() => r.engine.sha256(envelopes), 'hashing the transcript'),
      ]);
    } finally {
      for (const term of r.terms) term.seed.fill(0);
    }
    const { roundId, aggregator, params, contributors, dropped } = r;
    return { roundId, aggregator, params, contributors, dropped, sum, transcriptHash: transcriptHashOf(hashes) };
  });
}

/** One sampled chunk of one contributor's masked vector, with its path under the signed chunk root. */
export interface ChunkOpening {
  words: Uint32Array;
  proof: Hash[];
}

export interface SampledAggregate {
  roundId: Uint8Array;
  aggregator: NodeId;
  params: SecAggParams;
  contributors: NodeId[];
  dropped: NodeId[];
  /** The sampled chunk indices, as given. */
  indices: number[];
  /** sums[k]: the unmasked sum on chunk indices[k]'s coordinates. */
  sums: Uint32Array[];
}

/**
 * The sum on the coordinates of the sampled chunks only, from the light transcript (light-transcript.ts)
 * and each contributor's openings of those chunks (`chunks.get(id)[k]` opens chunk `indices[k]`).
 * Everything but the vectors is checked exactly as recomputeFromTranscript checks it — every
 * signature, the survivor list, every share and rebuilt secret; each opening must lie under its
 * contributor's signed chunk root; masks are expanded only over the sampled ranges (PRG seek).
 */
export async function recomputeSampled(
  light: readonly LightItem[],
  chunks: ReadonlyMap<NodeId, readonly ChunkOpening[]>,
  indices: readonly number[],
  deps: RecomputeDeps,
): Promise<Result<SampledAggregate>> {
  return guarded(async () => {
    const r = await openRound(light, deps);
    try {
      const n = chunkCount(r.params.dimension);
      if (new Set(indices).size !== indices.length) fail('sampled chunk indices repeat');
      for (const c of indices) if (!Number.isInteger(c) || c < 0 || c >= n) fail(`sampled chunk ${c} is not below ${n}`);
      if (chunks.size !== r.contributors.length) fail(`openings for ${chunks.size} contributors, the transcript has ${r.contributors.length}`);
      const sums = indices.map((c) => new Uint32Array(chunkLength(r.params.dimension, c)));
      for (const u of r.contributors) {
        const openings = chunks.get(u);
        const statement = r.statements.get(u) as MaskedStatement;
        if (openings === undefined || openings.length !== indices.length) fail(`no openings of every sampled chunk for ${u}`);
        indices.forEach((c, k) => {
          const o = openings[k] as ChunkOpening;
          if (!verifyChunk(statement, c, o.words, o.proof)) fail(`chunk ${c} of ${u} is not under its signed chunk root`);
          addStream(sums[k] as Uint32Array, o.words, 1);
        });
      }
      indices.forEach((c, k) => {
        const sum = sums[k] as Uint32Array;
        for (const term of r.terms) addStream(sum, prgRange(deps.prg.algorithm, term.seed, c * CHUNK_WORDS, sum.length), term.sign);
      });
      const { roundId, aggregator, params, contributors, dropped } = r;
      return { roundId, aggregator, params, contributors, dropped, indices: [...indices], sums };
    } finally {
      for (const term of r.terms) term.seed.fill(0);
    }
  });
}

async function guarded<T>(run: () => Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (e) {
    if (e instanceof TranscriptError) return { ok: false, error: e.message };
    throw e;
  }
}

/** A transcript entry: an envelope as signed, or (light transcript) a masked input's signed statement. */
type TranscriptItem = { readonly kind: 'envelope'; readonly bytes: Uint8Array } | LightItem;

interface OpenedRound {
  roundId: Uint8Array;
  aggregator: NodeId;
  params: SecAggParams;
  contributors: NodeId[];
  dropped: NodeId[];
  statements: Map<NodeId, MaskedStatement>;
  /** The masked vectors (absent for a light transcript's statements). */
  vectors: Map<NodeId, Uint32Array>;
  /** What to add to Σ y_u: −PRG(b_u) per contributor, ∓PRG(s_uv) per dropped v and contributor u. The caller wipes the seeds. */
  terms: PairMask[];
  engine: SecAggEngine;
}

/** Every check of the round but the sum, and the seeds whose streams unmask it. */
async function openRound(items: readonly TranscriptItem[], deps: RecomputeDeps): Promise<OpenedRound> {
  const { verifier } = deps;
  const first = items[0];
  if (!first) fail('empty transcript');
  if (first.kind !== 'envelope') fail('the transcript does not start with the round open');
  const openEnv = await openEnvelope(first.bytes, MessageType.SecAggOpen, verifier, 'round open');
  const open = body(decodeRoundOpen(openEnv.body), 'round open');
  const { roundId, params } = open;
  const aggregator = nodeIdFromPublicKey(openEnv.sender);
  const sameRound = (r: Uint8Array, what: string): void => {
    if (!bytesEqual(r, roundId)) fail(`${what}: belongs to another round`);
  };

  const advertised = new Map<NodeId, AdvertiseKeys>();
  const advertisements = new Map<NodeId, Uint8Array>();
  const reveals = new Map<NodeId, SeedReveal>();
  const statements = new Map<NodeId, MaskedStatement>();
  const vectors = new Map<NodeId, Uint32Array>();
  const maskedWith = new Map<NodeId, Set<NodeId>>();
  const consistency = new Map<NodeId, Uint8Array>();
  const revealed: Array<{ holder: NodeId; owner: NodeId; kind: 'self-seed' | 'mask-key'; share: Share }> = [];
  const unmaskers = new Set<NodeId>();
  const order = [MessageType.SecAggAdvertise, MessageType.SecAggSeedReveal, MessageType.SecAggMaskedInput, MessageType.SecAggConsistency, MessageType.SecAggUnmask];
  let stageIndex = 0;
  const inStage = (type: number, i: number): void => {
    while (stageIndex < order.length && order[stageIndex] !== type) stageIndex++;
    if (stageIndex === order.length) fail(`envelope ${i}: type ${type} out of order`);
  };
  // A masked input, from its envelope (with the vector) or from the light transcript (without).
  const takeMasked = async (sender: NodeId, statement: MaskedStatement, signature: Uint8Array, vector: Uint32Array | null): Promise<void> => {
    sameRound(statement.roundId, 'masked input');
    if (!advertised.has(sender)) fail(`masked input from ${sender}, who did not advertise`);
    if (statements.has(sender)) fail(`two masked inputs from ${sender}`);
    if (statement.words !== params.dimension) fail(`masked input from ${sender} has ${statement.words} entries, not ${params.dimension}`);
    if (!(await verifyStatement(statement, signature, verifier))) fail(`masked input from ${sender}: bad statement signature`);
    if (vector !== null) {
      // Hashed by the engine: 4 MB per 1M-entry contributor stays off a page's main thread.
      const { vector: own, root } = deps.engine
        ? await viaEngine(async () => {
            const r = await (deps.engine as SecAggEngine).chunkRoots([vector]);
            return { vector: r.vectors[0] as Uint32Array, root: r.roots[0] as Uint8Array };
          }, 'hashing a masked input')
        : { vector, root: chunkRoot(vector) };
      if (!bytesEqual(root, statement.chunkRoot)) fail(`masked input from ${sender}: the vector does not match its signed chunk root`);
      vectors.set(sender, own);
    }
    statements.set(sender, statement);
    maskedWith.set(sender, new Set(statement.maskedWith.map(bytesToHex)));
  };
  for (let i = 1; i < items.length; i++) {
    const item = items[i] as TranscriptItem;
    if (item.kind === 'masked') {
      inStage(MessageType.SecAggMaskedInput, i);
      await takeMasked(nodeIdFromPublicKey(item.statement.sender), item.statement, item.signature, null);
      continue;
    }
    const d = decodeEnvelope(item.bytes);
    if (!d.ok) fail(`envelope ${i}: ${d.error}`);
    const env = d.value;
    inStage(env.type, i);
    if (!(await verifyEnvelope(env, verifier))) fail(`envelope ${i}: bad signature`);
    const sender = nodeIdFromPublicKey(env.sender);
    if (env.recipient && nodeIdFromPublicKey(env.recipient) !== aggregator) fail(`envelope ${i}: not addressed to the aggregator`);
    switch (env.type) {
      case MessageType.SecAggAdvertise: {
        const m = body(decodeAdvertiseKeys(env.body), `advertise from ${sender}`);
        sameRound(m.roundId, 'advertise');
        if (advertised.has(sender)) fail(`two advertisements from ${sender}`);
        advertised.set(sender, m);
        advertisements.set(sender, env.body);
        break;
      }
      case MessageType.SecAggSeedReveal: {
        const m = body(decodeSeedReveal(env.body), `graph-seed reveal from ${sender}`);
        sameRound(m.roundId, 'graph-seed reveal');
        if (!advertised.has(sender)) fail(`graph-seed reveal from ${sender}, who did not advertise`);
        if (reveals.has(sender)) fail(`two graph-seed reveals from ${sender}`);
        reveals.set(sender, m);
        break;
      }
      case MessageType.SecAggMaskedInput: {
        const m = body(decodeMaskedInput(env.body), `masked input from ${sender}`);
        const statement = { roundId: m.roundId, sender: env.sender, maskedWith: m.maskedWith, words: m.masked.length, chunkRoot: m.chunkRoot };
        await takeMasked(sender, statement, m.statementSignature, m.masked);
        break;
      }
      case MessageType.SecAggConsistency: {
        const m = body(decodeConsistencySig(env.body), `consistency from ${sender}`);
        sameRound(m.roundId, 'consistency');
        if (!statements.has(sender)) fail(`consistency signature from ${sender}, not a survivor`);
        if (consistency.has(sender)) fail(`two consistency signatures from ${sender}`);
        consistency.set(sender, m.survivorsHash);
        break;
      }
      case MessageType.SecAggUnmask: {
        const m = body(decodeUnmaskShares(env.body), `unmask from ${sender}`);
        sameRound(m.roundId, 'unmask');
        if (!consistency.has(sender)) fail(`unmask from ${sender}, who did not sign the survivor list`);
        if (unmaskers.has(sender)) fail(`two unmask messages from ${sender}`);
        unmaskers.add(sender);
        for (const s of m.shares) {
          const share = body(decodeShare(s.share), `share from ${sender}`);
          revealed.push({ holder: sender, owner: bytesToHex(s.owner), kind: s.kind, share });
        }
        break;
      }
    }
  }

  const contributors = [...statements.keys()].sort();
  const dropped = [...advertised.keys()].filter((id) => !statements.has(id)).sort();
  if (contributors.length < params.min_contributors)
    fail(`only ${contributors.length} contributors, min_contributors is ${params.min_contributors}`);
  const ring = checkRing(params, advertised.size);
  if (!ring.ok) fail(ring.error);
  const graph = roundGraph(params, advertised.keys(), checkedGraphSeed(roundId, params, advertised, advertisements, reveals));
  const t = graph.shape.threshold;
  const pairedWith = (u: NodeId): Set<NodeId> => maskedWith.get(u) ?? new Set();
  for (const u of contributors) {
    for (const w of pairedWith(u)) {
      if (!graph.neighbours.get(u)?.has(w)) fail(`${u} claims a mask with ${w}, who is not its neighbour`);
      // Masks between two survivors cancel only if both added them.
      if (statements.has(w) && !pairedWith(w).has(u)) fail(`${u} masked with ${w} but not the reverse: inconsistent share delivery`);
    }
  }

  // ConsistencyCheck: every signer saw the same survivor list, and there are at least t of them.
  const survivorsHash = survivorListHash(roundId, contributors);
  for (const [id, h] of consistency) if (!bytesEqual(h, survivorsHash)) fail(`${id} signed a different survivor list`);
  if (consistency.size < t) fail(`only ${consistency.size} consistency signatures, threshold is ${t}`);

  // Group revealed shares by owner and kind; an honest holder never reveals both kinds for one owner.
  const groups = new Map<string, Share[]>();
  const kindsByHolderOwner = new Map<string, string>();
  for (const r of revealed) {
    const holders = holdersOf(r.owner, graph);
    const index = holders.indexOf(r.holder);
    if (index < 0) fail(`${r.holder} revealed a share of ${r.owner} without being its holder`);
    if (r.share.x !== index + 1) fail(`${r.holder} revealed a share of ${r.owner} with the wrong index`);
    const hk = `${r.holder}/${r.owner}`;
    const prevKind = kindsByHolderOwner.get(hk);
    if (prevKind !== undefined) fail(`${r.holder} revealed ${prevKind === r.kind ? 'twice' : 'both shares'} for ${r.owner}`);
    kindsByHolderOwner.set(hk, r.kind);
    const wantKind = statements.has(r.owner) ? 'self-seed' : 'mask-key';
    if (r.kind !== wantKind) fail(`${r.holder} revealed a ${r.kind} share of ${r.owner}, who ${statements.has(r.owner) ? 'survived' : 'dropped'}`);
    const key = `${r.kind}/${r.owner}`;
    const list = groups.get(key) ?? [];
    list.push(r.share);
    groups.set(key, list);
  }

  const engine = deps.engine ?? localEngine(deps.prg);
  const selfShares = contributors.map((u) => {
    const shares = groups.get(`self-seed/${u}`) ?? [];
    if (shares.length < t) fail(`only ${shares.length} self-seed shares of ${u}, threshold is ${t}`);
    return shares.slice(0, t);
  });
  // Issued together, so a worker engine answers them in one burst rather than one round trip each.
  const selfSeeds = await viaEngine(() => Promise.all(selfShares.map((shares) => engine.combine(shares, t))), 'rebuilding self-seeds');
  const terms: PairMask[] = selfSeeds.map((seed) => ({ seed, sign: -1 }));
  try {
    contributors.forEach((u, i) => {
      if (!bytesEqual(commitSelfSeed(selfSeeds[i] as Uint8Array), (advertised.get(u) as AdvertiseKeys).selfSeedCommitment))
        fail(`the self-seed rebuilt for ${u} does not match its commitment`);
    });
    for (const v of dropped) {
      const peers = contributors.filter((u) => pairedWith(u).has(v));
      if (peers.length === 0) continue; // no survivor masked with v: nothing to remove
      const shares = groups.get(`mask-key/${v}`) ?? [];
      if (shares.length < t) fail(`only ${shares.length} mask-key shares of dropped ${v}, threshold is ${t}`);
      const sk = await viaEngine(() => engine.combine(shares.slice(0, t), t), `rebuilding the mask key of ${v}`);
      try {
        if (!bytesEqual(await deps.x25519.publicKey(sk), (advertised.get(v) as AdvertiseKeys).maskKey))
          fail(`the mask key rebuilt for dropped ${v} does not match its advertised key`);
        const secrets = await deps.x25519.sharedSecrets(sk, peers.map((u) => (advertised.get(u) as AdvertiseKeys).maskKey));
        for (let i = 0; i < peers.length; i++) {
          const u = peers[i] as NodeId;
          const shared = secrets[i];
          if (!shared) fail(`mask key agreement between ${u} and ${v} failed`);
          // u added σ(u,v)·PRG(s_uv); remove it.
          terms.push({ seed: pairwiseSeed(shared, roundId, u, v), sign: maskSign(u, v) === 1 ? -1 : 1 });
        }
      } finally {
        sk.fill(0);
      }
    }
  } catch (e) {
    for (const term of terms) term.seed.fill(0);
    throw e;
  }
  return { roundId, aggregator, params, contributors, dropped, statements, vectors, terms, engine };
}

/**
 * A sparse round's graph seed from the transcript's reveals: one attempt's committee (picked by the
 * advertisement list's hash) with at most revealTolerance members missing, each reveal naming the
 * list the transcript holds and opening its sender's commitment. A complete graph needs none.
 */
function checkedGraphSeed(
  roundId: Uint8Array,
  params: SecAggParams,
  advertised: ReadonlyMap<NodeId, AdvertiseKeys>,
  advertisements: ReadonlyMap<NodeId, Uint8Array>,
  reveals: ReadonlyMap<NodeId, SeedReveal>,
): Uint8Array | null {
  if (graphShape(advertised.size, params).complete) {
    if (reveals.size > 0) fail('graph-seed reveals in a complete-graph round');
    return null;
  }
  const attempt = reveals.values().next().value?.attempt ?? 1;
  if (!isAttempt(attempt)) fail(`graph-seed reveals for attempt ${attempt}, not in 1..${REVEAL_ATTEMPTS}`);
  const seed = seedFromReveals(reveals, advertised, roundId, advertisementListHash(roundId, advertisements), attempt);
  if (!seed.ok) fail(seed.error);
  return seed.value;
}

/** What each survivor signs in the consistency check. */
export function survivorListHash(roundId: Uint8Array, survivors: readonly NodeId[]): Uint8Array {
  return sha256(concatBytes(utf8ToBytes('aegis/secagg/survivors/v1'), roundId, ...[...survivors].sort().map(hexToBytes)));
}
