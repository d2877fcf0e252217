// A contributor's commitment to its masked input (the design card, "one round, end to end",
// step 3): a hash of the statement it signed in its SecAggMaskedInput message (masked-chunks.ts:
// round id, its public key, the neighbours it masked with, the vector's length and the RFC 9162
// root over the vector's chunks). The chunk root binds every word of the vector, so "my input was
// counted" is an RFC 9162 inclusion proof of the commitment under the transcript root
// (transcript-root.ts), and a validator holding only the light transcript computes the same value:
//   commitment = SHA-256("aegis/secagg/masked-input-commitment/v2" 0x00 ‖ statement bytes)
import { bytesEqual, concatBytes } from '../bytes.ts';
import { domainTag, sha256 } from '../crypto/hash.ts';
import type { Hash } from '../ledger/merkle.ts';
import { decodeEnvelope } from '../net/envelope.ts';
import { MessageType } from '../net/message-types.ts';
import { err, ok, type Result } from '../result.ts';
import { statementBytes, type MaskedStatement } from './masked-chunks.ts';
import { decodeMaskedInput, ROUND_ID_BYTES, type MaskedInput } from './messages.ts';

const COMMITMENT_TAG = domainTag('aegis/secagg/masked-input-commitment/v2');

/** The commitment to one masked input, from the statement its sender signed. */
export function maskedInputCommitment(roundId: Uint8Array, statement: MaskedStatement): Hash {
  if (roundId.length !== ROUND_ID_BYTES) throw new Error(`"roundId" must be ${ROUND_ID_BYTES} bytes`);
  if (!bytesEqual(roundId, statement.roundId)) throw new Error('"statement" belongs to another round');
  return sha256(concatBytes(COMMITMENT_TAG, statementBytes(statement)));
}

/** A SecAggMaskedInput envelope's statement, signature and vector (untrusted bytes; signatures unchecked). */
export function maskedInputParts(envelope: Uint8Array): Result<{ statement: MaskedStatement; signature: Uint8Array; input: MaskedInput }> {
  const env = decodeEnvelope(envelope);
  if (!env.ok) return env;
  if (env.value.type !== MessageType.SecAggMaskedInput) return err(`not a masked input (type ${env.value.type})`);
  const m = decodeMaskedInput(env.value.body);
  if (!m.ok) return m;
  const { roundId, maskedWith, masked, chunkRoot, statementSignature } = m.value;
  return ok({ statement: { roundId, sender: env.value.sender, maskedWith, words: masked.length, chunkRoot }, signature: statementSignature, input: m.value });
}
