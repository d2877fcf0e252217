// Audit of what honest participants revealed, read only from their outgoing envelopes.
import { bytesToHex } from '../../src/core/bytes.ts';
import type { NodeId } from '../../src/core/crypto/node-id.ts';
import type { Envelope } from '../../src/core/net/envelope.ts';
import { MessageType } from '../../src/core/net/message-types.ts';
import { decodeUnmaskShares } from '../../src/core/secagg/messages.ts';

export interface Revealed {
  selfSeed: number;
  maskKey: number;
  /** holder → kinds it revealed for this owner */
  byHolder: Map<string, Set<string>>;
}

/** Every share honest participants revealed, counted by owner and kind. */
export function revealedByOwner(o: { sentByParticipants: readonly Envelope[] }): Map<NodeId, Revealed> {
  const out = new Map<NodeId, Revealed>();
  for (const env of o.sentByParticipants) {
    if (env.type !== MessageType.SecAggUnmask) continue;
    const m = decodeUnmaskShares(env.body);
    if (!m.ok) throw new Error(m.error);
    const holder = bytesToHex(env.sender);
    for (const s of m.value.shares) {
      const owner = bytesToHex(s.owner);
      const r = out.get(owner) ?? { selfSeed: 0, maskKey: 0, byHolder: new Map() };
      if (s.kind === 'self-seed') r.selfSeed++;
      else r.maskKey++;
      const kinds = r.byHolder.get(holder) ?? new Set<string>();
      kinds.add(s.kind);
      r.byHolder.set(holder, kinds);
      out.set(owner, r);
    }
  }
  return out;
}
