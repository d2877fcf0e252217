// Punishments, as pure functions of a validator's record and genesis parameters:
// - double sign (duplicate-vote or duplicate-proposal evidence; also split-view evidence against the
//   log owner, with its own reason): slash
//   doubleSignSlashMicros (default 5%, cosmos-sdk's slash_fraction_double_sign) of the bonded stake
//   AND of stake still unbonding (it was bonded when the offence happened), reputation 0, and jail:
//   tombstoned for good by default, else for doubleSignJailBlocks;
// - downtime: in the sliding window of the last downtimeWindowBlocks commits taken while the
//   validator was in the set, more than half lack its precommit → slash downtimeSlashMicros
//   (default 1%), jail for downtimeJailBlocks, and start a fresh window after release;
// - unjail: a transaction from the validator at or after its release height; never when tombstoned.
// Slashed amounts are burned. Fractions are integer micro-units; slashed amounts round up.
import { err, ok, type Result } from '../result.ts';
import { MICROS } from './genesis.ts';
import { afterMisbehaviour } from './reputation.ts';

export interface Unbonding {
  readonly amount: number;
  readonly releaseHeight: number;
}

/** Last downtimeWindowBlocks commits: bit i set = missed; `filled` counts up to the window size. */
export interface MissedWindow {
  readonly bits: Uint8Array;
  readonly next: number;
  readonly filled: number;
  readonly missed: number;
}

export interface SlashableRecord {
  readonly stake: number;
  readonly unbonding: readonly Unbonding[];
  readonly reputationMicros: number;
  /** 0 when not jailed, else the first height at which an unjail is accepted. */
  readonly jailedUntil: number;
  readonly tombstoned: boolean;
  readonly window: MissedWindow;
}

/** Jailed until released by an unjail transaction (jailedUntil stays set until then), or tombstoned for good. */
export function isJailed(rec: SlashableRecord): boolean {
  return rec.tombstoned || rec.jailedUntil !== 0;
}

export interface SlashingParams {
  readonly doubleSignSlashMicros: number;
  readonly doubleSignTombstone: boolean;
  readonly doubleSignJailBlocks: number;
  readonly downtimeWindowBlocks: number;
  readonly downtimeSlashMicros: number;
  readonly downtimeJailBlocks: number;
}

export function emptyWindow(windowBlocks: number): MissedWindow {
  return { bits: new Uint8Array(Math.ceil(windowBlocks / 8)), next: 0, filled: 0, missed: 0 };
}

const bitAt = (bits: Uint8Array, i: number): boolean => (((bits[i >> 3] as number) >> (i & 7)) & 1) === 1;

/** Records one commit of a height in which the validator was in the set. */
export function recordCommit(w: MissedWindow, missed: boolean, windowBlocks: number): MissedWindow {
  const bits = w.bits.slice();
  const i = w.next;
  const wasMissed = w.filled === windowBlocks && bitAt(bits, i);
  if (missed) bits[i >> 3] = (bits[i >> 3] as number) | (1 << (i & 7));
  else bits[i >> 3] = (bits[i >> 3] as number) & ~(1 << (i & 7));
  return {
    bits,
    next: (i + 1) % windowBlocks,
    filled: Math.min(windowBlocks, w.filled + 1),
    missed: w.missed - (wasMissed ? 1 : 0) + (missed ? 1 : 0),
  };
}

/** Down: a full window in which more than half of the commits lack the validator. */
export function isDown(w: MissedWindow, windowBlocks: number): boolean {
  return w.filled === windowBlocks && 2 * w.missed > windowBlocks;
}

/**
 * Amount removed by a fraction, rounded up: any positive fraction of a positive stake takes at
 * least one unit, so small stakes (a development network, the simulator) are not slashed for free.
 */
export function slashAmount(amount: number, fractionMicros: number): number {
  const product = BigInt(amount) * BigInt(fractionMicros);
  const m = BigInt(MICROS);
  return Number((product + m - 1n) / m);
}

function slashStake<T extends SlashableRecord>(rec: T, fractionMicros: number): { record: T; burned: number } {
  const stakeCut = slashAmount(rec.stake, fractionMicros);
  let burned = stakeCut;
  const unbonding = rec.unbonding.map((u) => {
    const cut = slashAmount(u.amount, fractionMicros);
    burned += cut;
    return { amount: u.amount - cut, releaseHeight: u.releaseHeight };
  });
  return { record: { ...rec, stake: rec.stake - stakeCut, unbonding }, burned };
}

/** Double sign (or split view) proven at `height`. */
export function punishDoubleSign<T extends SlashableRecord>(rec: T, height: number, p: SlashingParams): { record: T; burned: number } {
  const { record, burned } = slashStake(rec, p.doubleSignSlashMicros);
  return {
    record: {
      ...record,
      reputationMicros: afterMisbehaviour(),
      tombstoned: rec.tombstoned || p.doubleSignTombstone,
      jailedUntil: Math.max(rec.jailedUntil, height + p.doubleSignJailBlocks),
      window: emptyWindow(p.downtimeWindowBlocks),
    },
    burned,
  };
}

/** Downtime detected at `height`. */
export function punishDowntime<T extends SlashableRecord>(rec: T, height: number, p: SlashingParams): { record: T; burned: number } {
  const { record, burned } = slashStake(rec, p.downtimeSlashMicros);
  return {
    record: { ...record, jailedUntil: Math.max(rec.jailedUntil, height + p.downtimeJailBlocks), window: emptyWindow(p.downtimeWindowBlocks) },
    burned,
  };
}

export function checkUnjail(rec: SlashableRecord, height: number): Result<true> {
  if (rec.tombstoned) return err('unjail: validator is tombstoned (double sign)');
  if (rec.jailedUntil === 0) return err('unjail: validator is not jailed');
  if (height < rec.jailedUntil) return err(`unjail: jailed until height ${rec.jailedUntil}`);
  return ok(true);
}
