// The aggregator's side of a round. It only collects and relays: it never sees a share in clear
// except the ones participants choose to reveal at unmasking, and the result it announces is
// `recomputeFromTranscript` of what it collected, so anyone holding the transcript can check it.
// Each stage closes when every expected sender answered or when the driver calls `closeStage` on
// the stage's timeout.
// Admission: advertisements come from anyone who can make a key, so with an expected set (the room
// at open, a chain round's participants) only its members are admitted, and never more than
// `max_participants` (default: what the ring holds, n × quantization_range < modulus_range) — a
// thousand fresh identities would otherwise push every round past the ring check. Refusals are counted.
import { bytesEqual, bytesToHex, hexToBytes } from '../bytes.ts';
import type { Verifier } from '../crypto/ed25519.ts';
import { nodeIdFromPublicKey, type NodeId } from '../crypto/node-id.ts';
import type { Envelope } from '../net/envelope.ts';
import { MessageType } from '../net/message-types.ts';
import type { Result } from '../result.ts';
import {
  decodeAdvertiseKeys,
  decodeConsistencySig,
  decodeMaskedInput,
  decodeSeedReveal,
  decodeShareKeys,
  decodeUnmaskShares,
  encodeBundle,
  encodeIdList,
  encodeRevealRequest,
  encodeRoundOpen,
  encodeShareKeys,
  type EncryptedShare,
} from './messages.ts';
import { ringCapacity, validateParams, type SecAggParams } from './params.ts';
import { maskedInputParts } from './contribution-commitment.ts';
import { chunkRoot, verifyStatement } from './masked-chunks.ts';
import { advertisementListHash, missingReveals, REVEAL_ATTEMPTS, revealCommittee, revealError, shortCommitteeReason } from './graph-seed.ts';
import { graphShape } from './neighbour-graph.ts';
import { recomputeFromTranscript, type AggregateResult, type RecomputeDeps } from './transcript.ts';

export type AggregatorStage = 'advertise' | 'reveal' | 'share' | 'mask' | 'consistency' | 'unmask' | 'done' | 'aborted';

export interface Outgoing {
  /** null: broadcast to the room. */
  to: NodeId | null;
  type: number;
  body: Uint8Array;
}

export type StageEvent =
  | { kind: 'send'; messages: Outgoing[] }
  | { kind: 'done'; result: AggregateResult; transcript: Uint8Array[] }
  | { kind: 'aborted'; reason: string };

export interface AggregatorOptions {
  /** Most advertisements admitted; default and ceiling `ringCapacity(params)`. */
  max_participants?: number;
}

export class SecAggAggregator {
  stage: AggregatorStage = 'advertise';
  abortReason: string | null = null;
  result: AggregateResult | null = null;
  private openEnvelope: Uint8Array | null = null;
  private readonly advertise = new Map<NodeId, Envelope>();
  /** Sparse rounds: the current attempt's committee reveals (graph-seed.ts), checked against the list we relayed. */
  private readonly reveal = new Map<NodeId, Envelope>();
  private advertisementsHash: Uint8Array | null = null;
  /** The reveal attempt in progress (1..REVEAL_ATTEMPTS) and its committee. */
  private revealAttempt = 0;
  private committee: ReadonlySet<NodeId> = new Set();
  private readonly shareKeys = new Map<NodeId, EncryptedShare[]>();
  private readonly masked = new Map<NodeId, Envelope>();
  private readonly consistency = new Map<NodeId, Envelope>();
  private readonly unmask = new Map<NodeId, Envelope>();
  /** Who is expected to answer the current stage (null: unknown, wait for the timeout). */
  private expected: Set<NodeId> | null;
  /** Who may advertise (the expected participants at open); null: anyone, up to `maxParticipants`. */
  private readonly admitted: ReadonlySet<NodeId> | null;
  readonly maxParticipants: number;
  /** Advertisements refused at admission, by reason. */
  readonly refusedAdvertisements: Record<string, number> = {};
  readonly stageStartedAt = new Map<AggregatorStage, number>();

  constructor(
    readonly self: NodeId,
    readonly roundId: Uint8Array,
    readonly params: SecAggParams,
    private readonly deps: RecomputeDeps & { verifier: Verifier },
    /** Participants expected to advertise (e.g. the room's members): the only ones admitted; the stage may close early. */
    expectedParticipants: readonly NodeId[] | null,
    options: AggregatorOptions = {},
  ) {
    const v = validateParams(params);
    if (!v.ok) throw new Error(v.error);
    this.expected = expectedParticipants ? new Set(expectedParticipants) : null;
    this.admitted = expectedParticipants ? new Set(expectedParticipants) : null;
    const capacity = ringCapacity(params);
    const max = options.max_participants ?? capacity;
    if (!Number.isSafeInteger(max) || max < 1 || max > capacity)
      throw new Error(`"max_participants" must be an integer in 1..${capacity} (what the ring holds), got ${max}`);
    this.maxParticipants = max;
  }

  /** The SecAggOpen body to broadcast; the driver hands back the signed envelope with `opened`. */
  openBody(): Uint8Array {
    return encodeRoundOpen({ roundId: this.roundId, params: this.params });
  }

  opened(envelopeBytes: Uint8Array, nowMs: number): void {
    this.openEnvelope = envelopeBytes;
    this.stageStartedAt.set('advertise', nowMs);
  }

  get counts(): Record<'advertised' | 'revealed' | 'shared' | 'masked' | 'signed' | 'unmasked', number> {
    return {
      advertised: this.advertise.size,
      revealed: this.reveal.size,
      shared: this.shareKeys.size,
      masked: this.masked.size,
      signed: this.consistency.size,
      unmasked: this.unmask.size,
    };
  }

  /**
   * Take one verified envelope addressed to us. Returns an error for anything that does not belong
   * (wrong stage, wrong round, unknown sender, duplicate): the driver counts it and moves on.
   * `maskedRoot`: a masked input's chunk root as the driver's engine hashed it (off the page's main
   * thread, SecAggEngine.chunkRoots); hashed here when absent.
   */
  accept(env: Envelope, maskedRoot?: Uint8Array): Result<'accepted'> {
    const sender = nodeIdFromPublicKey(env.sender);
    const reject = (why: string): Result<'accepted'> => ({ ok: false, error: why });
    const round = (r: { ok: boolean; value?: { roundId: Uint8Array } }): boolean => !!r.ok && !!r.value && bytesEqual(r.value.roundId, this.roundId);
    switch (env.type) {
      case MessageType.SecAggAdvertise: {
        if (this.stage !== 'advertise') return reject('advertisement after the stage closed');
        if (!round(decodeAdvertiseKeys(env.body))) return reject('malformed advertisement or another round');
        if (this.advertise.has(sender)) return reject('duplicate advertisement');
        const refuse = (why: string): Result<'accepted'> => {
          this.refusedAdvertisements[why] = (this.refusedAdvertisements[why] ?? 0) + 1;
          return reject(why);
        };
        if (this.admitted && !this.admitted.has(sender)) return refuse('advertisement from outside the expected participants');
        if (this.advertise.size >= this.maxParticipants) return refuse(`advertisement beyond max_participants (${this.maxParticipants})`);
        this.advertise.set(sender, env);
        return { ok: true, value: 'accepted' };
      }
      case MessageType.SecAggSeedReveal: {
        if (this.stage !== 'reveal' || !this.advertisementsHash) return reject('graph-seed reveal outside the reveal stage');
        const advertised = this.advertise.get(sender);
        if (!advertised) return reject('graph-seed reveal from a non-participant');
        const m = decodeSeedReveal(env.body);
        const a = decodeAdvertiseKeys(advertised.body);
        if (!m.ok || !a.ok) return reject('malformed graph-seed reveal');
        if (m.value.attempt !== this.revealAttempt || !this.committee.has(sender)) return reject('graph-seed reveal from outside the current committee');
        // A reveal that does not fit would sink the transcript: refuse it here.
        const why = revealError(m.value, a.value, this.roundId, this.advertisementsHash, this.revealAttempt);
        if (why) return reject(`graph-seed reveal ${why}`);
        if (this.reveal.has(sender)) return reject('duplicate graph-seed reveal');
        this.reveal.set(sender, env);
        return { ok: true, value: 'accepted' };
      }
      case MessageType.SecAggShareKeys: {
        if (this.stage !== 'share') return reject('shares outside the share stage');
        if (!this.advertise.has(sender)) return reject('shares from a non-participant');
        const m = decodeShareKeys(env.body);
        if (!m.ok || !bytesEqual(m.value.roundId, this.roundId)) return reject('malformed shares or another round');
        if (this.shareKeys.has(sender)) return reject('duplicate shares');
        for (const s of m.value.shares)
          if (bytesToHex(s.from) !== sender || !this.advertise.has(bytesToHex(s.to))) return reject('share for or from an outsider');
        this.shareKeys.set(sender, m.value.shares);
        return { ok: true, value: 'accepted' };
      }
      case MessageType.SecAggMaskedInput: {
        if (this.stage !== 'mask') return reject('masked input outside the mask stage');
        if (!this.shareKeys.has(sender)) return reject('masked input from a node without shares');
        const m = decodeMaskedInput(env.body);
        if (!m.ok || !bytesEqual(m.value.roundId, this.roundId)) return reject('malformed masked input or another round');
        if (m.value.masked.length !== this.params.dimension) return reject('masked input of the wrong dimension');
        // The vector must be the one its sender's statement commits to (validators may sample it).
        if (!bytesEqual(maskedRoot ?? chunkRoot(m.value.masked), m.value.chunkRoot)) return reject('masked input does not match its chunk root');
        if (this.masked.has(sender)) return reject('duplicate masked input');
        this.masked.set(sender, env);
        return { ok: true, value: 'accepted' };
      }
      case MessageType.SecAggConsistency: {
        if (this.stage !== 'consistency') return reject('consistency signature outside its stage');
        if (!this.masked.has(sender)) return reject('consistency signature from a non-survivor');
        if (!round(decodeConsistencySig(env.body))) return reject('malformed consistency signature');
        if (this.consistency.has(sender)) return reject('duplicate consistency signature');
        this.consistency.set(sender, env);
        return { ok: true, value: 'accepted' };
      }
      case MessageType.SecAggUnmask: {
        if (this.stage !== 'unmask') return reject('unmask shares outside their stage');
        if (!this.consistency.has(sender)) return reject('unmask shares from a node that did not sign');
        if (!round(decodeUnmaskShares(env.body))) return reject('malformed unmask shares');
        if (this.unmask.has(sender)) return reject('duplicate unmask shares');
        this.unmask.set(sender, env);
        return { ok: true, value: 'accepted' };
      }
      default:
        return reject(`type ${env.type} is not for the aggregator`);
    }
  }

  /** True when everyone expected for the current stage has answered. */
  stageComplete(): boolean {
    const got = this.currentCollection();
    if (!got || !this.expected) return false;
    for (const id of this.expected) if (!got.has(id)) return false;
    return true;
  }

  private currentCollection(): Map<NodeId, unknown> | null {
    switch (this.stage) {
      case 'advertise':
        return this.advertise;
      case 'reveal':
        return this.reveal;
      case 'share':
        return this.shareKeys;
      case 'mask':
        return this.masked;
      case 'consistency':
        return this.consistency;
      case 'unmask':
        return this.unmask;
      default:
        return null;
    }
  }

  private abort(reason: string): StageEvent {
    this.stage = 'aborted';
    this.abortReason = reason;
    return { kind: 'aborted', reason };
  }

  private enter(stage: AggregatorStage, expected: Iterable<NodeId>, nowMs: number): void {
    this.stage = stage;
    this.expected = new Set(expected);
    this.stageStartedAt.set(stage, nowMs);
  }

  /** Close the current stage (all answered, or its timeout passed) and say what happens next. */
  async closeStage(nowMs: number): Promise<StageEvent> {
    const p = this.params;
    switch (this.stage) {
      case 'advertise': {
        if (this.advertise.size < p.min_contributors)
          return this.abort(`only ${this.advertise.size} participants advertised, min_contributors is ${p.min_contributors}`);
        const bundle = this.bundle(MessageType.SecAggAdvertiseBundle, this.advertise);
        if (graphShape(this.advertise.size, p).complete) {
          this.enter('share', this.advertise.keys(), nowMs);
          return { kind: 'send', messages: [bundle] };
        }
        this.advertisementsHash = advertisementListHash(this.roundId, new Map([...this.advertise].map(([id, env]) => [id, env.body])));
        this.askCommittee(1, nowMs);
        return { kind: 'send', messages: [bundle] };
      }
      case 'reveal': {
        // Every reveal that came, with at most revealTolerance missing, or the next committee.
        const short = shortCommitteeReason(missingReveals(this.committee, this.reveal), this.committee.size, this.revealAttempt);
        if (short === null) {
          this.enter('share', this.advertise.keys(), nowMs);
          return { kind: 'send', messages: [this.bundle(MessageType.SecAggRevealBundle, this.reveal)] };
        }
        if (this.revealAttempt === REVEAL_ATTEMPTS) return this.abort(short);
        this.askCommittee(this.revealAttempt + 1, nowMs);
        const body = encodeRevealRequest({ roundId: this.roundId, attempt: this.revealAttempt });
        return { kind: 'send', messages: [{ to: null, type: MessageType.SecAggRevealRequest, body }] };
      }
      case 'share': {
        if (this.shareKeys.size < p.min_contributors)
          return this.abort(`only ${this.shareKeys.size} participants shared keys, min_contributors is ${p.min_contributors}`);
        // Relay each ciphertext to its holder; only senders that completed ShareKeys count (U2).
        const inbox = new Map<NodeId, EncryptedShare[]>();
        for (const id of this.shareKeys.keys()) inbox.set(id, []);
        for (const shares of this.shareKeys.values())
          for (const s of shares) inbox.get(bytesToHex(s.to))?.push(s);
        this.enter('mask', this.shareKeys.keys(), nowMs);
        const messages: Outgoing[] = [...inbox].sort(([a], [b]) => (a < b ? -1 : 1)).map(([to, shares]) => ({
          to,
          type: MessageType.SecAggShares,
          body: encodeShareKeys({ roundId: this.roundId, shares }),
        }));
        return { kind: 'send', messages };
      }
      case 'mask': {
        // A statement with a bad signature would sink the whole transcript: leave its sender out (a dropout).
        for (const [id, env] of [...this.masked]) {
          const parts = maskedInputParts(env.bytes);
          if (!parts.ok || !(await verifyStatement(parts.value.statement, parts.value.signature, this.deps.verifier))) this.masked.delete(id);
        }
        if (this.masked.size < p.min_contributors)
          return this.abort(`only ${this.masked.size} masked inputs arrived, min_contributors is ${p.min_contributors}: nothing is released`);
        const survivors = [...this.masked.keys()].sort();
        this.enter('consistency', survivors, nowMs);
        return {
          kind: 'send',
          messages: [{ to: null, type: MessageType.SecAggSurvivors, body: encodeIdList({ roundId: this.roundId, ids: survivors.map(hexToBytes) }) }],
        };
      }
      case 'consistency': {
        this.enter('unmask', this.consistency.keys(), nowMs);
        return { kind: 'send', messages: [this.bundle(MessageType.SecAggConsistencyBundle, this.consistency)] };
      }
      case 'unmask': {
        const transcript = this.transcript();
        const r = await recomputeFromTranscript(transcript, this.deps);
        if (!r.ok) return this.abort(r.error);
        this.stage = 'done';
        this.result = r.value;
        return { kind: 'done', result: r.value, transcript };
      }
      default:
        return this.abort(`closeStage in stage ${this.stage}`);
    }
  }

  /** Wait for `attempt`'s committee (picked by the list hash, not by us). */
  private askCommittee(attempt: number, nowMs: number): void {
    this.revealAttempt = attempt;
    this.committee = new Set(revealCommittee(this.advertisementsHash as Uint8Array, attempt, this.advertise.keys()));
    this.reveal.clear();
    this.enter('reveal', this.committee, nowMs);
  }

  /** A broadcast relaying `collected` verbatim, in node-id order. */
  private bundle(type: number, collected: ReadonlyMap<NodeId, Envelope>): Outgoing {
    return { to: null, type, body: encodeBundle({ roundId: this.roundId, envelopes: sortedBytes(collected) }) };
  }

  /** The envelopes the result is a function of, in the order recomputeFromTranscript expects. */
  transcript(): Uint8Array[] {
    if (!this.openEnvelope) throw new Error('round was never opened');
    const stages = [this.advertise, this.reveal, this.masked, this.consistency, this.unmask];
    return [this.openEnvelope, ...stages.flatMap(sortedBytes)];
  }
}

function sortedBytes(m: ReadonlyMap<NodeId, Envelope>): Uint8Array[] {
  return [...m.keys()].sort().map((id) => (m.get(id) as Envelope).bytes);
}
