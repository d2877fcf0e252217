// Secure-aggregation rounds run through the chain (docs/DESIGN.md, "one round, end to end"):
//
// 1. Open. `open()` submits an open-round transaction (round id, deadline height, parameters).
//    Its aggregator is fixed by the chain: the proposer named in the header of the block that
//    committed the transaction (app-state.ts RoundRecord.aggregator). That is the proposer of round
//    0 of that height or, when round 0 timed out, of the later round that decided the block ("the
//    next one on timeout"). Every node reads it from the same committed block, so no node chooses
//    itself. If that node never aggregates, the round lapses at its deadline height.
// 2. Run. Every node tells its SecAggService of the round id as soon as the transaction is gossiped
//    (`announceChainRound`: an Open for it waits for the commit) and, on the commit, which node may
//    open it (`expectChainRound`: an Open from anyone else is refused); the designated node opens it
//    and the stages run over the overlay as for any round. Round ids never named by a transaction
//    are direct rounds (`SecAggService.startRound`), joined as before: a node that opens a direct
//    round under a chain round's id before the transaction reached the participants hijacks it at
//    most into lapsing — its result can never commit (validators check the transcript's aggregator).
// 3. Claim. When the round completes, the aggregator computes the transcript commitment
//    (secagg/transcript-root.ts), puts the result in its chain's pool and gossips a claim (type 46,
//    round-claim.ts: the result and the transcript). Every node that receives it checks it — the
//    claim comes from the round's aggregator, recomputeFromTranscript over the transcript gives
//    exactly the claimed sum, contributors and dropouts, the transcript's Open is the aggregator's
//    with the committed parameters, and the root is the transcript's — and on success keeps the
//    transcript and puts the result in its own pool, so whichever validator proposes next carries it.
// 4. Vote. The chain calls `checkAggregation` for every result in a proposal; the answer is the same
//    check against the transcript kept for the result's root (memoised per result). No transcript,
//    or a mismatch: the validator refuses the block (prevotes nil) and the next round's proposer
//    gets its turn. A transcript over the ship limit (MAX_CLAIM_TRANSCRIPT_BYTES) goes the sampled
//    way instead: the claim (type 47, sampled-claim.ts) carries the light transcript (every key,
//    share and signature, each masked vector replaced by its sender's signed chunk root) and each
//    contributor's openings of the chunks sampled from the transcript root and the round's opened
//    height (secagg/chunk-sampling.ts); validators check everything but the sum fully and the sum on
//    the sampled coordinates (recomputeSampled). Those public indices follow from the root, which the
//    aggregator can grind (re-seal an envelope until the wrong chunks are missed); so each checking
//    node also draws PRIVATE_SAMPLED_CHUNKS more with its own randomness once the claim is public,
//    asks the aggregator for their openings (types 55/56, private-sample.ts; no answer within 10 s:
//    the claim is refused) and recomputes the sum on the public and private chunks together. README
//    "Consensus" says what that proves.
// 5. Receipt. When the block with the result commits, each contributor builds its receipt — the
//    block's QC and the path of its commitment under the transcript root — checks it
//    (ledger/receipt-check.ts) and hands it to the audit log. Reputation moves by the chain's rules.
import { bytesEqual, bytesToHex, hexToBytes } from '../core/bytes.ts';
import type { RoundRecord } from '../core/consensus/app-state.ts';
import type { CommitInfo } from '../core/consensus/chain.ts';
import { decodeBlock, encodeResult, type AggregationResult } from '../core/consensus/block.ts';
import { decodeRoundClaim, encodeRoundClaim, MAX_CLAIM_TRANSCRIPT_BYTES } from '../core/consensus/round-claim.ts';
import { decodeSampledClaim, encodeSampledClaim, type SampledClaim } from '../core/consensus/sampled-claim.ts';
import { widenClaim } from '../core/consensus/private-sample.ts';
import { DEFAULT_SAMPLED_CHUNKS, PRIVATE_SAMPLED_CHUNKS, privateChunkIndices, sampleChunkIndices } from '../core/secagg/chunk-sampling.ts';
import { lightTranscript } from '../core/secagg/light-transcript.ts';
import { chunkCount, chunkWords, CHUNK_WORDS } from '../core/secagg/masked-chunks.ts';
import { decodeTxMessage } from '../core/consensus/chain-messages.ts';
import { decodeTransaction, type TxPayload } from '../core/consensus/transactions.ts';
import { sha256 } from '../core/crypto/hash.ts';
import { nodeIdFromPublicKey, type NodeId } from '../core/crypto/node-id.ts';
import type { QuorumCertificate } from '../core/consensus/types.ts';
import type { ReceiptBlockProof, TranscriptInclusion } from '../core/ledger/entry.ts';
import type { Hash } from '../core/ledger/merkle.ts';
import { encodeGenesis } from '../core/consensus/genesis.ts';
import { encodeCertificate } from '../core/consensus/light-client.ts';
import { checkReceipt, receiptBlockProof, validatorSetHistory, type SetHistory } from '../core/ledger/receipt-check.ts';
import type { ReceiptQcCheck } from '../core/ledger/verify.ts';
import { verifyQuorumCertificate } from '../core/consensus/qc.ts';
import type { Envelope } from '../core/net/envelope.ts';
import { MessageType, messageTypes } from '../core/net/message-types.ts';
import { err, ok, type Result } from '../core/result.ts';
import { ROUND_ID_BYTES } from '../core/secagg/messages.ts';
import { DEFAULT_PARAMS, paramsEqual, validateParams, type SecAggParams } from '../core/secagg/params.ts';
import { recomputeFromTranscript, recomputeSampled, type ChunkOpening, type RecomputeDeps, type AggregateResult } from '../core/secagg/transcript.ts';
import { commitLightTranscript, commitTranscript, contributorInclusion, type TranscriptCommitment } from '../core/secagg/transcript-root.ts';
import type { AegisNode } from './aegis-node.ts';
import type { ConsensusService } from './consensus-service.ts';
import type { Aggregated, SecAggService } from './secagg-service.ts';
import { Listeners, countRefusal } from './listeners.ts';
import { chunkOpeners, NO_OPENINGS, OpeningsRequests, OpeningsResponder, type ChunkOpeners } from './private-sample.ts';

/** What the rounds need of the consensus service (ConsensusService has it; tests may stub it). */
export type RoundsConsensus = Pick<ConsensusService, 'chainApp' | 'submit' | 'hooks' | 'setAggregationChecker' | 'genesisHashHex'>;

/** The audit log's receipt hook (LedgerService.recordReceipt). */
export type RecordReceipt = (r: {
  roundId: Uint8Array;
  height: number;
  blockHash: Hash;
  qc: QuorumCertificate;
  /** Header and result item with its path: the receipt checks on its own (entry v2). */
  block: ReceiptBlockProof;
  transcript: TranscriptInclusion;
}) => Promise<Result<number>>;

export type ChainRoundStatus = 'submitted' | 'open' | 'claimed' | 'committed' | 'lapsed';

export interface ChainRoundView {
  roundId: string;
  status: ChainRoundStatus;
  /** Null until the opening transaction commits. */
  aggregator: NodeId | null;
  aggregatorIsSelf: boolean;
  openedHeight: number | null;
  deadlineHeight: number | null;
  /** Height of the block that committed the result. */
  resultHeight: number | null;
  /** This node's check of the aggregator's claim: null until one arrived. */
  claimChecked: boolean | null;
  claimDetail: string;
  /** This node's receipt: recorded in its audit log at `height`, or why not. */
  receipt: { height: number; entryIndex: number } | null;
  receiptDetail: string;
}

export interface ChainRoundsOptions {
  node: AegisNode;
  secagg: SecAggService;
  consensus: RoundsConsensus;
  deps: RecomputeDeps;
  /** The audit log's hook; without one receipts are built and checked but not recorded. */
  recordReceipt?: RecordReceipt;
  /** Deadline of rounds this node opens, in blocks after the current height. */
  deadlineBlocks?: number;
  /** Transcripts larger than this (bytes, with the result) go the sampled way; default MAX_CLAIM_TRANSCRIPT_BYTES. */
  maxShipBytes?: number;
  /** Chunks sampled per contributor in the sampled check (a protocol constant: tests only). */
  sampledChunks?: number;
  /** How long a private sample waits for the aggregator's openings; default PRIVATE_SAMPLE_TIMEOUT_MS (10 s). */
  privateSampleTimeoutMs?: number;
}

interface Tracked {
  view: ChainRoundView;
  roundId: Uint8Array;
  aggregator: NodeId | null;
  params: SecAggParams | null;
}

export const DEFAULT_DEADLINE_BLOCKS = 120;
const MAX_TRACKED = 50;
const MAX_TRANSCRIPTS = 16;
const MAX_VERDICTS = 256;

const resultKey = (r: AggregationResult): string => bytesToHex(sha256(encodeResult(r)));

const idsEqual = (a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean => a.length === b.length && a.every((x, i) => bytesEqual(x, b[i] as Uint8Array));

/** What a recomputation (full or sampled) must agree on with the claimed result and the round the chain opened. */
function sameRound(x: Pick<AggregateResult, 'roundId' | 'aggregator' | 'params' | 'contributors' | 'dropped'>, r: AggregationResult, round: RoundRecord): Result<true> {
  if (!bytesEqual(x.roundId, r.roundId)) return err('transcript of another round');
  if (x.aggregator !== nodeIdFromPublicKey(round.aggregator)) return err('transcript opened by another node than the designated aggregator');
  if (!paramsEqual(x.params, round.params)) return err('transcript parameters differ from the committed ones');
  if (!idsEqual(x.contributors.map(hexToBytes), r.contributors)) return err('contributors differ');
  if (!idsEqual(x.dropped.map(hexToBytes), r.dropouts)) return err('dropouts differ');
  return ok(true);
}

export class ChainRoundService {
  private readonly tracked = new Map<string, Tracked>();
  /** Checked transcripts by hex root (a claim's, or this aggregator's own): the envelopes, or a sampled claim. */
  private readonly transcripts = new Map<string, { tc: TranscriptCommitment; envelopes: readonly Uint8Array[] | null; sampled: SampledClaim | null }>();
  /** checkAggregation verdicts by hash of the encoded result (a block is validated more than once). */
  private readonly verdicts = new Map<string, Promise<Result<true>>>();
  private readonly listeners = new Listeners();
  private readonly changed = (): void => this.listeners.notify();
  /** Refused claims, results and receipts by reason (shown on the dashboard). */
  readonly refused: Record<string, number> = {};
  /** Developer switch: as aggregator, claim a sum with its first word off by one (validators refuse it). */
  tamperResults = false;
  /**
   * Developer switch: as aggregator, claim a sum off by one in the first chunk the public sample
   * leaves out (sampled claims only): the public check passes, validators' private samples refuse it.
   */
  tamperUnsampledResults = false;
  /** Developer switch: as aggregator, ignore private-sample requests (validators refuse its sampled claims after the timeout). */
  withholdOpenings = false;
  /** Results whose sampled claim this node has started checking (a copy of the claim is not checked, nor asked for, again). */
  private readonly sampledChecks = new Set<string>();
  private readonly responder: OpeningsResponder;
  private readonly requests: OpeningsRequests;

  constructor(private readonly o: ChainRoundsOptions) {
    // Round ids of open-round transactions, as they are gossiped (before they commit).
    o.node.onMessage(MessageType.ChainTransaction, (env) => this.onTransaction(env.body));
    o.consensus.setAggregationChecker(async (r) => (await this.checkResult(r)).ok);
    o.consensus.hooks.commit.push((c) => this.onCommit(c));
    o.secagg.onAggregated((a) => o.node.schedule(() => this.onAggregated(a)));
    o.node.onMessage(MessageType.ChainRoundClaim, (env) => o.node.schedule(() => this.onClaim(env)));
    o.node.onMessage(MessageType.ChainRoundSampledClaim, (env) => o.node.schedule(() => this.onSampledClaim(env)));
    // Answers go to validators only: theirs are the votes a private sample protects (and each answer can be MBs).
    this.responder = new OpeningsResponder(o.node, (reason) => this.refuse(reason), (publicKey) => this.isValidator(publicKey));
    this.requests = new OpeningsRequests(o.node, (reason) => this.refuse(reason), o.privateSampleTimeoutMs);
    o.node.onMessage(MessageType.ChainRoundOpeningsRequest, (env) => {
      if (!this.withholdOpenings) o.node.schedule(() => this.responder.onRequest(env));
    });
    // Not queued: it only hands the answer to the check waiting for it, which runs on the queue.
    o.node.onMessage(MessageType.ChainRoundOpenings, (env) => this.requests.onOpenings(env));
  }

  private onTransaction(body: Uint8Array): void {
    const bytes = decodeTxMessage(body);
    const tx = bytes.ok ? decodeTransaction(bytes.value) : null;
    if (tx?.ok && tx.value.payload.kind === 'open-round') this.o.secagg.announceChainRound(tx.value.payload.roundId);
  }

  subscribe(listener: () => void): () => void {
    return this.listeners.subscribe(listener);
  }

  private refuse(reason: string): void {
    countRefusal(this.refused, reason);
    this.changed();
  }

  views(): ChainRoundView[] {
    return [...this.tracked.values()].map((t) => ({ ...t.view }));
  }

  view(roundId: string): ChainRoundView | null {
    const t = this.tracked.get(roundId);
    return t ? { ...t.view } : null;
  }

  /** Submits an open-round transaction; returns the round id (hex). Throws if the chain is not running. */
  async open(overrides: Partial<SecAggParams> = {}): Promise<string> {
    const chain = this.o.consensus.chainApp;
    if (chain === null) throw new Error('the chain has not started yet');
    const params = { ...DEFAULT_PARAMS, ...overrides };
    const v = validateParams(params);
    if (!v.ok) throw new Error(v.error);
    const blocks = Math.min(this.o.deadlineBlocks ?? DEFAULT_DEADLINE_BLOCKS, chain.state.params.maxRoundBlocks);
    const roundId = this.o.node.random.bytes(ROUND_ID_BYTES);
    // The deadline counts from the height the transaction can land in at the earliest.
    const payload: TxPayload = { kind: 'open-round', roundId, deadlineHeight: chain.height + 1 + blocks, params };
    const t = this.track(roundId);
    this.o.secagg.announceChainRound(roundId);
    try {
      await this.o.consensus.submit(payload);
    } catch (e) {
      this.tracked.delete(t.view.roundId);
      throw e;
    }
    this.changed();
    return t.view.roundId;
  }

  private track(roundId: Uint8Array): Tracked {
    const id = bytesToHex(roundId);
    let t = this.tracked.get(id);
    if (t !== undefined) return t;
    t = {
      roundId: roundId.slice(),
      aggregator: null,
      params: null,
      view: {
        roundId: id,
        status: 'submitted',
        aggregator: null,
        aggregatorIsSelf: false,
        openedHeight: null,
        deadlineHeight: null,
        resultHeight: null,
        claimChecked: null,
        claimDetail: '',
        receipt: null,
        receiptDetail: '',
      },
    };
    this.tracked.set(id, t);
    if (this.tracked.size > MAX_TRACKED) {
      const oldest = this.tracked.keys().next().value;
      if (oldest !== undefined && oldest !== id) this.tracked.delete(oldest);
    }
    return t;
  }

  // ---- commits ----------------------------------------------------------------------------------

  private onCommit(c: CommitInfo): void {
    for (const e of c.events) {
      if (e.kind !== 'round-opened') continue;
      const record = c.state.rounds.get(bytesToHex(e.roundId));
      if (record === undefined) continue; // lapsed within its own block (deadline = height): nothing to run
      const t = this.track(e.roundId);
      t.aggregator = nodeIdFromPublicKey(e.aggregator);
      t.params = record.params;
      Object.assign(t.view, {
        status: 'open',
        aggregator: t.aggregator,
        aggregatorIsSelf: t.aggregator === this.o.node.id,
        openedHeight: c.height,
        deadlineHeight: e.deadlineHeight,
      });
      this.o.secagg.expectChainRound(e.roundId, t.aggregator, record.params);
      if (t.aggregator === this.o.node.id) {
        const roundId = e.roundId;
        this.o.node.schedule(async () => {
          const r = await this.o.secagg.openChainRound(roundId);
          if (!r.ok) this.refuse(`open chain round: ${r.error}`);
        });
      }
    }
    if (c.results.length > 0) {
      const blockBytes = this.o.consensus.chainApp?.blocks.get(c.height)?.bytes;
      for (const r of c.results) this.o.node.schedule(() => this.onResultCommitted(c, r, blockBytes));
    }
    for (const t of this.tracked.values())
      if (t.view.deadlineHeight !== null && t.view.status !== 'committed' && c.height >= t.view.deadlineHeight) t.view.status = 'lapsed';
    this.changed();
  }

  private async onResultCommitted(c: CommitInfo, r: AggregationResult, blockBytes: Uint8Array | undefined): Promise<void> {
    const t = this.track(r.roundId);
    t.view.status = 'committed';
    t.view.resultHeight = c.height;
    const me = hexToBytes(this.o.node.id);
    if (!r.contributors.some((id) => bytesEqual(id, me))) {
      t.view.receiptDetail = r.dropouts.some((id) => bytesEqual(id, me)) ? 'dropped out: no receipt' : 'not a contributor';
      return this.changed();
    }
    const held = this.transcripts.get(bytesToHex(r.transcriptHash));
    const inclusion = held ? contributorInclusion(held.tc, this.o.node.id) : null;
    const chain = this.o.consensus.chainApp;
    const block = blockBytes ? decodeBlock(blockBytes) : null;
    if (inclusion === null || chain === null || block === null || !block.ok) {
      t.view.receiptDetail = inclusion === null ? 'no transcript for the committed root: no receipt' : 'block not available: no receipt';
      return this.refuse(`receipt: ${t.view.receiptDetail}`);
    }
    const validators = chain.validatorSet(c.height);
    const proof = receiptBlockProof(block.value, r.roundId, validators, this.o.node.id);
    if (proof === null) {
      t.view.receiptDetail = 'the block carries no result for the round: no receipt';
      return this.refuse(`receipt: ${t.view.receiptDetail}`);
    }
    const receipt = { roundId: r.roundId, height: c.height, blockHash: c.hash, qc: c.qc, block: proof, transcript: inclusion };
    const checked = await checkReceipt(
      { kind: 'receipt', timeMs: 0, ...receipt },
      { chainId: chain.state.chainId, verifier: this.o.deps.verifier, validators, contributor: this.o.node.id },
    );
    if (!checked.ok) {
      t.view.receiptDetail = `receipt does not check: ${checked.error}`;
      return this.refuse('receipt does not check');
    }
    if (this.o.recordReceipt === undefined) {
      t.view.receiptDetail = 'receipt checked (no audit log to record it in)';
      return this.changed();
    }
    const rec = await this.o.recordReceipt(receipt);
    if (rec.ok) {
      t.view.receipt = { height: c.height, entryIndex: rec.value };
      t.view.receiptDetail = `receipt recorded (height ${c.height})`;
    } else t.view.receiptDetail = `receipt not recorded: ${rec.error}`;
    this.changed();
  }

  // ---- aggregator: claim ------------------------------------------------------------------------

  private async onAggregated(a: Aggregated): Promise<void> {
    const t = this.tracked.get(bytesToHex(a.roundId));
    if (t === undefined || t.aggregator !== this.o.node.id) return; // not a chain round of ours
    const tc = commitTranscript(a.roundId, a.transcript);
    if (!tc.ok) return this.refuse(`own transcript: ${tc.error}`);
    const sum = a.result.sum.slice();
    if (this.tamperResults && sum.length > 0) sum[0] = ((sum[0] as number) + 1) >>> 0;
    if (this.tamperUnsampledResults) this.tamperUnsampled(sum, tc.value.root, a.roundId);
    const result: AggregationResult = {
      roundId: a.roundId,
      transcriptHash: tc.value.root,
      sum,
      contributors: a.result.contributors.map(hexToBytes),
      dropouts: a.result.dropped.map(hexToBytes),
    };
    this.keepTranscript(tc.value, a.transcript, null);
    // Our own claim needs no recomputation (a tampering node vouches for its own claim, too).
    this.remember(result, Promise.resolve(ok(true)));
    const chain = this.o.consensus.chainApp;
    const pooled = chain?.submitResult(result);
    if (pooled && !pooled.ok) this.refuse(`own result: ${pooled.error}`);
    const size = a.transcript.reduce((n, e) => n + e.length, 0);
    if (size + encodeResult(result).length <= (this.o.maxShipBytes ?? MAX_CLAIM_TRANSCRIPT_BYTES)) {
      Object.assign(t.view, { status: 'claimed', claimChecked: true, claimDetail: 'claimed: result and transcript sent to validators' });
      this.changed();
      return void (await this.o.node.broadcast(MessageType.ChainRoundClaim, encodeRoundClaim({ result, transcript: a.transcript })));
    }
    // Each contributor's chunk tree, built once: the public openings now, validators' private samples later.
    const openers = chunkOpeners(a.transcript);
    const claim = this.sampledClaim(result, a.transcript, tc.value, openers);
    const bytes = claim.ok ? encodeSampledClaim(claim.value) : null;
    const limit = (messageTypes.get(MessageType.ChainRoundSampledClaim) as { maxBodyBytes: number }).maxBodyBytes;
    if (bytes === null || bytes.length > limit) {
      Object.assign(t.view, { status: 'claimed', claimChecked: true, claimDetail: `claimed, but no sampled claim could be sent: ${claim.ok ? `${bytes?.length} bytes` : claim.error}` });
      return this.refuse('own sampled claim not sendable');
    }
    Object.assign(t.view, { status: 'claimed', claimChecked: true, claimDetail: `claimed: result, light transcript and ${claim.ok ? claim.value.indices.length : 0} sampled chunks per contributor sent to validators` });
    this.changed();
    // Before the claim goes out: a validator's private sample may come right after it.
    this.responder.offer(a.roundId, tc.value.root, sum.length, openers);
    await this.o.node.broadcast(MessageType.ChainRoundSampledClaim, bytes);
  }

  /** tamperUnsampledResults: one word off in the first chunk outside the public sample (if there is one). */
  private tamperUnsampled(sum: Uint32Array, root: Hash, roundId: Uint8Array): void {
    const round = this.o.consensus.chainApp?.state.rounds.get(bytesToHex(roundId));
    if (round === undefined) return;
    const sampled = new Set(this.sampleIndices(root, round.openedHeight, round.params.dimension));
    const c = Array.from({ length: chunkCount(sum.length) }, (_, i) => i).find((i) => !sampled.has(i));
    if (c !== undefined) sum[c * CHUNK_WORDS] = ((sum[c * CHUNK_WORDS] as number) + 1) >>> 0;
  }

  /** The chunks every validator will check, opened in each contributor's masked vector. */
  private sampledClaim(result: AggregationResult, transcript: readonly Uint8Array[], tc: TranscriptCommitment, openers: ChunkOpeners): Result<SampledClaim> {
    const round = this.o.consensus.chainApp?.state.rounds.get(bytesToHex(result.roundId));
    if (round === undefined) return err('no such open round on the chain');
    const light = lightTranscript(transcript);
    if (!light.ok) return light;
    const indices = this.sampleIndices(tc.root, round.openedHeight, round.params.dimension);
    const chunks = new Map<NodeId, ChunkOpening[]>();
    for (const [id, open] of openers) chunks.set(id, open(indices));
    return ok({ result, light: light.value, indices, chunks });
  }

  private sampleIndices(root: Hash, openedHeight: number, dimension: number): number[] {
    return sampleChunkIndices(root, openedHeight, chunkCount(dimension), this.o.sampledChunks ?? DEFAULT_SAMPLED_CHUNKS);
  }

  private keepTranscript(tc: TranscriptCommitment, envelopes: readonly Uint8Array[] | null, sampled: SampledClaim | null): void {
    this.transcripts.set(bytesToHex(tc.root), { tc, envelopes, sampled });
    if (this.transcripts.size > MAX_TRANSCRIPTS) {
      const oldest = this.transcripts.keys().next().value;
      if (oldest !== undefined) this.transcripts.delete(oldest);
    }
  }

  private remember(r: AggregationResult, verdict: Promise<Result<true>>): void {
    this.verdicts.set(resultKey(r), verdict);
    if (this.verdicts.size > MAX_VERDICTS) {
      const oldest = this.verdicts.keys().next().value;
      if (oldest !== undefined) this.verdicts.delete(oldest);
    }
  }

  // ---- everyone: check claims and results -------------------------------------------------------

  private async onClaim(env: Envelope): Promise<void> {
    const d = decodeRoundClaim(env.body);
    if (!d.ok) return this.refuse('malformed round claim');
    const { result, transcript } = d.value;
    const t = this.claimedRound(env, result);
    if (t === null) return;
    if (transcript.length === 0) {
      return this.refuseClaim(t, 'claim without transcript (too large to ship): not checkable here', 'claim without transcript');
    }
    const tc = commitTranscript(result.roundId, transcript);
    if (!tc.ok || !bytesEqual(tc.value.root, result.transcriptHash)) {
      return this.refuseClaim(t, 'claim refused: the transcript does not hash to the claimed root', 'claim: transcript root differs');
    }
    const verdict = this.verify(result, transcript, tc.value);
    this.remember(result, verdict);
    const v = await verdict;
    if (!v.ok) return this.refuseClaim(t, `claim refused: ${v.error}`, 'claim does not match its transcript');
    this.keepTranscript(tc.value, transcript, null);
    this.acceptClaim(t, result, 'claim recomputed from the transcript: equal');
  }

  /**
   * A sampled claim: the light transcript and the openings of the chunks its root samples, checked
   * together with this node's private sample — chunks it draws now, with its own randomness, and
   * asks the aggregator to open. The wait for that answer runs off the node's work queue; the
   * claim's verdict (what checkResult returns) waits for it.
   */
  private async onSampledClaim(env: Envelope): Promise<void> {
    const d = decodeSampledClaim(env.body);
    if (!d.ok) return this.refuse('malformed sampled claim');
    const claim = d.value;
    const { result } = claim;
    const t = this.claimedRound(env, result);
    if (t === null) return;
    const key = resultKey(result);
    if (this.sampledChecks.has(key)) return; // a copy: checked (or being checked) already
    this.sampledChecks.add(key);
    if (this.sampledChecks.size > MAX_VERDICTS) this.sampledChecks.delete(this.sampledChecks.values().next().value as string);
    const tc = commitLightTranscript(result.roundId, claim.light);
    if (!tc.ok || !bytesEqual(tc.value.root, result.transcriptHash)) {
      return this.refuseClaim(t, 'sampled claim refused: the light transcript does not hash to the claimed root', 'claim: transcript root differs');
    }
    const round = this.o.consensus.chainApp?.state.rounds.get(bytesToHex(result.roundId));
    const publicSample = round === undefined ? err('no such open round on the chain') : this.coversPublicSample(claim, tc.value.root, round);
    // Only a validator's verdict decides anything (its vote): other nodes check the public sample and
    // spare the aggregator their requests (each answer can be MBs, flooded to non-neighbours).
    const mine =
      round === undefined || !this.isValidator(this.o.node.publicKey)
        ? []
        : privateChunkIndices(this.o.node.random, chunkCount(round.params.dimension), claim.indices, PRIVATE_SAMPLED_CHUNKS);
    const asking = publicSample.ok && mine.length > 0;
    let checking: Promise<Result<SampledClaim>>;
    if (!publicSample.ok) checking = Promise.resolve(publicSample);
    else if (!asking) checking = this.checkSampled(result, claim, tc.value);
    else {
      const asked = this.requests.ask(env.sender, result.roundId, tc.value.root, mine);
      checking = asked.then((openings) => {
        if (openings === null) return err(NO_OPENINGS);
        const wide = widenClaim(claim, mine, openings);
        if (!wide.ok) return err(`private sample: ${wide.error}`);
        return this.onQueue(() => this.checkSampled(result, wide.value, tc.value));
      });
    }
    this.remember(
      result,
      checking.then(
        (c) => (c.ok ? ok(true) : c),
        (e: unknown) => err(`sampled claim not checked: ${String(e)}`),
      ),
    );
    const settled = checking.then((c) => {
      if (!c.ok) {
        const reason = c.error === NO_OPENINGS ? 'sampled claim: no openings from the aggregator' : 'sampled claim does not check';
        return this.refuseClaim(t, `sampled claim refused: ${c.error}`, reason);
      }
      // The widened claim is kept: a later re-check (checkResult) covers the private chunks too.
      this.keepTranscript(tc.value, null, c.value);
      const detail = `claim checked on ${claim.indices.length} public + ${mine.length} private sampled chunks (light transcript fully checked): equal`;
      this.acceptClaim(t, result, detail);
    });
    // Waiting for the aggregator's answer must not hold the queue; a check without one runs on it.
    if (!asking) await settled;
    else settled.catch((e: unknown) => this.refuseClaim(t, `sampled claim not checked: ${String(e)}`, 'sampled claim not checked'));
  }

  private async checkSampled(result: AggregationResult, claim: SampledClaim, tc: TranscriptCommitment): Promise<Result<SampledClaim>> {
    const v = await this.verifySampled(result, claim, tc);
    return v.ok ? ok(claim) : v;
  }

  /** Is `publicKey` in the validator set of the next height (a vote a verdict decides)? */
  private isValidator(publicKey: Uint8Array): boolean {
    const chain = this.o.consensus.chainApp;
    if (chain === null) return false;
    try {
      return chain.validatorSet(chain.height + 1).validators.some((v) => bytesEqual(v.publicKey, publicKey));
    } catch {
      return false;
    }
  }

  /** `fn` run on the node's serial work queue, its value handed back. */
  private onQueue<T>(fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) =>
      this.o.node.schedule(async () => {
        try {
          resolve(await fn());
        } catch (e) {
          reject(e);
        }
      }),
    );
  }

  /** The tracked round a claim is for, if it came from that round's aggregator (counted if not); null for our own. */
  private claimedRound(env: Envelope, result: AggregationResult): Tracked | null {
    const t = this.tracked.get(bytesToHex(result.roundId));
    if (t === undefined || t.aggregator === null) {
      this.refuse('claim for a round the chain has not opened here');
      return null;
    }
    if (nodeIdFromPublicKey(env.sender) !== t.aggregator) {
      this.refuse('claim not from the round\'s aggregator');
      return null;
    }
    return t.aggregator === this.o.node.id ? null : t;
  }

  /** A claim that did not check: shown with why, and counted. */
  private refuseClaim(t: Tracked, detail: string, reason: string): void {
    Object.assign(t.view, { claimChecked: false, claimDetail: detail });
    this.refuse(reason);
  }

  /** A claim that checked: shown, and its result pooled for the next proposal. */
  private acceptClaim(t: Tracked, result: AggregationResult, detail: string): void {
    if (t.view.status === 'open') t.view.status = 'claimed';
    Object.assign(t.view, { claimChecked: true, claimDetail: detail });
    const pooled = this.o.consensus.chainApp?.submitResult(result);
    if (pooled && !pooled.ok && !pooled.error.startsWith('result: no such open round')) this.refuse(`pool: ${pooled.error}`);
    this.changed();
  }

  /** The chain's `checkAggregation`: the result against the transcript kept for its root. */
  checkResult(r: AggregationResult): Promise<Result<true>> {
    const key = resultKey(r);
    const known = this.verdicts.get(key);
    if (known !== undefined) return known;
    const held = this.transcripts.get(bytesToHex(r.transcriptHash));
    if (held === undefined) return Promise.resolve(err('no transcript for this result\'s root'));
    // A sampled claim's private chunks are known to the aggregator once asked for, so they vouch for
    // the result that was checked with them, not for another result under the same root.
    if (held.sampled !== null && resultKey(held.sampled.result) !== key)
      return Promise.resolve(err('another result under a root checked by sampling (its private chunks are known to the aggregator)'));
    const verdict = held.envelopes !== null ? this.verify(r, held.envelopes, held.tc) : this.verifySampled(r, held.sampled as SampledClaim, held.tc);
    this.remember(r, verdict);
    return verdict;
  }

  /** Does the claim open (at least) every chunk its root samples? More — a private sample merged in — is fine. */
  private coversPublicSample(claim: SampledClaim, root: Hash, round: RoundRecord): Result<true> {
    const opened = new Set(claim.indices);
    const want = this.sampleIndices(root, round.openedHeight, round.params.dimension);
    return want.every((c) => opened.has(c)) ? ok(true) : err('the claim does not open the chunks the root samples');
  }

  /**
   * The result against a sampled claim: it opens the chunks the root samples (and maybe more: a
   * private sample), the light transcript recomputes (every signature, share and secret) and gives
   * the result's sum on every opened chunk.
   */
  private async verifySampled(r: AggregationResult, claim: SampledClaim, tc: TranscriptCommitment): Promise<Result<true>> {
    const round = this.o.consensus.chainApp?.state.rounds.get(bytesToHex(r.roundId));
    if (round === undefined) return err('no such open round on the chain');
    if (!bytesEqual(tc.root, r.transcriptHash) || !bytesEqual(tc.roundId, r.roundId)) return err('transcript root differs');
    const covered = this.coversPublicSample(claim, tc.root, round);
    if (!covered.ok) return covered;
    const re = await recomputeSampled(claim.light, claim.chunks, claim.indices, this.o.deps);
    if (!re.ok) return err(`light transcript: ${re.error}`);
    const x = re.value;
    const same = sameRound(x, r, round);
    if (!same.ok) return same;
    if (r.sum.length !== x.params.dimension) return err('sum has the wrong dimension');
    for (let k = 0; k < x.indices.length; k++) {
      const got = chunkWords(r.sum, x.indices[k] as number);
      const sum = x.sums[k] as Uint32Array;
      if (!sum.every((w, i) => w === got[i])) return err(`sum differs on sampled chunk ${x.indices[k]}`);
    }
    return ok(true);
  }

  private async verify(r: AggregationResult, transcript: readonly Uint8Array[], tc: TranscriptCommitment): Promise<Result<true>> {
    const round = this.o.consensus.chainApp?.state.rounds.get(bytesToHex(r.roundId));
    if (round === undefined) return err('no such open round on the chain');
    if (!bytesEqual(tc.root, r.transcriptHash) || !bytesEqual(tc.roundId, r.roundId)) return err('transcript root differs');
    const re = await recomputeFromTranscript(transcript, this.o.deps);
    if (!re.ok) return err(`transcript: ${re.error}`);
    const x = re.value;
    const same = sameRound(x, r, round);
    if (!same.ok) return same;
    if (x.sum.length !== r.sum.length || !x.sum.every((w, i) => w === r.sum[i])) return err('sum differs');
    return ok(true);
  }
}

/**
 * Receipts' check for audits of peers' logs (LedgerService.setReceiptQcCheck): the whole receipt
 * (header, result item and its path, transcript path, QC) against the height's validator set,
 * derived from genesis through this chain's set-change certificates (light client), so a receipt
 * of any age checks (the chain itself keeps sets of recent heights only). A v1 receipt without its
 * header checks fully while its block is in the recent window, else its QC only.
 */
export function chainReceiptCheck(consensus: Pick<ConsensusService, 'chainApp'>, verifier: RecomputeDeps['verifier']): ReceiptQcCheck {
  // Re-verify when the checkpoint chain changed (or another chain), not per receipt. A new
  // checkpoint may replace the newest one (block-store.ts), so the count alone is not enough.
  let cached: { chain: object; count: number; lastHeight: number; history: Promise<Result<SetHistory>> } | null = null;
  return async (r) => {
    const chain = consensus.chainApp;
    if (chain === null) return err('the chain has not started here');
    const certificates = chain.certificates();
    const lastHeight = certificates.at(-1)?.header.height ?? 0;
    if (cached === null || cached.chain !== chain || cached.count !== certificates.length || cached.lastHeight !== lastHeight)
      cached = { chain, count: certificates.length, lastHeight, history: validatorSetHistory(chain.genesis, certificates, verifier) };
    const history = await cached.history;
    if (!history.ok) return err(`validator sets from this chain's certificates: ${history.error}`);
    if (r.height > chain.height) return err(`height ${r.height} is above this chain's (${chain.height})`);
    // The exact set while the chain still holds it; older heights: the checkpoint set (skipping rule).
    let validators = history.value.setAt(r.height);
    try {
      validators = chain.validatorSet(r.height);
    } catch {
      // forgotten height: the checkpoint set stands
    }
    const bytes = r.block === undefined ? chain.blocks.get(r.height)?.bytes : undefined;
    const block = bytes ? decodeBlock(bytes) : null;
    if (r.block === undefined && (block === null || !block.ok)) return verifyQuorumCertificate(r.qc, validators, chain.state.chainId, verifier);
    const c = await checkReceipt(r, { chainId: chain.state.chainId, verifier, validators, ...(block?.ok ? { block: block.value } : {}) });
    return c.ok ? ok(undefined) : c;
  };
}

/** Genesis and set-change certificates of a running chain, for log exports (offline receipt checks). */
export function chainExportMaterial(chain: ConsensusService['chainApp']): { genesis: Uint8Array; certificates: Uint8Array[] } | undefined {
  return chain === null ? undefined : { genesis: encodeGenesis(chain.genesis), certificates: chain.certificates().map(encodeCertificate) };
}
