// The batching verifier: every check answered as the wrapped verifier would, identical triples
// checked once, never more than `inFlight` running at once.
import { describe, expect, it } from 'vitest';
import { nobleEd25519, type Verifier } from '../../src/core/crypto/ed25519.ts';
import { batchingVerifier } from '../../src/core/crypto/signature-batch.ts';
import { SeededRandom } from '../../src/sim/seeded-random.ts';

async function signed(n: number) {
  const rng = SeededRandom.fromSeed(5);
  const signer = await nobleEd25519.signer(rng.bytes(32));
  return Promise.all(
    Array.from({ length: n }, async () => {
      const message = rng.bytes(40);
      return { publicKey: signer.publicKey, message, signature: await signer.sign(message) };
    }),
  );
}

/** Counts calls and the most running at once (each call takes a macrotask). */
function counting(inner: Verifier) {
  let calls = 0;
  let running = 0;
  let most = 0;
  const v: Verifier = {
    async verify(k, m, s) {
      calls++;
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 0));
      running--;
      return inner.verify(k, m, s);
    },
  };
  return { v, calls: () => calls, most: () => most };
}

describe('batchingVerifier', () => {
  it('answers like the verifier, checks identical triples once, bounds the checks in flight', async () => {
    const good = await signed(40);
    const bad = good.map((x, i) => (i % 3 === 0 ? { ...x, message: x.message.map((b, j) => (j === 0 ? b ^ 1 : b)) } : x));
    const c = counting(nobleEd25519);
    const batch = batchingVerifier(c.v, 8);
    // Every check asked for twice (a copy of the same bytes the second time).
    const asked = [...bad, ...bad.map((x) => ({ publicKey: x.publicKey.slice(), message: x.message.slice(), signature: x.signature.slice() }))];
    const got = await Promise.all(asked.map((x) => batch.verify(x.publicKey, x.message, x.signature)));
    const want = await Promise.all(asked.map((x) => nobleEd25519.verify(x.publicKey, x.message, x.signature)));
    expect(got).toEqual(want);
    expect(got.filter((x) => !x).length).toBe(2 * 14);
    expect(c.calls()).toBe(40);
    expect(batch.distinct()).toBe(40);
    expect(batch.requested()).toBe(80);
    expect(c.most()).toBe(8);
  });

  it('does not share a verdict between triples that differ only in key or message', async () => {
    const [a, b] = await signed(2);
    const batch = batchingVerifier(nobleEd25519);
    expect(await batch.verify(a!.publicKey, a!.message, a!.signature)).toBe(true);
    expect(await batch.verify(a!.publicKey, b!.message, a!.signature)).toBe(false);
    const otherKey = (await nobleEd25519.signer(new Uint8Array(32).fill(9))).publicKey;
    expect(await batch.verify(otherKey, a!.message, a!.signature)).toBe(false);
    expect(batch.distinct()).toBe(3);
  });

  it('turns a throwing verifier into false, and refuses a bad bound', async () => {
    const [a] = await signed(1);
    const batch = batchingVerifier({ verify: () => Promise.reject(new Error('boom')) });
    expect(await batch.verify(a!.publicKey, a!.message, a!.signature)).toBe(false);
    expect(() => batchingVerifier(nobleEd25519, 0)).toThrow(/inFlight/);
  });
});
