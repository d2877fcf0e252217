// Both ends of a checking node's private sample of a sampled claim (core/consensus/private-sample.ts,
// README "Consensus" → "Sampled check"): the aggregator's OpeningsResponder answers requests for the
// roots it claimed; a checking node's OpeningsRequests sends a request and waits for its answer,
// bounded by a timeout on the node's clock. Abuse is bounded on both sides: the aggregator answers a
// requester once per root, at most MAX_OPENING_REQUESTERS of them, PRIVATE_SAMPLED_CHUNKS indices
// each; a checking node takes an answer only from the node it asked, for exactly what it asked.
import { bytesEqual, bytesToHex } from '../core/bytes.ts';
import type { TimerHandle } from '../core/clock.ts';
import type { ChunkOpenings } from '../core/consensus/chunk-openings.ts';
import { decodeOpenings, decodeOpeningsRequest, encodeOpenings, encodeOpeningsRequest } from '../core/consensus/private-sample.ts';
import { nodeIdFromPublicKey, type NodeId } from '../core/crypto/node-id.ts';
import type { Envelope } from '../core/net/envelope.ts';
import { MessageType, messageTypes } from '../core/net/message-types.ts';
import { chunkOpener, PRIVATE_SAMPLED_CHUNKS } from '../core/secagg/chunk-sampling.ts';
import { maskedInputParts } from '../core/secagg/contribution-commitment.ts';
import { chunkCount } from '../core/secagg/masked-chunks.ts';
import type { ChunkOpening } from '../core/secagg/transcript.ts';
import type { AegisNode } from './aegis-node.ts';

/** How long a checking node waits for the aggregator's openings before it refuses the claim. */
export const PRIVATE_SAMPLE_TIMEOUT_MS = 10_000;
/** Requesters the aggregator answers per claimed root (a validator set is far smaller). */
export const MAX_OPENING_REQUESTERS = 128;
/** The claim's verdict when no answer came in time. */
export const NO_OPENINGS = 'no openings for the private sample from the aggregator';
/** Claimed roots answered for, newest kept: each may hold its contributors' decoded vectors (MBs each). */
const MAX_OFFERS = 4;
const MAX_WAITING = 64;
/** Questions outstanding to one aggregator: its own flood of claims fills only its share. */
const MAX_WAITING_PER_AGGREGATOR = 4;

type Refuse = (reason: string) => void;

/** Per contributor, an opener over its masked vector's chunk tree (built once per claim). */
export type ChunkOpeners = ReadonlyMap<NodeId, (indices: readonly number[]) => ChunkOpening[]>;

interface Offer {
  roundId: Uint8Array;
  chunks: number;
  openers: ChunkOpeners;
  /** Requesters answered (hex public keys). */
  answered: Set<string>;
}

/** The aggregator's side: answers private samples of the roots of its own sampled claims. */
export class OpeningsResponder {
  private readonly offers = new Map<string, Offer>();

  constructor(
    private readonly node: Pick<AegisNode, 'sendTo'>,
    private readonly refuse: Refuse,
    /** Who may ask (the chain's validators): anyone else could mint keys and have MBs sent and flooded. */
    private readonly mayAsk: (publicKey: Uint8Array) => boolean,
  ) {}

  /** A sampled claim this node sent: its contributors' chunk trees answer requests for its root. */
  offer(roundId: Uint8Array, root: Uint8Array, dimension: number, openers: ChunkOpeners): void {
    this.offers.set(bytesToHex(root), { roundId: roundId.slice(), chunks: chunkCount(dimension), openers, answered: new Set() });
    if (this.offers.size > MAX_OFFERS) {
      const oldest = this.offers.keys().next().value;
      if (oldest !== undefined) this.offers.delete(oldest);
    }
  }

  async onRequest(env: Envelope): Promise<void> {
    const m = decodeOpeningsRequest(env.body);
    if (!m.ok) return this.refuse('malformed openings request');
    const { roundId, root, indices } = m.value;
    const offer = this.offers.get(bytesToHex(root));
    if (offer === undefined || !bytesEqual(offer.roundId, roundId)) return this.refuse('openings request for a root not claimed here');
    // Strictly ascending (decoder), so the last index bounds them all.
    if (indices.length === 0 || indices.length > PRIVATE_SAMPLED_CHUNKS || (indices.at(-1) as number) >= offer.chunks)
      return this.refuse('openings request out of bounds');
    if (!this.mayAsk(env.sender)) return this.refuse('openings request from a non-validator');
    const who = bytesToHex(env.sender);
    if (offer.answered.has(who)) return this.refuse('openings asked twice');
    if (offer.answered.size >= MAX_OPENING_REQUESTERS) return this.refuse('openings: too many requesters');
    offer.answered.add(who);
    const chunks = new Map<NodeId, ChunkOpening[]>();
    for (const [id, open] of offer.openers) chunks.set(id, open(indices));
    const body = encodeOpenings({ roundId, root, indices, chunks });
    if (body.length > (messageTypes.get(MessageType.ChainRoundOpenings)?.maxBodyBytes ?? 0)) return this.refuse('own openings not sendable');
    try {
      await this.node.sendTo(env.sender, MessageType.ChainRoundOpenings, body);
    } catch {
      // the requester left: nothing to do
    }
  }
}

/** Every contributor's opener, from the full transcript's masked inputs. */
export function chunkOpeners(transcript: readonly Uint8Array[]): ChunkOpeners {
  const openers = new Map<NodeId, (indices: readonly number[]) => ChunkOpening[]>();
  for (const bytes of transcript) {
    const p = maskedInputParts(bytes);
    if (p.ok) openers.set(nodeIdFromPublicKey(p.value.statement.sender), chunkOpener(p.value.input.masked));
  }
  return openers;
}

interface Waiting {
  aggregator: Uint8Array;
  roundId: Uint8Array;
  indices: readonly number[];
  resolve: (chunks: ChunkOpenings | null) => void;
  timer: TimerHandle;
}

/** A checking node's side: one request per claimed root, answered by the aggregator or timed out. */
export class OpeningsRequests {
  private readonly waiting = new Map<string, Waiting>();

  constructor(
    private readonly node: Pick<AegisNode, 'sendTo' | 'clock'>,
    private readonly refuse: Refuse,
    private readonly timeoutMs = PRIVATE_SAMPLE_TIMEOUT_MS,
  ) {}

  /** Asks `aggregator` (its public key) for the openings of `indices` under `root`: null if none came in time. */
  ask(aggregator: Uint8Array, roundId: Uint8Array, root: Uint8Array, indices: readonly number[]): Promise<ChunkOpenings | null> {
    const key = bytesToHex(root);
    // One question per root (the aggregator answers a requester once); a flood of claims waits for nothing.
    const mine = [...this.waiting.values()].filter((w) => bytesEqual(w.aggregator, aggregator)).length;
    if (this.waiting.has(key) || this.waiting.size >= MAX_WAITING || mine >= MAX_WAITING_PER_AGGREGATOR) return Promise.resolve(null);
    const asked = new Promise<ChunkOpenings | null>((resolve) => {
      const timer = this.node.clock.setTimeout(() => {
        this.waiting.delete(key);
        resolve(null);
      }, this.timeoutMs);
      this.waiting.set(key, { aggregator: aggregator.slice(), roundId: roundId.slice(), indices: [...indices], resolve, timer });
    });
    this.node.sendTo(aggregator, MessageType.ChainRoundOpeningsRequest, encodeOpeningsRequest({ roundId, root, indices })).catch(() => {
      // the aggregator is unknown or gone: the timeout answers
    });
    return asked;
  }

  /** An answer: taken only from the node asked, for the round, root and indices asked. */
  onOpenings(env: Envelope): void {
    const m = decodeOpenings(env.body);
    if (!m.ok) return this.refuse('malformed openings');
    const key = bytesToHex(m.value.root);
    const w = this.waiting.get(key);
    const same = w !== undefined && w.indices.length === m.value.indices.length && w.indices.every((c, k) => c === m.value.indices[k]);
    if (w === undefined || !same || !bytesEqual(w.aggregator, env.sender) || !bytesEqual(w.roundId, m.value.roundId)) return this.refuse('openings not asked for');
    this.waiting.delete(key);
    this.node.clock.clearTimeout(w.timer);
    w.resolve(m.value.chunks);
  }
}
