// The chain application: what the Tendermint engine calls (ConsensusApp, types.ts). It keeps the
// state, pools of pending transactions, evidence and aggregation results, proposes blocks (evidence
// first, within the genesis limits), validates proposals (every signature, nonce and balance,
// evidence, aggregation results via the injected checker, then re-executes the block and compares
// the state root and next validators), and commits decided blocks (apply, keep the recent window,
// record set-change certificates, report events for the dashboard and the audit log).
//
// Aggregation results: `checkAggregation(result)` is supplied by the node; it finds the round's
// transcript (gossiped with the result, named by transcriptHash) and runs secagg's
// recomputeFromTranscript, answering whether the claimed sum, contributors and dropouts are exactly
// what the signed transcript yields. A transcript too large to ship to every validator (e.g. 2^21
// words × 1000 contributors) is checked on sampled coordinates instead: after the transcript is
// fixed (its hash is in the block), the coordinates are drawn from a seed derived from that hash, so
// the aggregator cannot choose them; each validator recomputes only those coordinates from the
// transcript's pieces. What that proves: every sampled coordinate is right, and an aggregator that
// falsified a fraction f of the coordinates passes s samples with probability (1 − f)^s (e.g. f = 1%,
// s = 500: 0.7%); it does not prove unsampled coordinates, so a single falsified coordinate is only
// caught with probability s/m. Without a checker, blocks carrying results are refused.
import { bytesEqual, bytesToHex } from '../bytes.ts';
import type { Clock } from '../clock.ts';
import { ED25519_SIGNATURE_BYTES, type Verifier } from '../crypto/ed25519.ts';
import { err, ok, type Result } from '../result.ts';
import { applyBlock, BlockExecutor, genesisState, stateRecords, stateRoot, type AppEvent, type AppState } from './app-state.ts';
import {
  blockHashOfBytes,
  bodyMatchesHeader,
  bodyRoots,
  decodeBlock,
  encodeBlock,
  encodeResult,
  headerHash,
  type AggregationResult,
  type Block,
  type BlockHeader,
} from './block.ts';
import { BlockStore, type BlockPersistence } from './block-store.ts';
import { encodeEvidence, ledgerSplitViewChecker, memoisedSplitViewChecker, offenceHeight, offenceKey, offender, verifyEvidence, type SplitViewChecker } from './evidence.ts';
import { genesisHash, type Genesis } from './genesis.ts';
import type { CertifiedSnapshot, SetChangeCertificate } from './light-client.ts';
import { proposerOf } from './proposer-selection.ts';
import { verifyQuorumCertificate } from './qc.ts';
import { decodeTransaction, encodeTransaction, transactionId, verifyTransaction, type Transaction } from './transactions.ts';
import { voteSignBytes } from './sign-bytes.ts';
import { indexOfValidator } from './validator-set.ts';
import { VoteType, type ConsensusApp, type Evidence, type Hash, type QuorumCertificate, type Validator, type ValidatorSet } from './types.ts';

export type AggregationChecker = (result: AggregationResult) => Promise<boolean>;

export interface ChainOptions {
  readonly genesis: Genesis;
  readonly verifier: Verifier;
  /**
   * This node's public key, the proposer field of its blocks. Optional: proposeBlock is only called
   * on the round's proposer, so without it the key is read from the proposer selection.
   */
  readonly publicKey?: Uint8Array;
  readonly clock: Clock;
  readonly checkAggregation?: AggregationChecker;
  /** Judges split-view evidence; default: the ledger's checker (proven forks only). */
  readonly splitView?: SplitViewChecker;
  readonly persistence?: BlockPersistence;
  /** A proposal's time may run at most this far ahead of the local clock. */
  readonly maxClockDriftMs?: number;
  /** Bound on each pool (transactions, evidence, results). */
  readonly maxPoolItems?: number;
  readonly onCommit?: (c: CommitInfo) => void;
}

/** What the dashboard and the audit log learn of each committed block. */
export interface CommitInfo {
  readonly height: number;
  readonly hash: Hash;
  readonly header: BlockHeader;
  readonly qc: QuorumCertificate;
  readonly transactions: number;
  readonly evidence: number;
  readonly results: readonly AggregationResult[];
  readonly events: readonly AppEvent[];
  readonly state: AppState;
}

interface Validated {
  readonly bytes: Uint8Array;
  readonly block: Block;
  readonly state: AppState;
  readonly events: AppEvent[];
}

const DEFAULT_DRIFT_MS = 10_000;
const DEFAULT_POOL = 10_000;
/** A sender may queue this many transactions beyond its committed nonce. */
const MAX_PENDING_PER_SENDER = 64;

export class Chain implements ConsensusApp {
  private stateNow: AppState;
  private lastHash: Hash;
  private lastQc: QuorumCertificate | null;
  private readonly store: BlockStore;
  /** Validator set of each recent height (evidence is judged against its height's set). */
  private readonly sets = new Map<number, ValidatorSet>();
  private readonly txPool = new Map<string, Transaction>();
  private readonly evidencePool = new Map<string, Evidence>();
  private readonly resultPool = new Map<string, AggregationResult>();
  /** Blocks of the next height that passed validation (or that this node proposed), by hash. */
  private readonly validated = new Map<string, Validated>();
  private readonly splitView: SplitViewChecker;
  /** Rejected proposals and pool submissions by reason (the first words of the error). */
  readonly rejected = new Map<string, number>();

  constructor(private readonly opts: ChainOptions, start?: { state: AppState; header: BlockHeader; qc: QuorumCertificate; certificates: readonly SetChangeCertificate[] }) {
    const p = opts.genesis.params;
    this.splitView = memoisedSplitViewChecker(opts.splitView ?? ledgerSplitViewChecker(opts.verifier));
    const atGenesis = genesisState(opts.genesis);
    this.store = new BlockStore(p.blockWindow, atGenesis.validators, opts.persistence);
    if (start === undefined) {
      this.stateNow = atGenesis;
      // Height 1 names genesis as its predecessor, binding the chain to its genesis.
      this.lastHash = genesisHash(opts.genesis);
      this.lastQc = null;
    } else {
      this.stateNow = start.state;
      this.lastHash = headerHash(start.header);
      this.lastQc = start.qc;
      this.store.seedCertificates(start.certificates);
      if (start.state.lastValidators !== null) this.sets.set(start.state.height, start.state.lastValidators);
    }
    this.sets.set(this.stateNow.height + 1, this.stateNow.validators);
  }

  get state(): AppState {
    return this.stateNow;
  }

  /** The genesis this chain started from (with certificates(): any height's validator set). */
  get genesis(): Genesis {
    return this.opts.genesis;
  }

  get height(): number {
    return this.stateNow.height;
  }

  get lastBlockHash(): Hash {
    return this.lastHash;
  }

  get lastCommit(): QuorumCertificate | null {
    return this.lastQc;
  }

  get blocks(): BlockStore {
    return this.store;
  }

  get pending(): { transactions: number; evidence: number; results: number } {
    return { transactions: this.txPool.size, evidence: this.evidencePool.size, results: this.resultPool.size };
  }

  private count(reason: string): void {
    const key = reason.split(':')[0] ?? reason;
    this.rejected.set(key, (this.rejected.get(key) ?? 0) + 1);
  }

  private fail<T>(reason: string): Result<T> {
    this.count(reason);
    return err(reason);
  }

  // ---- pools ----------------------------------------------------------------------------------

  /** Adds a signed transaction (bytes from the network, or built locally) to the pool. */
  async submitTransaction(input: Uint8Array | Transaction): Promise<Result<Hash>> {
    let tx: Transaction;
    if (input instanceof Uint8Array) {
      const d = decodeTransaction(input);
      if (!d.ok) return this.fail(`tx malformed: ${d.error}`);
      tx = d.value;
    } else tx = input;
    const id = transactionId(tx);
    const key = bytesToHex(id);
    if (this.txPool.has(key)) return ok(id);
    if (this.txPool.size >= (this.opts.maxPoolItems ?? DEFAULT_POOL)) return this.fail('tx pool full');
    const nonce = this.stateNow.accounts.get(bytesToHex(tx.sender))?.nonce ?? 0;
    if (tx.nonce < nonce) return this.fail(`tx stale: nonce ${tx.nonce} already used`);
    if (tx.nonce >= nonce + MAX_PENDING_PER_SENDER) return this.fail(`tx ahead: nonce ${tx.nonce}, next is ${nonce}`);
    if (!(await verifyTransaction(this.stateNow.chainId, tx, this.opts.verifier))) return this.fail('tx signature invalid');
    this.txPool.set(key, tx);
    return ok(id);
  }

  private evidenceContext(height: number) {
    return {
      chainId: this.stateNow.chainId,
      verifier: this.opts.verifier,
      validatorSetAt: (h: number) => this.sets.get(h) ?? null,
      currentHeight: height,
      maxAgeBlocks: this.stateNow.params.evidenceMaxAgeBlocks,
      splitView: this.splitView,
    };
  }

  /**
   * Adds evidence (from the engine or a peer) after checking it; gossip it on `ok`, which only new
   * evidence gets: a copy of pooled evidence is 'evidence already pooled', so a node that re-gossips
   * what it pools does not echo every copy back (each echo is a fresh envelope gossip cannot
   * de-duplicate: one copy per peer per hop, exponentially). Evidence against a node that is no
   * validator candidate is refused before any signature check: no block could apply it (a
   * duplicate vote's signer is checked against its height's set instead).
   *
   * A double vote of the height being decided (committed height + 1) is pooled too, judged as the
   * next block but one would judge it: that is when the engine sees almost every double vote (both
   * votes arrive before the decision), and refusing it then lost it for good (the driver reports
   * each offence once), so an equivocator was punished only if a copy happened to arrive after the
   * commit. It waits in the pool until a block above its height can carry it.
   */
  async submitEvidence(e: Evidence): Promise<Result<string>> {
    const key = offenceKey(e);
    if (this.evidencePool.has(key)) return err('evidence already pooled');
    if (this.stateNow.offences.has(key)) return this.fail('evidence already punished');
    if (this.stateNow.candidates.get(bytesToHex(offender(e)))?.tombstoned === true) return this.fail('evidence offender: already tombstoned');
    if (e.kind === 'split-view' && !this.stateNow.candidates.has(bytesToHex(offender(e)))) return this.fail('evidence offender: not a validator candidate');
    if (this.evidencePool.size >= (this.opts.maxPoolItems ?? DEFAULT_POOL)) return this.fail('evidence pool full');
    const v = await verifyEvidence(e, this.evidenceContext(this.stateNow.height + 2));
    if (!v.ok) return this.fail(`evidence invalid: ${v.error}`);
    this.evidencePool.set(key, e);
    return ok(key);
  }

  /** Whether evidence with this offenceKey waits in the pool (neither committed nor dropped). */
  hasPendingEvidence(key: string): boolean {
    return this.evidencePool.has(key);
  }

  /** Adds an aggregation result for this node to propose (it is the round's aggregator). */
  submitResult(r: AggregationResult): Result<true> {
    if (this.resultPool.size >= (this.opts.maxPoolItems ?? DEFAULT_POOL)) return this.fail('result pool full');
    const round = this.stateNow.rounds.get(bytesToHex(r.roundId));
    if (round === undefined || round.completed) return this.fail('result: no such open round');
    this.resultPool.set(bytesToHex(r.roundId), r);
    return ok(true);
  }

  // ---- ConsensusApp ---------------------------------------------------------------------------

  validatorSet(height: number): ValidatorSet {
    const s = this.sets.get(height);
    if (s === undefined) throw new Error(`"height" ${height}: validator set unknown (current height ${this.stateNow.height})`);
    return s;
  }

  proposeBlock(height: number, round: number): Promise<Uint8Array> {
    return this.propose(height, round, 0);
  }

  /** A second valid block for the same height and round (a later time): for Byzantine simulations. */
  proposeVariant(height: number, round: number): Promise<Uint8Array> {
    return this.propose(height, round, 1);
  }

  private async propose(height: number, round: number, extraMs: number): Promise<Uint8Array> {
    const s = this.stateNow;
    if (height !== s.height + 1) throw new Error(`"height" must be ${s.height + 1}, got ${height} (round ${round})`);
    const p = s.params;
    const proposer = this.opts.publicKey ?? proposerOf(s.validators, round).publicKey;
    const timeMs = Math.max(this.opts.clock.now(), s.timeMs + 1) + extraMs;
    const begun = BlockExecutor.begin(s, { height, timeMs, proposer, lastCommit: this.lastQc });
    if (!begun.ok) throw new Error(`proposeBlock: ${begun.error}`);
    const x = begun.value;
    // Room for header, last commit and lists; items are added while the block stays under the limit.
    let budget = p.maxBlockBytes - 1024 - 70 * s.validators.validators.length;

    const evidence: Evidence[] = [];
    const ctx = this.evidenceContext(height);
    for (const [key, e] of this.evidencePool) {
      if (evidence.length >= p.maxBlockEvidence) break;
      if (e.kind !== 'split-view' && offenceHeight(e) >= height) continue; // the next block carries it
      const v = await verifyEvidence(e, ctx);
      if (!v.ok || !x.applyEvidence(e).ok) {
        this.evidencePool.delete(key);
        continue;
      }
      evidence.push(e);
      budget -= encodeEvidence(e).length + 4;
    }

    const transactions: Transaction[] = [];
    // Lowest nonces first (stable: arrival order among equals), so a sender's later transaction
    // that arrived first still follows its predecessor into the same block.
    const queued = [...this.txPool].sort((a, b) => a[1].nonce - b[1].nonce);
    for (const [key, tx] of queued) {
      if (transactions.length >= p.maxBlockTransactions) break;
      const size = encodeTransaction(tx).length + 4;
      if (size > budget) continue;
      const r = x.applyTransaction(tx);
      if (!r.ok) {
        const nonce = s.accounts.get(bytesToHex(tx.sender))?.nonce ?? 0;
        if (tx.nonce < nonce) this.txPool.delete(key);
        continue; // a later nonce waits for its predecessor
      }
      transactions.push(tx);
      budget -= size;
    }

    const results: AggregationResult[] = [];
    for (const [key, r] of this.resultPool) {
      const size = encodeResult(r).length;
      if (size > budget) continue;
      const checked = this.opts.checkAggregation !== undefined && (await this.opts.checkAggregation(r));
      if (!checked || !x.applyResult(r).ok) {
        this.resultPool.delete(key);
        continue;
      }
      results.push(r);
      budget -= size;
    }

    const { state, events } = x.finish();
    const body = { lastCommit: this.lastQc, evidence, transactions, results };
    const header: BlockHeader = {
      chainId: s.chainId,
      height,
      timeMs,
      prevBlockHash: this.lastHash,
      ...bodyRoots(body),
      validatorsHash: s.validators.hash,
      nextValidatorsHash: state.validators.hash,
      appStateRoot: stateRoot(state),
      proposer,
    };
    const block: Block = { header, body };
    const bytes = encodeBlock(block);
    this.validated.set(bytesToHex(headerHash(header)), { bytes, block, state, events });
    return bytes;
  }

  async validateBlock(height: number, bytes: Uint8Array, round?: number): Promise<boolean> {
    return (await this.checkBlock(height, bytes, round)).ok;
  }

  /**
   * As validateBlock, naming the first problem found. With `round` (a fresh proposal of that round)
   * the header must name that round's proposer: otherwise a faulty proposer could pass its block off
   * as another validator's (and hand it the aggregation rounds the block opens).
   */
  async checkBlock(height: number, bytes: Uint8Array, round?: number): Promise<Result<true>> {
    const hash = blockHashOfBytes(bytes);
    if (!hash.ok) return this.fail(`block malformed: ${hash.error}`);
    const v = await this.validatedBlock(height, bytes, hash.value, 'vote');
    if (!v.ok) return this.fail(v.error);
    if (round !== undefined) {
      if (!Number.isSafeInteger(round) || round < 0) throw new Error(`"round" must be a non-negative integer, got ${round}`);
      if (!bytesEqual(v.value.block.header.proposer, proposerOf(this.stateNow.validators, round).publicKey))
        return this.fail(`block proposer: not the proposer of round ${round}`);
    }
    return ok(true);
  }

  /**
   * A block validated before, or validated now. Keyed by hash but compared byte for byte: the
   * header hash commits to the body through its roots, yet a different body under the same header
   * must be judged on its own. Failures are not remembered (a transcript or the clock may catch up).
   */
  private async validatedBlock(height: number, bytes: Uint8Array, hash: Hash, mode: 'vote' | 'commit'): Promise<Result<Validated>> {
    const key = bytesToHex(hash);
    const known = this.validated.get(key);
    if (known !== undefined && known.block.header.height === height && bytesEqual(known.bytes, bytes)) return ok(known);
    const v = await this.validate(height, bytes, mode);
    if (v.ok && this.validated.size < 64) this.validated.set(key, v.value);
    return v;
  }

  /**
   * 'vote': every check. 'commit': the block carries a QC, so more than 2/3 of the power checked
   * what this node may be unable to (its clock, a transcript it never received); those two checks
   * are skipped and everything deterministic is still re-executed.
   */
  private async validate(height: number, bytes: Uint8Array, mode: 'vote' | 'commit'): Promise<Result<Validated>> {
    const s = this.stateNow;
    const p = s.params;
    if (height !== s.height + 1) return err(`block height: asked for ${height}, next is ${s.height + 1}`);
    if (bytes.length > p.maxBlockBytes) return err(`block size: ${bytes.length} bytes, limit ${p.maxBlockBytes}`);
    const d = decodeBlock(bytes);
    if (!d.ok) return err(`block malformed: ${d.error}`);
    const block = d.value;
    const { header: h, body } = block;
    if (h.chainId !== s.chainId) return err(`block chain: ${h.chainId}`);
    if (h.height !== height) return err(`block height: header says ${h.height}`);
    if (!bytesEqual(h.prevBlockHash, this.lastHash)) return err('block previous hash: not the last committed block');
    if (!bytesEqual(h.validatorsHash, s.validators.hash)) return err('block validators hash: not this height\'s set');
    if (indexOfValidator(s.validators, h.proposer) < 0) return err('block proposer: not a validator');
    if (h.timeMs <= s.timeMs) return err(`block time: ${h.timeMs} not after ${s.timeMs}`);
    if (mode === 'vote' && h.timeMs > this.opts.clock.now() + (this.opts.maxClockDriftMs ?? DEFAULT_DRIFT_MS))
      return err('block time: too far in the future');
    if (!bodyMatchesHeader(block)) return err('block body: does not match the header roots');
    if (body.transactions.length > p.maxBlockTransactions) return err('block limits: too many transactions');
    if (body.evidence.length > p.maxBlockEvidence) return err('block limits: too much evidence');

    if (s.lastValidators === null) {
      if (body.lastCommit !== null) return err('block last commit: height 1 has none');
    } else {
      const qc = body.lastCommit;
      if (qc === null) return err('block last commit: missing');
      if (qc.height !== s.height || !bytesEqual(qc.blockHash, this.lastHash)) return err('block last commit: not for the last block');
      const q = await verifyQuorumCertificate(qc, s.lastValidators, s.chainId, this.opts.verifier);
      if (!q.ok) return err(`block last commit: ${q.error}`);
    }

    // Signatures and evidence concurrently (the verifier batches where it can).
    const ctx = this.evidenceContext(height);
    const [sigs, ev] = await Promise.all([
      Promise.all(body.transactions.map((t) => verifyTransaction(s.chainId, t, this.opts.verifier))),
      Promise.all(body.evidence.map((e) => verifyEvidence(e, ctx))),
    ]);
    const badSig = sigs.indexOf(false);
    if (badSig >= 0) return err(`transaction ${badSig}: signature invalid`);
    const badEv = ev.findIndex((r) => !r.ok);
    if (badEv >= 0) return err(`evidence ${badEv}: ${(ev[badEv] as { error: string }).error}`);
    if (mode === 'vote' && body.results.length > 0) {
      const check = this.opts.checkAggregation;
      if (check === undefined) return err('result: this node has no aggregation checker');
      for (let i = 0; i < body.results.length; i++) {
        let good = false;
        try {
          good = await check(body.results[i] as AggregationResult);
        } catch {
          good = false;
        }
        if (!good) return err(`result ${i}: does not match its transcript`);
      }
    }

    const applied = applyBlock(s, {
      height,
      timeMs: h.timeMs,
      proposer: h.proposer,
      lastCommit: body.lastCommit,
      evidence: body.evidence,
      transactions: body.transactions,
      results: body.results,
    });
    if (!applied.ok) return err(`block apply: ${applied.error}`);
    if (!bytesEqual(stateRoot(applied.value.state), h.appStateRoot)) return err('block state root: differs from re-execution');
    if (!bytesEqual(applied.value.state.validators.hash, h.nextValidatorsHash)) return err('block next validators: differ from re-execution');
    return ok({ bytes, block, state: applied.value.state, events: applied.value.events });
  }

  blockHash(block: Uint8Array): Hash {
    const h = blockHashOfBytes(block);
    // The engine only hashes blocks it decoded or proposed; garbage gets a hash no QC can name.
    return h.ok ? h.value : new Uint8Array(32);
  }

  async commitBlock(height: number, bytes: Uint8Array, qc: QuorumCertificate): Promise<void> {
    if (height !== this.stateNow.height + 1) throw new Error(`"height" must be ${this.stateNow.height + 1}, got ${height}`);
    const hash = this.blockHash(bytes);
    if (!bytesEqual(qc.blockHash, hash) || qc.height !== height) throw new Error(`"qc" does not certify block ${height}`);
    const v = await this.validatedBlock(height, bytes, hash, 'commit');
    // More than 2/3 of the power decided a block this node finds invalid: more than 1/3 is faulty.
    if (!v.ok) throw new Error(`commitBlock: the decided block ${height} is invalid here: ${v.error}`);
    const { block, state, events } = v.value;
    const prev = this.stateNow;
    this.stateNow = state;
    this.lastHash = hash;
    this.lastQc = qc;
    this.validated.clear();
    this.sets.set(height + 1, state.validators);
    for (const h of this.sets.keys()) if (h < height + 1 - state.params.evidenceMaxAgeBlocks - 1) this.sets.delete(h);

    const changed = !bytesEqual(prev.validators.hash, state.validators.hash);
    const cert: SetChangeCertificate | undefined = changed
      ? { header: block.header, qc, nextValidators: state.validators.validators, validators: prev.validators.validators }
      : undefined;
    try {
      await this.store.add({ height, hash, bytes, qc }, cert);
    } catch {
      // Storage trouble (quota, a closed database) must not stop consensus: the state is in memory.
      this.count('persistence failed');
    }

    for (const t of block.body.transactions) this.txPool.delete(bytesToHex(transactionId(t)));
    for (const [k, t] of this.txPool) if (t.nonce < (state.accounts.get(bytesToHex(t.sender))?.nonce ?? 0)) this.txPool.delete(k);
    // Punished, or its offender is punished for good (no block may apply it: app-state.ts).
    for (const [k, e] of this.evidencePool)
      if (state.offences.has(k) || state.candidates.get(bytesToHex(offender(e)))?.tombstoned === true) this.evidencePool.delete(k);
    for (const [k] of this.resultPool) {
      const r = state.rounds.get(k);
      if (r === undefined || r.completed) this.resultPool.delete(k);
    }
    this.report({
      height,
      hash,
      header: block.header,
      qc,
      transactions: block.body.transactions.length,
      evidence: block.body.evidence.length,
      results: block.body.results,
      events,
      state,
    });
  }

  private report(c: CommitInfo): void {
    try {
      this.opts.onCommit?.(c);
    } catch {
      this.count('onCommit failed'); // a dashboard or log bug must not halt the chain
    }
  }

  /**
   * Replaces the last commit (the QC the next proposed block carries) by a fuller one: precommits
   * for the same height, round and block that arrived after this node decided (CometBFT's LastCommit
   * keeps collecting during timeout_commit). Reputation and downtime are read from last commits, so
   * without this a validator whose precommit regularly arrives just after the 2/3 threshold is
   * counted absent. Accepted only as a strict superset of the current signers, every signature the
   * current QC holds byte for byte; the added signatures are verified here (the driver checked them
   * too, but a bad one would make every proposal of this node invalid). Concurrent calls are safe:
   * the superset test is repeated against whatever the last commit is once verification is done.
   */
  async extendLastCommit(qc: QuorumCertificate): Promise<Result<true>> {
    const base = this.lastQc;
    const set = this.stateNow.lastValidators;
    if (base === null || set === null) return this.fail('last commit extension: no last commit');
    const added = this.lastCommitAdditions(base, qc, set.validators.length);
    if (!added.ok) return this.fail(`last commit extension: ${added.error}`);
    const chainId = this.stateNow.chainId;
    const msg = voteSignBytes(chainId, VoteType.Precommit, qc.height, qc.round, qc.blockHash);
    const valid = await Promise.all(
      added.value.map((s) => this.opts.verifier.verify((set.validators[s.validatorIndex] as Validator).publicKey, msg, s.signature)),
    );
    if (valid.includes(false)) return this.fail('last commit extension: signature invalid');
    // Every signature of qc is now verified (base's were, the rest just now); it must still extend
    // the current last commit, which a commit or another extension may have replaced meanwhile.
    const now = this.lastQc;
    if (now !== base) {
      if (now === null || this.stateNow.lastValidators !== set) return this.fail('last commit extension: the chain moved on');
      const again = this.lastCommitAdditions(now, qc, set.validators.length);
      if (!again.ok) return this.fail(`last commit extension: ${again.error}`);
    }
    this.lastQc = qc;
    return ok(true);
  }

  /** The signatures `qc` adds to `base` if it is a well-formed strict superset for the same vote. */
  private lastCommitAdditions(base: QuorumCertificate, qc: QuorumCertificate, setSize: number): Result<QuorumCertificate['signatures']> {
    if (qc.height !== base.height || !bytesEqual(qc.blockHash, base.blockHash)) return err('not for the last block');
    if (qc.round !== base.round) return err(`round ${qc.round}, the last commit is of round ${base.round}`);
    const have = new Map(base.signatures.map((s) => [s.validatorIndex, s.signature]));
    const added: QuorumCertificate['signatures'][number][] = [];
    let prev = -1;
    for (const s of qc.signatures) {
      const i = s.validatorIndex;
      if (!Number.isInteger(i) || i <= prev || i >= setSize) return err(`index ${i} out of range or order`);
      if (s.signature.length !== ED25519_SIGNATURE_BYTES) return err(`signature of index ${i} must be 64 bytes`);
      prev = i;
      const old = have.get(i);
      if (old === undefined) added.push(s);
      else if (!bytesEqual(old, s.signature)) return err(`signature of index ${i} differs from the last commit's`);
      else have.delete(i);
    }
    if (have.size > 0) return err('not a superset of the last commit');
    if (added.length === 0) return err('no new signer');
    return ok(added);
  }

  // ---- serving light clients ------------------------------------------------------------------

  /** The latest state, certified by the last committed header and its QC. Null before height 1. */
  snapshot(): CertifiedSnapshot | null {
    const last = this.store.get(this.stateNow.height);
    if (last === undefined || this.lastQc === null) return null;
    const d = decodeBlock(last.bytes);
    if (!d.ok) return null;
    return { header: d.value.header, qc: this.lastQc, records: stateRecords(this.stateNow) };
  }

  certificates(): readonly SetChangeCertificate[] {
    return this.store.certificates;
  }
}
