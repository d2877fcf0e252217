// What the dashboard shows of consensus, as plain data (JSON-safe, so tests and the e2e hook read it
// as is): where the engine stands, the current round's votes by power, recent commits, validators,
// evidence and this node's way into the validator set. Built from the chain state and the driver;
// the service (consensus-service.ts) keeps the history parts.
import { bytesToHex } from '../core/bytes.ts';
import { nodeIdFromPublicKey, type NodeId } from '../core/crypto/node-id.ts';
import type { AppState } from '../core/consensus/app-state.ts';
import type { ConsensusDriver } from '../core/consensus/consensus-driver.ts';
import { MICROS } from '../core/consensus/genesis.ts';
import { isJailed } from '../core/consensus/slashing.ts';
import { indexOfValidator } from '../core/consensus/validator-set.ts';
import type { VoteSet } from '../core/consensus/vote-set.ts';
import type { Misbehaviour } from './misbehave.ts';

export type ConsensusPhase = 'starting' | 'waiting-for-genesis' | 'syncing' | 'running' | 'failed';

/** This tab's way into the validator set. */
export type StakeStatus = 'observer' | 'requested' | 'funded' | 'candidate' | 'bonded' | 'validator' | 'jailed';

export interface VoteBar {
  /** 'nil' or the first 8 hex digits of the block hash. */
  target: string;
  power: number;
}

export interface CommitRecord {
  height: number;
  hash: string;
  round: number;
  /** From the proposer building the block (header time) to this node committing it. */
  latencyMs: number;
  atMs: number;
  transactions: number;
  evidence: number;
}

export interface ValidatorRow {
  id: NodeId;
  publicKeyHex: string;
  stake: number;
  reputation: number;
  power: number;
  /** power / total power of the current set, 0..1. */
  share: number;
  inSet: boolean;
  jailed: boolean;
  tombstoned: boolean;
  self: boolean;
}

export interface EvidenceRecord {
  kind: 'duplicate-vote' | 'duplicate-proposal' | 'split-view' | 'downtime';
  offender: NodeId;
  /** Height of the offence (0 for split views). */
  offenceHeight: number;
  /** Height of the block that carried it. */
  committedHeight: number;
  /** Stake burned by the slash it caused. */
  slashed: number;
  stakeAfter: number;
}

/** Another node committed a different block, with a valid QC, at a height this node committed. */
export interface ForkRecord {
  height: number;
  ourHash: string;
  theirHash: string;
  /** The peer that sent the other commit. */
  from: NodeId;
  /** Validators who signed both (empty when the two QCs are of different rounds). */
  doubleSigners: NodeId[];
  doubleSignedPower: number;
  totalPower: number;
}

export interface ConsensusView {
  phase: ConsensusPhase;
  detail: string;
  chainId: string | null;
  genesisHash: string | null;
  genesisTimeMs: number | null;
  /** This node wrote the genesis (it was the first of its network). */
  wroteGenesis: boolean;
  /** `?genesis=HASH` given: only that genesis is accepted. */
  pinned: boolean;
  /** Peers offered or announced a different genesis (resolved by the tie-break rule). */
  genesisConflicts: number;
  /** Another network's genesis offered after start-up and refused (the user may still switch to it). */
  /** Fork alarms, newest first: safety was lost (≥ 1/3 of the power signed two blocks). */
  forks: ForkRecord[];
  foreignGenesis: { from: NodeId; hash: string; timeMs: number; refused: number } | null;
  /** The height being decided (last committed + 1). */
  height: number;
  committedHeight: number;
  round: number;
  step: string;
  proposer: NodeId | null;
  proposerIsSelf: boolean;
  totalPower: number;
  prevotes: VoteBar[];
  precommits: VoteBar[];
  commits: CommitRecord[];
  validators: ValidatorRow[];
  evidence: EvidenceRecord[];
  pendingTransactions: number;
  pendingEvidence: number;
  self: {
    id: NodeId;
    status: StakeStatus;
    balance: number;
    stake: number;
    power: number;
    faucetEnabled: boolean;
    faucetAmount: number;
    /** The faucet would pay this node now (enabled and not paid within the interval). */
    canRequestStake: boolean;
  };
  misbehaviour: Misbehaviour;
  misbehaviourActs: number;
  /** Consensus messages dropped by the driver, by reason. */
  dropped: Record<string, number>;
  verify: { count: number; wallMs: number; backend: string };
}

export function voteBars(set: VoteSet | null): VoteBar[] {
  if (set === null) return [];
  return [...set.tally()]
    .map(([k, power]) => ({ target: k === 'nil' ? 'nil' : k.slice(0, 8), power }))
    .sort((a, b) => b.power - a.power || (a.target < b.target ? -1 : 1));
}

export function validatorRows(state: AppState, self: Uint8Array): ValidatorRow[] {
  const set = state.validators;
  const selfHex = bytesToHex(self);
  const rows: ValidatorRow[] = [];
  for (const c of state.candidates.values()) {
    const i = indexOfValidator(set, c.publicKey);
    const power = i < 0 ? 0 : (set.validators[i]?.power ?? 0);
    const hex = bytesToHex(c.publicKey);
    rows.push({
      id: nodeIdFromPublicKey(c.publicKey),
      publicKeyHex: hex,
      stake: c.stake,
      reputation: c.reputationMicros / MICROS,
      power,
      share: set.totalPower > 0 ? power / set.totalPower : 0,
      inSet: i >= 0,
      jailed: isJailed(c),
      tombstoned: c.tombstoned,
      self: hex === selfHex,
    });
  }
  return rows.sort((a, b) => b.power - a.power || b.stake - a.stake || (a.id < b.id ? -1 : 1));
}

/** Where this node stands on its way to validating; `requested`: its stake transactions are pending. */
export function stakeStatus(state: AppState, self: Uint8Array, pendingOwnTxs: number): StakeStatus {
  const hex = bytesToHex(self);
  const c = state.candidates.get(hex);
  if (c !== undefined && isJailed(c)) return 'jailed';
  if (indexOfValidator(state.validators, self) >= 0) return 'validator';
  if (c !== undefined && c.stake > 0) return 'bonded';
  if (pendingOwnTxs > 0) return 'requested';
  if (c !== undefined) return 'candidate';
  if ((state.accounts.get(hex)?.balance ?? 0) > 0) return 'funded';
  return 'observer';
}

export function canUseFaucet(state: AppState, self: Uint8Array): boolean {
  const p = state.params;
  if (!p.faucetEnabled) return false;
  const a = state.accounts.get(bytesToHex(self));
  return a === undefined || a.lastFaucetHeight === 0 || state.height + 1 - a.lastFaucetHeight >= p.faucetIntervalBlocks;
}

export function driverDrops(d: ConsensusDriver | null): Record<string, number> {
  const out: Record<string, number> = {};
  if (d === null) return out;
  for (const [k, v] of d.counters) if (k !== 'received' && k !== 'verified' && k !== 'future-kept' && k !== 'catch-up-sent' && k !== 'status-sent') out[k] = v;
  return out;
}
