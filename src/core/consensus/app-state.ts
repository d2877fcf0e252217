// The application state every node derives from genesis and the committed blocks: balances, bonded
// stake, reputation, jailing, nonces, validator candidates, open aggregation rounds, punished
// offences, and the validator sets with their proposer priorities. Applying a block is a pure,
// deterministic function (state, block) → new state, or an error naming the offending item; the
// state root is an RFC 9162 Merkle root over the sorted encoded records, so two nodes agree on a
// root exactly when they agree on every record.
//
// Order inside a block (height h):
//   1. unbonded stake whose release height ≤ h returns to balances;
//   2. the last commit (QC of h − 1): reputation and downtime window of every validator of h − 1;
//      downtime punished here;
//   3. evidence (ahead of transactions): each offence once — slash, reputation 0, jail; none once
//      the offender is tombstoned;
//   4. transactions in order (nonce = the sender's count of applied transactions);
//   5. aggregation results: the round completes, contributors gain reputation, dropouts lose;
//   6. housekeeping: rounds past their deadline and offence keys older than evidenceMaxAgeBlocks go;
//   7. the next validator set: recomputed by power.ts when h is a multiple of
//      validatorSetIntervalBlocks or the block changed stake or jailing, else the same validators;
//      either way advanced with proposer-selection.ts so priorities carry over.
import { bytesEqual, bytesToHex, compareBytes, hexToBytes, utf8Decode, utf8ToBytes } from '../bytes.ts';
import { ByteReader, ByteWriter, DecodeError, safeDecode } from '../codec/index.ts';
import { nodeIdFromPublicKey } from '../crypto/node-id.ts';
import { err, ok, type Result } from '../result.ts';
import type { SecAggParams } from '../secagg/params.ts';
import type { AggregationResult } from './block.ts';
import { offenceHeight, offenceKey, offender } from './evidence.ts';
import { genesisHash as hashGenesis, MICROS, type ConsensusParams, type Genesis } from './genesis.ts';
import { merkleRoot } from './hash-tree.ts';
import { computeValidatorPowers } from './power.ts';
import { advanceValidatorSet } from './proposer-selection.ts';
import { afterCommit, afterRound } from './reputation.ts';
import { checkUnjail, emptyWindow, isDown, isJailed, punishDoubleSign, punishDowntime, recordCommit, type SlashableRecord } from './slashing.ts';
import { readRoundParams, writeRoundParams, type Transaction } from './transactions.ts';
import { makeValidatorSet, tryMakeValidatorSet } from './validator-set.ts';
import type { Evidence, Hash, QuorumCertificate, Validator, ValidatorSet } from './types.ts';

export interface Account {
  readonly balance: number;
  readonly nonce: number;
  /** Height of the last faucet payout, 0 for none. */
  readonly lastFaucetHeight: number;
}

export interface Candidate extends SlashableRecord {
  readonly publicKey: Uint8Array;
}

export interface RoundRecord {
  readonly roundId: Uint8Array;
  readonly opener: Uint8Array;
  /** Fixed by the chain: the proposer of the block that opened the round. */
  readonly aggregator: Uint8Array;
  readonly openedHeight: number;
  /** The result must be committed by this height, else the round lapses. */
  readonly deadlineHeight: number;
  readonly completed: boolean;
  readonly params: SecAggParams;
}

export interface AppState {
  readonly chainId: string;
  readonly genesisHash: Hash;
  /** From genesis (committed to by genesisHash, so not a separate record). */
  readonly params: ConsensusParams;
  /** Last applied height; 0 at genesis. */
  readonly height: number;
  readonly timeMs: number;
  /** Coins in existence: genesis + faucet − burned. */
  readonly supply: number;
  /** Keyed by hex public key. */
  readonly accounts: ReadonlyMap<string, Account>;
  readonly candidates: ReadonlyMap<string, Candidate>;
  /** Keyed by hex round id. */
  readonly rounds: ReadonlyMap<string, RoundRecord>;
  /** Punished offence keys (evidence.ts offenceKey) → offence height (0: never pruned). */
  readonly offences: ReadonlyMap<string, number>;
  /** The set that decides height + 1. */
  readonly validators: ValidatorSet;
  /** The set that decided `height` (signers of the next block's last commit); null at genesis. */
  readonly lastValidators: ValidatorSet | null;
}

export type SlashReason = 'double-sign' | 'split-view' | 'downtime';

export type AppEvent =
  | { readonly kind: 'transfer'; readonly from: Uint8Array; readonly to: Uint8Array; readonly amount: number }
  | { readonly kind: 'faucet'; readonly to: Uint8Array; readonly amount: number }
  | { readonly kind: 'join'; readonly validator: Uint8Array }
  | { readonly kind: 'stake'; readonly validator: Uint8Array; readonly change: 'bond' | 'unbond' | 'release'; readonly amount: number; readonly stake: number }
  | { readonly kind: 'evidence'; readonly offender: Uint8Array; readonly evidence: Evidence }
  | { readonly kind: 'slash'; readonly validator: Uint8Array; readonly reason: SlashReason; readonly burned: number; readonly stake: number }
  | { readonly kind: 'jail'; readonly validator: Uint8Array; readonly reason: SlashReason; readonly untilHeight: number; readonly tombstoned: boolean }
  | { readonly kind: 'unjail'; readonly validator: Uint8Array }
  | { readonly kind: 'reputation'; readonly changes: readonly { readonly validator: Uint8Array; readonly before: number; readonly after: number }[] }
  | { readonly kind: 'round-opened'; readonly roundId: Uint8Array; readonly aggregator: Uint8Array; readonly deadlineHeight: number }
  | { readonly kind: 'round-result'; readonly roundId: Uint8Array; readonly contributors: number; readonly dropouts: number }
  | { readonly kind: 'validator-set'; readonly fromHeight: number; readonly hash: Hash; readonly validators: readonly Validator[] };

/** What applying a block needs from it (its header fields and body). */
export interface BlockInput {
  readonly height: number;
  readonly timeMs: number;
  readonly proposer: Uint8Array;
  readonly lastCommit: QuorumCertificate | null;
  readonly evidence: readonly Evidence[];
  readonly transactions: readonly Transaction[];
  readonly results: readonly AggregationResult[];
}

const hex = bytesToHex;
const NO_ACCOUNT: Account = { balance: 0, nonce: 0, lastFaucetHeight: 0 };

function toValidators(list: readonly { publicKey: Uint8Array; power: number }[]): Validator[] {
  return list.map((v) => ({ id: nodeIdFromPublicKey(v.publicKey), publicKey: v.publicKey, power: v.power }));
}

function candidatePowers(candidates: ReadonlyMap<string, Candidate>, params: ConsensusParams): Validator[] {
  const list = [...candidates.values()].map((c) => ({
    publicKey: c.publicKey,
    stake: c.stake,
    reputationMicros: c.reputationMicros,
    jailed: isJailed(c),
  }));
  return toValidators(computeValidatorPowers(list, params));
}

/** The state before height 1. Throws with the reason if genesis yields no validator. */
export function genesisState(g: Genesis): AppState {
  const candidates = new Map<string, Candidate>();
  for (const v of g.validators)
    candidates.set(hex(v.publicKey), {
      publicKey: v.publicKey,
      stake: v.stake,
      unbonding: [],
      reputationMicros: g.params.reputationStartMicros,
      jailedUntil: 0,
      tombstoned: false,
      window: emptyWindow(g.params.downtimeWindowBlocks),
    });
  const accounts = new Map<string, Account>();
  let supply = 0;
  for (const a of g.accounts) {
    accounts.set(hex(a.publicKey), { balance: a.balance, nonce: 0, lastFaucetHeight: 0 });
    supply += a.balance;
  }
  for (const v of g.validators) supply += v.stake;
  const powers = candidatePowers(candidates, g.params);
  if (powers.length === 0) throw new Error('genesis: no validator has power (check minValidatorStake)');
  return {
    chainId: g.chainId,
    genesisHash: hashGenesis(g),
    params: g.params,
    height: 0,
    timeMs: g.timeMs,
    supply,
    accounts,
    candidates,
    rounds: new Map(),
    offences: new Map(),
    validators: makeValidatorSet(powers),
    lastValidators: null,
  };
}

/**
 * Applies one block's items to a working copy. Each `apply*` checks everything before changing
 * anything, so a failed item leaves the copy as it was (the proposer uses this to skip bad items).
 */
export class BlockExecutor {
  private readonly accounts: Map<string, Account>;
  private readonly candidates: Map<string, Candidate>;
  private readonly rounds: Map<string, RoundRecord>;
  private readonly offences: Map<string, number>;
  private supply: number;
  private setDirty = false;
  private readonly repBefore = new Map<string, number>();
  readonly events: AppEvent[] = [];
  private byNodeId: Map<string, string> | null = null;

  private constructor(
    private readonly base: AppState,
    readonly height: number,
    private readonly timeMs: number,
    private readonly proposer: Uint8Array,
  ) {
    this.accounts = new Map(base.accounts);
    this.candidates = new Map(base.candidates);
    this.rounds = new Map(base.rounds);
    this.offences = new Map(base.offences);
    this.supply = base.supply;
  }

  /** Starts block `height` (steps 1 and 2); fails on a wrong height, time or last commit. */
  static begin(state: AppState, b: Pick<BlockInput, 'height' | 'timeMs' | 'proposer' | 'lastCommit'>): Result<BlockExecutor> {
    if (b.height !== state.height + 1) return err(`height ${b.height}, expected ${state.height + 1}`);
    if (!Number.isSafeInteger(b.timeMs) || b.timeMs <= state.timeMs) return err(`time ${b.timeMs} is not after ${state.timeMs}`);
    const x = new BlockExecutor(state, b.height, b.timeMs, b.proposer);
    x.releaseUnbonded();
    const lc = x.applyLastCommit(b.lastCommit);
    if (!lc.ok) return lc;
    return ok(x);
  }

  private account(pk: Uint8Array): Account {
    return this.accounts.get(hex(pk)) ?? NO_ACCOUNT;
  }

  private setReputation(key: string, c: Candidate, after: number): Candidate {
    if (!this.repBefore.has(key)) this.repBefore.set(key, c.reputationMicros);
    const next = { ...c, reputationMicros: after };
    this.candidates.set(key, next);
    return next;
  }

  private releaseUnbonded(): void {
    for (const [key, c] of this.candidates) {
      if (!c.unbonding.some((u) => u.releaseHeight <= this.height)) continue;
      let released = 0;
      const rest = c.unbonding.filter((u) => (u.releaseHeight <= this.height ? ((released += u.amount), false) : true));
      this.candidates.set(key, { ...c, unbonding: rest });
      const a = this.account(c.publicKey);
      this.accounts.set(key, { ...a, balance: a.balance + released });
      this.events.push({ kind: 'stake', validator: c.publicKey, change: 'release', amount: released, stake: c.stake });
    }
  }

  private applyLastCommit(qc: QuorumCertificate | null): Result<true> {
    const set = this.base.lastValidators;
    if (set === null) return qc === null ? ok(true) : err('last commit: height 1 has none');
    if (qc === null) return err('last commit: missing');
    if (qc.height !== this.height - 1) return err(`last commit: height ${qc.height}, expected ${this.height - 1}`);
    const signed = new Set<number>();
    for (const s of qc.signatures) {
      if (s.validatorIndex >= set.validators.length || signed.has(s.validatorIndex)) return err('last commit: bad validator index');
      signed.add(s.validatorIndex);
    }
    const p = this.base.params;
    set.validators.forEach((v, i) => {
      const key = hex(v.publicKey);
      let c = this.candidates.get(key);
      if (c === undefined || isJailed(c)) return;
      const missed = !signed.has(i);
      c = this.setReputation(key, c, afterCommit(c.reputationMicros, !missed, p));
      c = { ...c, window: recordCommit(c.window, missed, p.downtimeWindowBlocks) };
      this.candidates.set(key, c);
      if (isDown(c.window, p.downtimeWindowBlocks)) this.punish(key, c, 'downtime');
    });
    return ok(true);
  }

  private punish(key: string, c: Candidate, reason: SlashReason): void {
    const p = this.base.params;
    if (!this.repBefore.has(key)) this.repBefore.set(key, c.reputationMicros);
    const { record, burned } = reason === 'downtime' ? punishDowntime(c, this.height, p) : punishDoubleSign(c, this.height, p);
    this.candidates.set(key, record);
    this.supply -= burned;
    this.setDirty = true;
    this.events.push({ kind: 'slash', validator: c.publicKey, reason, burned, stake: record.stake });
    this.events.push({ kind: 'jail', validator: c.publicKey, reason, untilHeight: record.jailedUntil, tombstoned: record.tombstoned });
  }

  /** Step 3: evidence whose signatures the caller has verified (evidence.ts verifyEvidence). */
  applyEvidence(e: Evidence): Result<true> {
    const key = offenceKey(e);
    if (this.offences.has(key)) return err('offence already punished');
    const h = offenceHeight(e);
    if (e.kind !== 'split-view' && (h < 1 || h >= this.height || this.height - h > this.base.params.evidenceMaxAgeBlocks))
      return err(`offence height ${h} outside the evidence window`);
    const who = hex(offender(e));
    const c = this.candidates.get(who);
    if (c === undefined) return err('offender is not a validator candidate');
    // Punished for good already (CometBFT ignores such evidence too): an equivocator signs two
    // votes of every step until its jailing takes effect, and each is an offence of its own, but it
    // is slashed once, not once per conflicting vote that reached a block.
    if (c.tombstoned) return err('offender already tombstoned');
    this.offences.set(key, h);
    this.events.push({ kind: 'evidence', offender: c.publicKey, evidence: e });
    // Two proposals for one round are a double sign as two votes are (slashing.ts).
    this.punish(who, c, e.kind === 'split-view' ? 'split-view' : 'double-sign');
    return ok(true);
  }

  /** Step 4: a transaction whose signature the caller has verified. */
  applyTransaction(tx: Transaction): Result<true> {
    const p = this.base.params;
    const key = hex(tx.sender);
    const a = this.account(tx.sender);
    if (tx.nonce !== a.nonce) return err(`nonce ${tx.nonce}, expected ${a.nonce}`);
    const c = this.candidates.get(key);
    const pay = tx.payload;
    let next: Account = { ...a, nonce: a.nonce + 1 };
    switch (pay.kind) {
      case 'join':
        if (c !== undefined) return err('already a validator candidate');
        this.candidates.set(key, {
          publicKey: tx.sender,
          stake: 0,
          unbonding: [],
          reputationMicros: p.reputationStartMicros,
          jailedUntil: 0,
          tombstoned: false,
          window: emptyWindow(p.downtimeWindowBlocks),
        });
        this.events.push({ kind: 'join', validator: tx.sender });
        break;
      case 'bond':
        if (c === undefined) return err('bond: not a validator candidate (join first)');
        if (c.tombstoned) return err('bond: validator is tombstoned');
        if (pay.amount > a.balance) return err(`bond: amount ${pay.amount} exceeds balance ${a.balance}`);
        next = { ...next, balance: a.balance - pay.amount };
        this.candidates.set(key, { ...c, stake: c.stake + pay.amount });
        this.setDirty = true;
        this.events.push({ kind: 'stake', validator: tx.sender, change: 'bond', amount: pay.amount, stake: c.stake + pay.amount });
        break;
      case 'unbond':
        if (c === undefined) return err('unbond: not a validator candidate');
        if (pay.amount > c.stake) return err(`unbond: amount ${pay.amount} exceeds stake ${c.stake}`);
        this.candidates.set(key, {
          ...c,
          stake: c.stake - pay.amount,
          unbonding: [...c.unbonding, { amount: pay.amount, releaseHeight: this.height + p.unbondingBlocks }],
        });
        this.setDirty = true;
        this.events.push({ kind: 'stake', validator: tx.sender, change: 'unbond', amount: pay.amount, stake: c.stake - pay.amount });
        break;
      case 'transfer': {
        if (pay.amount > a.balance) return err(`transfer: amount ${pay.amount} exceeds balance ${a.balance}`);
        next = { ...next, balance: a.balance - pay.amount };
        if (bytesEqual(pay.to, tx.sender)) next = { ...next, balance: a.balance };
        else {
          const to = this.account(pay.to);
          this.accounts.set(hex(pay.to), { ...to, balance: to.balance + pay.amount });
        }
        this.events.push({ kind: 'transfer', from: tx.sender, to: pay.to, amount: pay.amount });
        break;
      }
      case 'faucet':
        if (!p.faucetEnabled) return err('faucet: disabled on this network');
        if (a.lastFaucetHeight !== 0 && this.height - a.lastFaucetHeight < p.faucetIntervalBlocks)
          return err(`faucet: next payout at height ${a.lastFaucetHeight + p.faucetIntervalBlocks}`);
        if (!Number.isSafeInteger(this.supply + p.faucetAmount)) return err('faucet: supply limit');
        next = { ...next, balance: a.balance + p.faucetAmount, lastFaucetHeight: this.height };
        this.supply += p.faucetAmount;
        this.events.push({ kind: 'faucet', to: tx.sender, amount: p.faucetAmount });
        break;
      case 'open-round': {
        const rid = hex(pay.roundId);
        if (this.rounds.has(rid)) return err('open-round: round id in use');
        if (pay.deadlineHeight <= this.height || pay.deadlineHeight > this.height + p.maxRoundBlocks)
          return err(`open-round: deadline must be in ${this.height + 1}..${this.height + p.maxRoundBlocks}`);
        this.rounds.set(rid, {
          roundId: pay.roundId,
          opener: tx.sender,
          aggregator: this.proposer,
          openedHeight: this.height,
          deadlineHeight: pay.deadlineHeight,
          completed: false,
          params: pay.params,
        });
        this.events.push({ kind: 'round-opened', roundId: pay.roundId, aggregator: this.proposer, deadlineHeight: pay.deadlineHeight });
        break;
      }
      case 'unjail': {
        if (c === undefined) return err('unjail: not a validator candidate');
        const u = checkUnjail(c, this.height);
        if (!u.ok) return u;
        this.candidates.set(key, { ...c, jailedUntil: 0 });
        this.setDirty = true;
        this.events.push({ kind: 'unjail', validator: tx.sender });
        break;
      }
    }
    this.accounts.set(key, next);
    return ok(true);
  }

  private candidateKeyOfNode(nodeId: Uint8Array): string | undefined {
    if (this.byNodeId === null) {
      this.byNodeId = new Map();
      for (const [k, c] of this.candidates) this.byNodeId.set(nodeIdFromPublicKey(c.publicKey), k);
    }
    return this.byNodeId.get(hex(nodeId));
  }

  /** Step 5: an aggregation result whose transcript the caller has checked. */
  applyResult(r: AggregationResult): Result<true> {
    const rid = hex(r.roundId);
    const round = this.rounds.get(rid);
    if (round === undefined) return err('result: no such open round');
    if (round.completed) return err('result: round already has a result');
    if (this.height > round.deadlineHeight) return err('result: past the round deadline');
    if (r.sum.length !== round.params.dimension) return err(`result: dimension ${r.sum.length}, round has ${round.params.dimension}`);
    if (r.contributors.length < round.params.min_contributors)
      return err(`result: ${r.contributors.length} contributors, round needs ${round.params.min_contributors}`);
    const seen = new Set<string>();
    for (const id of [...r.contributors, ...r.dropouts]) {
      const k = hex(id);
      if (seen.has(k)) return err('result: a node is listed twice');
      seen.add(k);
    }
    this.rounds.set(rid, { ...round, completed: true });
    const p = this.base.params;
    const touch = (id: Uint8Array, contributed: boolean): void => {
      const key = this.candidateKeyOfNode(id);
      const c = key === undefined ? undefined : this.candidates.get(key);
      if (key === undefined || c === undefined || c.tombstoned) return;
      this.setReputation(key, c, afterRound(c.reputationMicros, contributed, p));
    };
    for (const id of r.contributors) touch(id, true);
    for (const id of r.dropouts) touch(id, false);
    this.events.push({ kind: 'round-result', roundId: r.roundId, contributors: r.contributors.length, dropouts: r.dropouts.length });
    return ok(true);
  }

  /** Steps 6 and 7: the new state. */
  finish(): { state: AppState; events: AppEvent[] } {
    const p = this.base.params;
    for (const [rid, r] of this.rounds) if (r.deadlineHeight <= this.height) this.rounds.delete(rid);
    for (const [k, h] of this.offences) if (h !== 0 && this.height - h > p.evidenceMaxAgeBlocks) this.offences.delete(k);

    const changes = [...this.repBefore]
      .map(([key, before]) => ({ validator: hexToBytes(key), before, after: this.candidates.get(key)?.reputationMicros ?? before }))
      .filter((c) => c.before !== c.after);
    if (changes.length > 0) this.events.push({ kind: 'reputation', changes });

    const current = this.base.validators;
    let nextList: readonly Validator[] = current.validators;
    if (this.setDirty || this.height % p.validatorSetIntervalBlocks === 0) {
      const computed = candidatePowers(this.candidates, p);
      // The set never empties (the chain would halt for good): with no eligible validator left,
      // the current validators carry on until one is eligible again.
      if (computed.length > 0) nextList = computed;
    }
    const validators = advanceValidatorSet(current, nextList);
    if (!bytesEqual(validators.hash, current.hash))
      this.events.push({ kind: 'validator-set', fromHeight: this.height + 1, hash: validators.hash, validators: validators.validators });
    const state: AppState = {
      ...this.base,
      height: this.height,
      timeMs: this.timeMs,
      supply: this.supply,
      accounts: this.accounts,
      candidates: this.candidates,
      rounds: this.rounds,
      offences: this.offences,
      validators,
      lastValidators: current,
    };
    return { state, events: this.events };
  }
}

/** Applies a whole block: the first failing item is named (e.g. "transaction 2: nonce 5, expected 4"). */
export function applyBlock(state: AppState, b: BlockInput): Result<{ state: AppState; events: AppEvent[] }> {
  const begun = BlockExecutor.begin(state, b);
  if (!begun.ok) return begun;
  const x = begun.value;
  const steps: [string, readonly unknown[], (v: never) => Result<true>][] = [
    ['evidence', b.evidence, (e: Evidence) => x.applyEvidence(e)],
    ['transaction', b.transactions, (t: Transaction) => x.applyTransaction(t)],
    ['result', b.results, (r: AggregationResult) => x.applyResult(r)],
  ];
  for (const [what, items, apply] of steps)
    for (let i = 0; i < items.length; i++) {
      const r = apply(items[i] as never);
      if (!r.ok) return err(`${what} ${i}: ${r.error}`);
    }
  return ok(x.finish());
}

// ---- records and the state root ---------------------------------------------------------------

const Rec = { Meta: 0, Account: 1, Candidate: 2, Round: 3, Offence: 4, Validators: 5 } as const;
const MAX_RECORD_BYTES = 1024 * 1024;

function writeSigned(w: ByteWriter, v: number): void {
  w.u8(v < 0 ? 1 : 0).u64(Math.abs(v));
}

function readSigned(r: ByteReader): number {
  const s = r.u8('sign');
  if (s > 1) throw new DecodeError('sign must be 0 or 1');
  const m = r.u64('magnitude');
  if (s === 1 && m === 0) throw new DecodeError('negative zero');
  return s === 1 ? -m : m;
}

function writeSet(w: ByteWriter, which: number, set: ValidatorSet): void {
  w.u8(Rec.Validators).u8(which).u32(set.validators.length);
  set.validators.forEach((v, i) => {
    w.bytes(v.publicKey).u64(v.power);
    writeSigned(w, set.proposerPriorities[i] as number);
  });
}

/** Every record of the state, encoded, sorted by their bytes. */
export function stateRecords(s: AppState): Uint8Array[] {
  const out: Uint8Array[] = [];
  const rec = (fill: (w: ByteWriter) => void): void => {
    const w = new ByteWriter(128);
    fill(w);
    out.push(w.finish());
  };
  const id = utf8ToBytes(s.chainId);
  rec((w) => w.u8(Rec.Meta).u16(id.length).bytes(id).bytes(s.genesisHash).u64(s.height).u64(s.timeMs).u64(s.supply));
  for (const [k, a] of s.accounts) rec((w) => w.u8(Rec.Account).bytes(hexToBytes(k)).u64(a.balance).u64(a.nonce).u64(a.lastFaucetHeight));
  for (const c of s.candidates.values())
    rec((w) => {
      w.u8(Rec.Candidate).bytes(c.publicKey).u64(c.stake).u32(c.reputationMicros).u64(c.jailedUntil).u8(c.tombstoned ? 1 : 0);
      w.u32(c.unbonding.length);
      for (const u of c.unbonding) w.u64(u.amount).u64(u.releaseHeight);
      w.u32(c.window.next).u32(c.window.filled).u32(c.window.missed).varBytes(c.window.bits);
    });
  for (const r of s.rounds.values())
    rec((w) => {
      w.u8(Rec.Round).bytes(r.roundId).bytes(r.opener).bytes(r.aggregator).u64(r.openedHeight).u64(r.deadlineHeight);
      w.u8(r.completed ? 1 : 0);
      writeRoundParams(w, r.params);
    });
  for (const [k, h] of s.offences) {
    const kb = utf8ToBytes(k);
    rec((w) => w.u8(Rec.Offence).u16(kb.length).bytes(kb).u64(h));
  }
  rec((w) => writeSet(w, 0, s.validators));
  if (s.lastValidators !== null) {
    const last = s.lastValidators;
    rec((w) => writeSet(w, 1, last));
  }
  return out.sort(compareBytes);
}

export function stateRoot(s: AppState): Hash {
  return merkleRoot(stateRecords(s));
}

/**
 * Rebuilds a state from snapshot records (a light client checked their root against a certified
 * header). Checks structure, canonical order, and that they belong to this genesis.
 */
export function stateFromRecords(records: readonly Uint8Array[], g: Genesis): Result<AppState> {
  for (let i = 1; i < records.length; i++)
    if (compareBytes(records[i - 1] as Uint8Array, records[i] as Uint8Array) >= 0) return err('snapshot records are not sorted and unique');
  const accounts = new Map<string, Account>();
  const candidates = new Map<string, Candidate>();
  const rounds = new Map<string, RoundRecord>();
  const offences = new Map<string, number>();
  const sets: (ValidatorSet | null)[] = [null, null];
  let meta: { chainId: string; genesisHash: Hash; height: number; timeMs: number; supply: number } | null = null;
  const p = g.params;
  for (let i = 0; i < records.length; i++) {
    const bytes = records[i] as Uint8Array;
    if (bytes.length > MAX_RECORD_BYTES) return err(`record ${i}: too large`);
    const d = safeDecode(() => {
      const r = new ByteReader(bytes);
      const type = r.u8('record type');
      switch (type) {
        case Rec.Meta: {
          const n = r.u16('chain id length');
          const chainId = utf8Decode(r.bytes(n, 'chain id'));
          meta = { chainId, genesisHash: r.bytes(32, 'genesis hash').slice(), height: r.u64('height'), timeMs: r.u64('time'), supply: r.u64('supply') };
          break;
        }
        case Rec.Account: {
          const k = hex(r.bytes(32, 'account key'));
          accounts.set(k, { balance: r.u64('balance'), nonce: r.u64('nonce'), lastFaucetHeight: r.u64('last faucet') });
          break;
        }
        case Rec.Candidate: {
          const publicKey = r.bytes(32, 'candidate key').slice();
          const stake = r.u64('stake');
          const reputationMicros = r.u32('reputation');
          if (reputationMicros > MICROS) throw new DecodeError('reputation above 1');
          const jailedUntil = r.u64('jailed until');
          const t = r.u8('tombstoned');
          if (t > 1) throw new DecodeError('tombstoned must be 0 or 1');
          const n = r.u32('unbonding count');
          if (n * 16 > r.remaining) throw new DecodeError('unbonding entries do not fit');
          const unbonding = Array.from({ length: n }, () => ({ amount: r.u64('amount'), releaseHeight: r.u64('release') }));
          const next = r.u32('window next');
          const filled = r.u32('window filled');
          const missed = r.u32('window missed');
          const bits = r.varBytes(Math.ceil(p.downtimeWindowBlocks / 8), 'window bits').slice();
          if (bits.length !== Math.ceil(p.downtimeWindowBlocks / 8) || next >= p.downtimeWindowBlocks || filled > p.downtimeWindowBlocks || missed > filled)
            throw new DecodeError('downtime window out of range');
          candidates.set(hex(publicKey), { publicKey, stake, reputationMicros, jailedUntil, tombstoned: t === 1, unbonding, window: { bits, next, filled, missed } });
          break;
        }
        case Rec.Round: {
          const roundId = r.bytes(16, 'round id').slice();
          const opener = r.bytes(32, 'opener').slice();
          const aggregator = r.bytes(32, 'aggregator').slice();
          const openedHeight = r.u64('opened');
          const deadlineHeight = r.u64('deadline');
          const c = r.u8('completed');
          if (c > 1) throw new DecodeError('completed must be 0 or 1');
          rounds.set(hex(roundId), { roundId, opener, aggregator, openedHeight, deadlineHeight, completed: c === 1, params: readRoundParams(r) });
          break;
        }
        case Rec.Offence: {
          const n = r.u16('offence key length');
          offences.set(utf8Decode(r.bytes(n, 'offence key')), r.u64('offence height'));
          break;
        }
        case Rec.Validators: {
          const which = r.u8('which set');
          if (which > 1) throw new DecodeError('unknown validator set record');
          const n = r.u32('validator count');
          if (n * 41 > r.remaining) throw new DecodeError('validators do not fit');
          const vals: Validator[] = [];
          const prs: number[] = [];
          for (let j = 0; j < n; j++) {
            const publicKey = r.bytes(32, 'validator key').slice();
            vals.push({ id: nodeIdFromPublicKey(publicKey), publicKey, power: r.u64('power') });
            prs.push(readSigned(r));
          }
          const set = tryMakeValidatorSet(vals, prs);
          if (!set.ok) throw new DecodeError(set.error);
          sets[which] = set.value;
          break;
        }
        default:
          throw new DecodeError(`record type ${type} unknown`);
      }
      r.end('record');
    });
    if (!d.ok) return err(`record ${i}: ${d.error}`);
  }
  const m = meta as { chainId: string; genesisHash: Hash; height: number; timeMs: number; supply: number } | null;
  if (m === null) return err('snapshot has no meta record');
  if (m.chainId !== g.chainId || !bytesEqual(m.genesisHash, hashGenesis(g))) return err('snapshot belongs to another genesis');
  const validators = sets[0];
  if (validators === null || validators === undefined) return err('snapshot has no validator set');
  const state: AppState = {
    chainId: m.chainId,
    genesisHash: m.genesisHash,
    params: p,
    height: m.height,
    timeMs: m.timeMs,
    supply: m.supply,
    accounts,
    candidates,
    rounds,
    offences,
    validators,
    lastValidators: sets[1] ?? null,
  };
  return ok(state);
}
