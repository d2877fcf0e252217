// Signed transactions (big-endian, strict). Every transaction names its sender's Ed25519 key and a
// nonce equal to the sender's count of committed transactions (replay protection: a transaction
// applies at most once and in order), and is signed over domain-separated bytes bound to the chain:
//
// tx        = u8 version(1) ‖ u8 kind ‖ 32 sender ‖ u64 nonce ‖ payload ‖ 64 signature
// payload   = join:        (empty)                 register as validator candidate
//             bond:        u64 amount              balance → bonded stake
//             unbond:      u64 amount              bonded stake → balance after unbondingBlocks
//             transfer:    32 recipient ‖ u64 amount
//             faucet:      (empty)                 dev networks: genesis faucetAmount, rate-bounded
//             open-round:  16 round id ‖ u64 deadline height ‖ secagg params (see writeRoundParams)
//             unjail:      (empty)                 after the jail period
// sign bytes = "aegis/tx/v1" 0x00 ‖ u16 len ‖ chain id ‖ tx without its signature
import { concatBytes, utf8ToBytes } from '../bytes.ts';
import { ByteReader, ByteWriter, DecodeError, safeDecode } from '../codec/index.ts';
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES, type Signer, type Verifier } from '../crypto/ed25519.ts';
import { domainTag, sha256 } from '../crypto/hash.ts';
import type { Result } from '../result.ts';
import { readParams, writeParams } from '../secagg/messages.ts';
import { validateParams as validateSecAggParams, type SecAggParams } from '../secagg/params.ts';
import type { Hash } from './types.ts';

export const TX_VERSION = 1;
export const ROUND_ID_BYTES = 16;
export const TxKind = { Join: 1, Bond: 2, Unbond: 3, Transfer: 4, Faucet: 5, OpenRound: 6, Unjail: 7 } as const;
export type TxKind = (typeof TxKind)[keyof typeof TxKind];

export type TxPayload =
  | { readonly kind: 'join' }
  | { readonly kind: 'bond'; readonly amount: number }
  | { readonly kind: 'unbond'; readonly amount: number }
  | { readonly kind: 'transfer'; readonly to: Uint8Array; readonly amount: number }
  | { readonly kind: 'faucet' }
  | { readonly kind: 'open-round'; readonly roundId: Uint8Array; readonly deadlineHeight: number; readonly params: SecAggParams }
  | { readonly kind: 'unjail' };

export interface Transaction {
  readonly sender: Uint8Array;
  readonly nonce: number;
  readonly payload: TxPayload;
  readonly signature: Uint8Array;
}

const KIND_CODE: Record<TxPayload['kind'], TxKind> = {
  join: TxKind.Join,
  bond: TxKind.Bond,
  unbond: TxKind.Unbond,
  transfer: TxKind.Transfer,
  faucet: TxKind.Faucet,
  'open-round': TxKind.OpenRound,
  unjail: TxKind.Unjail,
};

/** A round's SecAgg parameters: the secure-aggregation messages' encoding (one codec for both). */
export const writeRoundParams = writeParams;
export const readRoundParams = readParams;

function positiveAmount(v: number, what: string): void {
  if (!Number.isSafeInteger(v) || v <= 0) throw new Error(`"${what}" must be a positive safe integer`);
}

/** Throws with the field named: for locally built transactions (programmer errors). */
function assertPayload(p: TxPayload): void {
  switch (p.kind) {
    case 'bond':
    case 'unbond':
      positiveAmount(p.amount, 'amount');
      return;
    case 'transfer':
      positiveAmount(p.amount, 'amount');
      if (p.to.length !== ED25519_PUBLIC_KEY_BYTES) throw new Error(`"to" must be 32 bytes`);
      return;
    case 'open-round': {
      if (p.roundId.length !== ROUND_ID_BYTES) throw new Error(`"roundId" must be ${ROUND_ID_BYTES} bytes`);
      positiveAmount(p.deadlineHeight, 'deadlineHeight');
      const v = validateSecAggParams(p.params);
      if (!v.ok) throw new Error(v.error);
      return;
    }
    default:
      return;
  }
}

function writeUnsigned(w: ByteWriter, sender: Uint8Array, nonce: number, p: TxPayload): void {
  if (sender.length !== ED25519_PUBLIC_KEY_BYTES) throw new Error(`"sender" must be 32 bytes`);
  w.u8(TX_VERSION).u8(KIND_CODE[p.kind]).bytes(sender).u64(nonce);
  switch (p.kind) {
    case 'bond':
    case 'unbond':
      w.u64(p.amount);
      break;
    case 'transfer':
      w.bytes(p.to).u64(p.amount);
      break;
    case 'open-round':
      w.bytes(p.roundId).u64(p.deadlineHeight);
      writeRoundParams(w, p.params);
      break;
    default:
      break;
  }
}

function readAmount(r: ByteReader): number {
  const v = r.u64('amount');
  if (v === 0) throw new DecodeError('amount must be positive');
  return v;
}

function readPayload(r: ByteReader, kind: number): TxPayload {
  switch (kind) {
    case TxKind.Join:
      return { kind: 'join' };
    case TxKind.Bond:
      return { kind: 'bond', amount: readAmount(r) };
    case TxKind.Unbond:
      return { kind: 'unbond', amount: readAmount(r) };
    case TxKind.Transfer: {
      const to = r.bytes(ED25519_PUBLIC_KEY_BYTES, 'recipient').slice();
      return { kind: 'transfer', to, amount: readAmount(r) };
    }
    case TxKind.Faucet:
      return { kind: 'faucet' };
    case TxKind.OpenRound: {
      const roundId = r.bytes(ROUND_ID_BYTES, 'round id').slice();
      const deadlineHeight = r.u64('deadline height');
      if (deadlineHeight === 0) throw new DecodeError('deadline height must be positive');
      return { kind: 'open-round', roundId, deadlineHeight, params: readRoundParams(r) };
    }
    case TxKind.Unjail:
      return { kind: 'unjail' };
    default:
      throw new DecodeError(`transaction kind ${kind} unknown`);
  }
}

export function encodeUnsignedTransaction(sender: Uint8Array, nonce: number, payload: TxPayload): Uint8Array {
  assertPayload(payload);
  const w = new ByteWriter(128);
  writeUnsigned(w, sender, nonce, payload);
  return w.finish();
}

export function encodeTransaction(tx: Transaction): Uint8Array {
  if (tx.signature.length !== ED25519_SIGNATURE_BYTES) throw new Error(`"signature" must be 64 bytes`);
  return concatBytes(encodeUnsignedTransaction(tx.sender, tx.nonce, tx.payload), tx.signature);
}

export function readTransaction(r: ByteReader): Transaction {
  const version = r.u8('tx version');
  if (version !== TX_VERSION) throw new DecodeError(`transaction version ${version} unsupported`);
  const kind = r.u8('tx kind');
  const sender = r.bytes(ED25519_PUBLIC_KEY_BYTES, 'sender').slice();
  const nonce = r.u64('nonce');
  const payload = readPayload(r, kind);
  const signature = r.bytes(ED25519_SIGNATURE_BYTES, 'signature').slice();
  return { sender, nonce, payload, signature };
}

export function decodeTransaction(bytes: Uint8Array): Result<Transaction> {
  return safeDecode(() => {
    const r = new ByteReader(bytes);
    const tx = readTransaction(r);
    r.end('transaction');
    return tx;
  });
}

const TX_TAG = domainTag('aegis/tx/v1');
const TX_ID_TAG = domainTag('aegis/tx-id/v1');

export function transactionSignBytes(chainId: string, sender: Uint8Array, nonce: number, payload: TxPayload): Uint8Array {
  const id = utf8ToBytes(chainId);
  const body = encodeUnsignedTransaction(sender, nonce, payload);
  return new ByteWriter(TX_TAG.length + 2 + id.length + body.length).bytes(TX_TAG).u16(id.length).bytes(id).bytes(body).finish();
}

export async function signTransaction(chainId: string, signer: Signer, nonce: number, payload: TxPayload): Promise<Transaction> {
  const signature = await signer.sign(transactionSignBytes(chainId, signer.publicKey, nonce, payload));
  return { sender: signer.publicKey, nonce, payload, signature };
}

/** False (never throws) for a bad signature. */
export function verifyTransaction(chainId: string, tx: Transaction, verifier: Verifier): Promise<boolean> {
  return verifier.verify(tx.sender, transactionSignBytes(chainId, tx.sender, tx.nonce, tx.payload), tx.signature);
}

/** Identifies a transaction in the pool and in events. */
export function transactionId(tx: Transaction | Uint8Array): Hash {
  return sha256(concatBytes(TX_ID_TAG, tx instanceof Uint8Array ? tx : encodeTransaction(tx)));
}
