// The real chain application (core/consensus/chain.ts) behind the consensus simulator's
// SimChainApp interface, so seeded Byzantine runs exercise blocks, evidence, slashing, reputation
// and the power rule instead of the minimal test application.
//
// Genesis: the simulator's validator powers become bonded stakes with reputation 1 (multiplier 1),
// so each starting power is its stake unless the share cap (power.ts) lowers a dominant validator.
// Heights start at 1 (height 0 is genesis): the simulator starts its drivers at `firstHeight`.
// Time: blocks carry a logical time (previous + 1 ms); the simulator's virtual clock is not shared
// with the application, so the future-time check is off.
import type { Clock } from '../core/clock.ts';
import { nodeIdFromPublicKey } from '../core/crypto/node-id.ts';
import { Chain } from '../core/consensus/chain.ts';
import { makeGenesis, MICROS, type ConsensusParams, type Genesis } from '../core/consensus/genesis.ts';
import type { EngineEvidence, Hash, QuorumCertificate, ValidatorSet } from '../core/consensus/types.ts';
import { isJailed } from '../core/consensus/slashing.ts';
import { indexOfValidator } from '../core/consensus/validator-set.ts';
import type { SimAppContext, SimChainApp } from './consensus-sim.ts';

const logicalClock: Clock = {
  now: () => 0,
  setTimeout: () => {
    throw new Error('the chain application sets no timers');
  },
  clearTimeout: () => undefined,
};

/** A genesis whose stakes are the simulator's powers (reputation starts at 1). */
export function simGenesis(set: ValidatorSet, chainId: string, params: Partial<ConsensusParams> = {}): Genesis {
  return makeGenesis({
    chainId,
    timeMs: 0,
    validators: set.validators.map((v) => ({ publicKey: v.publicKey, stake: v.power })),
    params: { reputationStartMicros: MICROS, ...params },
  });
}

export class ChainSimApp implements SimChainApp {
  readonly firstHeight = 1;
  readonly chain: Chain;
  private readonly evidence: EngineEvidence[] = [];

  constructor(ctx: SimAppContext, params: Partial<ConsensusParams> = {}) {
    this.chain = new Chain({
      genesis: simGenesis(ctx.genesis, ctx.chainId, params),
      verifier: ctx.verifier,
      clock: logicalClock,
      maxClockDriftMs: Number.MAX_SAFE_INTEGER,
      onCommit: (c) => {
        for (const e of c.events) if (e.kind === 'evidence' && e.evidence.kind !== 'split-view') this.evidence.push(e.evidence);
      },
    });
  }

  validatorSet(height: number): ValidatorSet {
    return this.chain.validatorSet(height);
  }

  proposeBlock(height: number, round: number): Promise<Uint8Array> {
    return this.chain.proposeBlock(height, round);
  }

  validateBlock(height: number, block: Uint8Array, round?: number): Promise<boolean> {
    return this.chain.validateBlock(height, block, round);
  }

  blockHash(block: Uint8Array): Hash {
    return this.chain.blockHash(block);
  }

  commitBlock(height: number, block: Uint8Array, qc: QuorumCertificate): Promise<void> {
    return this.chain.commitBlock(height, block, qc);
  }

  extendLastCommit(qc: QuorumCertificate): Promise<unknown> {
    return this.chain.extendLastCommit(qc);
  }

  addEvidence(e: EngineEvidence): void {
    void this.chain.submitEvidence(e);
  }

  variantBlock(height: number, round: number): Promise<Uint8Array> {
    return this.chain.proposeVariant(height, round);
  }

  validatorReport(): { id: string; power: number; stake: number; reputation: number; jailed: boolean }[] {
    const s = this.chain.state;
    return [...s.candidates.values()]
      .map((c) => {
        const i = indexOfValidator(s.validators, c.publicKey);
        return {
          id: nodeIdFromPublicKey(c.publicKey),
          power: i < 0 ? 0 : (s.validators.validators[i]?.power ?? 0),
          stake: c.stake,
          reputation: c.reputationMicros / MICROS,
          jailed: isJailed(c),
        };
      })
      .sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  committedEvidence(): readonly EngineEvidence[] {
    return this.evidence;
  }

}
