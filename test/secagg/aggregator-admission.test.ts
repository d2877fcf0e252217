import { describe, expect, it } from 'vitest';
import { nodeIdFromPublicKey, type NodeId } from '../../src/core/crypto/node-id.ts';
import type { Envelope } from '../../src/core/net/envelope.ts';
import { MessageType } from '../../src/core/net/message-types.ts';
import { SecAggAggregator } from '../../src/core/secagg/aggregator.ts';
import { encodeAdvertiseKeys } from '../../src/core/secagg/messages.ts';
import { DEFAULT_PARAMS, ringCapacity } from '../../src/core/secagg/params.ts';
import { SeededRandom } from '../../src/sim/seeded-random.ts';
import { deps } from './round-harness.ts';

// Advertisements as the driver hands them over (signature already checked): any fresh key will do.
const rng = SeededRandom.fromSeed(17);
const roundId = rng.bytes(16);
function advertisement(sender: Uint8Array): Envelope {
  const body = encodeAdvertiseKeys({ roundId, encryptionKey: rng.bytes(32), maskKey: rng.bytes(32), selfSeedCommitment: rng.bytes(32), graphSeedCommitment: rng.bytes(32) });
  const none = new Uint8Array(0);
  return { version: 1, type: MessageType.SecAggAdvertise, sender, sequence: 0, body, signature: new Uint8Array(64), signedBytes: none, bytes: none };
}
const aggregator = (expected: readonly NodeId[] | null, options = {}) =>
  new SecAggAggregator('00'.repeat(16), roundId, DEFAULT_PARAMS, deps(rng), expected, options);

describe('SecAggAggregator admission (advertisements from anyone who can make a key)', () => {
  it('without an expected set, admits at most what the ring holds and counts the rest', () => {
    const agg = aggregator(null);
    const capacity = ringCapacity(DEFAULT_PARAMS);
    expect(capacity).toBe(1023);
    const results = Array.from({ length: capacity + 2 }, () => agg.accept(advertisement(rng.bytes(32))));
    expect(results.filter((r) => r.ok)).toHaveLength(capacity);
    expect(agg.counts.advertised).toBe(capacity);
    expect(results.at(-1)).toEqual({ ok: false, error: 'advertisement beyond max_participants (1023)' });
    expect(agg.refusedAdvertisements).toEqual({ 'advertisement beyond max_participants (1023)': 2 });
  });

  it('with an expected set, admits only its members; max_participants caps it lower', async () => {
    const members = Array.from({ length: 4 }, () => rng.bytes(32));
    const agg = aggregator(members.map(nodeIdFromPublicKey), { max_participants: 3 });
    for (let i = 0; i < 5; i++) expect(agg.accept(advertisement(rng.bytes(32))).ok).toBe(false);
    expect(members.map((m) => agg.accept(advertisement(m)).ok)).toEqual([true, true, true, false]);
    expect(agg.refusedAdvertisements).toEqual({
      'advertisement from outside the expected participants': 5,
      'advertisement beyond max_participants (3)': 1,
    });
    const ev = await agg.closeStage(0);
    expect(ev.kind).toBe('send'); // the round goes on with the admitted three
  });

  it('refuses a max_participants the ring cannot hold', () => {
    expect(() => aggregator(null, { max_participants: 1024 })).toThrow(/max_participants/);
    expect(() => aggregator(null, { max_participants: 0 })).toThrow(/max_participants/);
  });
});
