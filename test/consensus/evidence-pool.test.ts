import { describe, expect, it } from 'vitest';
import { memoisedSplitViewChecker, offenceKey } from '../../src/core/consensus/evidence.ts';
import type { SplitViewEvidence } from '../../src/core/consensus/types.ts';
import { NO_PREVIOUS_HEAD, signTreeHead } from '../../src/core/ledger/tree-head.ts';
import { appKeys, LockStep, testGenesis } from './app-helpers.ts';

// The chain's evidence pool answers `ok` only for evidence new to it (the node gossips on `ok`), and
// judges each split view once however many proposals and blocks carry it.

async function fork(owner: Parameters<typeof signTreeHead>[1], rootA = 1, rootB = 2): Promise<SplitViewEvidence> {
  const head = (root: number) => signTreeHead({ size: 5, root: new Uint8Array(32).fill(root), timeMs: 1000, prevHash: NO_PREVIOUS_HEAD }, owner);
  const [a, b] = await Promise.all([head(rootA), head(rootB)]);
  return { kind: 'split-view', logOwner: owner.publicKey, headA: a.bytes, headB: b.bytes };
}

describe('evidence pool', () => {
  it('a copy of pooled evidence is not ok again (else each copy is re-gossiped); a non-candidate log owner is refused unchecked', async () => {
    const keys = await appKeys(5);
    const net = LockStep.create(testGenesis(keys.slice(0, 4), [1000, 1000, 1000, 1000]), keys.slice(0, 4));
    await net.step();
    const chain = net.chains[0]!;
    const e = await fork(keys[2]!);
    expect(await chain.submitEvidence(e)).toEqual({ ok: true, value: offenceKey(e) });
    expect(chain.hasPendingEvidence(offenceKey(e))).toBe(true);
    expect(await chain.submitEvidence(e)).toMatchObject({ ok: false, error: 'evidence already pooled' });
    // The same offence with the heads swapped is the same pooled offence.
    expect(await chain.submitEvidence({ ...e, headA: e.headB, headB: e.headA })).toMatchObject({ ok: false, error: 'evidence already pooled' });
    expect(chain.rejected.get('evidence already pooled')).toBeUndefined();
    const outsider = await fork(keys[4]!);
    expect(await chain.submitEvidence(outsider)).toMatchObject({ ok: false, error: expect.stringMatching(/not a validator candidate/) });
    for (const c of net.chains.slice(1)) expect((await c.submitEvidence(e)).ok).toBe(true);
    await net.step(); // whoever proposes carries it
    expect(chain.hasPendingEvidence(offenceKey(e))).toBe(false);
    expect(await chain.submitEvidence(e)).toMatchObject({ ok: false, error: 'evidence already punished' });
  });

  it('memoisedSplitViewChecker: an accepted offence is judged once, refusals again, at most `max` remembered', async () => {
    const keys = await appKeys(1);
    const calls: string[] = [];
    let verdict = true;
    const inner = (e: SplitViewEvidence): Promise<boolean> => {
      calls.push(offenceKey(e));
      return Promise.resolve(verdict);
    };
    const check = memoisedSplitViewChecker(inner, 2);
    const [e1, e2, e3] = await Promise.all([fork(keys[0]!, 1, 2), fork(keys[0]!, 3, 4), fork(keys[0]!, 5, 6)]);
    expect(await check(e1)).toBe(true);
    expect(await check(e1)).toBe(true);
    expect(await check({ ...e1, headA: e1.headB, headB: e1.headA })).toBe(true);
    expect(calls).toHaveLength(1);
    verdict = false;
    expect(await check(e2)).toBe(false);
    expect(await check(e2)).toBe(false);
    expect(calls).toHaveLength(3);
    verdict = true;
    await check(e2);
    await check(e3); // the third accepted one evicts the oldest (e1)
    expect(calls).toHaveLength(5);
    await check(e1);
    expect(calls).toHaveLength(6);
    await check(e3);
    expect(calls).toHaveLength(6);
  });
});
