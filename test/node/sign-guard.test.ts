import { describe, expect, it } from 'vitest';
import { nobleEd25519 } from '../../src/core/crypto/ed25519.ts';
import { proposalSignBytes, voteSignBytes } from '../../src/core/consensus/sign-bytes.ts';
import type { SignPosition } from '../../src/node/chain-storage.ts';
import { guardedSigner, signPositionOf } from '../../src/node/sign-guard.ts';

const settles = async (p: Promise<unknown>): Promise<boolean> => {
  let done = false;
  void p.then(() => (done = true));
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
  return done;
};

describe('double-sign guard', () => {
  it('reads the position of vote and proposal sign bytes, nothing else', () => {
    expect(signPositionOf(voteSignBytes('c', 2, 7, 3, null))).toEqual({ height: 7, round: 3, step: 2 });
    expect(signPositionOf(proposalSignBytes('c', 9, 1, -1, new Uint8Array(32)))).toEqual({ height: 9, round: 1, step: 0 });
    expect(signPositionOf(new Uint8Array([1, 2, 3]))).toBeNull();
  });

  it('refuses an earlier position and a different message at the same one; re-signs identical bytes', async () => {
    const inner = await nobleEd25519.signer(new Uint8Array(32).fill(7));
    const saved: SignPosition[] = [];
    const s = guardedSigner(inner, null, { saveSignPosition: async (p) => void saved.push(p) });
    const block = new Uint8Array(32).fill(1);
    const a = voteSignBytes('c', 1, 5, 0, block);
    expect(await settles(s.sign(a))).toBe(true);
    expect(await settles(s.sign(a))).toBe(true); // the driver's re-send
    expect(await settles(s.sign(voteSignBytes('c', 1, 5, 0, null)))).toBe(false); // same position, other block
    expect(await settles(s.sign(voteSignBytes('c', 1, 4, 9, null)))).toBe(false); // earlier height
    expect(await settles(s.sign(voteSignBytes('c', 2, 5, 0, block)))).toBe(true); // precommit after prevote
    expect(saved.at(-1)).toMatchObject({ height: 5, round: 0, step: 2 });
    // After a reload the stored position still holds.
    const again = guardedSigner(inner, saved.at(-1) ?? null, { saveSignPosition: async () => {} });
    expect(await settles(again.sign(voteSignBytes('c', 1, 5, 0, block)))).toBe(false);
    expect(await settles(again.sign(voteSignBytes('c', 1, 5, 1, null)))).toBe(true);
    expect(await settles(again.sign(new Uint8Array([9])))).toBe(true); // not consensus: passes through
  });
});
