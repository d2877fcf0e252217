// Shared fixtures for consensus tests: deterministic validator keys and signed votes.
import { nobleEd25519, type Signer } from '../../src/core/crypto/ed25519.ts';
import { nodeIdFromPublicKey } from '../../src/core/crypto/node-id.ts';
import { voteSignBytes } from '../../src/core/consensus/sign-bytes.ts';
import type { ConsensusApp, Hash, Validator, ValidatorSet, Vote, VoteType } from '../../src/core/consensus/types.ts';

export const CHAIN_ID = 'aegis-test';

export interface TestKey {
  signer: Signer;
  validator: (power: number) => Validator;
}

const keyCache = new Map<number, Promise<TestKey>>();

/** Key number `i`, from a seed of i in the first bytes (cached: keys are reused across tests). */
export function testKey(i: number): Promise<TestKey> {
  let k = keyCache.get(i);
  if (k === undefined) {
    const seed = new Uint8Array(32);
    new DataView(seed.buffer).setUint32(0, i + 1);
    seed[31] = 0xa5;
    k = nobleEd25519.signer(seed).then((signer) => ({
      signer,
      validator: (power: number) => ({ id: nodeIdFromPublicKey(signer.publicKey), publicKey: signer.publicKey, power }),
    }));
    keyCache.set(i, k);
  }
  return k;
}

export async function testKeys(n: number): Promise<TestKey[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => testKey(i)));
}

export async function signVote(
  signer: Signer,
  type: VoteType,
  height: number,
  round: number,
  blockHash: Hash | null,
  chainId = CHAIN_ID,
): Promise<Vote> {
  const signature = await signer.sign(voteSignBytes(chainId, type, height, round, blockHash));
  return { type, height, round, blockHash, validator: signer.publicKey, signature };
}

export const hashOf = (n: number): Uint8Array => {
  const h = new Uint8Array(32);
  new DataView(h.buffer).setUint32(28, n + 1);
  return h;
};

/** Runs a virtual clock's due timers and lets async work (signing, verifying) finish, a few times over. */
export async function settleClock(clock: { now(): number; peek(): number | undefined; runNext(): void }, passes = 20): Promise<void> {
  for (let i = 0; i < passes; i++) {
    while (clock.peek() === clock.now()) clock.runNext();
    await new Promise((r) => setImmediate(r));
  }
}

/** An application over a fixed set whose every block is valid and whose block hash is hashOf(first byte). */
export function fixedSetApp(set: ValidatorSet): ConsensusApp {
  return {
    validatorSet: () => set,
    proposeBlock: async () => new Uint8Array([9]),
    validateBlock: async () => true,
    blockHash: (b) => hashOf(b[0] ?? 0),
    commitBlock: async () => undefined,
  };
}
