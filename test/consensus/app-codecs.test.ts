import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../src/core/bytes.ts';
import { nobleEd25519 } from '../../src/core/crypto/ed25519.ts';
import {
  blockHashOfBytes,
  bodyMatchesHeader,
  bodyRoots,
  decodeBlock,
  encodeBlock,
  headerHash,
  type Block,
  type BlockBody,
} from '../../src/core/consensus/block.ts';
import { decodeEvidence, encodeEvidence, offenceKey } from '../../src/core/consensus/evidence.ts';
import { checkFetchedGenesis, decodeGenesis, encodeGenesis, genesisHash, makeGenesis } from '../../src/core/consensus/genesis.ts';
import { merkleRoot } from '../../src/core/consensus/hash-tree.ts';
import { decodeTransaction, encodeTransaction, verifyTransaction, type TxPayload } from '../../src/core/consensus/transactions.ts';
import { DEFAULT_PARAMS as SECAGG_DEFAULTS } from '../../src/core/secagg/params.ts';
import { sha256 } from '../../src/core/crypto/hash.ts';
import { VoteType, type DuplicateVoteEvidence } from '../../src/core/consensus/types.ts';
import { voteSignBytes } from '../../src/core/consensus/sign-bytes.ts';
import { webCryptoEd25519 } from '../../src/platform/webcrypto-ed25519.ts';
import { appKeys, CHAIN, testGenesis, tx } from './app-helpers.ts';

// WebCrypto verifies ~10× faster than noble; the bit-flip sweep checks thousands of signatures.
const fastVerifier = webCryptoEd25519(globalThis.crypto.subtle);

fc.configureGlobal({ ...fc.readConfigureGlobal(), defaultSizeToMaxWhenMaxSpecified: true });

/** Every strict prefix must be refused. */
function expectTruncationsRejected(bytes: Uint8Array, decode: (b: Uint8Array) => { ok: boolean }): void {
  for (let n = 0; n < bytes.length; n++) expect(decode(bytes.subarray(0, n)).ok, `prefix of ${n} bytes`).toBe(false);
  const longer = new Uint8Array(bytes.length + 1);
  longer.set(bytes);
  expect(decode(longer).ok, 'trailing byte').toBe(false);
}

const h = (n: number): Uint8Array => sha256(new Uint8Array([n]));

const payloadArb: fc.Arbitrary<TxPayload> = fc.oneof(
  fc.constant<TxPayload>({ kind: 'join' }),
  fc.constant<TxPayload>({ kind: 'faucet' }),
  fc.constant<TxPayload>({ kind: 'unjail' }),
  fc.integer({ min: 1, max: 2 ** 53 - 1 }).map((amount): TxPayload => ({ kind: 'bond', amount })),
  fc.integer({ min: 1, max: 2 ** 53 - 1 }).map((amount): TxPayload => ({ kind: 'unbond', amount })),
  fc
    .tuple(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.integer({ min: 1, max: 2 ** 53 - 1 }))
    .map(([to, amount]): TxPayload => ({ kind: 'transfer', to, amount })),
  fc
    .tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 1, max: 2 ** 40 }), fc.integer({ min: 1, max: 4096 }), fc.double({ min: 0.01, max: 1e6, noNaN: true }))
    .map(([roundId, deadlineHeight, dimension, clip]): TxPayload => ({
      kind: 'open-round',
      roundId,
      deadlineHeight,
      params: { ...SECAGG_DEFAULTS, dimension, clipping_range: clip },
    })),
);

describe('transactions codec', () => {
  it('round-trips every kind and the signature verifies', async () => {
    const [k] = await appKeys(1);
    await fc.assert(
      fc.asyncProperty(payloadArb, fc.integer({ min: 0, max: 2 ** 53 - 1 }), async (payload, nonce) => {
        const t = await tx(k!, nonce, payload);
        const bytes = encodeTransaction(t);
        const d = decodeTransaction(bytes);
        expect(d.ok).toBe(true);
        if (!d.ok) return;
        expect(encodeTransaction(d.value)).toEqual(bytes);
        expect(await verifyTransaction(CHAIN, d.value, nobleEd25519)).toBe(true);
        expect(await verifyTransaction('another-chain', d.value, nobleEd25519)).toBe(false);
      }),
      { numRuns: 60 },
    );
  });

  it('rejects every truncation, and every single bit flip fails to decode or to verify', async () => {
    const [k, other] = await appKeys(2);
    const samples: TxPayload[] = [
      { kind: 'transfer', to: other!.publicKey, amount: 5 },
      { kind: 'open-round', roundId: new Uint8Array(16).fill(7), deadlineHeight: 9, params: { ...SECAGG_DEFAULTS, dimension: 3 } },
      { kind: 'bond', amount: 1 },
    ];
    for (const p of samples) {
      const bytes = encodeTransaction(await tx(k!, 3, p));
      expectTruncationsRejected(bytes, decodeTransaction);
      for (let bit = 0; bit < bytes.length * 8; bit++) {
        const flipped = bytes.slice();
        flipped[bit >> 3] = (flipped[bit >> 3] as number) ^ (1 << (bit & 7));
        const d = decodeTransaction(flipped);
        if (d.ok) expect(await verifyTransaction(CHAIN, d.value, fastVerifier), `bit ${bit}`).toBe(false);
      }
    }
  });

  it('refuses unknown kinds, zero amounts and invalid round parameters', async () => {
    const [k] = await appKeys(1);
    const bytes = encodeTransaction(await tx(k!, 0, { kind: 'bond', amount: 1 }));
    const unknown = bytes.slice();
    unknown[1] = 99;
    expect(decodeTransaction(unknown).ok).toBe(false);
    const zero = bytes.slice();
    zero.fill(0, 42, 50);
    expect(decodeTransaction(zero)).toMatchObject({ ok: false, error: expect.stringMatching(/amount/) });
    await expect(tx(k!, 0, { kind: 'open-round', roundId: new Uint8Array(16), deadlineHeight: 3, params: { ...SECAGG_DEFAULTS, clipping_range: Number.NaN } })).rejects.toThrow(/clipping_range/);
  });
});

describe('genesis codec', () => {
  it('round-trips, hashes stably, and a fetched copy is checked by hash', async () => {
    const keys = await appKeys(4);
    const g = testGenesis(keys, [10, 20, 30, 40], { faucetEnabled: false, downtimeWindowBlocks: 17 }, keys.slice(0, 2));
    const bytes = encodeGenesis(g);
    const d = decodeGenesis(bytes);
    expect(d.ok && d.value).toEqual(g);
    expect(checkFetchedGenesis(bytes, genesisHash(g))).toEqual({ ok: true, value: g });
    const other = encodeGenesis({ ...g, params: { ...g.params, faucetEnabled: true } });
    expect(checkFetchedGenesis(other, genesisHash(g))).toMatchObject({ ok: false, error: expect.stringMatching(/differs/) });
    expectTruncationsRejected(bytes, decodeGenesis);
  });

  it('refuses unsorted keys, bad parameters and a cap not below 1/3', async () => {
    const keys = await appKeys(2);
    expect(() => makeGenesis({ chainId: CHAIN, timeMs: 0, validators: [{ publicKey: keys[0]!.publicKey, stake: 0 }] })).toThrow(/stake/);
    expect(() => testGenesis(keys, [1, 1], { maxPowerShareMicros: 333_334 })).toThrow(/maxPowerShareMicros/);
    expect(() => testGenesis(keys, [1, 1], { doubleSignSlashMicros: 2_000_000 })).toThrow(/doubleSignSlashMicros/);
    const g = testGenesis(keys, [1, 1]);
    const bytes = encodeGenesis(g);
    // Swap the two validator keys in place: no longer sorted.
    const swapped = bytes.slice();
    const at = bytes.indexOf(g.validators[0]!.publicKey[0]!, 30);
    expect(at).toBeGreaterThan(0);
    const first = bytes.slice(at, at + 40);
    swapped.set(bytes.slice(at + 40, at + 80), at);
    swapped.set(first, at + 40);
    expect(decodeGenesis(swapped)).toMatchObject({ ok: false, error: expect.stringMatching(/sorted/) });
  });
});

async function sampleEvidence(): Promise<DuplicateVoteEvidence> {
  const [k] = await appKeys(1);
  const vote = async (blockHash: Uint8Array | null) => ({
    type: VoteType.Prevote,
    height: 4,
    round: 1,
    blockHash,
    validator: k!.publicKey,
    signature: await k!.sign(voteSignBytes(CHAIN, VoteType.Prevote, 4, 1, blockHash)),
  });
  return { kind: 'duplicate-vote', voteA: await vote(h(1)), voteB: await vote(null) };
}

describe('evidence codec', () => {
  it('round-trips both kinds; the offence key ignores vote and head order', async () => {
    const dv = await sampleEvidence();
    const sv = { kind: 'split-view' as const, logOwner: h(9), headA: new Uint8Array([1, 2, 3]), headB: new Uint8Array([4]) };
    for (const e of [dv, sv]) {
      const bytes = encodeEvidence(e);
      expect(decodeEvidence(bytes)).toEqual({ ok: true, value: e });
      expectTruncationsRejected(bytes, decodeEvidence);
    }
    expect(offenceKey({ ...dv, voteA: dv.voteB, voteB: dv.voteA })).toBe(offenceKey(dv));
    expect(offenceKey({ ...sv, headA: sv.headB, headB: sv.headA })).toBe(offenceKey(sv));
  });
});

describe('block codec', () => {
  async function sampleBlock(): Promise<Block> {
    const [k, to] = await appKeys(2);
    const body: BlockBody = {
      lastCommit: { height: 6, round: 0, blockHash: h(2), signatures: [{ validatorIndex: 0, signature: new Uint8Array(64).fill(3) }] },
      evidence: [await sampleEvidence()],
      transactions: [await tx(k!, 0, { kind: 'faucet' }), await tx(k!, 1, { kind: 'transfer', to: to!.publicKey, amount: 3 })],
      results: [{ roundId: new Uint8Array(16).fill(1), transcriptHash: h(5), sum: new Uint32Array([1, 0xffffffff, 7]), contributors: [new Uint8Array(16).fill(2)], dropouts: [] }],
    };
    const roots = bodyRoots(body);
    return {
      header: {
        chainId: CHAIN,
        height: 7,
        timeMs: 1_700_000_000_123,
        prevBlockHash: h(2),
        ...roots,
        validatorsHash: h(3),
        nextValidatorsHash: h(4),
        appStateRoot: h(6),
        proposer: k!.publicKey,
      },
      body,
    };
  }

  it('round-trips; the hash covers the header, whose roots cover the body', async () => {
    const b = await sampleBlock();
    const bytes = encodeBlock(b);
    const d = decodeBlock(bytes);
    expect(d).toEqual({ ok: true, value: b });
    expect(blockHashOfBytes(bytes)).toEqual({ ok: true, value: headerHash(b.header) });
    expect(bodyMatchesHeader(b)).toBe(true);
    expectTruncationsRejected(bytes, decodeBlock);
  });

  it('every bit flip is refused by the decoder, changes the hash, or breaks the header/body match', async () => {
    const b = await sampleBlock();
    const bytes = encodeBlock(b);
    const hash = headerHash(b.header);
    for (let bit = 0; bit < bytes.length * 8; bit += 3) {
      const flipped = bytes.slice();
      flipped[bit >> 3] = (flipped[bit >> 3] as number) ^ (1 << (bit & 7));
      const d = decodeBlock(flipped);
      if (!d.ok) continue;
      const sameHash = bytesEqual(headerHash(d.value.header), hash);
      // A flip inside a signature keeps roots only if it is not covered: roots hash every byte.
      expect(sameHash && bodyMatchesHeader(d.value), `bit ${bit}`).toBe(false);
    }
  });
});

describe('hash tree', () => {
  // RFC 9162 §2.1.1, written recursively as the RFC states it.
  function mth(leaves: Uint8Array[]): Uint8Array {
    if (leaves.length === 0) return sha256(new Uint8Array(0));
    if (leaves.length === 1) return sha256(new Uint8Array([0, ...leaves[0]!]));
    let k = 1;
    while (k * 2 < leaves.length) k *= 2;
    return sha256(new Uint8Array([1, ...mth(leaves.slice(0, k)), ...mth(leaves.slice(k))]));
  }
  it('equals the RFC 9162 recursive definition', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 8 }), { maxLength: 40 }), (leaves) => {
        expect(merkleRoot(leaves)).toEqual(mth(leaves));
      }),
    );
  });
});
