// Signed envelope, wire format v1 (all integers big-endian):
//
//   offset  size  field
//   0       1     version (= 1)
//   1       2     type (see message-types.ts)
//   3       1     flags (bit 0: recipient present; other bits must be 0)
//   4       32    sender Ed25519 public key
//   36      8     sequence (per sender, strictly increasing; < 2^53)
//   44      32    recipient public key         (only if flags bit 0)
//   44|76   4     body length
//   ...     n     body
//   ...     64    signature: Ed25519(sender, DOMAIN || every byte above)
//
// The signature covers the exact received bytes (never a re-encoding), prefixed by a domain tag so
// an envelope signature can never be replayed as a handshake proof or any other signed object.
import { concatBytes } from '../bytes.ts';
import { ByteReader, ByteWriter, safeDecode } from '../codec/index.ts';
import type { Signer, Verifier } from '../crypto/ed25519.ts';
import { domainTag } from '../crypto/hash.ts';
import type { Result } from '../result.ts';

export const ENVELOPE_VERSION = 1;
export const ENVELOPE_DOMAIN = domainTag('aegis/envelope/v1');
const FLAG_RECIPIENT = 0x01;
const HEADER_BYTES = 44;
const SIGNATURE_BYTES = 64;
/** Default cap on one envelope; large enough for a 1M-entry u32 vector. */
export const DEFAULT_MAX_ENVELOPE_BYTES = 8 * 1024 * 1024 + 1024;

export interface EnvelopeFields {
  type: number;
  sender: Uint8Array;
  sequence: number;
  recipient?: Uint8Array;
  body: Uint8Array;
}

export interface Envelope extends EnvelopeFields {
  version: number;
  signature: Uint8Array;
  /** The bytes the signature covers (without the domain tag), exactly as received. */
  signedBytes: Uint8Array;
  /** The whole encoded envelope. */
  bytes: Uint8Array;
}

export async function sealEnvelope(fields: EnvelopeFields, signer: Signer): Promise<Envelope> {
  if (fields.sender.length !== 32) throw new Error('"sender" must be 32 bytes');
  if (fields.recipient !== undefined && fields.recipient.length !== 32) throw new Error('"recipient" must be 32 bytes');
  if (!Number.isInteger(fields.type) || fields.type < 0 || fields.type > 0xffff) throw new Error('"type" must be a u16');
  const w = new ByteWriter(HEADER_BYTES + 36 + fields.body.length + SIGNATURE_BYTES);
  w.u8(ENVELOPE_VERSION).u16(fields.type).u8(fields.recipient ? FLAG_RECIPIENT : 0);
  w.bytes(fields.sender).u64(fields.sequence);
  if (fields.recipient) w.bytes(fields.recipient);
  w.varBytes(fields.body);
  const signedBytes = w.finish();
  const signature = await signer.sign(concatBytes(ENVELOPE_DOMAIN, signedBytes));
  const bytes = concatBytes(signedBytes, signature);
  return decodeEnvelopeOrThrow(bytes);
}

/** Strict structural decode (no signature check). Never throws. */
export function decodeEnvelope(bytes: Uint8Array, maxBytes = DEFAULT_MAX_ENVELOPE_BYTES): Result<Envelope> {
  if (!(bytes instanceof Uint8Array)) return { ok: false, error: 'not bytes' };
  if (bytes.length > maxBytes) return { ok: false, error: `oversize: ${bytes.length} bytes, limit ${maxBytes}` };
  return safeDecode(() => decodeEnvelopeOrThrow(bytes));
}

function decodeEnvelopeOrThrow(bytes: Uint8Array): Envelope {
  const r = new ByteReader(bytes);
  const version = r.u8('version');
  if (version !== ENVELOPE_VERSION) throw new Error(`unsupported version ${version}`);
  const type = r.u16('type');
  const flags = r.u8('flags');
  if ((flags & ~FLAG_RECIPIENT) !== 0) throw new Error(`unknown flags 0x${flags.toString(16)}`);
  const sender = r.bytes(32, 'sender');
  const sequence = r.u64('sequence');
  const recipient = flags & FLAG_RECIPIENT ? r.bytes(32, 'recipient') : undefined;
  const body = r.varBytes(bytes.length, 'body');
  const signedBytes = bytes.subarray(0, r.offset);
  const signature = r.bytes(SIGNATURE_BYTES, 'signature');
  r.end('envelope');
  const env: Envelope = { version, type, sender, sequence, body, signature, signedBytes, bytes };
  if (recipient) env.recipient = recipient;
  return env;
}

export function verifyEnvelope(env: Envelope, verifier: Verifier): Promise<boolean> {
  return verifier.verify(env.sender, concatBytes(ENVELOPE_DOMAIN, env.signedBytes), env.signature);
}
