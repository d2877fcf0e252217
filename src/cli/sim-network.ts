// `aegis sim network`: form a simulated network of N nodes, gossip one test broadcast from node 0,
// and report formation time and delivery. Everything but `wallMs` is a function of the seed.
import { utf8ToBytes } from '../core/bytes.ts';
import { ByteWriter } from '../core/codec/index.ts';
import { MessageType } from '../core/net/message-types.ts';
import { DEFAULT_OVERLAY, type OverlayConfig } from '../core/net/overlay-policy.ts';
import { Simulator } from '../sim/simulator.ts';
import { round } from '../sim/stats.ts';

export interface SimNetworkArgs {
  nodes: number;
  seed: number;
  json: boolean;
  /** Rooms up to this many nodes form a full mesh (default 12). */
  fullMeshMax?: number;
  /** Target degree D of the partial mesh (default 8; D_low = D-2, D_high = 1.5 D). */
  degree?: number;
}

export interface SimNetworkResult {
  nodes: number;
  seed: number;
  /** Virtual ms until the overlay formed (see Simulator.isFormed), or null if it did not. */
  formationMs: number | null;
  gossip: {
    delivered: number;
    expected: number;
    p50Ms: number | null;
    p99Ms: number | null;
    maxMs: number | null;
    duplicatesPerNode: number;
    relayedTotal: number;
  };
  wallMs: number;
}

const MAX_FORMATION_MS = 120_000;
const MAX_DELIVERY_MS = 30_000;
/** After the last delivery, keep running so late duplicate copies are counted too. */
const DRAIN_MS = 2_000;

/** Overlay parameters for a target degree, in the same proportions as the defaults (8 / 6 / 12). */
export function overlayForDegree(degree: number): Pick<OverlayConfig, 'degree' | 'degreeLow' | 'degreeHigh'> {
  if (!Number.isInteger(degree) || degree < 1) throw new Error('"degree" must be a positive integer');
  return { degree, degreeLow: Math.max(1, degree - 2), degreeHigh: Math.max(degree + 1, Math.ceil(degree * 1.5)) };
}

export async function simulateNetwork(args: Omit<SimNetworkArgs, 'json'>): Promise<SimNetworkResult> {
  const wallStart = performance.now();
  const overlay: Partial<OverlayConfig> = {
    ...(args.fullMeshMax !== undefined ? { fullMeshMax: args.fullMeshMax } : {}),
    ...(args.degree !== undefined ? overlayForDegree(args.degree) : {}),
  };
  const sim = await Simulator.create({ nodes: args.nodes, seed: args.seed, overlay });
  const formationMs = await sim.runUntilFormed({ maxVirtualMs: MAX_FORMATION_MS });

  // The dashboard's test broadcast (nonce + text), so every receiver also routes an ack back.
  const nonce = sim.random.fork('cli/test-broadcast').bytes(16);
  const body = new ByteWriter().bytes(nonce).varBytes(utf8ToBytes(`sim seed ${args.seed}`)).finish();
  const log = sim.collect(MessageType.TestBroadcast);
  const sent = await sim.broadcast(0, MessageType.TestBroadcast, body);
  const expected = sim.running().length - 1;
  await sim.runUntil(() => log.of(sent.messageId).length >= expected, { maxVirtualMs: MAX_DELIVERY_MS });
  await sim.runFor(DRAIN_MS);

  const report = sim.gossipReport(sent, log);
  const ms = (v: number): number | null => (Number.isNaN(v) ? null : round(v));
  return {
    nodes: args.nodes,
    seed: args.seed,
    formationMs: formationMs === null ? null : round(formationMs),
    gossip: {
      delivered: report.delivered,
      expected: report.expected,
      p50Ms: ms(report.latencyMs.p50),
      p99Ms: ms(report.latencyMs.p99),
      maxMs: ms(report.latencyMs.max),
      duplicatesPerNode: round(report.duplicateCopies / args.nodes),
      relayedTotal: report.relays,
    },
    wallMs: Math.round(performance.now() - wallStart),
  };
}

export async function runSimNetwork(args: SimNetworkArgs): Promise<void> {
  const r = await simulateNetwork(args);
  if (args.json) {
    console.log(JSON.stringify(r));
    return;
  }
  const overlay = { ...DEFAULT_OVERLAY, ...(args.fullMeshMax !== undefined ? { fullMeshMax: args.fullMeshMax } : {}) };
  const mode = r.nodes <= overlay.fullMeshMax ? 'full mesh' : `partial mesh, D=${args.degree ?? overlay.degree}`;
  const g = r.gossip;
  console.log(`simulated network: ${r.nodes} nodes, seed ${r.seed} (${mode})`);
  console.log(`  formation   ${r.formationMs === null ? 'did not form' : `${r.formationMs} ms (virtual)`}`);
  console.log(`  gossip      ${g.delivered}/${g.expected} nodes reached from node 0`);
  console.log(`  latency     p50 ${g.p50Ms ?? '-'} ms, p99 ${g.p99Ms ?? '-'} ms, max ${g.maxMs ?? '-'} ms (virtual)`);
  console.log(`  redundancy  ${g.duplicatesPerNode} duplicate copies per node, ${g.relayedTotal} nodes relayed`);
  console.log(`  wall time   ${(r.wallMs / 1000).toFixed(2)} s`);
}
