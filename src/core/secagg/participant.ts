// One participant's side of a round (Bonawitz et al. 2017, Fig. 4, actively secure variant, with the
// SecAgg+ neighbour graph). Each method consumes what the aggregator sent and returns what to send
// back; anything wrong from the aggregator or a peer aborts this participant with a stated reason
// rather than revealing more. The rule that protects inputs lives in `onConsistencyBundle`: one
// survivor list, signed identically by at least t survivors, and for each neighbour either the
// self-seed share or the mask-key share — never both.
//
// What a participant checks (O(k) signatures, k = O(log n), not the 2n of the relayed bundles):
//   - AdvertiseKeys bundle: every entry is decoded; only its neighbours' signatures are checked:
//     their keys are the only ones it uses (to encrypt shares, to derive masks). A forged
//     non-neighbour entry is one the aggregator chose before any reveal, no better for it than a
//     key of its own; a graph that differs from its neighbours' shows up as shares they refuse,
//     masks that do not cancel, or a transcript that does not verify.
//   - Reveal bundle (sparse rounds, graph-seed.ts): the whole committee of one attempt, each reveal
//     opening its advertised commitment and naming the list this participant was shown; all of their
//     signatures are checked (a committee is at most REVEAL_COMMITTEE_SIZE).
//   - ConsistencyCheck bundle: only signatures from the holders of the secrets it would reveal a share
//     of (its neighbours' neighbours, ≤ 2k + 1 nodes) are checked; for each such secret, at least t
//     of ITS holders must have signed exactly our survivor list, and any checked signature on another
//     list is refused. Two honest holders of one owner revealing different kinds of share would then
//     need 2t − (k + 1) holders signing both lists, i.e. more than (k + 1)/3 corrupt holders with the
//     default threshold (a global "t signatures from anyone" count gives no such intersection once
//     t ≪ n). Entries from anyone else are never used here and are left unchecked.
//   - Whoever audits the round checks everything: recomputeFromTranscript verifies every envelope.
// The threshold itself comes from the Open, i.e. from the aggregator: a participant in the default
// 'malicious' model refuses a t below maliciousThresholdFloor (threshold-rule.ts) — at `join` when
// even the smallest round (min_contributors) would be below it, and at the advertise bundle for the
// actual shape, before any share leaves. Only a local 'semi-honest' opt-in accepts a lower t.
import { bytesEqual, bytesToHex, hexToBytes } from '../bytes.ts';
import type { Random } from '../clock.ts';
import type { Signer, Verifier } from '../crypto/ed25519.ts';
import { nodeIdFromPublicKey, type NodeId } from '../crypto/node-id.ts';
import type { PrgBackend } from '../crypto/prg.ts';
import { encodeShare, type Share } from '../crypto/shamir.ts';
import type { X25519Backend, X25519KeyPair } from '../crypto/x25519.ts';
import { decodeEnvelope, verifyEnvelope, type Envelope } from '../net/envelope.ts';
import { MessageType } from '../net/message-types.ts';
import { inputVector } from './encoding.ts';
import { localEngine, type PairMask, type SecAggEngine } from './engine.ts';
import { signStatement } from './masked-chunks.ts';
import {
  decodeAdvertiseKeys,
  decodeConsistencySig,
  decodeSeedReveal,
  encodeAdvertiseKeys,
  encodeConsistencySig,
  encodeMaskedInput,
  encodeSeedReveal,
  encodeShareKeys,
  encodeUnmaskShares,
  type AdvertiseKeys,
  type EncryptedShare,
  type RevealedShare,
  type SeedReveal,
} from './messages.ts';
import { graphShape } from './neighbour-graph.ts';
import { checkRing, type SecAggParams } from './params.ts';
import { thresholdRefusal, type AdversaryModel } from './threshold-rule.ts';
import { decryptSharePair, encryptSharePair, maskSign, pairwiseSeed, shareKey, type SharePair } from './round-keys.ts';
import { commitSelfSeed, holdersOf, roundGraph, survivorListHash, type RoundGraph } from './transcript.ts';
import { advertisementListHash, GRAPH_SEED_REVEAL_BYTES, isAttempt, REVEAL_ATTEMPTS, revealChain, revealCommittee, seedFromReveals } from './graph-seed.ts';

export interface SecAggCrypto {
  x25519: X25519Backend;
  prg: PrgBackend;
  verifier: Verifier;
  /** This participant's identity key: signs its masked input's statement (masked-chunks.ts). */
  signer: Signer;
  random: Random;
  /** Runs masking and Shamir (a Web Worker in the browser); default: in-process with `prg` and `random`. */
  engine?: SecAggEngine;
}

/** A message for the driver to seal and send to the aggregator. */
export interface ToAggregator {
  type: number;
  body: Uint8Array;
}

export type ParticipantStage =
  | 'advertised'
  /** Sparse rounds: waiting for the graph seed (our reveal is out if we sit on the committee). */
  | 'revealed'
  | 'shared'
  | 'masked'
  | 'signed'
  | 'unmasked'
  | 'aborted';

/**
 * One participant's state machine. Its handlers await crypto between checking a stage and moving
 * on, so a driver must hand it one message at a time (SecAggService runs them on the node's serial
 * work queue; the simulator awaits each) — two overlapping calls could act on one stage twice.
 */
export class SecAggParticipant {
  stage: ParticipantStage = 'advertised';
  abortReason: string | null = null;
  /** The masked vector that left this device (for the dashboard); null until computed. */
  maskedVector: Uint32Array | null = null;
  /** The encoded input (for the dashboard); empty until masked: the engine encodes it (step 3). */
  encoded: Uint32Array = new Uint32Array(0);
  /** The input, handed to the engine at masking; `roundingSeed` draws its stochastic rounding. */
  private readonly input: Float64Array;
  private readonly roundingSeed: Uint8Array;
  private encryptionKeys!: X25519KeyPair;
  private maskKeys!: X25519KeyPair;
  private selfSeed!: Uint8Array;
  /** Our graph-seed hash chain r_0..r_J (graph-seed.ts): r_0 is advertised, r_j revealed if asked in attempt j. */
  private revealLinks!: Uint8Array[];
  /** The last attempt we revealed for (0: none); an aggregator cannot take us back to an earlier one. */
  private revealedAttempt = 0;
  /** Our AdvertiseKeys body as sent: the bundle must carry it unchanged. */
  private advertisedBody: Uint8Array = new Uint8Array(0);
  private advertised = new Map<NodeId, AdvertiseKeys>();
  /** The advertisement envelopes we were shown, by sender (neighbours' signatures are checked once the graph is known). */
  private advertisements = new Map<NodeId, Envelope>();
  private advertisementsHash: Uint8Array | null = null;
  private graph: RoundGraph | null = null;
  /** Shares we hold, by owner (including our own), once delivered. */
  private held = new Map<NodeId, SharePair>();
  private survivors: NodeId[] | null = null;
  private readonly engine: SecAggEngine;

  private constructor(
    readonly self: NodeId,
    readonly aggregator: NodeId,
    readonly roundId: Uint8Array,
    readonly params: SecAggParams,
    input: ArrayLike<number>,
    private readonly crypto: SecAggCrypto,
    /** This node's own setting (never the Open's): which thresholds it accepts. */
    readonly model: AdversaryModel,
  ) {
    if (input.length !== params.dimension) throw new Error(`"input" has ${input.length} values, the round wants ${params.dimension}`);
    this.input = inputVector(input);
    this.roundingSeed = crypto.random.bytes(32);
    this.engine = crypto.engine ?? localEngine(crypto.prg, crypto.random);
  }

  /**
   * Step 1, AdvertiseKeys: two fresh X25519 pairs and a commitment to the self-mask seed. `send` is
   * null when this participant refuses the round (see `abortReason`): a threshold below the floor
   * of `model` even for the smallest round that could release anything.
   */
  static async join(
    self: NodeId,
    aggregator: NodeId,
    roundId: Uint8Array,
    params: SecAggParams,
    input: ArrayLike<number>,
    crypto: SecAggCrypto,
    model: AdversaryModel = 'malicious',
  ): Promise<{ participant: SecAggParticipant; send: ToAggregator | null }> {
    const p = new SecAggParticipant(self, aggregator, roundId, params, input, crypto, model);
    const refusal = thresholdRefusal(graphShape(Math.max(1, params.min_contributors), params), model);
    if (refusal) {
      p.abort(refusal);
      return { participant: p, send: null };
    }
    p.encryptionKeys = await crypto.x25519.generateKeyPair(crypto.random);
    p.maskKeys = await crypto.x25519.generateKeyPair(crypto.random);
    p.selfSeed = crypto.random.bytes(32);
    p.revealLinks = revealChain(crypto.random.bytes(GRAPH_SEED_REVEAL_BYTES));
    const body = encodeAdvertiseKeys({
      roundId,
      encryptionKey: p.encryptionKeys.publicKey,
      maskKey: p.maskKeys.publicKey,
      selfSeedCommitment: commitSelfSeed(p.selfSeed),
      graphSeedCommitment: p.revealLinks[0] as Uint8Array,
    });
    p.advertisedBody = body;
    return { participant: p, send: { type: MessageType.SecAggAdvertise, body } };
  }

  private abort(reason: string): null {
    this.stage = 'aborted';
    this.abortReason = reason;
    this.wipe();
    return null;
  }

  private wipe(): void {
    this.selfSeed?.fill(0);
    this.roundingSeed.fill(0);
    this.maskKeys?.secretKey.fill(0);
    this.encryptionKeys?.secretKey.fill(0);
  }

  /** Decode every envelope of a relayed bundle (cheap); signatures are checked by `checkSigned`. */
  private decodeBundle(envelopes: readonly Uint8Array[], type: number, what: string): Envelope[] | string {
    const decoded: Envelope[] = [];
    for (const bytes of envelopes) {
      const d = decodeEnvelope(bytes);
      if (!d.ok || d.value.type !== type) return `${what} holds a malformed envelope`;
      decoded.push(d.value);
    }
    return decoded;
  }

  /**
   * Check the signatures of the envelopes whose sender this participant relies on, all at once
   * (WebCrypto runs them concurrently). Only O(k) of them: see "What a participant checks" above.
   */
  private async checkSigned(envelopes: readonly Envelope[], what: string): Promise<string | null> {
    const valid = await Promise.all(envelopes.map((e) => verifyEnvelope(e, this.crypto.verifier)));
    return valid.every(Boolean) ? null : `${what} holds a forged signature`;
  }

  /**
   * Step 2, ShareKeys: check every advertisement, then share b_u and s_u^SK among our holders. A
   * sparse round first fixes its graph seed: a committee member answers with its reveal (others
   * send nothing and wait), and everyone shares at `onRevealBundle`.
   */
  async onAdvertiseBundle(envelopes: readonly Uint8Array[]): Promise<ToAggregator | null> {
    if (this.stage !== 'advertised') return this.abort(`advertise bundle in stage ${this.stage}`);
    const advertised = new Map<NodeId, AdvertiseKeys>();
    const envelopeOf = new Map<NodeId, Envelope>();
    const opened = this.decodeBundle(envelopes, MessageType.SecAggAdvertise, 'advertise bundle');
    if (typeof opened === 'string') return this.abort(opened);
    for (const env of opened) {
      const a = decodeAdvertiseKeys(env.body);
      if (!a.ok || !bytesEqual(a.value.roundId, this.roundId)) return this.abort('advertise bundle holds another round');
      const id = nodeIdFromPublicKey(env.sender);
      if (advertised.has(id)) return this.abort(`advertise bundle lists ${id} twice`);
      advertised.set(id, a.value);
      envelopeOf.set(id, env);
    }
    // Our own entry, byte for byte as we sent it (keys and both commitments).
    const mine = envelopeOf.get(this.self);
    if (!mine || !bytesEqual(mine.body, this.advertisedBody)) return this.abort('the aggregator left out or altered our advertised keys');
    if (advertised.size < this.params.min_contributors)
      return this.abort(`only ${advertised.size} participants advertised, min_contributors is ${this.params.min_contributors}`);
    const ring = checkRing(this.params, advertised.size);
    if (!ring.ok) return this.abort(ring.error);
    const shape = graphShape(advertised.size, this.params);
    const refusal = thresholdRefusal(shape, this.model);
    if (refusal) return this.abort(refusal);
    this.advertised = advertised;
    this.advertisements = envelopeOf;
    if (shape.complete) return this.shareKeys(roundGraph(this.params, advertised.keys(), null), []);
    // Sparse: the list, and every commitment in it, is fixed now: the seed comes from the first committee.
    this.advertisementsHash = advertisementListHash(this.roundId, new Map([...envelopeOf].map(([id, env]) => [id, env.body])));
    this.stage = 'revealed';
    return this.reveal(1);
  }

  /** Our link for `attempt` if we sit on its committee (null otherwise: nothing to send). */
  private reveal(attempt: number): ToAggregator | null {
    const listHash = this.advertisementsHash as Uint8Array;
    if (!revealCommittee(listHash, attempt, this.advertised.keys()).includes(this.self)) return null;
    this.revealedAttempt = attempt;
    return {
      type: MessageType.SecAggSeedReveal,
      body: encodeSeedReveal({ roundId: this.roundId, advertisementsHash: listHash, attempt, reveal: this.revealLinks[attempt] as Uint8Array }),
    };
  }

  /**
   * A committee fell short: the aggregator asks the next one. Only forward, never past the last
   * attempt. A request that comes late (flooded broadcasts arrive out of order: the bundle may be
   * here first) or repeats an attempt is ignored — answering it would reveal nothing new anyway.
   */
  onRevealRequest(attempt: number): ToAggregator | null {
    if (!isAttempt(attempt) || attempt < 2) return this.abort(`reveal request for attempt ${attempt}, not in 2..${REVEAL_ATTEMPTS}`);
    if (this.stage !== 'revealed' || attempt <= this.revealedAttempt) return null;
    return this.reveal(attempt);
  }

  /** Step 2 of a sparse round: one attempt's whole committee fixes the graph seed; then ShareKeys. */
  async onRevealBundle(envelopes: readonly Uint8Array[]): Promise<ToAggregator | null> {
    const listHash = this.advertisementsHash;
    if (this.stage !== 'revealed' || !listHash) return this.abort(`reveal bundle in stage ${this.stage}`);
    const opened = this.decodeBundle(envelopes, MessageType.SecAggSeedReveal, 'reveal bundle');
    if (typeof opened === 'string') return this.abort(opened);
    const first = opened[0] ? decodeSeedReveal(opened[0].body) : null;
    const attempt = first?.ok ? first.value.attempt : 0;
    if (!isAttempt(attempt)) return this.abort('reveal bundle without a valid attempt');
    // We may have revealed for a later attempt only if this one fell short: its bundle is then stale.
    if (attempt < this.revealedAttempt) return this.abort(`reveal bundle for attempt ${attempt} after we revealed for attempt ${this.revealedAttempt}`);
    const reveals = new Map<NodeId, SeedReveal>();
    for (const env of opened) {
      const id = nodeIdFromPublicKey(env.sender);
      if (reveals.has(id)) return this.abort(`reveal bundle lists ${id} twice`);
      const r = decodeSeedReveal(env.body);
      if (!r.ok) return this.abort(`reveal bundle holds a malformed reveal from ${id}`);
      reveals.set(id, r.value);
    }
    const seed = seedFromReveals(reveals, this.advertised, this.roundId, listHash, attempt);
    if (!seed.ok) return this.abort(seed.error);
    return this.shareKeys(roundGraph(this.params, this.advertised.keys(), seed.value), opened);
  }

  /** Check our neighbours' advertisements (and `alsoCheck`) are signed, then share among our holders. */
  private async shareKeys(graph: RoundGraph, alsoCheck: readonly Envelope[]): Promise<ToAggregator | null> {
    const advertised = this.advertised;
    // Only our neighbours' keys are used (to encrypt shares, to derive masks): check only theirs.
    const neighbourEnvelopes = [...(graph.neighbours.get(this.self) ?? [])].map((v) => this.advertisements.get(v) as Envelope);
    const forged = await this.checkSigned([...neighbourEnvelopes, ...alsoCheck], 'advertise or reveal bundle');
    if (forged) return this.abort(forged);
    this.graph = graph;
    const holders = holdersOf(this.self, this.graph);
    const t = this.graph.shape.threshold;
    let seedShares: Share[];
    let keyShares: Share[];
    try {
      seedShares = await this.engine.split(this.selfSeed, t, holders.length);
      keyShares = await this.engine.split(this.maskKeys.secretKey, t, holders.length);
    } catch (e) {
      return this.abort(`secret sharing failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    const peers = holders.filter((h) => h !== this.self);
    const secrets = await this.crypto.x25519.sharedSecrets(
      this.encryptionKeys.secretKey,
      peers.map((h) => (advertised.get(h) as AdvertiseKeys).encryptionKey),
    );
    const shares: EncryptedShare[] = [];
    for (let i = 0; i < holders.length; i++) {
      const holder = holders[i] as NodeId;
      const pair: SharePair = { selfSeed: seedShares[i] as Share, maskKey: keyShares[i] as Share };
      if (holder === this.self) {
        this.held.set(this.self, pair);
        continue;
      }
      const shared = secrets[peers.indexOf(holder)];
      if (!shared) return this.abort(`key agreement with ${holder} failed (low-order key)`);
      const key = shareKey(shared, this.roundId, this.self, holder);
      shares.push({ from: hexToBytes(this.self), to: hexToBytes(holder), ciphertext: encryptSharePair(key, this.roundId, this.self, holder, pair) });
    }
    this.stage = 'shared';
    return { type: MessageType.SecAggShareKeys, body: encodeShareKeys({ roundId: this.roundId, shares }) };
  }

  /** Step 3, MaskedInputCollection: the shares that reached us fix U2 ∩ N(u); mask with those. */
  async onShares(delivered: readonly EncryptedShare[]): Promise<ToAggregator | null> {
    if (this.stage !== 'shared' || !this.graph) return this.abort(`shares in stage ${this.stage}`);
    const neighbours = this.graph.neighbours.get(this.self) ?? new Set<NodeId>();
    const from = new Map<NodeId, Uint8Array>();
    for (const s of delivered) {
      const sender = bytesToHex(s.from);
      if (bytesToHex(s.to) !== this.self) return this.abort('received shares addressed to someone else');
      if (!neighbours.has(sender)) return this.abort(`received shares from ${sender}, not a neighbour`);
      if (from.has(sender)) return this.abort(`received two share sets from ${sender}`);
      from.set(sender, s.ciphertext);
    }
    const senders = [...from.keys()].sort();
    const encSecrets = await this.crypto.x25519.sharedSecrets(
      this.encryptionKeys.secretKey,
      senders.map((v) => (this.advertised.get(v) as AdvertiseKeys).encryptionKey),
    );
    for (let i = 0; i < senders.length; i++) {
      const v = senders[i] as NodeId;
      const shared = encSecrets[i];
      if (!shared) return this.abort(`key agreement with ${v} failed (low-order key)`);
      const pair = decryptSharePair(shareKey(shared, this.roundId, v, this.self), this.roundId, v, this.self, from.get(v) as Uint8Array);
      if (!pair.ok) return this.abort(`shares from ${v}: ${pair.error}`);
      this.held.set(v, pair.value);
    }
    const maskSecrets = await this.crypto.x25519.sharedSecrets(
      this.maskKeys.secretKey,
      senders.map((v) => (this.advertised.get(v) as AdvertiseKeys).maskKey),
    );
    const pairs: PairMask[] = [];
    for (let i = 0; i < senders.length; i++) {
      const v = senders[i] as NodeId;
      const shared = maskSecrets[i];
      if (!shared) return this.abort(`mask agreement with ${v} failed (low-order key)`);
      pairs.push({ seed: pairwiseSeed(shared, this.roundId, this.self, v), sign: maskSign(this.self, v) });
    }
    let root: Uint8Array;
    try {
      // Encoding, masking and the chunk root in one engine call: in the browser all of it runs in the
      // worker, so a 1M-entry input never blocks the page. The engine takes `input` (masked once).
      const r = await this.engine.encodeMask(this.input, this.params, this.roundingSeed, this.selfSeed, pairs);
      this.encoded = r.encoded;
      this.maskedVector = r.masked;
      root = r.chunkRoot;
    } catch (e) {
      return this.abort(`masking failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      for (const p of pairs) p.seed.fill(0);
    }
    const maskedWith = senders.map(hexToBytes);
    const statement = { roundId: this.roundId, sender: this.crypto.signer.publicKey, maskedWith, words: this.maskedVector.length, chunkRoot: root };
    const statementSignature = await signStatement(statement, this.crypto.signer);
    this.stage = 'masked';
    const body = encodeMaskedInput({ roundId: this.roundId, maskedWith, chunkRoot: root, statementSignature, masked: this.maskedVector });
    return { type: MessageType.SecAggMaskedInput, body };
  }

  /** Step 4a, ConsistencyCheck: sign the survivor list we were shown (only the first one). */
  onSurvivors(survivors: readonly NodeId[]): ToAggregator | null {
    if (this.stage !== 'masked') return this.abort(`survivor list in stage ${this.stage}`);
    const sorted = [...new Set(survivors)].sort();
    if (sorted.length !== survivors.length) return this.abort('survivor list has duplicates');
    if (!sorted.includes(this.self)) return this.abort('survivor list leaves us out although we sent our masked input');
    for (const id of sorted) if (!this.advertised.has(id)) return this.abort(`survivor ${id} never advertised`);
    if (sorted.length < this.params.min_contributors)
      return this.abort(`only ${sorted.length} survivors, min_contributors is ${this.params.min_contributors}`);
    this.survivors = sorted;
    this.stage = 'signed';
    return {
      type: MessageType.SecAggConsistency,
      body: encodeConsistencySig({ roundId: this.roundId, survivorsHash: survivorListHash(this.roundId, sorted) }),
    };
  }

  /**
   * Step 4b + 5, Unmasking: at least t survivors must have signed exactly our list; then for each
   * owner whose shares we hold, reveal the self-seed share if it survived, else the mask-key share.
   */
  async onConsistencyBundle(envelopes: readonly Uint8Array[]): Promise<ToAggregator | null> {
    if (this.stage !== 'signed' || !this.survivors || !this.graph) return this.abort(`consistency bundle in stage ${this.stage}`);
    const survivors = new Set(this.survivors);
    const expected = survivorListHash(this.roundId, this.survivors);
    const graph = this.graph;
    // Whose signatures matter: the holders of every secret we would reveal a share of.
    const relevant = new Set<NodeId>();
    for (const owner of this.held.keys()) for (const h of holdersOf(owner, graph)) relevant.add(h);
    const opened = this.decodeBundle(envelopes, MessageType.SecAggConsistency, 'consistency bundle');
    if (typeof opened === 'string') return this.abort(opened);
    const checked = new Map<NodeId, Envelope>();
    for (const env of opened) {
      const id = nodeIdFromPublicKey(env.sender);
      if (!relevant.has(id)) continue; // never used by us: left to whoever audits the transcript
      if (checked.has(id)) return this.abort(`consistency bundle lists ${id} twice`);
      checked.set(id, env);
    }
    const forged = await this.checkSigned([...checked.values()], 'consistency bundle');
    if (forged) return this.abort(forged);
    const signers = new Set<NodeId>();
    for (const [id, env] of checked) {
      const c = decodeConsistencySig(env.body);
      if (!c.ok || !bytesEqual(c.value.roundId, this.roundId)) return this.abort('consistency bundle holds another round');
      if (!survivors.has(id)) return this.abort(`consistency signature from ${id}, not on the survivor list`);
      if (!bytesEqual(c.value.survivorsHash, expected)) return this.abort(`${id} was shown a different survivor list`);
      signers.add(id);
    }
    // Per secret, as Bonawitz's argument needs it: at least t of ITS holders signed our list, so two
    // honest holders told different stories about one owner would need 2t − (k+1) corrupt holders.
    const t = graph.shape.threshold;
    for (const owner of this.held.keys()) {
      const signed = holdersOf(owner, graph).filter((h) => signers.has(h)).length;
      if (signed < t) return this.abort(`only ${signed} consistency signatures, threshold is ${t} (counting the holders of ${owner})`);
    }
    const shares: RevealedShare[] = [];
    for (const [owner, pair] of [...this.held].sort(([a], [b]) => (a < b ? -1 : 1))) {
      // Exactly one of the two, chosen by the single agreed survivor list.
      const share = survivors.has(owner)
        ? { kind: 'self-seed' as const, share: encodeShare(pair.selfSeed) }
        : { kind: 'mask-key' as const, share: encodeShare(pair.maskKey) };
      shares.push({ owner: hexToBytes(owner), ...share });
    }
    this.held.clear();
    this.stage = 'unmasked';
    this.wipe();
    return { type: MessageType.SecAggUnmask, body: encodeUnmaskShares({ roundId: this.roundId, shares }) };
  }
}
