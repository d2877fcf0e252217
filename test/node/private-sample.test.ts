// Both ends of a private sample in isolation: the aggregator answers validators only, and a checking
// node's questions to one aggregator are capped, so one aggregator's flood of claims cannot starve
// the checks of others' claims.
import { describe, expect, it } from 'vitest';
import type { TimerHandle } from '../../src/core/clock.ts';
import { encodeOpeningsRequest } from '../../src/core/consensus/private-sample.ts';
import type { Envelope } from '../../src/core/net/envelope.ts';
import { MessageType } from '../../src/core/net/message-types.ts';
import { CHUNK_WORDS } from '../../src/core/secagg/masked-chunks.ts';
import { chunkOpener } from '../../src/core/secagg/chunk-sampling.ts';
import { OpeningsRequests, OpeningsResponder } from '../../src/node/private-sample.ts';

const key = (b: number): Uint8Array => new Uint8Array(32).fill(b);
const request = (sender: Uint8Array, roundId: Uint8Array, root: Uint8Array, indices: number[]): Envelope => {
  const none = new Uint8Array(0);
  const body = encodeOpeningsRequest({ roundId, root, indices });
  return { version: 1, type: MessageType.ChainRoundOpeningsRequest, sender, sequence: 1, body, signature: new Uint8Array(64), signedBytes: none, bytes: none };
};

describe('OpeningsResponder', () => {
  it('answers a validator once, refuses a non-validator (counted), and never a second time', async () => {
    const sent: Array<{ to: unknown; type: number }> = [];
    const refused: string[] = [];
    const validator = key(1);
    const responder = new OpeningsResponder(
      { sendTo: async (to, type) => void sent.push({ to, type }) as never },
      (reason) => refused.push(reason),
      (pk) => pk[0] === validator[0],
    );
    const roundId = new Uint8Array(16).fill(7);
    const root = new Uint8Array(32).fill(9);
    const vector = new Uint32Array(3 * CHUNK_WORDS).map((_, i) => i);
    responder.offer(roundId, root, vector.length, new Map([['aa'.repeat(16), chunkOpener(vector)]]));
    await responder.onRequest(request(key(2), roundId, root, [1]));
    expect(refused).toEqual(['openings request from a non-validator']);
    expect(sent).toEqual([]);
    await responder.onRequest(request(validator, roundId, root, [1, 2]));
    expect(sent.map((s) => s.type)).toEqual([MessageType.ChainRoundOpenings]);
    await responder.onRequest(request(validator, roundId, root, [0]));
    expect(refused.at(-1)).toBe('openings asked twice');
    expect(sent).toHaveLength(1);
  });
});

describe('OpeningsRequests', () => {
  it('asks one aggregator at most 4 questions at a time; another aggregator is still asked', async () => {
    const timers: Array<() => void> = [];
    const asked: unknown[] = [];
    const requests = new OpeningsRequests(
      {
        sendTo: async (to) => void asked.push(to) as never,
        clock: { now: () => 0, setTimeout: (fn) => (timers.push(fn), timers.length as unknown as TimerHandle), clearTimeout: () => {} },
      },
      () => {},
    );
    const flooder = key(3);
    const roundId = new Uint8Array(16);
    const pending = Array.from({ length: 5 }, (_, i) => requests.ask(flooder, roundId, new Uint8Array(32).fill(i + 1), [0]));
    expect(await pending[4]).toBeNull(); // the fifth: no question sent, answered at once
    expect(asked).toHaveLength(4);
    const honest = requests.ask(key(4), roundId, new Uint8Array(32).fill(99), [0]);
    expect(asked).toHaveLength(5);
    for (const fire of timers) fire(); // every question times out
    expect(await honest).toBeNull();
    expect(await Promise.all(pending.slice(0, 4))).toEqual([null, null, null, null]);
  });
});
