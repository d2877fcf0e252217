// Fixtures for the chain-application tests: keys, a genesis, signed transactions, QCs over blocks.
import { nobleEd25519, type Signer } from '../../src/core/crypto/ed25519.ts';
import { makeGenesis, type ConsensusParams, type Genesis } from '../../src/core/consensus/genesis.ts';
import { signTransaction, type Transaction, type TxPayload } from '../../src/core/consensus/transactions.ts';
import { voteSignBytes } from '../../src/core/consensus/sign-bytes.ts';
import { indexOfValidator } from '../../src/core/consensus/validator-set.ts';
import { VoteType, type Hash, type QuorumCertificate, type ValidatorSet } from '../../src/core/consensus/types.ts';
import { Chain, type AggregationChecker, type ChainOptions, type CommitInfo } from '../../src/core/consensus/chain.ts';
import { proposerOf } from '../../src/core/consensus/proposer-selection.ts';
import { bytesEqual } from '../../src/core/bytes.ts';
import type { Clock } from '../../src/core/clock.ts';
import { expect } from 'vitest';

export const CHAIN = 'aegis-app-test';

const signers = new Map<number, Promise<Signer>>();

/** Deterministic key number i (distinct from the engine helpers' keys by the last seed byte). */
export function appKey(i: number): Promise<Signer> {
  let s = signers.get(i);
  if (s === undefined) {
    const seed = new Uint8Array(32);
    new DataView(seed.buffer).setUint32(0, i + 1);
    seed[31] = 0x5a;
    s = nobleEd25519.signer(seed);
    signers.set(i, s);
  }
  return s;
}

export const appKeys = (n: number): Promise<Signer[]> => Promise.all(Array.from({ length: n }, (_, i) => appKey(i)));

export function testGenesis(validators: readonly Signer[], stakes: readonly number[], params: Partial<ConsensusParams> = {}, accounts: readonly Signer[] = []): Genesis {
  return makeGenesis({
    chainId: CHAIN,
    timeMs: 1_700_000_000_000,
    validators: validators.map((s, i) => ({ publicKey: s.publicKey, stake: stakes[i] ?? 100 })),
    accounts: accounts.map((s) => ({ publicKey: s.publicKey, balance: 10_000 })),
    params,
  });
}

export function tx(signer: Signer, nonce: number, payload: TxPayload): Promise<Transaction> {
  return signTransaction(CHAIN, signer, nonce, payload);
}

/** A QC over `blockHash` signed by the given members of `set` (all, by default). */
export async function signQc(
  set: ValidatorSet,
  signersByKey: readonly Signer[],
  height: number,
  blockHash: Hash,
  only?: (s: Signer) => boolean,
  round = 0,
  chainId = CHAIN,
): Promise<QuorumCertificate> {
  const msg = voteSignBytes(chainId, VoteType.Precommit, height, round, blockHash);
  const sigs: { validatorIndex: number; signature: Uint8Array }[] = [];
  for (const s of signersByKey) {
    const i = indexOfValidator(set, s.publicKey);
    if (i < 0 || (only !== undefined && !only(s))) continue;
    sigs.push({ validatorIndex: i, signature: await s.sign(msg) });
  }
  sigs.sort((a, b) => a.validatorIndex - b.validatorIndex);
  return { height, round, blockHash, signatures: sigs };
}

// ---- a tiny lock-step "engine" for application tests -------------------------------------------


export class ManualClock implements Clock {
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
  setTimeout(): number {
    throw new Error('not used');
  }
  clearTimeout(): void {}
}

/** N chain instances (one per validator key) driven in lock step: propose, all validate, QC, all commit. */
export class LockStep {
  readonly commits: CommitInfo[][];
  private constructor(
    readonly genesis: Genesis,
    readonly signers: Signer[],
    readonly chains: Chain[],
    readonly clock: ManualClock,
  ) {
    this.commits = signers.map(() => []);
  }

  static create(genesis: Genesis, signers: Signer[], opts: Partial<ChainOptions> & { checkAggregation?: AggregationChecker } = {}): LockStep {
    const clock = new ManualClock(genesis.timeMs);
    const chains: Chain[] = [];
    const net = new LockStep(genesis, signers, chains, clock);
    signers.forEach((s, i) =>
      chains.push(
        new Chain({
          genesis,
          verifier: nobleEd25519,
          publicKey: s.publicKey,
          clock,
          ...opts,
          onCommit: (c) => net.commits[i]?.push(c),
        }),
      ),
    );
    return net;
  }

  get height(): number {
    return this.chains[0]!.height;
  }

  /** Every chain takes the transaction into its pool (gossip). */
  async submit(t: Transaction): Promise<void> {
    for (const c of this.chains) expect((await c.submitTransaction(t)).ok).toBe(true);
  }

  /** One height: the round-0 proposer proposes; everyone validates; signers not `absent` precommit; all commit. */
  async step(absent: (s: Signer) => boolean = () => false): Promise<Uint8Array> {
    this.clock.t += 1000;
    const h = this.height + 1;
    const set = this.chains[0]!.validatorSet(h);
    const proposerKey = proposerOf(set, 0).publicKey;
    const pi = this.signers.findIndex((s) => bytesEqual(s.publicKey, proposerKey));
    const proposer = this.chains[pi >= 0 ? pi : 0]!;
    const bytes = await proposer.proposeBlock(h, 0);
    for (const c of this.chains) expect(await c.checkBlock(h, bytes)).toEqual({ ok: true, value: true });
    const qc = await signQc(set, this.signers, h, proposer.blockHash(bytes), (s) => !absent(s));
    for (const c of this.chains) await c.commitBlock(h, bytes, qc);
    return bytes;
  }

  async steps(n: number, absent?: (s: Signer) => boolean): Promise<void> {
    for (let i = 0; i < n; i++) await this.step(absent);
  }
}
