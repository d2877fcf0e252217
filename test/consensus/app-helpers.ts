// Fixtures for the chain-application tests: keys, a genesis, signed transactions, QCs over blocks.
import { nobleEd25519, type Signer } from '../../src/core/crypto/ed25519.ts';
import { makeGenesis, type ConsensusParams, type Genesis } from '../../src/core/consensus/genesis.ts';
import { signTransaction, type Transaction, type TxPayload } from '../../src/core/consensus/transactions.ts';
import { voteSignBytes } from '../../src/core/consensus/sign-bytes.ts';
import { indexOfValidator } from '../../src/core/consensus/validator-set.ts';
import { VoteType, type Hash, type QuorumCertificate, type ValidatorSet } from '../../src/core/consensus/types.ts';

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
): Promise<QuorumCertificate> {
  const msg = voteSignBytes(CHAIN, VoteType.Precommit, height, round, blockHash);
  const sigs: { validatorIndex: number; signature: Uint8Array }[] = [];
  for (const s of signersByKey) {
    const i = indexOfValidator(set, s.publicKey);
    if (i < 0 || (only !== undefined && !only(s))) continue;
    sigs.push({ validatorIndex: i, signature: await s.sign(msg) });
  }
  sigs.sort((a, b) => a.validatorIndex - b.validatorIndex);
  return { height, round, blockHash, signatures: sigs };
}
