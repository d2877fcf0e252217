// Valid SecAggMaskedInput bodies for tests that need real statements (chunk root + signature).
import type { Signer } from '../../src/core/crypto/ed25519.ts';
import type { Hash } from '../../src/core/ledger/merkle.ts';
import { maskedInputCommitment, maskedInputParts } from '../../src/core/secagg/contribution-commitment.ts';
import { chunkRoot, signStatement } from '../../src/core/secagg/masked-chunks.ts';
import { encodeMaskedInput } from '../../src/core/secagg/messages.ts';

export async function maskedInputBody(signer: Signer, roundId: Uint8Array, masked: Uint32Array, maskedWith: Uint8Array[] = []): Promise<Uint8Array> {
  const root = chunkRoot(masked);
  const statementSignature = await signStatement({ roundId, sender: signer.publicKey, maskedWith, words: masked.length, chunkRoot: root }, signer);
  return encodeMaskedInput({ roundId, maskedWith, chunkRoot: root, statementSignature, masked });
}

/** The ledger's commitment of a masked-input envelope (throws on a malformed one). */
export function commitmentOfEnvelope(roundId: Uint8Array, envelope: Uint8Array): Hash {
  const p = maskedInputParts(envelope);
  if (!p.ok) throw new Error(p.error);
  return maskedInputCommitment(roundId, p.value.statement);
}
