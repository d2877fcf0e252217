// A contributor's commitment to its masked input (the design card, "one round, end to end",
// step 3). The participant computes it from the exact SecAggMaskedInput envelope it sent; anyone
// holding the transcript computes the same value from the same bytes, so "my input was counted" is
// an RFC 9162 inclusion proof of the commitment under the transcript root (transcript-root.ts):
//   commitment = SHA-256("aegis/secagg/masked-input-commitment/v1" 0x00 ‖ round id ‖ envelope bytes)
import { concatBytes } from '../bytes.ts';
import { domainTag, sha256 } from '../crypto/hash.ts';
import type { Hash } from '../ledger/merkle.ts';
import { ROUND_ID_BYTES } from './messages.ts';

const COMMITMENT_TAG = domainTag('aegis/secagg/masked-input-commitment/v1');

/** The commitment to one masked input, from the envelope exactly as signed and sent. */
export function maskedInputCommitment(roundId: Uint8Array, maskedInputEnvelope: Uint8Array): Hash {
  if (roundId.length !== ROUND_ID_BYTES) throw new Error(`"roundId" must be ${ROUND_ID_BYTES} bytes`);
  return sha256(concatBytes(COMMITMENT_TAG, roundId, maskedInputEnvelope));
}
