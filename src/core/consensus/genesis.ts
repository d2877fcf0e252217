// Genesis: the chain id, the initial accounts and validators, and every consensus parameter.
// The first node of a new network writes it; later nodes fetch the bytes and compare their hash
// with the one they were given (URL, QR code or a peer they trust), so all nodes start identical.
//
// genesis = u8 version(1) ‖ u16 len ‖ chain id (UTF-8) ‖ u64 timeMs ‖
//           u32 n ‖ n × (32 public key ‖ u64 balance)        accounts, ascending by key, unique
//           u32 m ‖ m × (32 public key ‖ u64 stake)          validators, ascending by key, unique
//           params, in the order of PARAM_FIELDS (u64 each, booleans as 0|1)
// hash    = SHA-256("aegis/genesis/v1" 0x00 ‖ genesis bytes)
import { bytesEqual, bytesToHex, compareBytes, concatBytes, utf8Decode, utf8ToBytes } from '../bytes.ts';
import { ByteReader, ByteWriter, DecodeError, safeDecode } from '../codec/index.ts';
import { ED25519_PUBLIC_KEY_BYTES } from '../crypto/ed25519.ts';
import { domainTag, sha256 } from '../crypto/hash.ts';
import { err, ok, type Result } from '../result.ts';
import { MAX_CHAIN_ID_BYTES } from './sign-bytes.ts';
import type { Hash } from './types.ts';

/** Fractions and reputation are integers in micro-units: 1_000_000 = 1. Never floats. */
export const MICROS = 1_000_000;
export const GENESIS_VERSION = 1;
export const MAX_GENESIS_ACCOUNTS = 10_000;

export interface ConsensusParams {
  // Reputation (reputation.ts), micro-units.
  /** Reputation of a new validator candidate. */
  reputationStartMicros: number;
  /** Gain per block whose last commit carries this validator's precommit. */
  reputationCommitGainMicros: number;
  /** Loss per block whose last commit lacks it while it was in that height's set. */
  reputationAbsenceDecayMicros: number;
  /** Gain per completed aggregation round it contributed to. */
  reputationRoundGainMicros: number;
  /** Loss per round it advertised in and dropped out of. */
  reputationDropoutPenaltyMicros: number;
  // Power (power.ts).
  /** r_min: the reputation multiplier runs from this (reputation 0) to 1 (reputation 1). */
  reputationFloorMicros: number;
  /** No validator's power exceeds this share of the set's total; must be below 1/3. */
  maxPowerShareMicros: number;
  /** At most this many validators per set, the top by power. */
  maxValidators: number;
  /** Bonded stake needed to be in the set. */
  minValidatorStake: number;
  /** The set is recomputed from stake × reputation every this many blocks (and on staking events). */
  validatorSetIntervalBlocks: number;
  /** Unbonded stake returns to the balance after this many blocks (and stays slashable until then). */
  unbondingBlocks: number;
  // Slashing (slashing.ts).
  doubleSignSlashMicros: number;
  /** Double-signing removes the validator for good (true) or jails it for doubleSignJailBlocks. */
  doubleSignTombstone: boolean;
  doubleSignJailBlocks: number;
  /** Downtime: missing more than half of the last window of commits while in the set. */
  downtimeWindowBlocks: number;
  downtimeSlashMicros: number;
  downtimeJailBlocks: number;
  /** Evidence older than this many blocks is refused (and its offence keys forgotten). */
  evidenceMaxAgeBlocks: number;
  // Faucet (development networks).
  faucetEnabled: boolean;
  faucetAmount: number;
  /** One faucet payout per identity per this many blocks. */
  faucetIntervalBlocks: number;
  // Blocks.
  /** Blocks a node keeps (older ones are dropped; set-change certificates are kept). */
  blockWindow: number;
  maxBlockBytes: number;
  maxBlockTransactions: number;
  maxBlockEvidence: number;
  /** An OpenRound's deadline is at most this many blocks after its inclusion. */
  maxRoundBlocks: number;
}

export const DEFAULT_PARAMS: ConsensusParams = {
  reputationStartMicros: 500_000,
  reputationCommitGainMicros: 1_000,
  reputationAbsenceDecayMicros: 5_000,
  reputationRoundGainMicros: 10_000,
  reputationDropoutPenaltyMicros: 5_000,
  reputationFloorMicros: 500_000,
  maxPowerShareMicros: 300_000,
  maxValidators: 100,
  minValidatorStake: 1,
  validatorSetIntervalBlocks: 100,
  unbondingBlocks: 100,
  doubleSignSlashMicros: 50_000, // cosmos-sdk x/slashing default slash_fraction_double_sign
  doubleSignTombstone: true,
  doubleSignJailBlocks: 100_000,
  downtimeWindowBlocks: 100,
  downtimeSlashMicros: 10_000, // cosmos-sdk slash_fraction_downtime
  downtimeJailBlocks: 100,
  evidenceMaxAgeBlocks: 100,
  faucetEnabled: true,
  faucetAmount: 1_000,
  faucetIntervalBlocks: 100,
  blockWindow: 1_000,
  maxBlockBytes: 4 * 1024 * 1024,
  maxBlockTransactions: 1_000,
  maxBlockEvidence: 50,
  maxRoundBlocks: 1_000,
};

/** Wire order of the parameters; a new parameter means a new genesis version. */
const PARAM_FIELDS = [
  'reputationStartMicros',
  'reputationCommitGainMicros',
  'reputationAbsenceDecayMicros',
  'reputationRoundGainMicros',
  'reputationDropoutPenaltyMicros',
  'reputationFloorMicros',
  'maxPowerShareMicros',
  'maxValidators',
  'minValidatorStake',
  'validatorSetIntervalBlocks',
  'unbondingBlocks',
  'doubleSignSlashMicros',
  'doubleSignTombstone',
  'doubleSignJailBlocks',
  'downtimeWindowBlocks',
  'downtimeSlashMicros',
  'downtimeJailBlocks',
  'evidenceMaxAgeBlocks',
  'faucetEnabled',
  'faucetAmount',
  'faucetIntervalBlocks',
  'blockWindow',
  'maxBlockBytes',
  'maxBlockTransactions',
  'maxBlockEvidence',
  'maxRoundBlocks',
] as const satisfies readonly (keyof ConsensusParams)[];

export interface GenesisAccount {
  readonly publicKey: Uint8Array;
  readonly balance: number;
}

export interface GenesisValidator {
  readonly publicKey: Uint8Array;
  /** Bonded at genesis; the validator starts with reputationStartMicros. */
  readonly stake: number;
}

export interface Genesis {
  readonly chainId: string;
  readonly timeMs: number;
  readonly accounts: readonly GenesisAccount[];
  readonly validators: readonly GenesisValidator[];
  readonly params: ConsensusParams;
}

const isUint = (v: number): boolean => Number.isSafeInteger(v) && v >= 0;
const isPositive = (v: number): boolean => Number.isSafeInteger(v) && v > 0;

export function validateParams(p: ConsensusParams): Result<ConsensusParams> {
  for (const f of PARAM_FIELDS) {
    const v = p[f];
    if (typeof v === 'boolean') continue;
    if (!isUint(v)) return err(`"${f}" must be a non-negative safe integer, got ${v}`);
  }
  for (const f of [
    'reputationStartMicros',
    'reputationCommitGainMicros',
    'reputationAbsenceDecayMicros',
    'reputationRoundGainMicros',
    'reputationDropoutPenaltyMicros',
    'reputationFloorMicros',
    'doubleSignSlashMicros',
    'downtimeSlashMicros',
  ] as const)
    if (p[f] > MICROS) return err(`"${f}" must be at most ${MICROS} (= 1)`);
  if (p.maxPowerShareMicros === 0 || 3 * p.maxPowerShareMicros >= MICROS)
    return err(`"maxPowerShareMicros" must be in 1..333333 (below 1/3)`);
  for (const f of [
    'maxValidators',
    'minValidatorStake',
    'validatorSetIntervalBlocks',
    'downtimeWindowBlocks',
    'evidenceMaxAgeBlocks',
    'faucetIntervalBlocks',
    'blockWindow',
    'maxBlockBytes',
    'maxBlockTransactions',
    'maxRoundBlocks',
  ] as const)
    if (!isPositive(p[f])) return err(`"${f}" must be a positive integer`);
  if (p.maxValidators > 10_000) return err(`"maxValidators" must be at most 10000`);
  if (p.downtimeWindowBlocks > 10_000) return err(`"downtimeWindowBlocks" must be at most 10000`);
  // Evidence is checked against the validator set of its height, which must still be known.
  if (p.evidenceMaxAgeBlocks > p.blockWindow) return err(`"evidenceMaxAgeBlocks" must not exceed "blockWindow"`);
  return ok(p);
}

function chainIdOk(chainId: string): boolean {
  const n = utf8ToBytes(chainId).length;
  return n > 0 && n <= MAX_CHAIN_ID_BYTES;
}

function checkKeyList(list: readonly { publicKey: Uint8Array }[], what: string): string | null {
  for (let i = 0; i < list.length; i++) {
    const k = (list[i] as { publicKey: Uint8Array }).publicKey;
    if (k.length !== ED25519_PUBLIC_KEY_BYTES) return `${what}[${i}] public key must be 32 bytes`;
    if (i > 0 && compareBytes((list[i - 1] as { publicKey: Uint8Array }).publicKey, k) >= 0)
      return `${what} must be sorted by public key without duplicates`;
  }
  return null;
}

export function validateGenesis(g: Genesis): Result<Genesis> {
  if (!chainIdOk(g.chainId)) return err(`"chainId" must be 1..${MAX_CHAIN_ID_BYTES} UTF-8 bytes`);
  if (!isUint(g.timeMs)) return err(`"timeMs" must be a non-negative safe integer`);
  if (g.accounts.length > MAX_GENESIS_ACCOUNTS || g.validators.length > MAX_GENESIS_ACCOUNTS)
    return err(`at most ${MAX_GENESIS_ACCOUNTS} genesis accounts and validators`);
  const keys = checkKeyList(g.accounts, 'accounts') ?? checkKeyList(g.validators, 'validators');
  if (keys !== null) return err(keys);
  let supply = 0;
  for (const a of g.accounts) {
    if (!isUint(a.balance)) return err(`account balance must be a non-negative safe integer`);
    supply += a.balance;
  }
  for (const v of g.validators) {
    if (!isPositive(v.stake)) return err(`validator stake must be a positive safe integer`);
    supply += v.stake;
  }
  // Total supply stays a safe integer, so sums of stake and power never lose precision.
  if (!Number.isSafeInteger(supply)) return err(`total genesis supply exceeds 2^53 - 1`);
  const p = validateParams(g.params);
  if (!p.ok) return p;
  if (g.validators.length === 0) return err(`genesis needs at least one validator`);
  return ok(g);
}

/** Builds a genesis, sorting the account and validator lists; throws with the field named if invalid. */
export function makeGenesis(input: {
  chainId: string;
  timeMs: number;
  accounts?: readonly GenesisAccount[];
  validators: readonly GenesisValidator[];
  params?: Partial<ConsensusParams>;
}): Genesis {
  const byKey = (a: { publicKey: Uint8Array }, b: { publicKey: Uint8Array }): number => compareBytes(a.publicKey, b.publicKey);
  const g: Genesis = {
    chainId: input.chainId,
    timeMs: input.timeMs,
    accounts: [...(input.accounts ?? [])].sort(byKey),
    validators: [...input.validators].sort(byKey),
    params: { ...DEFAULT_PARAMS, ...input.params },
  };
  const v = validateGenesis(g);
  if (!v.ok) throw new Error(`genesis: ${v.error}`);
  return g;
}

export function writeParams(w: ByteWriter, p: ConsensusParams): void {
  for (const f of PARAM_FIELDS) {
    const v = p[f];
    w.u64(typeof v === 'boolean' ? (v ? 1 : 0) : v);
  }
}

export function readParams(r: ByteReader): ConsensusParams {
  const p: Record<string, number | boolean> = {};
  for (const f of PARAM_FIELDS) {
    const v = r.u64(f);
    if (typeof DEFAULT_PARAMS[f] === 'boolean') {
      if (v > 1) throw new DecodeError(`${f} must be 0 or 1`);
      p[f] = v === 1;
    } else p[f] = v;
  }
  return p as unknown as ConsensusParams;
}

export function encodeGenesis(g: Genesis): Uint8Array {
  const v = validateGenesis(g);
  if (!v.ok) throw new Error(`genesis: ${v.error}`);
  const id = utf8ToBytes(g.chainId);
  const w = new ByteWriter(256 + 40 * (g.accounts.length + g.validators.length));
  w.u8(GENESIS_VERSION).u16(id.length).bytes(id).u64(g.timeMs);
  w.u32(g.accounts.length);
  for (const a of g.accounts) w.bytes(a.publicKey).u64(a.balance);
  w.u32(g.validators.length);
  for (const x of g.validators) w.bytes(x.publicKey).u64(x.stake);
  writeParams(w, g.params);
  return w.finish();
}

export function decodeGenesis(bytes: Uint8Array): Result<Genesis> {
  const d = safeDecode(() => {
    const r = new ByteReader(bytes);
    const version = r.u8('version');
    if (version !== GENESIS_VERSION) throw new DecodeError(`genesis version ${version} unsupported`);
    const idLen = r.u16('chain id length');
    if (idLen === 0 || idLen > MAX_CHAIN_ID_BYTES) throw new DecodeError('chain id length out of range');
    const chainId = utf8Decode(r.bytes(idLen, 'chain id'));
    const timeMs = r.u64('timeMs');
    const list = <T>(what: string, make: (k: Uint8Array, n: number) => T): T[] => {
      const n = r.u32(`${what} count`);
      if (n > MAX_GENESIS_ACCOUNTS) throw new DecodeError(`${what}: ${n} entries, limit ${MAX_GENESIS_ACCOUNTS}`);
      const out: T[] = [];
      for (let i = 0; i < n; i++) out.push(make(r.bytes(ED25519_PUBLIC_KEY_BYTES, 'public key').slice(), r.u64(what)));
      return out;
    };
    const accounts = list('accounts', (publicKey, balance) => ({ publicKey, balance }));
    const validators = list('validators', (publicKey, stake) => ({ publicKey, stake }));
    const params = readParams(r);
    r.end('genesis');
    return { chainId, timeMs, accounts, validators, params };
  });
  if (!d.ok) return d;
  return validateGenesis(d.value);
}

const GENESIS_TAG = domainTag('aegis/genesis/v1');

export function genesisHash(g: Genesis | Uint8Array): Hash {
  return sha256(concatBytes(GENESIS_TAG, g instanceof Uint8Array ? g : encodeGenesis(g)));
}

/** For a node that fetched genesis bytes from a peer: decode and check them against the expected hash. */
export function checkFetchedGenesis(bytes: Uint8Array, expectedHash: Hash): Result<Genesis> {
  if (!bytesEqual(genesisHash(bytes), expectedHash))
    return err(`genesis hash ${bytesToHex(genesisHash(bytes)).slice(0, 16)}… differs from the expected ${bytesToHex(expectedHash).slice(0, 16)}…`);
  return decodeGenesis(bytes);
}
