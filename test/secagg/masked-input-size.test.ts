// A 1M-word masked input (the "1M-entry vector"), with its statement, must pass every size
// limit on its way from the contributor's envelope to the aggregator's handler: the message type's
// maxBodyBytes, the envelope cap, the link frame, the chunker's 65535 chunks and the reassembly
// limit of a link (8 MiB + 4096 in platform/webrtc-network.ts). In e2e/round-1m.spec.ts such a
// message vanished in transit; these limits were suspects and are pinned here.
import { describe, expect, it } from 'vitest';
import { nobleEd25519 } from '../../src/core/crypto/ed25519.ts';
import { chunkMessage, Reassembler } from '../../src/core/net/chunker.ts';
import { decodeEnvelope, DEFAULT_MAX_ENVELOPE_BYTES, sealEnvelope, verifyEnvelope } from '../../src/core/net/envelope.ts';
import { decodeLinkFrame, encodeLinkFrame } from '../../src/core/net/link-frame.ts';
import { MessageType, messageTypes } from '../../src/core/net/message-types.ts';
import { decodeMaskedInput, encodeMaskedInput } from '../../src/core/secagg/messages.ts';

const WORDS = 1_000_000;
/** What platform/webrtc-network.ts reassembles at most (not imported: it pulls in simple-peer). */
const LINK_MAX_MESSAGE_BYTES = 8 * 1024 * 1024 + 4096;

describe('a 1M-word masked input against every size limit on its path', () => {
  for (const neighbours of [2, 72, 1022]) {
    it(`fits with ${neighbours} neighbours and arrives whole`, async () => {
      const masked = new Uint32Array(WORDS);
      for (let i = 0; i < WORDS; i++) masked[i] = Math.imul(i, 0x9e3779b1) >>> 0;
      const body = encodeMaskedInput({
        roundId: new Uint8Array(16).fill(7),
        maskedWith: Array.from({ length: neighbours }, (_, i) => new Uint8Array(16).fill(i & 0xff)),
        chunkRoot: new Uint8Array(32).fill(1),
        statementSignature: new Uint8Array(64).fill(2),
        masked,
      });
      // round id, id count and ids, root, statement signature, vector length and words
      expect(body.length).toBe(16 + 4 + 16 * neighbours + 32 + 64 + 4 + 4 * WORDS);
      expect(body.length).toBeLessThanOrEqual(messageTypes.get(MessageType.SecAggMaskedInput)!.maxBodyBytes);

      const signer = await nobleEd25519.signer(new Uint8Array(32).fill(9));
      const env = await sealEnvelope({ type: MessageType.SecAggMaskedInput, sender: signer.publicKey, sequence: 1, recipient: new Uint8Array(32).fill(3), body }, signer);
      expect(env.bytes.length).toBeLessThanOrEqual(DEFAULT_MAX_ENVELOPE_BYTES);

      const frame = encodeLinkFrame({ kind: 'gossip', ttl: 16, envelope: env.bytes });
      const chunks = chunkMessage(0xfffffffe, frame);
      expect(chunks.length).toBeLessThan(0xffff);
      const reassembler = new Reassembler(LINK_MAX_MESSAGE_BYTES);
      let whole: Uint8Array | null = null;
      for (const c of chunks) {
        const r = reassembler.push(c);
        expect(r.ok).toBe(true);
        if (r.ok && r.value) whole = r.value;
      }
      expect(whole).not.toBeNull();
      const link = decodeLinkFrame(whole!);
      expect(link.ok && link.value.kind === 'gossip').toBe(true);
      if (!link.ok || link.value.kind !== 'gossip') return;
      const got = decodeEnvelope(link.value.envelope);
      expect(got.ok).toBe(true);
      if (!got.ok) return;
      expect(await verifyEnvelope(got.value, nobleEd25519)).toBe(true);
      const m = decodeMaskedInput(got.value.body);
      expect(m.ok && m.value.masked.length === WORDS && m.value.masked[WORDS - 1] === masked[WORDS - 1]).toBe(true);
    }, 30_000);
  }
});
