// Developer switch: make this node misbehave on purpose, so every other tab can be watched catching
// it. The honest engine runs unchanged; its outgoing consensus messages are rewritten here, as the
// simulator's Byzantine strategies do (sim/consensus-sim.ts):
//   equivocate  every prevote and precommit is also signed for a conflicting (random) block hash
//               and both go out: every peer ends up holding two signed votes for one height, round
//               and type — duplicate-vote evidence, slashed and jailed once committed
//   silent      nothing of consensus leaves this node (no proposals, no votes, no catch-up help);
//               the others go on without it while they hold > 2/3, and downtime jails it later
//   conflict    as proposer, one block goes to half the neighbours and a second valid block for the
//               same height and round to the other half (gossip then carries both everywhere, in
//               different orders); votes stay honest. Every engine that receives both holds two
//               signed proposals for one round: duplicate-proposal evidence, slashed and jailed as a
//               double sign once committed
import type { Random } from '../core/clock.ts';
import type { Signer } from '../core/crypto/ed25519.ts';
import type { ConsensusTransport } from '../core/consensus/consensus-driver.ts';
import { decodeProposalMessage, encodeProposalMessage } from '../core/consensus/consensus-messages.ts';
import { proposalSignBytes, voteSignBytes } from '../core/consensus/sign-bytes.ts';
import type { Hash } from '../core/consensus/types.ts';
import { decodeVote, encodeVote } from '../core/consensus/vote-codec.ts';
import { MessageType } from '../core/net/message-types.ts';
import type { AegisNode } from './aegis-node.ts';

export type Misbehaviour = 'none' | 'equivocate' | 'silent' | 'conflict';
export const MISBEHAVIOURS: readonly Misbehaviour[] = ['none', 'equivocate', 'silent', 'conflict'];

export interface MisbehaveContext {
  node: AegisNode;
  /** The raw identity signer (not the double-sign guard: misbehaving is the point). */
  signer: Signer;
  random: Random;
  chainId(): string;
  variantBlock(height: number, round: number): Promise<Uint8Array>;
  blockHash(block: Uint8Array): Hash;
}

const CONSENSUS_TYPES = new Set<number>([
  MessageType.ConsensusProposal,
  MessageType.ConsensusVote,
  MessageType.ConsensusEvidence,
  MessageType.ConsensusCommit,
  MessageType.ConsensusStatus,
]);

export class MisbehavingTransport implements ConsensusTransport {
  mode: Misbehaviour = 'none';
  /** Messages rewritten, withheld or doubled because of `mode`. */
  acts = 0;

  constructor(private readonly c: MisbehaveContext) {}

  broadcast(type: number, body: Uint8Array): void {
    if (this.mode === 'silent' && CONSENSUS_TYPES.has(type)) {
      this.acts++;
      return;
    }
    if (this.mode === 'equivocate' && type === MessageType.ConsensusVote) {
      void this.c.node.broadcast(type, body);
      void this.equivocate(body);
      return;
    }
    if (this.mode === 'conflict' && type === MessageType.ConsensusProposal) {
      void this.conflict(body);
      return;
    }
    void this.c.node.broadcast(type, body);
  }

  send(to: string, type: number, body: Uint8Array): void {
    if (this.mode === 'silent' && CONSENSUS_TYPES.has(type)) {
      this.acts++;
      return;
    }
    void this.c.node.sendTo(to, type, body).catch(() => undefined);
  }

  private async equivocate(body: Uint8Array): Promise<void> {
    const d = decodeVote(body);
    if (!d.ok) return;
    const v = d.value;
    const other = this.c.random.bytes(32);
    const signature = await this.c.signer.sign(voteSignBytes(this.c.chainId(), v.type, v.height, v.round, other));
    this.acts++;
    await this.c.node.broadcast(MessageType.ConsensusVote, encodeVote({ ...v, blockHash: other, signature }));
  }

  private async conflict(body: Uint8Array): Promise<void> {
    const d = decodeProposalMessage(body);
    if (!d.ok) return;
    const p = d.value.proposal;
    let variant: Uint8Array;
    try {
      variant = await this.c.variantBlock(p.height, p.round);
    } catch {
      void this.c.node.broadcast(MessageType.ConsensusProposal, body);
      return;
    }
    const blockHash = this.c.blockHash(variant);
    const signature = await this.c.signer.sign(proposalSignBytes(this.c.chainId(), p.height, p.round, p.polRound, blockHash));
    const second = encodeProposalMessage({ proposal: { ...p, blockHash, signature }, block: variant });
    const peers = this.c.node.connectedPeers();
    const [a, b] = await Promise.all([this.c.node.seal(MessageType.ConsensusProposal, body), this.c.node.seal(MessageType.ConsensusProposal, second)]);
    this.acts++;
    // Each half hears its own block first; relays bring the other one later.
    peers.forEach((peer, i) => this.c.node.sendRawGossip(peer, (i % 2 === 0 ? a : b).bytes));
  }
}
