// The simulator adapter around the real chain: heights from 1, variant blocks, evidence, report.
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../src/core/bytes.ts';
import { nobleEd25519 } from '../../src/core/crypto/ed25519.ts';
import { nodeIdFromPublicKey } from '../../src/core/crypto/node-id.ts';
import { proposerOf } from '../../src/core/consensus/proposer-selection.ts';
import { voteSignBytes } from '../../src/core/consensus/sign-bytes.ts';
import { makeValidatorSet } from '../../src/core/consensus/validator-set.ts';
import { VoteType } from '../../src/core/consensus/types.ts';
import { ChainSimApp } from '../../src/sim/chain-sim-app.ts';
import { appKeys, signQc } from './app-helpers.ts';

describe('ChainSimApp', () => {
  it('runs the real chain for simulator nodes: identical commits, valid variant blocks, committed evidence', async () => {
    const keys = await appKeys(4);
    const chainId = 'aegis-sim-adapter';
    const genesis = makeValidatorSet(keys.map((k, i) => ({ id: nodeIdFromPublicKey(k.publicKey), publicKey: k.publicKey, power: 10 + i })));
    const apps = keys.map((_, i) => new ChainSimApp({ genesis, chainId, verifier: nobleEd25519, nodeIndex: i }));
    expect(apps[0]!.firstHeight).toBe(1);
    // Powers are the simulator's (stake = power, reputation 1, no validator dominant).
    expect(apps[0]!.validatorSet(1).hash).toEqual(genesis.hash);
    const culprit = keys[3]!;
    const vote = async (fill: number) => {
      const blockHash = new Uint8Array(32).fill(fill);
      const signature = await culprit.sign(voteSignBytes(chainId, VoteType.Prevote, 1, 0, blockHash));
      return { type: VoteType.Prevote, height: 1, round: 0, blockHash, validator: culprit.publicKey, signature };
    };
    const evidence = { kind: 'duplicate-vote' as const, voteA: await vote(1), voteB: await vote(2) };
    for (let h = 1; h <= 4; h++) {
      const set = apps[0]!.validatorSet(h);
      const pi = keys.findIndex((k) => bytesEqual(k.publicKey, proposerOf(set, 0).publicKey));
      if (h === 2) {
        for (const a of apps) a.addEvidence(evidence);
        await new Promise((r) => setTimeout(r, 20)); // submitEvidence verifies asynchronously
      }
      const block = await apps[pi]!.proposeBlock(h, 0);
      const variant = await apps[pi]!.variantBlock(h, 0);
      expect(bytesEqual(apps[0]!.blockHash(block), apps[0]!.blockHash(variant))).toBe(false);
      for (const a of apps) {
        expect(await a.validateBlock(h, block)).toBe(true);
        expect(await a.validateBlock(h, variant)).toBe(true);
      }
      const qc = await signQc(set, keys, h, apps[0]!.blockHash(block), undefined, 0, chainId);
      for (const a of apps) await a.commitBlock(h, block, qc);
    }
    for (const a of apps) {
      expect(a.committedEvidence()).toEqual([evidence]);
      expect(a.validatorReport()).toEqual(apps[0]!.validatorReport());
    }
    const report = apps[0]!.validatorReport().find((v) => v.id === nodeIdFromPublicKey(culprit.publicKey))!;
    expect(report).toMatchObject({ jailed: true, power: 0, reputation: 0, stake: 13 - Math.ceil((13 * 5) / 100) });
  });
});
