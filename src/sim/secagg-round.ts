// One secure-aggregation round driven in memory: a SecAggAggregator and n SecAggParticipants call
// each other directly, with real signed envelopes and real crypto, but without the overlay, timers
// or the network simulator. That makes n = 1000 feasible (the Simulator would also gossip every
// broadcast through a partial mesh). `aegis sim secagg`, the secagg scale tests and
// bench/secagg-scale.ts use it; the full path over AegisNodes is SecAggService on the Simulator
// (test/secagg/service-sim.test.ts).
//
// Determinism: participant i draws from `fork("p<i>")` of the seed and signs with `fork("key<i>")`
// (the aggregator is key n); every participant's own steps run in order, and the aggregator sorts
// what it collected, so neither the order in which participants are served nor the crypto backend
// changes a byte (WebCrypto's X25519, Ed25519 and AES-CTR give noble's results): same seed, same
// transcript, same sum. Only timings vary.
//
// Faults: `dropouts[stage]` lists participants that go silent before sending their message of that
// stage (and stay silent); `tamper` rewrites what the aggregator sends one participant (a malicious
// aggregator). Measurements: per-stage wall time and the aggregator's part of it (its last part is
// the recovery, recomputeFromTranscript), and per participant the bytes it sent and received (whole
// envelopes; a broadcast counts once per receiver, overlay relaying is not counted).
//
// One process plays every participant, so the participants share one signature-verification cache
// (each bundle is checked once, not n times) and one X25519 result per pair, and their times
// overlap when `concurrency` > 1. A lone
// client's true cost comes from `replayParticipant`: it rebuilds one participant from the seed and
// feeds it what the aggregator sent it (kept with `record`), alone, with its own verifier.
import { bytesEqual, bytesToHex } from '../core/bytes.ts';
import type { Ed25519Backend, Signer, Verifier } from '../core/crypto/ed25519.ts';
import { nobleEd25519 } from '../core/crypto/ed25519.ts';
import { nodeIdFromPublicKey, type NodeId } from '../core/crypto/node-id.ts';
import { nobleAesCtrPrg, type PrgBackend } from '../core/crypto/prg.ts';
import { nobleX25519, type X25519Backend } from '../core/crypto/x25519.ts';
import { sealEnvelope, type Envelope } from '../core/net/envelope.ts';
import { MessageType } from '../core/net/message-types.ts';
import type { Result } from '../core/result.ts';
import { SecAggAggregator, type AggregatorStage, type Outgoing } from '../core/secagg/aggregator.ts';
import { decodeBundle, decodeIdList, decodeRevealRequest, decodeShareKeys } from '../core/secagg/messages.ts';
import { graphShape, type GraphShape } from '../core/secagg/neighbour-graph.ts';
import { DEFAULT_PARAMS, type SecAggParams } from '../core/secagg/params.ts';
import { SecAggParticipant, type ParticipantStage, type SecAggCrypto, type ToAggregator } from '../core/secagg/participant.ts';
import type { AdversaryModel } from '../core/secagg/threshold-rule.ts';
import type { AggregateResult } from '../core/secagg/transcript.ts';
import { detectEd25519Backend, webCryptoEd25519 } from '../platform/webcrypto-ed25519.ts';
import { detectPrgBackend } from '../platform/webcrypto-prg.ts';
import { detectX25519Backend } from '../platform/webcrypto-x25519.ts';
import { SeededRandom } from './seeded-random.ts';

/**
 * The stage a participant is about to send its message of (AdvertiseKeys … Unmasking). 'reveal' is
 * the graph-seed reveal of a sparse round (graph-seed.ts); a complete-graph round has none, and a
 * participant silenced at 'reveal' there goes silent before ShareKeys.
 */
export type SecAggStage = 'advertise' | 'reveal' | 'share' | 'mask' | 'consistency' | 'unmask';
export const SECAGG_STAGES: readonly SecAggStage[] = ['advertise', 'reveal', 'share', 'mask', 'consistency', 'unmask'];

export interface SecAggBackends {
  x25519: X25519Backend;
  prg: PrgBackend;
  ed25519: Ed25519Backend;
  /** A verifier with state of its own (e.g. WebCrypto's imported-key cache), as one real node has. */
  newVerifier(): Verifier;
}

/** @noble everywhere: slow (noble Ed25519 verifies ~1.4k/s) but available in any JS engine. */
export const NOBLE_BACKENDS: SecAggBackends = {
  x25519: nobleX25519,
  prg: nobleAesCtrPrg,
  ed25519: nobleEd25519,
  newVerifier: () => nobleEd25519,
};

/**
 * WebCrypto X25519, AES-CTR and Ed25519 where the platform has them and they pass their
 * known-answer tests (Node 20 does), noble otherwise. Same outputs as NOBLE_BACKENDS, 10-20x faster.
 */
export async function fastBackends(): Promise<SecAggBackends> {
  const [x25519, prg, ed25519] = await Promise.all([detectX25519Backend(), detectPrgBackend(), detectEd25519Backend()]);
  const subtle = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  const newVerifier = (): Verifier =>
    ed25519.name === 'webcrypto' && subtle ? webCryptoEd25519(subtle, { maxCachedKeys: 4096 }) : ed25519;
  return { x25519, prg, ed25519, newVerifier };
}

/**
 * Verdicts remembered by (signature, public key, message): every participant checks the same
 * advertise and consistency bundles, so in a simulation all but the first check are lookups.
 */
export function cachingVerifier(inner: Verifier): Verifier {
  type Entry = { publicKey: Uint8Array; message: Uint8Array; signature: Uint8Array; ok: Promise<boolean> };
  const seen = new Map<string, Entry[]>();
  return {
    verify(publicKey, message, signature) {
      // The first 12 signature bytes pick the bucket; an entry must match in full.
      const key = bytesToHex(signature.subarray(0, 12));
      const bucket = seen.get(key) ?? [];
      const known = bucket.find(
        (v) => bytesEqual(v.signature, signature) && bytesEqual(v.publicKey, publicKey) && bytesEqual(v.message, message),
      );
      if (known) return known.ok;
      const ok = inner.verify(publicKey, message, signature);
      bucket.push({ publicKey: publicKey.slice(), message: message.slice(), signature: signature.slice(), ok });
      seen.set(key, bucket);
      return ok;
    },
  };
}

/**
 * X25519 for the simulated participants of one round: X25519(a, B) = X25519(b, A), so each pair's
 * secret is derived once for both ends, and a participant that derives it again (at ShareKeys to
 * encrypt, at MaskedInputCollection to decrypt) gets it back. Same values, a third of the work.
 */
export function pairwiseMemoX25519(inner: X25519Backend): X25519Backend {
  const publicOf = new Map<string, Uint8Array>();
  const secrets = new Map<string, Uint8Array | null>();
  const publicKey = async (secretKey: Uint8Array): Promise<Uint8Array> => {
    const hex = bytesToHex(secretKey);
    let pk = publicOf.get(hex);
    if (!pk) {
      pk = await inner.publicKey(secretKey);
      publicOf.set(hex, pk);
    }
    return pk;
  };
  const sharedSecrets = async (secretKey: Uint8Array, peers: readonly Uint8Array[]): Promise<(Uint8Array | null)[]> => {
    const own = bytesToHex(await publicKey(secretKey));
    const keys = peers.map((peer) => {
      const other = bytesToHex(peer);
      return own < other ? `${own}:${other}` : `${other}:${own}`;
    });
    const missing = keys.flatMap((k, i) => (secrets.has(k) ? [] : [i]));
    if (missing.length > 0) {
      const got = await inner.sharedSecrets(secretKey, missing.map((i) => peers[i] as Uint8Array));
      missing.forEach((i, j) => secrets.set(keys[i] as string, got[j] ?? null));
    }
    return keys.map((k) => secrets.get(k)?.slice() ?? null);
  };
  return {
    name: inner.name,
    async generateKeyPair(random) {
      const pair = await inner.generateKeyPair(random);
      publicOf.set(bytesToHex(pair.secretKey), pair.publicKey);
      return pair;
    },
    publicKey,
    sharedSecrets,
    async sharedSecret(secretKey, peer) {
      return (await sharedSecrets(secretKey, [peer]))[0] ?? null;
    },
  };
}

export interface SecAggRoundSetup {
  /** inputs[i] is participant i's vector; all of the round's dimension. */
  inputs: ReadonlyArray<ArrayLike<number>>;
  /** Overrides of DEFAULT_PARAMS; `dimension` defaults to the length of inputs[0]. */
  params?: Partial<SecAggParams>;
  /** Participant indices that go silent before sending their message of that stage. */
  dropouts?: Partial<Record<SecAggStage, readonly number[]>>;
  /** Seed of identities, round id and every participant's randomness (default 1). */
  seed?: number;
  /** Default NOBLE_BACKENDS (see fastBackends). */
  backends?: SecAggBackends;
  /**
   * Participants served at once, default 1. More overlaps WebCrypto's thread pool with JavaScript
   * on the main thread; the results are the same.
   */
  concurrency?: number;
  /** Participants whose received messages are kept, for `replayParticipant`. */
  record?: readonly number[];
  /**
   * What every participant assumes (its local setting, threshold-rule.ts): default 'malicious', which
   * refuses a reconstruction_threshold below ⌊2(k+1)/3⌋ + 1; 'semi-honest' is the explicit opt-in a
   * high-dropout round with thresholdForDropout needs.
   */
  adversaryModel?: AdversaryModel;
  /** A malicious aggregator: rewrite what participant i receives (return the new body). */
  tamper?: (stage: SecAggStage, to: number, body: Uint8Array, ids: readonly NodeId[]) => Uint8Array;
}

export interface ClientStats {
  /** Wall ms from serving this participant a stage to its answer (overlaps others' when concurrent). */
  ms: Record<SecAggStage, number>;
  /** Envelope bytes this participant sent to the aggregator. */
  sentBytes: number;
  /** Envelope bytes the aggregator sent or broadcast to it. */
  receivedBytes: number;
}

/** What one participant received and sent in a round: enough to replay it alone. */
export interface ParticipantRecording {
  index: number;
  /** The aggregator's messages to it, in order, with the stage the participant answered them in. */
  received: Array<{ stage: Exclude<SecAggStage, 'advertise'>; type: number; body: Uint8Array }>;
  /** The envelopes it sent, in order. */
  sent: Uint8Array[];
}

export interface SecAggRoundOutcome {
  params: SecAggParams;
  /** The neighbour graph's shape for everyone who advertised (null when nobody did). */
  shape: GraphShape | null;
  result: AggregateResult | null;
  abortReason: string | null;
  /** The aggregator stage that aborted (null when the round completed). */
  abortedIn: AggregatorStage | null;
  transcript: Uint8Array[];
  ids: NodeId[];
  participants: SecAggParticipant[];
  /** Every envelope any participant sent, by stage, then by participant index (for audits). */
  sentByParticipants: Envelope[];
  participantAborts: Array<string | null>;
  /** Indices whose masked input reached the aggregator: the inputs the sum must equal. */
  maskedInputFrom: number[];
  /** Messages the aggregator's own checks refused (only under `tamper`: an honest run has none). */
  refusedByAggregator: Array<{ index: number; error: string }>;
  /** The stage before which each silenced participant went silent. */
  silencedAt: Map<number, SecAggStage>;
  timing: {
    /** Wall ms per stage: serving every participant plus the aggregator closing the stage. */
    stageMs: Record<SecAggStage, number>;
    /** Of stageMs, the aggregator's part; `unmask` is the recovery (recomputeFromTranscript). */
    aggregatorMs: Record<SecAggStage, number>;
    totalMs: number;
  };
  clients: ClientStats[];
  recordings: ParticipantRecording[];
}

const zeroByStage = (): Record<SecAggStage, number> => ({ advertise: 0, reveal: 0, share: 0, mask: 0, consistency: 0, unmask: 0 });

function decoded<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

/** The participant stage in which it takes each message of the aggregator. */
const WAITING_IN: Record<number, ParticipantStage> = {
  [MessageType.SecAggAdvertiseBundle]: 'advertised',
  [MessageType.SecAggRevealRequest]: 'revealed',
  [MessageType.SecAggRevealBundle]: 'revealed',
  [MessageType.SecAggShares]: 'shared',
  [MessageType.SecAggSurvivors]: 'masked',
  [MessageType.SecAggConsistencyBundle]: 'signed',
};

/** Hand participant `p` one message of the aggregator; its answer, or null. */
function answer(p: SecAggParticipant, type: number, body: Uint8Array): Promise<ToAggregator | null> {
  switch (type) {
    case MessageType.SecAggAdvertiseBundle:
      return p.onAdvertiseBundle(decoded(decodeBundle(body)).envelopes);
    case MessageType.SecAggRevealRequest:
      return Promise.resolve(p.onRevealRequest(decoded(decodeRevealRequest(body)).attempt));
    case MessageType.SecAggRevealBundle:
      return p.onRevealBundle(decoded(decodeBundle(body)).envelopes);
    case MessageType.SecAggShares:
      return p.onShares(decoded(decodeShareKeys(body)).shares);
    case MessageType.SecAggSurvivors:
      return Promise.resolve(p.onSurvivors(decoded(decodeIdList(body)).ids.map(bytesToHex)));
    case MessageType.SecAggConsistencyBundle:
      return p.onConsistencyBundle(decoded(decodeBundle(body)).envelopes);
    default:
      throw new Error(`type ${type} is not for a participant`);
  }
}

/** Identities, round id and parameters: a function of the setup alone, so a replay rebuilds them. */
async function roundFrame(setup: SecAggRoundSetup, backends: SecAggBackends) {
  const n = setup.inputs.length;
  const rng = SeededRandom.fromSeed(setup.seed ?? 1);
  const params: SecAggParams = { ...DEFAULT_PARAMS, dimension: setup.inputs[0]?.length ?? 1, ...setup.params };
  const signer = (i: number): Promise<Signer> => backends.ed25519.signer(rng.fork(`key${i}`).bytes(32));
  const roundId = rng.fork('round').bytes(16);
  const participantCrypto = (i: number, signer: Signer, verifier: Verifier, x25519: X25519Backend = backends.x25519): SecAggCrypto => ({
    x25519,
    prg: backends.prg,
    verifier,
    signer,
    random: rng.fork(`p${i}`),
  });
  return { n, rng, params, signer, roundId, participantCrypto };
}

/** Seals with per-signer sequence numbers 1, 2, 3, … as a node's envelope layer does. */
function sealer(): (signer: Signer, type: number, body: Uint8Array, to?: Signer) => Promise<Envelope> {
  const seqs = new Map<Signer, number>();
  return (signer, type, body, to) => {
    const sequence = (seqs.get(signer) ?? 0) + 1;
    seqs.set(signer, sequence);
    return sealEnvelope({ type, sender: signer.publicKey, sequence, body, ...(to ? { recipient: to.publicKey } : {}) }, signer);
  };
}

/** Deterministically pick COUNT silent participants per stage, never one twice (stage order matters). */
export function pickDropouts(
  n: number,
  counts: Partial<Record<SecAggStage, number>>,
  seed: number,
): Partial<Record<SecAggStage, number[]>> {
  const rng = SeededRandom.fromSeed(seed).fork('dropouts');
  const pool = Array.from({ length: n }, (_, i) => i);
  const out: Partial<Record<SecAggStage, number[]>> = {};
  for (const stage of SECAGG_STAGES) {
    const count = counts[stage] ?? 0;
    if (!Number.isSafeInteger(count) || count < 0) throw new Error(`dropout count for "${stage}" must be a non-negative integer`);
    if (count > pool.length) throw new Error(`cannot silence ${count} participants at "${stage}": only ${pool.length} remain`);
    const picked: number[] = [];
    for (let k = 0; k < count; k++) picked.push(pool.splice(rng.int(pool.length), 1)[0] as number);
    if (count > 0) out[stage] = picked.sort((a, b) => a - b);
  }
  return out;
}

export async function runSecAggRound(setup: SecAggRoundSetup): Promise<SecAggRoundOutcome> {
  const backends = setup.backends ?? NOBLE_BACKENDS;
  const { n, rng, params, signer, roundId, participantCrypto } = await roundFrame(setup, backends);
  const concurrency = setup.concurrency ?? 1;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new Error('"concurrency" must be a positive integer');
  const signers: Signer[] = [];
  for (let i = 0; i <= n; i++) signers.push(await signer(i));
  const aggSigner = signers[n] as Signer;
  const ids = signers.slice(0, n).map((s) => nodeIdFromPublicKey(s.publicKey));
  const aggId = nodeIdFromPublicKey(aggSigner.publicKey);
  const seal = sealer();
  // Simulation shortcuts with identical results: one verdict per signature, one X25519 per pair.
  const sharedVerifier = cachingVerifier(backends.newVerifier());
  const sharedX25519 = pairwiseMemoX25519(backends.x25519);

  // The aggregator checks signatures with a verifier of its own, so its recovery time is real.
  const aggDeps = { x25519: backends.x25519, prg: backends.prg, verifier: backends.newVerifier(), random: rng.fork('agg') };
  const agg = new SecAggAggregator(aggId, roundId, params, aggDeps, ids);
  agg.opened((await seal(aggSigner, MessageType.SecAggOpen, agg.openBody())).bytes, 0);

  const participants: SecAggParticipant[] = [];
  const clients: ClientStats[] = Array.from({ length: n }, () => ({ ms: zeroByStage(), sentBytes: 0, receivedBytes: 0 }));
  const recordings = new Map<number, ParticipantRecording>();
  for (const i of setup.record ?? []) recordings.set(i, { index: i, received: [], sent: [] });
  let abortedIn: AggregatorStage | null = null;
  const stageMs = zeroByStage();
  const aggregatorMs = zeroByStage();
  const silencedAt = new Map<number, SecAggStage>();
  const sent: Envelope[] = [];
  const maskedInputFrom: number[] = [];
  const refusedByAggregator: SecAggRoundOutcome['refusedByAggregator'] = [];
  const roundStart = performance.now();

  /** Serve participant i one stage, time it, and hand its answer to the aggregator. */
  const act = async (i: number, stage: SecAggStage, handler: () => Promise<ToAggregator | null>, out: Array<[number, Envelope]>): Promise<void> => {
    const stats = clients[i] as ClientStats;
    const t0 = performance.now();
    const msg = await handler();
    const env = msg && !silencedAt.has(i) ? await seal(signers[i] as Signer, msg.type, msg.body, aggSigner) : null;
    stats.ms[stage] += performance.now() - t0;
    if (!env) return;
    out.push([i, env]);
    stats.sentBytes += env.bytes.length;
    recordings.get(i)?.sent.push(env.bytes);
    const r = agg.accept(env);
    // An honest participant refused: a tampering aggregator showed it something else (e.g. another advertisement list).
    if (!r.ok) return void refusedByAggregator.push({ index: i, error: r.error });
    if (env.type === MessageType.SecAggMaskedInput) maskedInputFrom.push(i);
  };
  /** Every participant in `who` acts on `stage`, `concurrency` at a time; sends are logged in index order. */
  const actAll = async (stage: SecAggStage, who: readonly number[], step: (i: number) => Promise<ToAggregator | null>): Promise<void> => {
    const out: Array<[number, Envelope]> = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < who.length) {
        const i = who[next++] as number;
        await act(i, stage, () => step(i), out);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, who.length) }, worker));
    for (const [, env] of out.sort(([a], [b]) => a - b)) sent.push(env);
  };
  const silence = (stage: SecAggStage): void => {
    for (const i of setup.dropouts?.[stage] ?? []) {
      if (!Number.isSafeInteger(i) || i < 0 || i >= n) throw new Error(`dropout index ${i} is not a participant (0..${n - 1})`);
      if (!silencedAt.has(i)) silencedAt.set(i, stage);
    }
  };
  /**
   * The aggregator's messages for `stage` to the participants still in it: the (possibly tampered)
   * body each receives, counted as a sealed envelope. Sealed in index order, before anyone acts.
   */
  const deliver = async (
    stage: Exclude<SecAggStage, 'advertise'>,
    messageFor: (i: number) => Outgoing | undefined,
  ): Promise<Map<number, { type: number; body: Uint8Array }>> => {
    const sealed = new Map<Outgoing, Envelope>();
    const bodies = new Map<number, { type: number; body: Uint8Array }>();
    for (const [i, p] of participants.entries()) {
      if (silencedAt.has(i)) continue;
      const m = messageFor(i);
      if (!m || p.stage !== WAITING_IN[m.type]) continue; // aborted, or (shares) none for it
      const body = setup.tamper ? setup.tamper(stage, i, m.body, ids) : m.body;
      let env = body === m.body ? sealed.get(m) : undefined;
      if (!env) {
        env = await seal(aggSigner, m.type, body, m.to === null ? undefined : signers[i]);
        if (body === m.body) sealed.set(m, env);
      }
      (clients[i] as ClientStats).receivedBytes += env.bytes.length;
      const rec = recordings.get(i);
      rec?.received.push({ stage, type: m.type, body: env.body });
      bodies.set(i, { type: m.type, body: env.body });
    }
    return bodies;
  };
  /** Close the aggregator's current stage, timed; null when the round ended (done or aborted). */
  const close = async (stage: SecAggStage): Promise<Outgoing[] | null> => {
    const t0 = performance.now();
    const closing = agg.stage;
    const ev = await agg.closeStage(performance.now() - roundStart);
    aggregatorMs[stage] += performance.now() - t0;
    if (ev.kind === 'aborted') abortedIn = closing;
    return ev.kind === 'send' ? ev.messages : null;
  };

  const run = async (): Promise<void> => {
    // AdvertiseKeys: everyone makes its keys; the silenced never send them.
    let t0 = performance.now();
    silence('advertise');
    await actAll('advertise', Array.from({ length: n }, (_, i) => i), async (i) => {
      const crypto = participantCrypto(i, signers[i] as Signer, sharedVerifier, sharedX25519);
      const { participant, send } = await SecAggParticipant.join(
        ids[i] as NodeId,
        aggId,
        roundId,
        params,
        setup.inputs[i] as ArrayLike<number>,
        crypto,
        setup.adversaryModel,
      );
      participants[i] = participant;
      return send;
    });
    let msgs = await close('advertise');
    stageMs.advertise = performance.now() - t0;
    // ShareKeys (from the advertise bundle), MaskedInputCollection (from the relayed shares),
    // ConsistencyCheck (sign the survivor list), Unmasking (check the signatures, reveal shares).
    for (const stage of ['reveal', 'share', 'mask', 'consistency', 'unmask'] as const) {
      if (!msgs) return;
      t0 = performance.now();
      silence(stage);
      if (stage === 'reveal' && agg.stage !== 'reveal') continue; // complete graph: no seed to reveal
      // The reveal stage repeats while the aggregator asks another committee (a reveal request).
      do {
        const out = msgs;
        // One broadcast, or (the relayed shares) one message per recipient.
        const broadcast = out.find((m) => m.to === null);
        const byRecipient = new Map(out.map((m) => [m.to, m]));
        const bodies = await deliver(stage, (i) => broadcast ?? byRecipient.get(ids[i] as NodeId));
        await actAll(stage, [...bodies.keys()], (i) => {
          const m = bodies.get(i) as { type: number; body: Uint8Array };
          return answer(participants[i] as SecAggParticipant, m.type, m.body);
        });
        msgs = await close(stage);
      } while (msgs && stage === 'reveal' && agg.stage === 'reveal');
      stageMs[stage] = performance.now() - t0;
    }
  };
  await run();

  const advertised = agg.counts.advertised;
  return {
    params,
    shape: advertised > 0 ? graphShape(advertised, params) : null,
    result: agg.result,
    abortReason: agg.abortReason,
    abortedIn,
    transcript: agg.result ? agg.transcript() : [],
    ids,
    participants,
    sentByParticipants: sent,
    participantAborts: participants.map((p) => p.abortReason),
    maskedInputFrom: maskedInputFrom.sort((a, b) => a - b),
    refusedByAggregator,
    silencedAt,
    timing: { stageMs, aggregatorMs, totalMs: performance.now() - roundStart },
    clients,
    recordings: [...recordings.values()],
  };
}

export interface ReplayStats {
  /** Wall ms per stage of this participant alone: decoding, checking, computing, signing. */
  ms: Record<SecAggStage, number>;
  totalMs: number;
  /** Of totalMs: checking the signatures in the advertise and consistency bundles. */
  verifyMs: number;
  /** The replay sent exactly the envelopes the participant sent in the round. */
  identical: boolean;
}

/**
 * One participant of a round run with `setup`, again and alone: rebuilt from the seed, fed the
 * bodies the aggregator sent it (from `record`), with a fresh verifier of its own — what one
 * client's device spends on the round.
 */
export async function replayParticipant(setup: SecAggRoundSetup, recording: ParticipantRecording): Promise<ReplayStats> {
  const backends = setup.backends ?? NOBLE_BACKENDS;
  const { n, params, signer, roundId, participantCrypto } = await roundFrame(setup, backends);
  const i = recording.index;
  const self = await signer(i);
  const aggSigner = await signer(n);
  const seal = sealer();
  const inner = backends.newVerifier();
  const stats: ReplayStats = { ms: zeroByStage(), totalMs: 0, verifyMs: 0, identical: true };
  // Wall time during which at least one check is in flight: checks run concurrently, so summing
  // each call's duration would count overlapping time many times over.
  let inFlight = 0;
  let busySince = 0;
  const verifier: Verifier = {
    async verify(publicKey, message, signature) {
      if (inFlight++ === 0) busySince = performance.now();
      try {
        return await inner.verify(publicKey, message, signature);
      } finally {
        if (--inFlight === 0) stats.verifyMs += performance.now() - busySince;
      }
    },
  };
  let sentCount = 0;
  const step = async (stage: SecAggStage, handler: () => Promise<ToAggregator | null>): Promise<void> => {
    const t0 = performance.now();
    const msg = await handler();
    const env = msg ? await seal(self, msg.type, msg.body, aggSigner) : null;
    const ms = performance.now() - t0;
    stats.ms[stage] += ms; // a reveal stage can take more than one message
    stats.totalMs += ms;
    if (!env) return;
    const original = recording.sent[sentCount++];
    if (!original || !bytesEqual(original, env.bytes)) stats.identical = false;
  };
  let participant: SecAggParticipant | null = null;
  await step('advertise', async () => {
    const joined = await SecAggParticipant.join(
      nodeIdFromPublicKey(self.publicKey),
      nodeIdFromPublicKey(aggSigner.publicKey),
      roundId,
      params,
      setup.inputs[i] as ArrayLike<number>,
      participantCrypto(i, self, verifier),
      setup.adversaryModel,
    );
    participant = joined.participant;
    return joined.send;
  });
  for (const { stage, type, body } of recording.received) {
    if (!participant) break;
    const p: SecAggParticipant = participant;
    await step(stage, () => answer(p, type, body));
  }
  if (sentCount !== recording.sent.length) stats.identical = false;
  return stats;
}
