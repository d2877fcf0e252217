// Registry of application message types carried in envelopes. A type not listed here is dropped
// and counted as "unknown-type". Later protocols (secagg, consensus, ledger) add their ranges.
export const MessageType = {
  /** Dashboard "broadcast a test message": body = TestBroadcast. */
  TestBroadcast: 1,
  /** Point-to-point acknowledgement of a TestBroadcast back to its origin. */
  TestAck: 2,
  // Secure aggregation (core/secagg), one round's stages in order.
  SecAggOpen: 16,
  SecAggAdvertise: 17,
  SecAggAdvertiseBundle: 18,
  SecAggShareKeys: 19,
  SecAggShares: 20,
  SecAggMaskedInput: 21,
  SecAggSurvivors: 22,
  SecAggConsistency: 23,
  SecAggConsistencyBundle: 24,
  SecAggUnmask: 25,
  SecAggResult: 26,
  /** Sparse rounds, between advertise and share keys: a reveal committee member's graph-seed link (graph-seed.ts). */
  SecAggSeedReveal: 27,
  /** The whole committee's SecAggSeedReveal, relayed by the aggregator: fixes the neighbour graph. */
  SecAggRevealBundle: 28,
  /** The aggregator asks the next reveal committee (a member of the last one did not reveal). */
  SecAggRevealRequest: 29,
  // Consensus engine (core/consensus/consensus-driver.ts); 40–47 are left for the chain application.
  /** Signed proposal with the block bytes attached. */
  ConsensusProposal: 32,
  ConsensusVote: 33,
  ConsensusEvidence: 34,
  /** A decided block with its QC, sent to a peer that is still at that height (catch-up). */
  ConsensusCommit: 35,
  /** "I am at this height": a node that hears of later heights asks a peer for commits. */
  ConsensusStatus: 36,
  /** "I decided these blocks at these recent heights": a peer that decided another block asks for the commit (fork alarm). */
  ConsensusDecided: 37,
  // Chain application (node/consensus-service.ts, core/consensus/chain-messages.ts).
  /** "This is my genesis (or none) and height": asks for genesis, detects two genesis files. */
  ChainHello: 40,
  /** Genesis bytes, sent to a node that has none or whose genesis loses the tie-break rule. */
  ChainGenesis: 41,
  /** Asks for set-change certificates and a certified state snapshot (light-client sync). */
  ChainSyncRequest: 42,
  ChainSyncResponse: 43,
  /** A signed transaction, gossiped to every node (the proposer includes it). */
  ChainTransaction: 44,
  /** Evidence the engine does not gossip itself (split view, from the audit log). */
  ChainEvidence: 45,
  /** A chain round's aggregation result with its transcript, from the designated aggregator (core/consensus/round-claim.ts). */
  ChainRoundClaim: 46,
  /** A chain round's result whose transcript is too large to ship: light transcript + sampled chunks (core/consensus/sampled-claim.ts). */
  ChainRoundSampledClaim: 47,
  // Audit log (core/ledger/ledger-messages.ts): head gossip, proofs and paged reads for audits.
  /** This node's latest signed tree head (on change and periodically). */
  LedgerHead: 48,
  LedgerConsistencyRequest: 49,
  LedgerConsistencyResponse: 50,
  LedgerHeadsRequest: 51,
  LedgerHeadsResponse: 52,
  LedgerEntriesRequest: 53,
  LedgerEntriesResponse: 54,
  // Chain rounds again (40–47 are full): a validator's private sample of a sampled claim (core/consensus/private-sample.ts).
  /** "Open these chunks of that claimed transcript": a checking node to the round's aggregator. */
  ChainRoundOpeningsRequest: 55,
  /** Every contributor's openings of the requested chunks: the aggregator's answer, once per requester. */
  ChainRoundOpenings: 56,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

const MiB = 1024 * 1024;

export interface MessageTypeInfo {
  name: string;
  maxBodyBytes: number;
  /** Broadcast types must not carry a recipient; direct types must. */
  direct: boolean;
}

export const messageTypes: ReadonlyMap<number, MessageTypeInfo> = new Map<number, MessageTypeInfo>([
  [MessageType.TestBroadcast, { name: 'test-broadcast', maxBodyBytes: 64 * 1024, direct: false }],
  [MessageType.TestAck, { name: 'test-ack', maxBodyBytes: 256, direct: true }],
  [MessageType.SecAggOpen, { name: 'secagg-open', maxBodyBytes: 256, direct: false }],
  [MessageType.SecAggAdvertise, { name: 'secagg-advertise', maxBodyBytes: 256, direct: true }],
  [MessageType.SecAggAdvertiseBundle, { name: 'secagg-advertise-bundle', maxBodyBytes: 2 * MiB, direct: false }],
  [MessageType.SecAggShareKeys, { name: 'secagg-share-keys', maxBodyBytes: 1 * MiB, direct: true }],
  [MessageType.SecAggShares, { name: 'secagg-shares', maxBodyBytes: 1 * MiB, direct: true }],
  [MessageType.SecAggMaskedInput, { name: 'secagg-masked-input', maxBodyBytes: 8 * MiB + 64, direct: true }],
  [MessageType.SecAggSurvivors, { name: 'secagg-survivors', maxBodyBytes: 128 * 1024, direct: false }],
  [MessageType.SecAggConsistency, { name: 'secagg-consistency', maxBodyBytes: 256, direct: true }],
  [MessageType.SecAggConsistencyBundle, { name: 'secagg-consistency-bundle', maxBodyBytes: 2 * MiB, direct: false }],
  [MessageType.SecAggUnmask, { name: 'secagg-unmask', maxBodyBytes: 1 * MiB, direct: true }],
  [MessageType.SecAggResult, { name: 'secagg-result', maxBodyBytes: 8 * MiB, direct: false }],
  [MessageType.SecAggSeedReveal, { name: 'secagg-seed-reveal', maxBodyBytes: 256, direct: true }],
  [MessageType.SecAggRevealBundle, { name: 'secagg-reveal-bundle', maxBodyBytes: 64 * 1024, direct: false }],
  [MessageType.SecAggRevealRequest, { name: 'secagg-reveal-request', maxBodyBytes: 64, direct: false }],
  [MessageType.ConsensusProposal, { name: 'consensus-proposal', maxBodyBytes: 4 * MiB + 1024, direct: false }],
  [MessageType.ConsensusVote, { name: 'consensus-vote', maxBodyBytes: 256, direct: false }],
  [MessageType.ConsensusEvidence, { name: 'consensus-evidence', maxBodyBytes: 1024, direct: false }],
  [MessageType.ConsensusCommit, { name: 'consensus-commit', maxBodyBytes: 4 * MiB + 700 * 1024, direct: true }],
  [MessageType.ConsensusStatus, { name: 'consensus-status', maxBodyBytes: 16, direct: true }],
  [MessageType.ConsensusDecided, { name: 'consensus-decided', maxBodyBytes: 512, direct: false }],
  [MessageType.ChainHello, { name: 'chain-hello', maxBodyBytes: 64, direct: false }],
  [MessageType.ChainGenesis, { name: 'chain-genesis', maxBodyBytes: 1 * MiB, direct: true }],
  [MessageType.ChainSyncRequest, { name: 'chain-sync-request', maxBodyBytes: 64, direct: true }],
  [MessageType.ChainSyncResponse, { name: 'chain-sync-response', maxBodyBytes: 8 * MiB, direct: true }],
  [MessageType.ChainTransaction, { name: 'chain-transaction', maxBodyBytes: 64 * 1024 + 16, direct: false }],
  [MessageType.ChainEvidence, { name: 'chain-evidence', maxBodyBytes: 16 * 1024, direct: false }],
  [MessageType.ChainRoundClaim, { name: 'chain-round-claim', maxBodyBytes: 8 * MiB, direct: false }],
  [MessageType.ChainRoundSampledClaim, { name: 'chain-round-sampled-claim', maxBodyBytes: 8 * MiB, direct: false }],
  [MessageType.LedgerHead, { name: 'ledger-head', maxBodyBytes: 1100, direct: false }],
  [MessageType.LedgerConsistencyRequest, { name: 'ledger-consistency-request', maxBodyBytes: 1100, direct: true }],
  [MessageType.LedgerConsistencyResponse, { name: 'ledger-consistency-response', maxBodyBytes: 136 * 1024, direct: true }],
  [MessageType.LedgerHeadsRequest, { name: 'ledger-heads-request', maxBodyBytes: 16, direct: true }],
  [MessageType.LedgerHeadsResponse, { name: 'ledger-heads-response', maxBodyBytes: 70 * 1024, direct: true }],
  [MessageType.LedgerEntriesRequest, { name: 'ledger-entries-request', maxBodyBytes: 32, direct: true }],
  [MessageType.LedgerEntriesResponse, { name: 'ledger-entries-response', maxBodyBytes: 2 * MiB, direct: true }],
  // 1 + 16 + 32 + 4 + 64 × 4 bytes at most (MAX_PRIVATE_INDICES).
  [MessageType.ChainRoundOpeningsRequest, { name: 'chain-round-openings-request', maxBodyBytes: 512, direct: true }],
  // As the sampled claim: openings for as many contributors as a claim can carry.
  [MessageType.ChainRoundOpenings, { name: 'chain-round-openings', maxBodyBytes: 8 * MiB, direct: true }],
]);
