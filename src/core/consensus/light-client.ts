// Light-client sync: a newcomer learns the current validator set from genesis through set-change
// certificates, then the state from a certified snapshot, without fetching every block.
//
// A set-change certificate is the header of a block h whose next validators differ from its own,
// the QC of h (precommits of more than 2/3 of h's power), and the new validator list. The header
// names both sets by hash, so each certificate is checked against the set the previous one (or
// genesis) established: header.validatorsHash = trusted set, QC valid for the header's hash under
// that set, list hashes to header.nextValidatorsHash → trusted set from h + 1 on.
//
// Skipping (CometBFT's light client, spec/light-client/verification): nodes do not keep a
// certificate for every change (reputation moves powers at every recompute), only a checkpoint
// chain (block-store.ts). A certificate whose header names a set V other than the trusted set T
// carries V's list and is accepted when (1) V hashes to header.validatorsHash, (2) the QC holds
// more than 2/3 of V's power, and (3) its signers who are members of T hold more than 1/3 of T's
// power (T's powers). Trust assumption: T still has less than 1/3 Byzantine power — which holds
// only within the unbonding period of T's height (validators that unbonded since may sign
// anything without losing stake) — so at least one honest member of T vouched for the header.
// A skip signed by 1/3 or less of T is refused.
//
// A certified snapshot is a header H decided by the trusted set, its QC, and the state records;
// their RFC 9162 root must equal the header's app state root.
//
// What this does NOT prove: that no later change exists (a peer can serve an old but genuine
// state — ask several peers and take the highest), nor safety against validators that unbonded
// long ago signing an alternative history (long-range attack): as in every proof-of-stake light
// client, a node that was offline for longer than the unbonding period needs a recent trusted
// checkpoint (header hash) from a source it trusts.
//
// certificate = header (block.ts) ‖ QC (vote-codec.ts) ‖ validators (next) ‖ [validators (deciding)]
//   validators = u32 n ‖ n × (32 public key ‖ u64 power); the deciding set is absent in old encodings
import { bytesEqual } from '../bytes.ts';
import { ByteReader, ByteWriter, DecodeError, safeDecode } from '../codec/index.ts';
import type { Verifier } from '../crypto/ed25519.ts';
import { nodeIdFromPublicKey } from '../crypto/node-id.ts';
import { err, ok, type Result } from '../result.ts';
import { genesisState, stateFromRecords, type AppState } from './app-state.ts';
import { headerHash, readHeader, writeHeader, type BlockHeader } from './block.ts';
import type { Genesis } from './genesis.ts';
import { merkleRoot } from './hash-tree.ts';
import { verifyQuorumCertificate } from './qc.ts';
import { exceedsOneThird, indexOfValidator, tryMakeValidatorSet } from './validator-set.ts';
import { MAX_VALIDATORS, readQuorumCertificate, writeQuorumCertificate } from './vote-codec.ts';
import type { Hash, QuorumCertificate, Validator, ValidatorSet } from './types.ts';

export interface SetChangeCertificate {
  readonly header: BlockHeader;
  readonly qc: QuorumCertificate;
  /** The validators (key, power) from header.height + 1 on. */
  readonly nextValidators: readonly Validator[];
  /** The set that decided the header (its validatorsHash): lets a light client skip to it. Absent in old encodings. */
  readonly validators?: readonly Validator[];
}

export interface CertifiedSnapshot {
  readonly header: BlockHeader;
  readonly qc: QuorumCertificate;
  /** stateRecords() of the state after the header's block. */
  readonly records: readonly Uint8Array[];
}

export interface TrustedSet {
  /** First height this set decides. */
  readonly fromHeight: number;
  readonly set: ValidatorSet;
  /** The certified header that installed this set (height fromHeight − 1) and the set that decided it; null for genesis. */
  readonly installedBy: { readonly headerHash: Hash; readonly previous: ValidatorSet } | null;
}

export function encodeCertificate(c: SetChangeCertificate): Uint8Array {
  const w = new ByteWriter(1024);
  writeHeader(w, c.header);
  writeQuorumCertificate(w, c.qc);
  writeValidators(w, c.nextValidators);
  if (c.validators !== undefined) writeValidators(w, c.validators);
  return w.finish();
}

function writeValidators(w: ByteWriter, vs: readonly Validator[]): void {
  w.u32(vs.length);
  for (const v of vs) w.bytes(v.publicKey).u64(v.power);
}

function readValidators(r: ByteReader): Validator[] {
  const n = r.u32('validator count');
  if (n > MAX_VALIDATORS || n * 40 > r.remaining) throw new DecodeError(`certificate: ${n} validators do not fit`);
  const out: Validator[] = [];
  for (let i = 0; i < n; i++) {
    const publicKey = r.bytes(32, 'validator key').slice();
    out.push({ id: nodeIdFromPublicKey(publicKey), publicKey, power: r.u64('power') });
  }
  return out;
}

export function decodeCertificate(bytes: Uint8Array): Result<SetChangeCertificate> {
  return safeDecode(() => {
    const r = new ByteReader(bytes);
    const header = readHeader(r);
    const qc = readQuorumCertificate(r);
    const nextValidators = readValidators(r);
    if (r.remaining === 0) return { header, qc, nextValidators };
    const validators = readValidators(r);
    r.end('certificate');
    return { header, qc, nextValidators, validators };
  });
}

async function checkCertified(header: BlockHeader, qc: QuorumCertificate, trusted: TrustedSet, chainId: string, verifier: Verifier): Promise<Result<true>> {
  const started = startCertified(header, qc, trusted, chainId, verifier);
  return started.ok ? started.value : started;
}

/**
 * checkCertified in two parts: the header checks now (a failure returned at once), the QC's check
 * started and returned as a promise, so a chain of certificates runs every QC's signatures together.
 */
function startCertified(header: BlockHeader, qc: QuorumCertificate, trusted: TrustedSet, chainId: string, verifier: Verifier): Result<Promise<Result<true>>> {
  if (header.chainId !== chainId) return err(`header of height ${header.height} is for chain ${header.chainId}`);
  if (header.height < trusted.fromHeight) return err(`height ${header.height} precedes the trusted set (from ${trusted.fromHeight})`);
  if (!bytesEqual(header.validatorsHash, trusted.set.hash)) return err(`height ${header.height}: validators hash is not the trusted set's`);
  if (qc.height !== header.height || !bytesEqual(qc.blockHash, headerHash(header)))
    return err(`height ${header.height}: the QC is not for this header`);
  return ok(verifyQuorumCertificate(qc, trusted.set, chainId, verifier).then((v) => (v.ok ? ok(true as const) : err(`height ${header.height}: ${v.error}`))));
}

/**
 * Whether the QC's signers (indices into `signing`) who are members of `trusted` hold more than 1/3
 * of trusted's power: the skipping rule's overlap (signatures are checked separately).
 */
export function trustedOverlapExceedsOneThird(trusted: ValidatorSet, signing: ValidatorSet, qc: QuorumCertificate): boolean {
  let power = 0;
  for (const s of qc.signatures) {
    const signer = signing.validators[s.validatorIndex];
    if (signer === undefined) continue;
    const i = indexOfValidator(trusted, signer.publicKey);
    if (i >= 0) power += (trusted.validators[i] as Validator).power;
  }
  return exceedsOneThird(power, trusted.totalPower);
}

/**
 * The set that decided a certificate's header, trusted directly (adjacent) or by skipping; the QC's
 * check (started) is pushed to `qcChecks`.
 */
function decidingSet(c: SetChangeCertificate, trusted: TrustedSet, chainId: string, verifier: Verifier, qcChecks: Promise<Result<true>>[]): Result<ValidatorSet> {
  if (bytesEqual(c.header.validatorsHash, trusted.set.hash)) {
    const started = startCertified(c.header, c.qc, trusted, chainId, verifier);
    if (!started.ok) return started;
    qcChecks.push(started.value);
    return ok(trusted.set);
  }
  const h = c.header.height;
  if (c.validators === undefined) return err(`height ${h}: validators hash is not the trusted set's and the certificate carries no set to skip to`);
  const v = tryMakeValidatorSet(c.validators);
  if (!v.ok) return err(`height ${h}: validators: ${v.error}`);
  if (!bytesEqual(v.value.hash, c.header.validatorsHash)) return err(`height ${h}: validators do not match the header`);
  const started = startCertified(c.header, c.qc, { ...trusted, set: v.value }, chainId, verifier);
  if (!started.ok) return started;
  qcChecks.push(started.value);
  if (!trustedOverlapExceedsOneThird(trusted.set, v.value, c.qc))
    return err(`height ${h}: skip refused: signers hold 1/3 or less of the trusted set's power`);
  return ok(v.value);
}

/** Follows the certificates (ascending heights) from genesis; returns the current set. Never throws. */
export async function verifySetChanges(g: Genesis, certs: readonly SetChangeCertificate[], verifier: Verifier): Promise<Result<TrustedSet>> {
  const all = await followSetChanges(g, certs, verifier);
  return all.ok ? ok(all.value[all.value.length - 1] as TrustedSet) : all;
}

/**
 * verifySetChanges keeping every step: genesis's set, then the set each certificate installs.
 * The chain of hashes and powers is followed first and every QC's signatures are checked together
 * (the caller's verifier may batch them); the failure reported is the first in certificate order,
 * as if each certificate were checked in full before the next.
 */
export async function followSetChanges(g: Genesis, certs: readonly SetChangeCertificate[], verifier: Verifier): Promise<Result<TrustedSet[]>> {
  let trusted: TrustedSet;
  try {
    trusted = { fromHeight: 1, set: genesisState(g).validators, installedBy: null };
  } catch (e) {
    return err(`genesis: ${String(e)}`);
  }
  const steps: TrustedSet[] = [trusted];
  // QC checks in certificate order; a failure of certificate k's own header or sets comes after
  // its QC's check and those of every earlier certificate.
  const qcChecks: Promise<Result<true>>[] = [];
  let stop: Result<never> | null = null;
  for (const c of certs) {
    const deciding = decidingSet(c, trusted, g.chainId, verifier, qcChecks);
    if (!deciding.ok) {
      stop = deciding;
      break;
    }
    const next = tryMakeValidatorSet(c.nextValidators);
    if (!next.ok) {
      stop = err(`height ${c.header.height}: next validators: ${next.error}`);
      break;
    }
    if (!bytesEqual(next.value.hash, c.header.nextValidatorsHash)) {
      stop = err(`height ${c.header.height}: next validators do not match the header`);
      break;
    }
    trusted = { fromHeight: c.header.height + 1, set: next.value, installedBy: { headerHash: headerHash(c.header), previous: deciding.value } };
    steps.push(trusted);
  }
  for (const checked of await Promise.all(qcChecks)) if (!checked.ok) return checked;
  return stop ?? ok(steps);
}

/** Checks a snapshot against the trusted set and returns the state it certifies. */
export async function verifySnapshot(g: Genesis, trusted: TrustedSet, s: CertifiedSnapshot, verifier: Verifier): Promise<Result<AppState>> {
  // The snapshot may sit at the very block that installed the trusted set: that header is decided
  // by the previous set, so its QC is checked against that one.
  const via = trusted.installedBy;
  const installing = via !== null && s.header.chainId === g.chainId && bytesEqual(headerHash(s.header), via.headerHash);
  const decidedBy: TrustedSet = installing ? { fromHeight: s.header.height, set: via.previous, installedBy: null } : trusted;
  const checked = await checkCertified(s.header, s.qc, decidedBy, g.chainId, verifier);
  if (!checked.ok) return checked;
  if (!bytesEqual(merkleRoot(s.records), s.header.appStateRoot)) return err('snapshot records do not hash to the certified state root');
  const state = stateFromRecords(s.records, g);
  if (!state.ok) return state;
  if (state.value.height !== s.header.height) return err('snapshot height differs from its header');
  if (!bytesEqual(state.value.validators.hash, s.header.nextValidatorsHash)) return err('snapshot validators differ from the header');
  return state;
}

/** Both steps: genesis → current set → certified state. */
export async function syncFromCertificates(
  g: Genesis,
  certs: readonly SetChangeCertificate[],
  snapshot: CertifiedSnapshot,
  verifier: Verifier,
): Promise<Result<AppState>> {
  const trusted = await verifySetChanges(g, certs, verifier);
  if (!trusted.ok) return trusted;
  return verifySnapshot(g, trusted.value, snapshot, verifier);
}
