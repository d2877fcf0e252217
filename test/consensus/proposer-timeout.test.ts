// A proposer whose application never produces a block (getValue fails or hangs) must not stall the
// height: it arms the propose timeout like everyone else and prevotes nil when it fires, so the
// round ends and the next proposer gets its turn (a lone validator would otherwise wait forever).
import { describe, expect, it } from 'vitest';
import { proposerIndex } from '../../src/core/consensus/proposer-selection.ts';
import { Tendermint } from '../../src/core/consensus/tendermint.ts';
import { VoteType } from '../../src/core/consensus/types.ts';
import { makeValidatorSet } from '../../src/core/consensus/validator-set.ts';
import { testKeys } from './helpers.ts';

const keys = await testKeys(4);
const set = makeValidatorSet(keys.map((k) => k.validator(10)));
const timeouts = { proposeMs: 1000, prevoteMs: 500, precommitMs: 500, deltaMs: 250 };

describe('Tendermint proposer without a value', () => {
  it('asks for a value, arms the propose timeout, and prevotes nil when no value came', () => {
    const proposer = set.validators[proposerIndex(set, 0)]!;
    const m = new Tendermint(proposer.publicKey, timeouts);
    const out = m.startHeight(0, set);
    expect(out).toContainEqual({ kind: 'request-value', height: 0, round: 0 });
    expect(out).toContainEqual({ kind: 'schedule-timeout', step: 'propose', height: 0, round: 0, delayMs: 1000 });
    m.onTimeout('propose', 0, 0);
    expect(m.drain()).toContainEqual({ kind: 'vote', type: VoteType.Prevote, height: 0, round: 0, blockHash: null });
  });

  it('a value that arrives after the timeout is not proposed any more', () => {
    const proposer = set.validators[proposerIndex(set, 0)]!;
    const m = new Tendermint(proposer.publicKey, timeouts);
    m.startHeight(0, set);
    m.onTimeout('propose', 0, 0);
    m.drain();
    m.onValue(0, 0, new Uint8Array([1]), new Uint8Array(32).fill(1));
    expect(m.drain().some((o) => o.kind === 'propose')).toBe(false);
  });
});
