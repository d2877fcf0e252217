// `aegis sim secagg`: one secure-aggregation round among N simulated nodes, in memory (see
// src/sim/secagg-round.ts: aggregator and participants driven directly with real signed envelopes
// and real crypto, WebCrypto where the platform has it). Reports the decoded sum next to the plain
// sum of the inputs that should be in it, who contributed, per-stage times and bytes per client.
// Same seed, same JSON, except under `timesMs` (wall clock).
import { readFileSync } from 'node:fs';
import { csvRowVectors } from '../core/secagg/csv.ts';
import { clip, decodeSum, quantizationStep } from '../core/secagg/encoding.ts';
import { graphShape } from '../core/secagg/neighbour-graph.ts';
import { checkRing, DEFAULT_PARAMS, validateParams, type SecAggParams } from '../core/secagg/params.ts';
import { fastBackends, pickDropouts, replayParticipant, runSecAggRound, SECAGG_STAGES, type SecAggRoundSetup, type SecAggStage } from '../sim/secagg-round.ts';
import { SeededRandom } from '../sim/seeded-random.ts';
import { round } from '../sim/stats.ts';

export interface SimSecaggArgs {
  /** Participants; with `inputsCsv`, defaults to its row count (and must equal it if given). */
  nodes?: number;
  /** Vector length; with `inputsCsv`, defaults to its column count (and must equal it if given). */
  dim?: number;
  seed: number;
  /** Path of a CSV file: row i is node i's input. Without it, seeded random inputs. */
  inputsCsv?: string;
  /** Participants silenced before their message of each stage, e.g. { mask: 3 }. */
  dropouts?: Partial<Record<SecAggStage, number>>;
  clippingRange?: number;
  /** Clipped values map to 0..quantizationRange; n × quantizationRange must stay below 2^32. */
  quantizationRange?: number;
  json: boolean;
}

interface Spread {
  median: number;
  max: number;
}

export interface SimSecaggReport {
  nodes: number;
  dimension: number;
  seed: number;
  inputs: 'random' | 'csv';
  /**
   * The parameters in effect: num_shares and reconstruction_threshold as the round used them (k + 1
   * and t of the graph rule), not the 0 that asks for the rule; `auto` says the rule chose them.
   */
  params: Omit<SecAggParams, 'dimension' | 'timeout'> & { auto: boolean };
  /** The neighbour graph of everyone who advertised: k neighbours, t of k + 1 shares rebuild a secret. */
  graph: { complete: boolean; k: number; t: number; sharesPerSecret: number } | null;
  /** Node indices silenced before their message of each stage. */
  silenced: Partial<Record<SecAggStage, number[]>>;
  ok: boolean;
  abortReason: string | null;
  abortedIn: string | null;
  /** Node indices whose inputs are in the sum (empty when the round released nothing). */
  contributors: number[];
  /** Node indices whose inputs are not in it (aborted round: those that went silent or refused). */
  dropped: number[];
  /** Decoded per-column sum (null when aborted). */
  sum: number[] | null;
  /** Plain per-column sum of the inputs (clipped to ±clipping_range, as encoded) of the nodes whose masked input reached the aggregator. */
  expectedSum: number[];
  maxAbsError: number | null;
  /** Largest error stochastic rounding can explain: one quantization step per contributor. */
  tolerance: number;
  /** Why participants refused to go on (an honest one refuses rather than reveal too much). */
  participantAborts: Array<{ reason: string; count: number }>;
  /** Over the nodes that sent at least one message; a coordinate travels as one u32 (4 bytes). */
  bytesPerClient: { plainInput: number; sent: Spread; received: Spread; sentExpansion: number; receivedExpansion: number };
  backends: { x25519: string; prg: string; ed25519: string };
  timesMs: {
    /** Wall time per stage: every participant's step plus the aggregator closing the stage. */
    stages: Record<SecAggStage, number>;
    /** The aggregator's recomputeFromTranscript (check every signature, rebuild seeds, remove masks). */
    recovery: number;
    /** One client's own work over the round: sampled clients replayed alone (see replayParticipant). */
    perClient: Spread & { verifyMedian: number; sampled: number[] };
    total: number;
  };
}

/** "mask:3,unmask:1" → { mask: 3, unmask: 1 }. Throws a message naming the bad part. */
export function parseDropouts(spec: string): Partial<Record<SecAggStage, number>> {
  const out: Partial<Record<SecAggStage, number>> = {};
  for (const part of spec.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const m = /^([a-z]+):(\d+)$/.exec(part);
    if (!m) throw new Error(`--dropouts: "${part}" is not STAGE:COUNT`);
    const stage = m[1] as SecAggStage;
    if (!SECAGG_STAGES.includes(stage)) throw new Error(`--dropouts: unknown stage "${m[1]}" (one of ${SECAGG_STAGES.join(', ')})`);
    out[stage] = (out[stage] ?? 0) + Number(m[2]);
  }
  return out;
}

/** Random inputs on the quantization grid inside ±clipping_range, so they encode without rounding. */
function gridInputs(seed: number, n: number, m: number, p: Pick<SecAggParams, 'clipping_range' | 'quantization_range'>): number[][] {
  const rng = SeededRandom.fromSeed(seed).fork('inputs');
  const step = quantizationStep(p);
  const q = p.quantization_range;
  return Array.from({ length: n }, () => Array.from({ length: m }, () => Math.min(p.clipping_range, Math.max(-p.clipping_range, (rng.int(q + 1) - q / 2) * step))));
}

const spread = (values: readonly number[], digits = 2): Spread => {
  const s = [...values].sort((a, b) => a - b);
  return { median: round(s[(s.length - 1) >> 1] ?? 0, digits), max: round(s[s.length - 1] ?? 0, digits) };
};

/** Clients replayed alone after the round, each with its own signature verifier: a lone client's cost. */
const SAMPLED_CLIENTS = 3;
/** Other participants handled at once (overlaps WebCrypto's thread pool with the main thread). */
const CONCURRENCY = 4;

export async function simulateSecagg(args: Omit<SimSecaggArgs, 'json'>): Promise<SimSecaggReport> {
  const wallStart = performance.now();
  let inputs: number[][];
  if (args.inputsCsv !== undefined) {
    const rows = csvRowVectors(readFileSync(args.inputsCsv, 'utf8'));
    if (!rows.ok) throw new Error(`${args.inputsCsv}: ${rows.error}`);
    inputs = rows.value;
    if (inputs.length === 0) throw new Error(`${args.inputsCsv}: no data rows`);
    if (args.nodes !== undefined && args.nodes !== inputs.length)
      throw new Error(`--nodes ${args.nodes} but ${args.inputsCsv} has ${inputs.length} rows (row i is node i's input)`);
    const cols = (inputs[0] as number[]).length;
    if (args.dim !== undefined && args.dim !== cols) throw new Error(`--dim ${args.dim} but ${args.inputsCsv} has ${cols} columns`);
  } else {
    if (args.nodes === undefined || args.dim === undefined) throw new Error('--nodes and --dim are required without --inputs');
    inputs = [];
  }
  const n = args.inputsCsv !== undefined ? inputs.length : (args.nodes as number);
  const params: SecAggParams = {
    ...DEFAULT_PARAMS,
    dimension: args.inputsCsv !== undefined ? (inputs[0] as number[]).length : (args.dim as number),
    ...(args.clippingRange !== undefined ? { clipping_range: args.clippingRange } : {}),
    ...(args.quantizationRange !== undefined ? { quantization_range: args.quantizationRange } : {}),
  };
  const valid = validateParams(params);
  if (!valid.ok) throw new Error(valid.error);
  // Refuse before the round, not in the middle of it (fedbiomed #1210 overflowed silently).
  const ring = checkRing(params, n);
  if (!ring.ok) throw new Error(`${ring.error} (--quantization-range)`);
  if (args.inputsCsv === undefined) inputs = gridInputs(args.seed, n, params.dimension, params);

  const silenced = pickDropouts(n, args.dropouts ?? {}, args.seed);
  const silent = new Set(Object.values(silenced).flat());
  const sampled = inputs.map((_, i) => i).filter((i) => !silent.has(i)).slice(0, SAMPLED_CLIENTS);
  const backends = await fastBackends();
  const setup: SecAggRoundSetup = { inputs, params, dropouts: silenced, seed: args.seed, backends, concurrency: CONCURRENCY, record: sampled };
  const o = await runSecAggRound(setup);
  const replays = [];
  for (const rec of o.recordings) {
    const replay = await replayParticipant(setup, rec);
    // A replay that sends other bytes means something in the round is not a function of the seed.
    if (!replay.identical) throw new Error(`participant ${rec.index} replayed alone sent different envelopes: the run is not deterministic`);
    replays.push(replay);
  }

  const indexOf = new Map(o.ids.map((id, i) => [id, i]));
  const contributors = o.result ? o.result.contributors.map((id) => indexOf.get(id) as number).sort((a, b) => a - b) : [];
  const inSum = new Set(contributors);
  const dropped = o.result
    ? inputs.map((_, i) => i).filter((i) => !inSum.has(i))
    : inputs.map((_, i) => i).filter((i) => o.silencedAt.has(i) || o.participantAborts[i] !== null);
  const expectedSum = new Array<number>(params.dimension).fill(0);
  for (const i of o.maskedInputFrom) {
    const row = inputs[i] as number[];
    for (let j = 0; j < params.dimension; j++) expectedSum[j] = (expectedSum[j] as number) + clip(row[j] as number, params.clipping_range);
  }
  const sum = o.result ? Array.from(decodeSum(o.result.sum, contributors.length, params)) : null;
  const maxAbsError = sum ? sum.reduce((worst, s, j) => Math.max(worst, Math.abs(s - (expectedSum[j] as number))), 0) : null;

  const reasons = new Map<string, number>();
  for (const r of o.participantAborts) if (r !== null) reasons.set(r, (reasons.get(r) ?? 0) + 1);
  const talking = o.clients.filter((c) => c.sentBytes > 0);
  const plainInput = params.dimension * 4;
  const sent = spread(talking.map((c) => c.sentBytes), 0);
  const received = spread(talking.map((c) => c.receivedBytes), 0);
  const { dimension: _d, timeout: _t, ...asGiven } = params;
  const shape = o.shape ?? graphShape(n, params);
  const shownParams = {
    ...asGiven,
    num_shares: shape.shares,
    reconstruction_threshold: shape.threshold,
    auto: params.num_shares === 0 && params.reconstruction_threshold === 0,
  };
  const stageMs = Object.fromEntries(SECAGG_STAGES.map((s) => [s, round(o.timing.stageMs[s], 1)])) as Record<SecAggStage, number>;
  return {
    nodes: n,
    dimension: params.dimension,
    seed: args.seed,
    inputs: args.inputsCsv !== undefined ? 'csv' : 'random',
    params: shownParams,
    graph: o.shape ? { complete: o.shape.complete, k: o.shape.degree, t: o.shape.threshold, sharesPerSecret: o.shape.shares } : null,
    silenced,
    ok: o.result !== null,
    abortReason: o.abortReason,
    abortedIn: o.abortedIn,
    contributors,
    dropped,
    sum,
    expectedSum,
    maxAbsError,
    tolerance: contributors.length * quantizationStep(params),
    participantAborts: [...reasons].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count || (a.reason < b.reason ? -1 : 1)),
    bytesPerClient: {
      plainInput,
      sent,
      received,
      sentExpansion: round(sent.median / plainInput, 3),
      receivedExpansion: round(received.median / plainInput, 3),
    },
    backends: { x25519: backends.x25519.name, prg: backends.prg.name, ed25519: backends.ed25519.name },
    timesMs: {
      stages: stageMs,
      recovery: round(o.timing.aggregatorMs.unmask, 1),
      perClient: { ...spread(replays.map((c) => c.totalMs), 1), verifyMedian: spread(replays.map((c) => c.verifyMs), 1).median, sampled },
      total: Math.round(performance.now() - wallStart),
    },
  };
}

function formatVector(v: readonly number[], max = 6): string {
  const shown = v.slice(0, max).map((x) => (Number.isInteger(x) ? String(x) : x.toPrecision(8)));
  return `[${shown.join(', ')}${v.length > max ? `, … ${v.length - max} more` : ''}]`;
}

/** Runs the simulation and prints its report (JSON with `json`); resolves to the report. */
export async function runSimSecagg(args: SimSecaggArgs, write: (text: string) => void = (t) => process.stdout.write(t)): Promise<SimSecaggReport> {
  const r = await simulateSecagg(args);
  if (args.json) {
    write(`${JSON.stringify(r)}\n`);
    return r;
  }
  const g = r.graph;
  const lines = [
    `secure aggregation: ${r.nodes} nodes, dimension ${r.dimension}, seed ${r.seed} (${r.inputs} inputs)`,
    `  graph       ${g ? `${g.complete ? 'complete' : 'Harary'}, k = ${g.k}, t = ${g.t} of ${g.sharesPerSecret} shares` : '-'}`,
    `  silenced    ${SECAGG_STAGES.filter((s) => r.silenced[s]).map((s) => `${s}: ${(r.silenced[s] ?? []).length}`).join(', ') || 'none'}`,
    r.ok
      ? `  result      ${r.contributors.length} contributors, ${r.dropped.length} dropped; max |sum − expected| = ${r.maxAbsError} (tolerance ${r.tolerance})`
      : `  aborted     in ${r.abortedIn}: ${r.abortReason}`,
    ...(r.sum ? [`  sum         ${formatVector(r.sum)}`] : []),
    `  expected    ${formatVector(r.expectedSum)}`,
    ...r.participantAborts.slice(0, 3).map((a) => `  refused     ${a.count} × ${a.reason}`),
    `  bytes       plain input ${r.bytesPerClient.plainInput} B; per client sent ${r.bytesPerClient.sent.median} B (×${r.bytesPerClient.sentExpansion}), received ${r.bytesPerClient.received.median} B (×${r.bytesPerClient.receivedExpansion})`,
    `  stages ms   ${SECAGG_STAGES.map((s) => `${s} ${r.timesMs.stages[s]}`).join(', ')}; recovery ${r.timesMs.recovery}`,
    `  per client  ${r.timesMs.perClient.median} ms median (${r.timesMs.perClient.verifyMedian} ms checking signatures), max ${r.timesMs.perClient.max} ms`,
    `  wall time   ${(r.timesMs.total / 1000).toFixed(2)} s`,
  ];
  write(`${lines.join('\n')}\n`);
  return r;
}
