// Public surface of the seeded network simulator (see README.md in this folder).
export {
  DEFAULT_LINK_CONDITIONS,
  DEFAULT_SIGNALING,
  SimLinkEnd,
  SimNetwork,
  SimNetworkAdapter,
  type DropReason,
  type InFlightMessage,
  type InterceptFilter,
  type Interceptor,
  type InterceptResult,
  type LinkConditions,
  type LinkInfo,
  type NetworkObserver,
  type NodeTraffic,
  type SignalingConditions,
  type SimNetworkOptions,
} from './memory-network.ts';
export { SeededRandom } from './seeded-random.ts';
export { defaultSimBackend, nextMacrotask, OrderedGate, SimCrypto, type SimCryptoOptions, type SimCryptoStats } from './sim-crypto.ts';
export {
  DeliveryLog,
  Simulator,
  type Delivery,
  type GossipReport,
  type NodeMetrics,
  type NodeRef,
  type NodeTuning,
  type RunOptions,
  type SentMessage,
  type SimMetrics,
  type SimNode,
  type SimNodeState,
  type SimulatorOptions,
} from './simulator.ts';
export { percentileSorted, round, summarize, type Summary } from './stats.ts';
export { ClockView, VirtualClock } from './virtual-clock.ts';
