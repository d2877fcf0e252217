// AegisNode's hooks for multi-MB envelopes (in the browser: the secagg worker and a MessageChannel
// yield, so a 4 MB message neither is hashed on the page nor sealed and sent in one main-thread
// task): a large envelope's message id comes from `sha256Large` and equals messageId, gossip still
// delivers it once to every node and drops the duplicates, a failing hasher falls back to hashing
// in place, and `yieldLarge` runs around sealing large bodies only.
import { describe, expect, it } from 'vitest';
import { sha256 } from '../../src/core/crypto/hash.ts';
import { MessageType } from '../../src/core/net/message-types.ts';
import { LARGE_ENVELOPE_BYTES, messageId } from '../../src/node/aegis-node.ts';
import { Simulator } from '../../src/sim/simulator.ts';
import { sharedCrypto } from '../sim-helpers.ts';

const body = (n: number, b: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 13 + b) & 0xff);

describe('large envelopes: message ids hashed by sha256Large, yields around sealing', () => {
  for (const failing of [false, true])
    it(`delivers a large broadcast once to every node, duplicates dropped${failing ? ' (the hasher failing: hashed in place)' : ''}`, async () => {
      const hashed: number[] = [];
      let yields = 0;
      const sim = await Simulator.create({
        nodes: 3,
        seed: 11,
        crypto: await sharedCrypto(),
        node: {
          sha256Large: async (bytes) => {
            hashed.push(bytes.length);
            if (failing) throw new Error('worker gone');
            return sha256(bytes);
          },
          yieldLarge: async () => {
            yields++;
          },
        },
      });
      expect(await sim.runUntilFormed({ maxVirtualMs: 30_000 })).not.toBeNull();
      const log = sim.collect(MessageType.SecAggResult);
      hashed.length = 0;
      yields = 0;
      const sent = await sim.broadcast(0, MessageType.SecAggResult, body(LARGE_ENVELOPE_BYTES + 100, 1));
      await sim.runUntil(() => log.of(sent.messageId).length === 2, { maxVirtualMs: 10_000 });
      await sim.runFor(2_000);
      expect(log.of(sent.messageId).map((d) => d.node).sort()).toEqual([sim.get(1).id, sim.get(2).id].sort());
      // The origin hashed its own copy; every copy received (one relayed duplicate at least) too.
      expect(hashed.length).toBeGreaterThanOrEqual(3);
      expect(hashed.every((n) => n > LARGE_ENVELOPE_BYTES)).toBe(true);
      expect(yields).toBe(2);
      for (const s of sim.nodes) expect(s.node.snapshot().counters.rejected).toEqual({});
      expect(sim.nodes.reduce((n, s) => n + s.node.snapshot().counters.duplicates, 0)).toBeGreaterThanOrEqual(1);
      expect(sent.messageId).toBe(messageId(sent.envelope.bytes));

      // A small one is hashed in place, with no yield.
      hashed.length = 0;
      yields = 0;
      const small = await sim.broadcast(1, MessageType.SecAggResult, body(1000, 2));
      await sim.runUntil(() => log.of(small.messageId).length === 2, { maxVirtualMs: 10_000 });
      expect(hashed).toEqual([]);
      expect(yields).toBe(0);
    }, 60_000);
});
