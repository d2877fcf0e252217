// Channel-bound identity proof, run over a freshly opened data channel. Each side sends HELLO
// (identity public key + 32-byte fresh nonce), then PROOF: an Ed25519 signature over
//
//   DOMAIN || role || len-prefixed initiator DTLS fingerprint || len-prefixed responder fingerprint
//          || initiator nonce || responder nonce || initiator public key || responder public key
//
// where each side reads both fingerprints from the SDPs it actually used. A signaling server that
// swaps SDPs to sit in the middle ends up with two DTLS sessions whose fingerprints differ from
// what the honest peers signed, so both proofs fail. Nonces make every proof fresh (no replay).
import { bytesEqual, utf8ToBytes } from '../bytes.ts';
import { ByteWriter } from '../codec/index.ts';
import type { Signer, Verifier } from '../crypto/ed25519.ts';
import { domainTag } from '../crypto/hash.ts';
import { nodeIdFromPublicKey, type NodeId } from '../crypto/node-id.ts';

const HANDSHAKE_DOMAIN = domainTag('aegis/handshake/v1');
export const HANDSHAKE_NONCE_BYTES = 32;

export type Role = 'initiator' | 'responder';

export interface HandshakeContext {
  role: Role;
  localFingerprint: string;
  remoteFingerprint: string;
  localPublicKey: Uint8Array;
  localNonce: Uint8Array;
  /** The id the remote claimed through signaling; the proof must be for this id. */
  expectedRemoteId: NodeId;
}

export function handshakeTranscript(
  ctx: HandshakeContext,
  remotePublicKey: Uint8Array,
  remoteNonce: Uint8Array,
  signerRole: Role,
): Uint8Array {
  const initiator = ctx.role === 'initiator';
  const w = new ByteWriter(400);
  w.bytes(HANDSHAKE_DOMAIN).u8(signerRole === 'initiator' ? 1 : 2);
  w.varBytes(utf8ToBytes(initiator ? ctx.localFingerprint : ctx.remoteFingerprint));
  w.varBytes(utf8ToBytes(initiator ? ctx.remoteFingerprint : ctx.localFingerprint));
  w.bytes(initiator ? ctx.localNonce : remoteNonce).bytes(initiator ? remoteNonce : ctx.localNonce);
  w.bytes(initiator ? ctx.localPublicKey : remotePublicKey).bytes(initiator ? remotePublicKey : ctx.localPublicKey);
  return w.finish();
}

export type HelloCheck = { ok: true } | { ok: false; error: string };

/** Validate the remote HELLO before answering it. */
export function checkHello(ctx: HandshakeContext, remotePublicKey: Uint8Array, remoteNonce: Uint8Array): HelloCheck {
  if (nodeIdFromPublicKey(remotePublicKey) !== ctx.expectedRemoteId)
    return { ok: false, error: 'identity mismatch: key does not match the signalled peer id' };
  if (bytesEqual(remotePublicKey, ctx.localPublicKey)) return { ok: false, error: 'peer claims our own identity' };
  if (bytesEqual(remoteNonce, ctx.localNonce)) return { ok: false, error: 'nonce reflected' };
  return { ok: true };
}

export function signProof(
  ctx: HandshakeContext,
  signer: Signer,
  remotePublicKey: Uint8Array,
  remoteNonce: Uint8Array,
): Promise<Uint8Array> {
  return signer.sign(handshakeTranscript(ctx, remotePublicKey, remoteNonce, ctx.role));
}

export function verifyProof(
  ctx: HandshakeContext,
  verifier: Verifier,
  remotePublicKey: Uint8Array,
  remoteNonce: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  const remoteRole: Role = ctx.role === 'initiator' ? 'responder' : 'initiator';
  return verifier.verify(remotePublicKey, handshakeTranscript(ctx, remotePublicKey, remoteNonce, remoteRole), signature);
}
