// Key derivations of one round. Both derive symmetric values from an X25519 shared secret with
// HKDF-SHA256, salted by the round id and bound to the (ordered) pair of node ids, so a value from
// one round or one pair is useless in any other.
import { concatBytes, hexToBytes } from '../bytes.ts';
import { seal, open, AEAD_NONCE_BYTES } from '../crypto/aead.ts';
import { deriveKey } from '../crypto/hkdf.ts';
import type { NodeId } from '../crypto/node-id.ts';
import { decodeShare, encodeShare, type Share } from '../crypto/shamir.ts';
import { ByteReader, ByteWriter, safeDecode } from '../codec/index.ts';
import type { Result } from '../result.ts';

function orderedPair(a: NodeId, b: NodeId): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

/** s_{u,v}: the seed of the pairwise mask between u and v (Bonawitz §4, "s_{u,v} = KA.agree"). */
export function pairwiseSeed(shared: Uint8Array, roundId: Uint8Array, u: NodeId, v: NodeId): Uint8Array {
  return deriveKey(shared, roundId, `aegis/secagg/pairwise-mask/v1:${orderedPair(u, v)}`, 32);
}

/** The AEAD key that carries u's shares to v and v's to u. */
export function shareKey(shared: Uint8Array, roundId: Uint8Array, u: NodeId, v: NodeId): Uint8Array {
  return deriveKey(shared, roundId, `aegis/secagg/share-key/v1:${orderedPair(u, v)}`, 32);
}

/** +1 if u's mask for the pair is added, −1 if subtracted: the lower id adds, so the pair cancels. */
export function maskSign(u: NodeId, v: NodeId): 1 | -1 {
  return u < v ? 1 : -1;
}

/** The two shares one node gives one holder: of its self-mask seed b_u and its mask key s_u^SK. */
export interface SharePair {
  selfSeed: Share;
  maskKey: Share;
}

function nonceFor(from: NodeId, to: NodeId): Uint8Array {
  // One key per pair serves both directions: the direction byte keeps the nonces distinct.
  const n = new Uint8Array(AEAD_NONCE_BYTES);
  n[0] = from < to ? 1 : 2;
  return n;
}

function aadFor(roundId: Uint8Array, from: NodeId, to: NodeId): Uint8Array {
  return concatBytes(roundId, hexToBytes(from), hexToBytes(to));
}

export function encryptSharePair(key: Uint8Array, roundId: Uint8Array, from: NodeId, to: NodeId, pair: SharePair): Uint8Array {
  const plain = new ByteWriter().varBytes(encodeShare(pair.selfSeed)).varBytes(encodeShare(pair.maskKey)).finish();
  return seal(key, nonceFor(from, to), plain, aadFor(roundId, from, to));
}

export function decryptSharePair(
  key: Uint8Array,
  roundId: Uint8Array,
  from: NodeId,
  to: NodeId,
  ciphertext: Uint8Array,
): Result<SharePair> {
  const plain = open(key, nonceFor(from, to), ciphertext, aadFor(roundId, from, to));
  if (!plain) return { ok: false, error: 'share ciphertext does not authenticate' };
  const parsed = safeDecode(() => {
    const r = new ByteReader(plain);
    const a = r.varBytes(64, 'self-seed share');
    const b = r.varBytes(64, 'mask-key share');
    r.end();
    return { a, b };
  });
  if (!parsed.ok) return parsed;
  const selfSeed = decodeShare(parsed.value.a);
  const maskKey = decodeShare(parsed.value.b);
  if (!selfSeed.ok) return selfSeed;
  if (!maskKey.ok) return maskKey;
  return { ok: true, value: { selfSeed: selfSeed.value, maskKey: maskKey.value } };
}
