// Double-sign protection across reloads (CometBFT's priv_validator_state): before a consensus
// signature leaves this node, its position (height, round, step) and a hash of what it signs are
// stored; a later request for an earlier position, or for the same position with other bytes, is
// refused. A tab reloaded mid-height would otherwise start the height again and could sign a second,
// different vote for a round it already voted in — evidence against an honest validator.
// Ed25519 is deterministic, so re-signing the identical bytes (the driver's re-sends) is harmless.
import { bytesEqual, concatBytes } from '../core/bytes.ts';
import type { Signer } from '../core/crypto/ed25519.ts';
import { domainTag, sha256 } from '../core/crypto/hash.ts';
import { ByteReader } from '../core/codec/index.ts';
import type { SignPosition } from './chain-storage.ts';

const VOTE_TAG = domainTag('aegis/consensus/vote/v1');
const PROPOSAL_TAG = domainTag('aegis/consensus/proposal/v1');

const startsWith = (b: Uint8Array, prefix: Uint8Array): boolean => b.length >= prefix.length && bytesEqual(b.subarray(0, prefix.length), prefix);

/** The position a consensus sign-bytes message (sign-bytes.ts) signs at; null for anything else. */
export function signPositionOf(message: Uint8Array): Omit<SignPosition, 'signBytesHash'> | null {
  const isVote = startsWith(message, VOTE_TAG);
  if (!isVote && !startsWith(message, PROPOSAL_TAG)) return null;
  try {
    const r = new ByteReader(message.subarray((isVote ? VOTE_TAG : PROPOSAL_TAG).length));
    r.bytes(r.u16('chain id length'), 'chain id');
    if (isVote) {
      const type = r.u8('type');
      return { height: r.u64('height'), round: r.u32('round'), step: type };
    }
    return { height: r.u64('height'), round: r.u32('round'), step: 0 };
  } catch {
    return null;
  }
}

function compare(a: Omit<SignPosition, 'signBytesHash'>, b: Omit<SignPosition, 'signBytesHash'>): number {
  return a.height - b.height || a.round - b.round || a.step - b.step;
}

export interface SignGuardStore {
  saveSignPosition(p: SignPosition): Promise<void>;
}

/**
 * Wraps `inner` for the consensus driver. A refused request never resolves: the driver then simply
 * does not send that message (as if this validator were slow), and nothing conflicting leaves.
 */
export function guardedSigner(inner: Signer, last: SignPosition | null, store: SignGuardStore, onRefused?: () => void): Signer {
  let current = last;
  return {
    publicKey: inner.publicKey,
    // The check and the update of `current` run synchronously on call, so positions are granted in
    // call order; the store's write queue keeps them in that order on disk.
    sign(message) {
      const run = async (): Promise<Uint8Array> => {
        const pos = signPositionOf(message);
        if (pos === null) return inner.sign(message);
        const hash = sha256(concatBytes(domainTag('aegis/sign-guard/v1'), message));
        if (current !== null) {
          const c = compare(pos, current);
          if (c < 0 || (c === 0 && !bytesEqual(hash, current.signBytesHash))) {
            onRefused?.();
            return new Promise<Uint8Array>(() => {});
          }
        }
        current = { ...pos, signBytesHash: hash };
        await store.saveSignPosition(current);
        return inner.sign(message);
      };
      return run();
    },
  };
}
