// Runs secure-aggregation rounds over a node's overlay: any node can open a round and aggregate it;
// every node with an input ready joins rounds it hears about. Messages between participants and the
// aggregator are signed envelopes (their bytes form the transcript); every node that receives the
// result recomputes it from the transcript and shows whether the aggregator's claim checks out.
//
// Chain rounds (node/chain-rounds.ts): a round id named by an open-round transaction is a chain
// round. Once the transaction commits, the chain has designated its aggregator (`expectChainRound`)
// and only that node's Open is joined, only with the committed parameters; only that node may
// `openChainRound`. An Open for a round id seen in a transaction that has not committed here yet
// (`announceChainRound`: the commit may reach this node after the aggregator's Open) is held for
// CHAIN_OPEN_HOLD_MS, then judged against the committed designation, or refused. Any other round
// id is a direct round (`startRound`), as before. The transcript of a chain round travels to
// validators with the chain claim, not in the SecAggResult (no second copy).
import { bytesEqual, bytesToHex, hexToBytes } from '../core/bytes.ts';
import type { TimerHandle } from '../core/clock.ts';
import type { Verifier } from '../core/crypto/ed25519.ts';
import { nodeIdFromPublicKey, type NodeId } from '../core/crypto/node-id.ts';
import type { PrgBackend } from '../core/crypto/prg.ts';
import type { X25519Backend } from '../core/crypto/x25519.ts';
import { DEFAULT_MAX_ENVELOPE_BYTES, type Envelope } from '../core/net/envelope.ts';
import { MessageType } from '../core/net/message-types.ts';
import { SecAggAggregator, type AggregatorStage, type Outgoing } from '../core/secagg/aggregator.ts';
import { decodeSum } from '../core/secagg/encoding.ts';
import { localEngine, type SecAggEngine } from '../core/secagg/engine.ts';
import {
  decodeBundle,
  decodeIdList,
  decodeMaskedInput,
  decodeRoundOpen,
  decodeRevealRequest,
  decodeRoundResult,
  decodeShareKeys,
  encodeRoundResult,
  ROUND_ID_BYTES,
} from '../core/secagg/messages.ts';
import { DEFAULT_PARAMS, paramsEqual, validateParams, type SecAggParams } from '../core/secagg/params.ts';
import { SecAggParticipant, type ParticipantStage, type ToAggregator } from '../core/secagg/participant.ts';
import type { AdversaryModel } from '../core/secagg/threshold-rule.ts';
import { recomputeFromTranscript, type AggregateResult } from '../core/secagg/transcript.ts';
import { err, ok, type Result } from '../core/result.ts';
import type { AegisNode } from './aegis-node.ts';
import { Listeners, countRefusal } from './listeners.ts';

export interface SecAggDeps {
  x25519: X25519Backend;
  prg: PrgBackend;
  verifier: Verifier;
  /** Runs masking, mask removal and Shamir (the browser: a Web Worker); default: in-process with `prg`. */
  engine?: SecAggEngine;
}

export interface RoundResultView {
  contributors: NodeId[];
  dropped: NodeId[];
  /** Decoded per coordinate; typed (a 1M-entry sum is 8 MB: never copied into a JS array on the page). */
  sum: Float64Array;
  mean: Float64Array;
  transcriptHash: string;
  /** true: recomputed from the transcript and equal; false: mismatch or a transcript withheld; null: not checked here (chain round, or too large to ship). */
  verified: boolean | null;
  verifyDetail: string;
}

export interface RoundView {
  roundId: string;
  aggregator: NodeId;
  params: SecAggParams;
  openedAtMs: number;
  aggregatorStage: AggregatorStage | null;
  aggregatorCounts: SecAggAggregator['counts'] | null;
  participantStage: ParticipantStage | 'not-joined';
  /** The first entries of what this node contributed, and of the masked vector that left it. */
  inputPreview: number[];
  maskedPreview: number[];
  result: RoundResultView | null;
  abortReason: string | null;
  /** Why this node refused to join (e.g. a threshold below its adversary model's floor); null if it did not. */
  refusedReason: string | null;
  stageLog: Array<{ stage: string; atMs: number }>;
}

/** A masked input this node sent: the envelope exactly as signed (it is what the transcript holds). */
export interface Contribution {
  roundId: Uint8Array;
  envelope: Uint8Array;
  params: SecAggParams;
}

/** What an aggregator has when its round completes (the chain claim is built from it). */
export interface Aggregated {
  roundId: Uint8Array;
  result: AggregateResult;
  transcript: Uint8Array[];
}

interface ChainRound {
  aggregator: NodeId;
  params: SecAggParams;
}

interface Round {
  id: string;
  roundId: Uint8Array;
  aggregatorId: NodeId;
  params: SecAggParams;
  /** Opened by a committed transaction (its aggregator designated by the chain). */
  chain: boolean;
  view: RoundView;
  aggregator: SecAggAggregator | null;
  participant: SecAggParticipant | null;
  timer: TimerHandle | null;
  /** Participant side: fires if the aggregator goes silent (then the round is abandoned here). */
  watchdog: TimerHandle | null;
  /** Participant side: what we last sent the aggregator, until it answers (re-sent if the link to it comes back). */
  lastToAggregator: Envelope | null;
}

/** Transcripts above this are not broadcast with the result (issue 4 samples coordinates instead). */
const MAX_SHIPPED_TRANSCRIPT_BYTES = 6 * 1024 * 1024;
/** What a result envelope may hold besides its transcript (the sum, ids, hash), under DEFAULT_MAX_ENVELOPE_BYTES. */
const RESULT_TRANSCRIPT_BUDGET_BYTES = DEFAULT_MAX_ENVELOPE_BYTES - 64 * 1024;

/**
 * A direct round whose masked inputs alone (4 bytes a word per contributor: a lower bound on its
 * transcript) fit MAX_SHIPPED_TRANSCRIPT_BYTES must come with its transcript. Every receiver can tell
 * from the result itself (dimension, contributors), so an aggregator cannot skip the check by
 * leaving the transcript out: a result without one counts as a failed check.
 */
export function transcriptExpected(params: Pick<SecAggParams, 'dimension'>, contributors: number): boolean {
  return 4 * params.dimension * contributors <= MAX_SHIPPED_TRANSCRIPT_BYTES;
}
const PREVIEW = 8;
const MAX_ROUNDS_KEPT = 20;
/** How long an Open waits for the commit that opens its chain round (links differ by a block or so). */
export const CHAIN_OPEN_HOLD_MS = 15_000;
const MAX_HELD_OPENS = 16;
const MAX_OPENS_PER_ROUND = 4;
const MAX_ANNOUNCED = 256;

const TO_AGGREGATOR = new Set<number>([
  MessageType.SecAggAdvertise,
  MessageType.SecAggSeedReveal,
  MessageType.SecAggShareKeys,
  MessageType.SecAggMaskedInput,
  MessageType.SecAggConsistency,
  MessageType.SecAggUnmask,
]);

export class SecAggService {
  private readonly rounds = new Map<string, Round>();
  private readonly listeners = new Listeners();
  private readonly changed = (): void => this.listeners.notify();
  private readonly contributionListeners = new Set<(c: Contribution) => void>();
  private readonly aggregatedListeners = new Set<(a: Aggregated) => void>();
  /** Rounds the chain opened, by hex round id, with the designated aggregator. */
  private readonly chainRounds = new Map<string, ChainRound>();
  /** Round ids named by open-round transactions not committed yet (insertion order, bounded). */
  private readonly announced = new Set<string>();
  /** Opens for announced round ids, waiting for the commit. */
  private readonly heldOpens = new Map<string, { opens: { env: Envelope; from: NodeId }[]; timer: TimerHandle }>();
  private input: number[] | null = null;
  /** This node's own adversary model (threshold-rule.ts), never taken from a round's Open. */
  private model: AdversaryModel = 'malicious';
  /** Messages for or about this service that were refused, by reason (shown on the dashboard). */
  readonly refused: Record<string, number> = {};
  /** Where the heavy work of every round runs (its `name` says where and with what). */
  readonly engine: SecAggEngine;
  private readonly deps: SecAggDeps & { engine: SecAggEngine };

  constructor(
    private readonly node: AegisNode,
    deps: SecAggDeps,
  ) {
    this.engine = deps.engine ?? localEngine(deps.prg, node.random);
    this.deps = { ...deps, engine: this.engine };
    const on = (type: number, fn: (env: Envelope, from: NodeId) => Promise<void>): void => {
      node.onMessage(type, (env, from) => node.schedule(() => fn(env, from)));
    };
    on(MessageType.SecAggOpen, (env, from) => this.onOpen(env, from));
    for (const t of TO_AGGREGATOR) on(t, (env) => this.onForAggregator(env));
    on(MessageType.SecAggAdvertiseBundle, (env, from) => this.onFromAggregator(env, from));
    on(MessageType.SecAggRevealBundle, (env, from) => this.onFromAggregator(env, from));
    on(MessageType.SecAggRevealRequest, (env, from) => this.onFromAggregator(env, from));
    on(MessageType.SecAggShares, (env, from) => this.onFromAggregator(env, from));
    on(MessageType.SecAggSurvivors, (env, from) => this.onFromAggregator(env, from));
    on(MessageType.SecAggConsistencyBundle, (env, from) => this.onFromAggregator(env, from));
    on(MessageType.SecAggResult, (env, from) => this.onResult(env, from));
    node.onLinkUp((peer) => node.schedule(() => this.resendTo(peer)));
  }

  /**
   * A link to an aggregator came (back) up: re-send what we last sent it and it has not answered, in
   * case that message went down with the old link (a 4 MB masked input in flight when a stalled link
   * timed out was lost so, and the round released nothing). A copy that did arrive is dropped as a replay.
   */
  private resendTo(peer: NodeId): void {
    for (const round of this.rounds.values()) {
      const env = round.lastToAggregator;
      if (env === null || round.aggregatorId !== peer || round.participant?.stage === 'aborted' || round.view.result) continue;
      this.node.resend(env);
    }
  }

  subscribe(listener: () => void): () => void {
    return this.listeners.subscribe(listener);
  }

  /** Called with each masked input this node sends (the audit log records its commitment). */
  onContribution(listener: (c: Contribution) => void): () => void {
    this.contributionListeners.add(listener);
    return () => this.contributionListeners.delete(listener);
  }

  /** Called on the aggregator when one of its rounds completes (the chain submits the result). */
  onAggregated(listener: (a: Aggregated) => void): () => void {
    this.aggregatedListeners.add(listener);
    return () => this.aggregatedListeners.delete(listener);
  }

  /** An open-round transaction names this round id: its Open waits for the commit. */
  announceChainRound(roundId: Uint8Array): void {
    const id = bytesToHex(roundId);
    if (this.chainRounds.has(id)) return;
    this.announced.add(id);
    if (this.announced.size > MAX_ANNOUNCED) this.announced.delete(this.announced.values().next().value as string);
  }

  /** The chain committed an open-round transaction: `aggregator` alone may open it. */
  expectChainRound(roundId: Uint8Array, aggregator: NodeId, params: SecAggParams): void {
    const id = bytesToHex(roundId);
    this.announced.delete(id);
    this.chainRounds.set(id, { aggregator, params });
    if (this.chainRounds.size > MAX_ANNOUNCED) this.chainRounds.delete(this.chainRounds.keys().next().value as string);
    const held = this.heldOpens.get(id);
    if (held === undefined) return;
    this.heldOpens.delete(id);
    this.node.clock.clearTimeout(held.timer);
    // A rogue Open may have arrived first: each is judged against the designated aggregator.
    for (const h of held.opens) this.node.schedule(() => this.onOpen(h.env, h.from));
  }

  /** Opens a round the chain designated this node to aggregate; an error if it did not. */
  async openChainRound(roundId: Uint8Array, expected?: readonly NodeId[]): Promise<Result<string>> {
    const c = this.chainRounds.get(bytesToHex(roundId));
    if (c === undefined) return err('the chain has not opened this round');
    if (c.aggregator !== this.node.id) return err(`the chain designated ${c.aggregator} to aggregate this round, not this node`);
    if (this.rounds.has(bytesToHex(roundId))) return err('round already open here');
    return ok(await this.open(roundId, c.params, expected, true));
  }

  /** What this node contributes to the rounds it joins from now on (null: join none). */
  setInput(values: readonly number[] | null): void {
    this.input = values ? values.slice() : null;
    this.changed();
  }

  /**
   * 'semi-honest' lets this node join rounds whose reconstruction_threshold is below the malicious-safe
   * floor (e.g. a high-dropout round); the default 'malicious' refuses them. Applies to rounds joined later.
   */
  setAdversaryModel(model: AdversaryModel): void {
    this.model = model;
    this.changed();
  }

  get adversaryModel(): AdversaryModel {
    return this.model;
  }

  get currentInput(): readonly number[] | null {
    return this.input;
  }

  views(): RoundView[] {
    return [...this.rounds.values()].map((r) => ({ ...r.view, stageLog: r.view.stageLog.slice() })).sort((a, b) => b.openedAtMs - a.openedAtMs);
  }

  /** Open a round aggregated by this node. Returns the round id (hex). */
  async startRound(overrides: Partial<SecAggParams>, expected?: readonly NodeId[]): Promise<string> {
    const params = { ...DEFAULT_PARAMS, ...overrides };
    const v = validateParams(params);
    if (!v.ok) throw new Error(v.error);
    return this.open(this.node.random.bytes(ROUND_ID_BYTES), params, expected, false);
  }

  private async open(roundId: Uint8Array, params: SecAggParams, expected: readonly NodeId[] | undefined, chain: boolean): Promise<string> {
    // Everyone in the room (not just our overlay neighbours: in a partial mesh most members are not).
    const participants = expected ?? [this.node.id, ...this.node.roomMembers()];
    const agg = new SecAggAggregator(this.node.id, roundId, params, this.deps, this.input ? participants : participants.filter((p) => p !== this.node.id));
    const round = this.track(roundId, this.node.id, params, chain);
    round.aggregator = agg;
    const env = await this.node.broadcast(MessageType.SecAggOpen, agg.openBody());
    agg.opened(env.bytes, this.node.clock.now());
    this.log(round, 'opened');
    this.armTimer(round);
    await this.onOpen(env, this.node.id);
    return round.id;
  }

  private track(roundId: Uint8Array, aggregatorId: NodeId, params: SecAggParams, chain: boolean): Round {
    const id = bytesToHex(roundId);
    const round: Round = {
      id,
      roundId,
      aggregatorId,
      params,
      chain,
      aggregator: null,
      participant: null,
      timer: null,
      watchdog: null,
      lastToAggregator: null,
      view: {
        roundId: id,
        aggregator: aggregatorId,
        params,
        openedAtMs: this.node.clock.now(),
        aggregatorStage: null,
        aggregatorCounts: null,
        participantStage: 'not-joined',
        inputPreview: [],
        maskedPreview: [],
        result: null,
        abortReason: null,
        refusedReason: null,
        stageLog: [],
      },
    };
    this.rounds.set(id, round);
    if (this.rounds.size > MAX_ROUNDS_KEPT) {
      const oldest = [...this.rounds.values()].sort((a, b) => a.view.openedAtMs - b.view.openedAtMs)[0];
      if (oldest && oldest !== round) this.forget(oldest);
    }
    return round;
  }

  private forget(round: Round): void {
    if (round.timer !== null) this.node.clock.clearTimeout(round.timer);
    if (round.watchdog !== null) this.node.clock.clearTimeout(round.watchdog);
    this.rounds.delete(round.id);
  }

  /** Each aggregator stage lasts at most `timeout`; three of them without a word means it is gone. */
  private armWatchdog(round: Round): void {
    if (round.watchdog !== null) this.node.clock.clearTimeout(round.watchdog);
    const waitMs = 3 * round.params.timeout;
    round.watchdog = this.node.clock.setTimeout(() => {
      round.watchdog = null;
      if (round.view.result || round.view.abortReason || round.view.stageLog.some((s) => s.stage === 'result')) return;
      round.view.abortReason = `abandoned: no word from the aggregator for ${Math.round(waitMs / 1000)} s`;
      this.log(round, 'abandoned');
    }, waitMs);
  }

  private log(round: Round, stage: string): void {
    round.view.stageLog.push({ stage, atMs: this.node.clock.now() });
    if (round.aggregator) {
      round.view.aggregatorStage = round.aggregator.stage;
      round.view.aggregatorCounts = round.aggregator.counts;
    }
    if (round.participant) {
      round.view.participantStage = round.participant.stage;
      if (round.participant.maskedVector) round.view.maskedPreview = Array.from(round.participant.maskedVector.subarray(0, PREVIEW));
      if (round.participant.abortReason && !round.view.abortReason) round.view.abortReason = round.participant.abortReason;
    }
    this.changed();
  }

  private refuse(reason: string): void {
    countRefusal(this.refused, reason);
    this.changed();
  }

  private roundOf(body: Uint8Array): Round | undefined {
    return body.length >= ROUND_ID_BYTES ? this.rounds.get(bytesToHex(body.subarray(0, ROUND_ID_BYTES))) : undefined;
  }

  // ---- participant side ---------------------------------------------------------------------

  private async onOpen(env: Envelope, from: NodeId): Promise<void> {
    const m = decodeRoundOpen(env.body);
    if (!m.ok) return this.refuse(`malformed round open: ${m.error}`);
    const id = bytesToHex(m.value.roundId);
    const chain = this.chainRounds.get(id);
    if (!this.rounds.has(id)) {
      if (chain === undefined && this.announced.has(id)) return this.holdOpen(id, env, from);
      if (chain !== undefined && chain.aggregator !== from) return this.refuse('chain round opened by a node that is not its aggregator');
      if (chain !== undefined && !paramsEqual(chain.params, m.value.params)) return this.refuse('chain round opened with other parameters than committed');
    }
    const round = this.rounds.get(id) ?? this.track(m.value.roundId, from, m.value.params, chain !== undefined);
    if (round.aggregatorId !== from) return this.refuse('round id reused by another aggregator');
    if (round.participant || !this.input) return this.log(round, 'observed');
    if (this.input.length !== m.value.params.dimension) {
      round.view.abortReason = `not joined: our input has ${this.input.length} values, the round wants ${m.value.params.dimension}`;
      return this.log(round, 'not-joined');
    }
    const { participant, send } = await SecAggParticipant.join(this.node.id, from, m.value.roundId, m.value.params, this.input, {
      ...this.deps,
      random: this.node.random,
      signer: this.node.identitySigner,
    }, this.model);
    round.participant = participant;
    if (send === null) {
      round.view.refusedReason = participant.abortReason;
      this.refuse('round refused: threshold below the malicious-safe floor');
    }
    round.view.inputPreview = this.input.slice(0, PREVIEW);
    this.log(round, 'advertised');
    if (from !== this.node.id) this.armWatchdog(round);
    await this.toAggregator(round, send);
  }

  private holdOpen(id: string, env: Envelope, from: NodeId): void {
    const held = this.heldOpens.get(id);
    if (held !== undefined) {
      if (held.opens.length < MAX_OPENS_PER_ROUND && !held.opens.some((h) => h.from === from)) held.opens.push({ env, from });
      return;
    }
    if (this.heldOpens.size >= MAX_HELD_OPENS) return this.refuse('round open held: too many waiting');
    const timer = this.node.clock.setTimeout(() => {
      if (!this.heldOpens.delete(id)) return;
      this.announced.delete(id);
      this.refuse('round open the chain never opened');
    }, CHAIN_OPEN_HOLD_MS);
    this.heldOpens.set(id, { opens: [{ env, from }], timer });
  }

  private async toAggregator(round: Round, msg: ToAggregator | null): Promise<void> {
    // Nothing to send: aborted, or (sparse rounds) not on the reveal committee.
    if (!msg) return round.participant?.stage === 'aborted' ? this.log(round, 'participant aborted') : undefined;
    if (round.aggregatorId === this.node.id) {
      // We aggregate our own round: seal for the transcript and hand it over locally.
      const env = await this.node.seal(msg.type, msg.body, this.node.publicKey);
      this.contributed(round, msg.type, env);
      return this.onForAggregator(env);
    }
    const env = await this.node.sendTo(round.aggregatorId, msg.type, msg.body);
    round.lastToAggregator = env;
    this.contributed(round, msg.type, env);
  }

  private contributed(round: Round, type: number, env: Envelope): void {
    if (type !== MessageType.SecAggMaskedInput) return;
    for (const l of this.contributionListeners) l({ roundId: round.roundId, envelope: env.bytes, params: round.params });
  }

  private async onFromAggregator(env: Envelope, from: NodeId): Promise<void> {
    const round = this.roundOf(env.body);
    if (!round) return this.refuse('message for an unknown round');
    if (from !== round.aggregatorId) return this.refuse('round message not from its aggregator');
    round.lastToAggregator = null; // the aggregator moved on: what we sent it is no longer wanted
    const p = round.participant;
    if (!p || p.stage === 'aborted') return;
    let reply: ToAggregator | null;
    switch (env.type) {
      case MessageType.SecAggAdvertiseBundle: {
        const b = decodeBundle(env.body);
        reply = b.ok ? await p.onAdvertiseBundle(b.value.envelopes) : null;
        break;
      }
      case MessageType.SecAggRevealBundle: {
        const b = decodeBundle(env.body);
        reply = b.ok ? await p.onRevealBundle(b.value.envelopes) : null;
        break;
      }
      case MessageType.SecAggRevealRequest: {
        const q = decodeRevealRequest(env.body);
        reply = q.ok ? p.onRevealRequest(q.value.attempt) : null;
        break;
      }
      case MessageType.SecAggShares: {
        const s = decodeShareKeys(env.body);
        reply = s.ok ? await p.onShares(s.value.shares) : null;
        break;
      }
      case MessageType.SecAggSurvivors: {
        const l = decodeIdList(env.body);
        reply = l.ok ? p.onSurvivors(l.value.ids.map(bytesToHex)) : null;
        break;
      }
      case MessageType.SecAggConsistencyBundle: {
        const b = decodeBundle(env.body);
        reply = b.ok ? await p.onConsistencyBundle(b.value.envelopes) : null;
        break;
      }
      default:
        return;
    }
    // The advertise bundle fixes the round's shape: a threshold below our floor is refused there.
    if ((p.stage as ParticipantStage) === 'aborted' && p.abortReason?.startsWith('refused:')) round.view.refusedReason ??= p.abortReason;
    this.log(round, p.stage);
    if (round.aggregatorId !== this.node.id && (p.stage as ParticipantStage) !== 'aborted') this.armWatchdog(round);
    if (reply) await this.toAggregator(round, reply);
  }

  // ---- aggregator side ----------------------------------------------------------------------

  private async onForAggregator(env: Envelope): Promise<void> {
    const round = this.roundOf(env.body);
    const agg = round?.aggregator;
    if (!round || !agg) return this.refuse('aggregator message for a round we do not aggregate');
    const r = agg.accept(env, await this.maskedRoot(env));
    if (!r.ok) return this.refuse(r.error);
    this.log(round, `${agg.stage}: received`);
    if (agg.stageComplete()) await this.closeStage(round);
  }

  /** A masked input's chunk root, hashed by the engine (in the browser: the worker, not the page). */
  private async maskedRoot(env: Envelope): Promise<Uint8Array | undefined> {
    if (env.type !== MessageType.SecAggMaskedInput) return undefined;
    const m = decodeMaskedInput(env.body);
    if (!m.ok) return undefined; // the aggregator refuses it
    try {
      return (await this.engine.chunkRoots([m.value.masked])).roots[0];
    } catch {
      return undefined; // the engine failed: the aggregator hashes it itself
    }
  }

  private armTimer(round: Round): void {
    if (round.timer !== null) this.node.clock.clearTimeout(round.timer);
    const stage = round.aggregator?.stage;
    round.timer = this.node.clock.setTimeout(() => {
      this.node.schedule(async () => {
        if (round.aggregator && round.aggregator.stage === stage) await this.closeStage(round);
      });
    }, round.params.timeout);
  }

  private async closeStage(round: Round): Promise<void> {
    const agg = round.aggregator as SecAggAggregator;
    const ev = await agg.closeStage(this.node.clock.now());
    if (ev.kind === 'send') {
      this.log(round, agg.stage);
      this.armTimer(round);
      for (const m of ev.messages) await this.fromAggregator(round, m);
      return;
    }
    if (round.timer !== null) this.node.clock.clearTimeout(round.timer);
    round.timer = null;
    const transcript = ev.kind === 'done' ? ev.transcript : [];
    const size = transcript.reduce((n, e) => n + e.length, 0);
    const result = ev.kind === 'done' ? ev.result : null;
    // Ship whenever receivers will expect it (transcriptExpected), and any other that fits.
    const ship =
      !round.chain &&
      result !== null &&
      (size <= MAX_SHIPPED_TRANSCRIPT_BYTES || transcriptExpected(round.params, result.contributors.length)) &&
      size + 4 * result.sum.length <= RESULT_TRANSCRIPT_BUDGET_BYTES;
    if (ev.kind === 'done') for (const l of this.aggregatedListeners) l({ roundId: round.roundId, result: ev.result, transcript: ev.transcript });
    const body = encodeRoundResult({
      roundId: round.roundId,
      ok: ev.kind === 'done',
      reason: ev.kind === 'aborted' ? ev.reason : '',
      contributors: result ? result.contributors.map(hexToBytes) : [],
      dropped: result ? result.dropped.map(hexToBytes) : [],
      sum: result ? result.sum : new Uint32Array(0),
      transcriptHash: result ? result.transcriptHash : new Uint8Array(32),
      transcript: ship ? transcript : [],
    });
    const env = await this.node.broadcast(MessageType.SecAggResult, body);
    this.log(round, agg.stage);
    await this.onResult(env, this.node.id);
  }

  private async fromAggregator(round: Round, m: Outgoing): Promise<void> {
    if (m.to === null) {
      const env = await this.node.broadcast(m.type, m.body);
      return this.onFromAggregator(env, this.node.id);
    }
    if (m.to === this.node.id) {
      const env = await this.node.seal(m.type, m.body, this.node.publicKey);
      return this.onFromAggregator(env, this.node.id);
    }
    await this.node.sendTo(m.to, m.type, m.body);
  }

  // ---- results --------------------------------------------------------------------------------

  private async onResult(env: Envelope, from: NodeId): Promise<void> {
    const m = decodeRoundResult(env.body);
    if (!m.ok) return this.refuse(`malformed round result: ${m.error}`);
    const round = this.rounds.get(bytesToHex(m.value.roundId));
    if (!round) return this.refuse('result for an unknown round');
    if (from !== round.aggregatorId) return this.refuse('round result not from its aggregator');
    if (round.view.stageLog.some((s) => s.stage === 'result')) return; // first result only
    if (!m.value.ok) {
      round.view.abortReason = m.value.reason;
      return this.log(round, 'result');
    }
    const contributors = m.value.contributors.map(bytesToHex);
    const decoded = decodeSum(m.value.sum, contributors.length, round.params);
    const mean = new Float64Array(decoded.length); // a loop, not Float64Array.map's callback per entry
    const n = Math.max(1, contributors.length);
    for (let i = 0; i < mean.length; i++) mean[i] = (decoded[i] as number) / n;
    const view: RoundResultView = {
      contributors,
      dropped: m.value.dropped.map(bytesToHex),
      sum: decoded,
      mean,
      transcriptHash: bytesToHex(m.value.transcriptHash),
      verified: null,
      verifyDetail: 'chain round: every validator recomputes it from the transcript before its block commits',
    };
    if (!round.chain && m.value.transcript.length === 0) {
      // No consensus checks a direct round: without its transcript nothing does.
      if (transcriptExpected(round.params, contributors.length)) {
        view.verified = false;
        view.verifyDetail = 'aggregator sent no transcript';
        this.refuse('direct round result without its transcript');
      } else {
        view.verifyDetail =
          `unverified: the transcript (over ${Math.round((4 * round.params.dimension * contributors.length) / 2 ** 20)} MiB of ` +
          'masked inputs) is too large to ship and no consensus checks a direct round';
      }
    }
    if (m.value.transcript.length > 0) {
      const r = await recomputeFromTranscript(m.value.transcript, this.deps);
      if (!r.ok) {
        view.verified = false;
        view.verifyDetail = `transcript does not check: ${r.error}`;
      } else {
        const same =
          bytesEqual(new Uint8Array(r.value.sum.buffer), new Uint8Array(m.value.sum.buffer)) &&
          r.value.contributors.join() === contributors.join() &&
          bytesEqual(r.value.transcriptHash, m.value.transcriptHash) &&
          nodeIdFromPublicKey(env.sender) === r.value.aggregator;
        view.verified = same;
        view.verifyDetail = same ? 'recomputed from the signed transcript: equal' : 'recomputed sum differs from the claim';
      }
    }
    round.view.result = view;
    if (round.watchdog !== null) this.node.clock.clearTimeout(round.watchdog);
    round.watchdog = null;
    this.log(round, 'result');
  }
}
