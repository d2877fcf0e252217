// The network suite: mesh formation of real tabs, gossip delivery latency, data-channel throughput
// through Aegis's transport against a raw RTCDataChannel between the same two tabs, and signed
// envelope throughput between two full nodes. All traffic stays on 127.0.0.1.
import type { Page } from '@playwright/test';
import { MessageType } from '../src/core/net/message-types.ts';
import { DEFAULT_OVERLAY, isFullMesh } from '../src/core/net/overlay-policy.ts';
import type { NodeSnapshot } from '../src/node/aegis-node.ts';
import type { ChannelKind } from './page/bench-page.ts';
import { closeQuietly, connectedPeers, freshRoom, newBenchContext, newPages, sleep, snapshots } from './lib/browser.ts';
import { median, round, summarize, type Summary } from './lib/stats.ts';
import type { BenchEnv, Suite, SuiteReport } from './lib/suite.ts';
import { formatNumber, markdownTable } from './lib/table.ts';

const MiB = 1024 * 1024;

interface ThroughputCase {
  label: string;
  size: number;
  count: number;
}

interface SignedCase {
  label: string;
  bodyBytes: number;
  count: number;
}

export interface NetworkConfig {
  formation: { tabs: number[]; runs: number; timeoutMs: number; pollMs: number };
  gossip: { tabs: number; broadcasts: number; spacingMs: number; warmup: number; settleTimeoutMs: number };
  throughput: {
    runs: number;
    cases: ThroughputCase[];
    /** Sent once per path on the fresh link before measuring; reported separately as the cold start. */
    warmup: ThroughputCase[];
    timeLimitMs: number;
    highWaterBytes: number;
    pauseMs: number;
  };
  /** Each case also runs once, unmeasured, at `warmupFraction` of its count on the fresh link. */
  signed: { runs: number; cases: SignedCase[]; warmupFraction: number; timeLimitMs: number };
}

export function networkConfig(quick: boolean): NetworkConfig {
  return {
    // A healthy 16-tab room forms in ~5 s, ~14 s when a dial waits out the 10 s handshake timeout.
    formation: { tabs: [4, 8, 16], runs: quick ? 1 : 3, timeoutMs: quick ? 16_000 : 25_000, pollMs: 50 },
    gossip: { tabs: 8, broadcasts: 100, spacingMs: 20, warmup: 5, settleTimeoutMs: 15_000 },
    throughput: {
      runs: quick ? 1 : 3,
      cases: [
        { label: '16 KiB', size: 16 * 1024, count: quick ? 1024 : 2048 }, // 16 / 32 MiB
        // The largest message Aegis sends as one frame (the 8-byte chunk header counts against 16 KiB).
        { label: '16 KiB − 8 B', size: 16 * 1024 - 8, count: quick ? 1024 : 2048 },
        { label: '200 B', size: 200, count: quick ? 50_000 : 100_000 },
      ],
      warmup: [
        { label: '16 KiB', size: 16 * 1024, count: 512 }, // 8 MiB
        { label: '200 B', size: 200, count: 20_000 },
      ],
      timeLimitMs: 8_000,
      highWaterBytes: MiB,
      pauseMs: 300,
    },
    signed: {
      runs: quick ? 1 : 3,
      cases: [
        { label: '200 B body', bodyBytes: 200, count: quick ? 2_000 : 5_000 },
        { label: '16 KiB body', bodyBytes: 16 * 1024, count: quick ? 400 : 1_000 },
      ],
      warmupFraction: 0.5,
      timeLimitMs: 15_000,
    },
  };
}

// ---- shared: opening app tabs and waiting for the overlay --------------------------------------

/** Connected peers every tab needs: all others in a full mesh, else the node's own D_low. */
export function requiredDegree(tabs: number): number {
  return isFullMesh(DEFAULT_OVERLAY, tabs - 1) ? tabs - 1 : Math.min(DEFAULT_OVERLAY.degreeLow, tabs - 1);
}

type Formation =
  | {
      formed: true;
      snaps: NodeSnapshot[];
      /** When the driver's poll first saw every tab at its required degree, from navigation start. */
      observedMs: number;
      /** The same instant from the nodes' own clocks: max over tabs of the time its k-th link authenticated. */
      exactMs: number;
    }
  | { formed: false; snaps: (NodeSnapshot | null)[]; detail: string };

/** Polls until every tab has its required degree; `formed: false` (with the last state) after `timeoutMs`. */
async function pollFormation(pages: readonly Page[], t0: number, timeoutMs: number, pollMs: number): Promise<Formation> {
  const need = requiredDegree(pages.length);
  for (;;) {
    const snaps = await snapshots(pages);
    const ready = snaps.every((s) => s !== null && connectedPeers(s).length >= need);
    if (ready) {
      const observedMs = Date.now() - t0;
      const all = snaps as NodeSnapshot[];
      const doneAt = all.map((s) => {
        const times = connectedPeers(s)
          .map((p) => p.connectedAtMs ?? Number.POSITIVE_INFINITY)
          .sort((a, b) => a - b);
        return times[need - 1] ?? Number.POSITIVE_INFINITY;
      });
      return { formed: true, snaps: all, observedMs, exactMs: Math.max(...doneAt) - t0 };
    }
    if (Date.now() - t0 > timeoutMs) {
      const lines = snaps.map((s, i) =>
        s ? `${s.id.slice(0, 8)}: ${s.peers.map((p) => `${p.id.slice(0, 6)}=${p.status}`).join(' ')}` : `tab ${i}: no node yet`,
      );
      return { formed: false, snaps, detail: `${pages.length} tabs did not reach degree ${need} in ${timeoutMs} ms:\n${lines.join('\n')}` };
    }
    await sleep(pollMs);
  }
}

/** For measurements that need a formed network first. */
async function waitFormed(pages: readonly Page[], t0: number, timeoutMs: number, pollMs: number): Promise<NodeSnapshot[]> {
  const f = await pollFormation(pages, t0, timeoutMs, pollMs);
  if (!f.formed) throw new Error(f.detail);
  return f.snaps;
}

async function openAppTabs(env: BenchEnv, pages: readonly Page[], room: string): Promise<number> {
  const t0 = Date.now();
  await Promise.all(pages.map((p) => p.goto(`${env.httpUrl}/?room=${room}`, { waitUntil: 'domcontentloaded' })));
  return t0;
}

/** Is the undirected graph of authenticated links connected? (Partial meshes must still be.) */
function isConnectedGraph(snaps: readonly NodeSnapshot[]): boolean {
  const adj = new Map<string, string[]>(snaps.map((s) => [s.id, connectedPeers(s).map((p) => p.id)]));
  const first = snaps[0];
  if (!first) return true;
  const seen = new Set([first.id]);
  const stack = [first.id];
  while (stack.length > 0) {
    for (const n of adj.get(stack.pop() as string) ?? []) {
      if (!seen.has(n)) {
        seen.add(n);
        stack.push(n);
      }
    }
  }
  return snaps.every((s) => seen.has(s.id));
}

// ---- 1. formation -------------------------------------------------------------------------------

interface FormationSample {
  tabs: number;
  run: number;
  room: string;
  overlay: 'full-mesh' | 'partial-mesh';
  requiredDegree: number;
  /** False when the tabs did not all reach their degree within the timeout; the times are then null. */
  formed: boolean;
  exactMs: number | null;
  observedMs: number | null;
  /** Each node's own formationMs (from its start until its overlay target). */
  nodeFormationMs: (number | null)[];
  /** From navigation start until each node started (page load, identity, crypto backend). */
  nodeStartOffsetMs: number[];
  degrees: number[];
  graphConnected: boolean;
}

async function formationRun(env: BenchEnv, cfg: NetworkConfig['formation'], tabs: number, run: number): Promise<FormationSample> {
  const context = await newBenchContext(env.browser);
  try {
    const pages = await newPages(context, tabs);
    const room = freshRoom(`bench-form${tabs}`);
    const t0 = await openAppTabs(env, pages, room);
    const f = await pollFormation(pages, t0, cfg.timeoutMs, cfg.pollMs);
    const snaps = (f.snaps as (NodeSnapshot | null)[]).filter((s): s is NodeSnapshot => s !== null);
    return {
      tabs,
      run,
      room,
      overlay: isFullMesh(DEFAULT_OVERLAY, tabs - 1) ? 'full-mesh' : 'partial-mesh',
      requiredDegree: requiredDegree(tabs),
      formed: f.formed,
      exactMs: f.formed ? f.exactMs : null,
      observedMs: f.formed ? f.observedMs : null,
      nodeFormationMs: snaps.map((s) => s.formationMs),
      nodeStartOffsetMs: snaps.map((s) => s.startedAtMs - t0),
      degrees: f.snaps.map((s) => (s ? connectedPeers(s).length : 0)),
      graphConnected: isConnectedGraph(snaps),
    };
  } finally {
    await closeQuietly(context);
  }
}

// ---- 2. gossip latency --------------------------------------------------------------------------

interface RxRecord {
  id: string;
  from: string;
  atMs: number;
}

/** Deterministic sender order: consecutive blocks, each a shuffled permutation of all tabs. */
function senderOrder(tabs: number, count: number, seed: number): number[] {
  let state = seed >>> 0 || 1;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  const order: number[] = [];
  while (order.length < count) {
    const block = Array.from({ length: tabs }, (_, i) => i);
    for (let i = block.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [block[i], block[j]] = [block[j] as number, block[i] as number];
    }
    order.push(...block);
  }
  return order.slice(0, count);
}

async function installRxHooks(pages: readonly Page[]): Promise<void> {
  await Promise.all(
    pages.map((p) =>
      p.evaluate((type) => {
        const rx: { id: string; from: string; atMs: number }[] = [];
        (window as unknown as { __benchRx: typeof rx }).__benchRx = rx;
        // Runs right after the node's own test-message handler, in the same task.
        window.__aegis?.node.onMessage(type, (env, from) => {
          rx.push({ id: Array.from(env.body.subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join(''), from, atMs: Date.now() });
        });
      }, MessageType.TestBroadcast),
    ),
  );
}

async function readRx(page: Page): Promise<RxRecord[]> {
  return page.evaluate(() => (window as unknown as { __benchRx: { id: string; from: string; atMs: number }[] }).__benchRx.slice());
}

async function rxCount(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as { __benchRx: unknown[] }).__benchRx.length);
}

interface GossipResult {
  room: string;
  tabs: number;
  broadcasts: number;
  measuredRecords: number;
  expectedDeliveries: number;
  delivered: number;
  acked: number;
  /** Sender's sentAtMs → receiver's atMs, every (broadcast, receiver) pair. Integer ms (Date.now()). */
  oneWayMs: number[];
  /** Per broadcast: until the last receiver had it. */
  allReceivedMs: number[];
  ackRoundTripMs: number[];
  senders: number[];
  scheduleSlipMs: number;
}

async function gossipRun(env: BenchEnv, cfg: NetworkConfig['gossip'], formationCfg: NetworkConfig['formation']): Promise<GossipResult> {
  const context = await newBenchContext(env.browser);
  try {
    const pages = await newPages(context, cfg.tabs);
    const room = freshRoom('bench-gossip');
    const t0 = await openAppTabs(env, pages, room);
    await waitFormed(pages, t0, formationCfg.timeoutMs, formationCfg.pollMs);
    await installRxHooks(pages);
    // Warm-up broadcasts (JIT, first signatures), not measured.
    for (let i = 0; i < cfg.warmup; i++) {
      await pages[i % pages.length]?.evaluate((t) => void window.__aegis?.node.broadcastTest(t), `warmup-${i}`);
      await sleep(50);
    }
    await sleep(500);

    const order = senderOrder(pages.length, cfg.broadcasts, 0x5eed);
    const start = Date.now() + 50;
    let slip = 0;
    for (let i = 0; i < order.length; i++) {
      const due = start + i * cfg.spacingMs;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      slip = Math.max(slip, Date.now() - due);
      const sender = pages[order[i] as number] as Page;
      await sender.evaluate((t) => void window.__aegis?.node.broadcastTest(t), `bench-${i}`);
    }

    // Wait until every receiver has every broadcast and every ack is back (bounded).
    const expectedRx = (cfg.warmup + cfg.broadcasts) * (pages.length - 1);
    const settleBy = Date.now() + cfg.settleTimeoutMs;
    while (Date.now() < settleBy) {
      const counts = await Promise.all(pages.map(rxCount));
      if (counts.reduce((a, b) => a + b, 0) >= expectedRx) break;
      await sleep(100);
    }
    let snaps: NodeSnapshot[] = [];
    while (Date.now() < settleBy) {
      snaps = (await snapshots(pages)) as NodeSnapshot[];
      const recs = snaps.flatMap((s) => s.testBroadcasts.filter((r) => r.text.startsWith('bench-')));
      if (recs.length >= cfg.broadcasts && recs.every((r) => Object.keys(r.deliveries).length >= pages.length - 1)) break;
      await sleep(100);
    }
    if (snaps.length === 0) snaps = (await snapshots(pages)) as NodeSnapshot[];

    const records = new Map<string, { sentAtMs: number; sender: string; deliveries: Record<string, number> }>();
    for (const s of snaps) {
      for (const r of s.testBroadcasts) if (r.text.startsWith('bench-')) records.set(r.id, { sentAtMs: r.sentAtMs, sender: s.id, deliveries: r.deliveries });
    }
    const rx = await Promise.all(pages.map(readRx));
    const oneWayMs: number[] = [];
    const lastAt = new Map<string, number>();
    for (const list of rx) {
      for (const r of list) {
        const rec = records.get(r.id);
        if (!rec) continue;
        oneWayMs.push(r.atMs - rec.sentAtMs);
        lastAt.set(r.id, Math.max(lastAt.get(r.id) ?? -Infinity, r.atMs));
      }
    }
    const allReceivedMs: number[] = [];
    for (const [id, rec] of records) {
      const count = rx.reduce((n, list) => n + list.filter((r) => r.id === id).length, 0);
      if (count >= pages.length - 1) allReceivedMs.push((lastAt.get(id) as number) - rec.sentAtMs);
    }
    const ackRoundTripMs = [...records.values()].flatMap((r) => Object.values(r.deliveries));
    return {
      room,
      tabs: pages.length,
      broadcasts: cfg.broadcasts,
      measuredRecords: records.size,
      expectedDeliveries: cfg.broadcasts * (pages.length - 1),
      delivered: oneWayMs.length,
      acked: ackRoundTripMs.length,
      oneWayMs,
      allReceivedMs,
      ackRoundTripMs,
      senders: order,
      scheduleSlipMs: slip,
    };
  } finally {
    await closeQuietly(context);
  }
}

// ---- 3. data-channel throughput -----------------------------------------------------------------

interface ThroughputSample {
  /** -1 for the warm-up transfer on the fresh link. */
  run: number;
  kind: ChannelKind;
  label: string;
  size: number;
  sent: number;
  received: number;
  bytes: number;
  /** From the sender's first send until the last message arrived. */
  elapsedMs: number;
  /** The sender's loop alone (queueing included). */
  sendLoopMs: number;
  mbPerS: number;
  msgsPerS: number;
  complete: boolean;
  senderTimedOut: boolean;
}

async function openBenchPair(env: BenchEnv, pages: readonly [Page, Page]): Promise<void> {
  const [a, b] = pages;
  await Promise.all(pages.map((p) => p.goto(`${env.httpUrl}/bench.html`, { waitUntil: 'domcontentloaded' })));
  await Promise.all(pages.map((p) => p.waitForFunction(() => window.aegisBench !== undefined, undefined, { timeout: 20_000 })));
  // Aegis transport: WebRtcNetwork over the signaling server, trickle ICE, simple-peer.
  const room = freshRoom('bench-xfer');
  await Promise.all(pages.map((p) => p.evaluate((r) => window.aegisBench?.startAegis(r, 10_000), room)));
  const bId = await b.evaluate(() => window.aegisBench?.id() ?? '');
  await Promise.all([
    a.evaluate((id) => window.aegisBench?.dialAegis(id, 15_000), bId),
    b.evaluate(() => window.aegisBench?.acceptAegis(15_000)),
  ]);
  // Raw baseline: a bare RTCPeerConnection; SDP passed through this driver, non-trickle ICE.
  const offer = await a.evaluate(() => window.aegisBench?.rawOffer(5_000));
  if (!offer) throw new Error('no raw offer');
  const answer = await b.evaluate((sdp) => window.aegisBench?.rawAnswer(sdp, 5_000), offer);
  if (!answer) throw new Error('no raw answer');
  await a.evaluate((sdp) => window.aegisBench?.rawComplete(sdp), answer);
  await Promise.all(pages.map((p) => p.evaluate(() => window.aegisBench?.waitRawOpen(10_000))));
}

async function transfer(
  pages: readonly [Page, Page],
  kind: ChannelKind,
  c: ThroughputCase,
  cfg: NetworkConfig['throughput'],
  run: number,
): Promise<ThroughputSample> {
  const [sender, receiver] = pages;
  await receiver.evaluate((k) => window.aegisBench?.arm(k), kind);
  const opts = { count: c.count, size: c.size, timeLimitMs: cfg.timeLimitMs, highWaterBytes: cfg.highWaterBytes };
  const sent = await sender.evaluate(([k, o]) => window.aegisBench?.send(k, o), [kind, opts] as const);
  if (!sent) throw new Error('bench page gone');
  const recv = await receiver.evaluate(([k, n]) => window.aegisBench?.collect(k, n, 10_000), [kind, sent.sent] as const);
  if (!recv) throw new Error('bench page gone');
  const elapsedMs = (recv.lastAtMs ?? Number.NaN) - sent.startAtMs;
  return {
    run,
    kind,
    label: c.label,
    size: c.size,
    sent: sent.sent,
    received: recv.count,
    bytes: recv.bytes,
    elapsedMs,
    sendLoopMs: sent.endAtMs - sent.startAtMs,
    mbPerS: recv.bytes / elapsedMs / 1000,
    msgsPerS: (recv.count / elapsedMs) * 1000,
    complete: recv.complete,
    senderTimedOut: sent.timedOut,
  };
}

async function throughputRuns(env: BenchEnv, cfg: NetworkConfig['throughput']): Promise<ThroughputSample[]> {
  const context = await newBenchContext(env.browser);
  try {
    const [a, b] = await newPages(context, 2);
    const pages = [a as Page, b as Page] as const;
    await openBenchPair(env, pages);
    const samples: ThroughputSample[] = [];
    // A fresh SCTP association is much slower for its first megabytes (see the suite's notes):
    // warm both paths up first, and keep those transfers as the cold-start figures.
    for (const kind of ['aegis', 'raw'] as const) {
      for (const c of cfg.warmup) {
        const s = await transfer(pages, kind, c, cfg, -1);
        env.log(`  warm-up ${c.label} ${kind}: ${s.mbPerS.toFixed(1)} MB/s, ${Math.round(s.msgsPerS)} msg/s`);
        samples.push(s);
        await sleep(cfg.pauseMs);
      }
    }
    for (let run = 0; run < cfg.runs; run++) {
      for (const c of cfg.cases) {
        // Alternate which path goes first, so neither always runs on a warmer tab.
        const kinds: ChannelKind[] = run % 2 === 0 ? ['aegis', 'raw'] : ['raw', 'aegis'];
        for (const kind of kinds) {
          const s = await transfer(pages, kind, c, cfg, run);
          env.log(`  throughput run ${run + 1} ${c.label} ${kind}: ${s.mbPerS.toFixed(1)} MB/s, ${Math.round(s.msgsPerS)} msg/s${s.complete ? '' : ' (incomplete)'}`);
          samples.push(s);
          await sleep(cfg.pauseMs);
        }
      }
    }
    await Promise.all(pages.map((p) => p.evaluate(() => window.aegisBench?.close())));
    return samples;
  } finally {
    await closeQuietly(context);
  }
}

// ---- 4. signed-envelope throughput --------------------------------------------------------------

interface SignedSample {
  /** -1 for the warm-up pass on the fresh link. */
  run: number;
  label: string;
  bodyBytes: number;
  envelopeBytes: number;
  sent: number;
  received: number;
  /** Sender: signing + encoding + queueing only. */
  sendPerS: number;
  /** Receiver: envelopes delivered to the handler per second, from the first send. */
  receivedPerS: number;
  mbPerS: number;
  elapsedMs: number;
  complete: boolean;
}

async function signedRuns(env: BenchEnv, cfg: NetworkConfig['signed'], formationCfg: NetworkConfig['formation']): Promise<SignedSample[]> {
  const context = await newBenchContext(env.browser);
  try {
    const pages = await newPages(context, 2);
    const [a, b] = pages as [Page, Page];
    const t0 = await openAppTabs(env, pages, freshRoom('bench-signed'));
    await waitFormed(pages, t0, formationCfg.timeoutMs, formationCfg.pollMs);
    // Receiver hook: counts envelopes carrying the marker. The marker (text length 0xffffffff) makes
    // the node's own test-message handler reject the body, so no acks flow back during the run.
    await b.evaluate((type) => {
      const sink = { count: 0, bytes: 0, lastAtMs: 0 };
      (window as unknown as { __benchSigned: typeof sink }).__benchSigned = sink;
      window.__aegis?.node.onMessage(type, (env) => {
        const m = env.body;
        if (m[16] !== 0xff || m[17] !== 0xff || m[18] !== 0xff || m[19] !== 0xff) return;
        sink.count++;
        sink.bytes += env.bytes.length;
        sink.lastAtMs = performance.timeOrigin + performance.now();
      });
    }, MessageType.TestBroadcast);
    const samples: SignedSample[] = [];
    for (let run = -1; run < cfg.runs; run++) {
      for (const full of cfg.cases) {
        const c = run < 0 ? { ...full, count: Math.max(1, Math.round(full.count * cfg.warmupFraction)) } : full;
        await b.evaluate(() => {
          const s = (window as unknown as { __benchSigned: { count: number; bytes: number; lastAtMs: number } }).__benchSigned;
          s.count = 0;
          s.bytes = 0;
          s.lastAtMs = 0;
        });
        const sent = await a.evaluate(
          async ([type, size, count, limitMs]) => {
            const node = window.__aegis?.node;
            if (!node) throw new Error('no node');
            const body = new Uint8Array(size);
            body.fill(0xff, 16, 20);
            const startAtMs = performance.timeOrigin + performance.now();
            let n = 0;
            let envelopeBytes = 0;
            // One at a time: sequences stay in order, as a real sender's would.
            while (n < count && performance.timeOrigin + performance.now() - startAtMs < limitMs) {
              crypto.getRandomValues(body.subarray(0, 16));
              envelopeBytes = (await node.broadcast(type, body)).bytes.length;
              n++;
            }
            return { sent: n, startAtMs, endAtMs: performance.timeOrigin + performance.now(), envelopeBytes };
          },
          [MessageType.TestBroadcast, c.bodyBytes, c.count, cfg.timeLimitMs] as const,
        );
        const waitUntil = Date.now() + cfg.timeLimitMs;
        let got = { count: 0, bytes: 0, lastAtMs: 0 };
        for (;;) {
          got = await b.evaluate(() => ({ ...(window as unknown as { __benchSigned: { count: number; bytes: number; lastAtMs: number } }).__benchSigned }));
          if (got.count >= sent.sent || Date.now() > waitUntil) break;
          await sleep(50);
        }
        const elapsedMs = got.lastAtMs - sent.startAtMs;
        const s: SignedSample = {
          run,
          label: c.label,
          bodyBytes: c.bodyBytes,
          envelopeBytes: sent.envelopeBytes,
          sent: sent.sent,
          received: got.count,
          sendPerS: (sent.sent / (sent.endAtMs - sent.startAtMs)) * 1000,
          receivedPerS: (got.count / elapsedMs) * 1000,
          mbPerS: got.bytes / elapsedMs / 1000,
          elapsedMs,
          complete: got.count >= sent.sent,
        };
        env.log(`  signed ${run < 0 ? 'warm-up' : `run ${run + 1}`} ${c.label}: sent ${Math.round(s.sendPerS)}/s, received ${Math.round(s.receivedPerS)}/s${s.complete ? '' : ' (incomplete)'}`);
        samples.push(s);
        await sleep(300);
      }
    }
    return samples;
  } finally {
    await closeQuietly(context);
  }
}

// ---- the suite ----------------------------------------------------------------------------------

function r(s: Summary, digits = 1): Record<keyof Summary, number | null> {
  return { n: s.n, min: round(s.min, digits), p50: round(s.p50, digits), p99: round(s.p99, digits), max: round(s.max, digits), mean: round(s.mean, digits) };
}

function secs(ms: number): string {
  return formatNumber(ms / 1000, 2);
}

async function run(env: BenchEnv): Promise<SuiteReport> {
  const cfg = networkConfig(env.quick);
  const tables: SuiteReport['tables'] = [];
  const notes: string[] = [];

  // 1. formation
  env.log('network: formation');
  const formation: FormationSample[] = [];
  for (const tabs of cfg.formation.tabs) {
    for (let i = 0; i < cfg.formation.runs; i++) {
      const s = await formationRun(env, cfg.formation, tabs, i);
      const degrees = `degrees ${Math.min(...s.degrees)}–${Math.max(...s.degrees)}`;
      env.log(
        s.formed
          ? `  ${tabs} tabs run ${i + 1}: ${s.exactMs} ms (poll saw ${s.observedMs} ms), ${degrees}`
          : `  ${tabs} tabs run ${i + 1}: NOT FORMED within ${cfg.formation.timeoutMs} ms, ${degrees} [${s.degrees.join(' ')}]`,
      );
      formation.push(s);
    }
  }
  const formationSummary = cfg.formation.tabs.map((tabs) => {
    const runs = formation.filter((s) => s.tabs === tabs);
    const formed = runs.filter((s) => s.formed);
    const exact = formed.map((s) => s.exactMs as number);
    const nodeMs = runs.flatMap((s) => s.nodeFormationMs.filter((x): x is number => x !== null));
    const degrees = runs.flatMap((s) => s.degrees);
    return {
      tabs,
      overlay: runs[0]?.overlay ?? 'full-mesh',
      requiredDegree: requiredDegree(tabs),
      runs: runs.length,
      formedRuns: formed.length,
      medianMs: median(exact),
      minMs: exact.length ? Math.min(...exact) : Number.NaN,
      maxMs: exact.length ? Math.max(...exact) : Number.NaN,
      observedMedianMs: median(formed.map((s) => s.observedMs as number)),
      nodeFormationMedianMs: median(nodeMs),
      nodeFormationMaxMs: nodeMs.length ? Math.max(...nodeMs) : Number.NaN,
      nodesWithoutFormation: runs.reduce((n, s) => n + s.nodeFormationMs.filter((x) => x === null).length, 0),
      nodeStartOffsetMedianMs: median(runs.flatMap((s) => s.nodeStartOffsetMs)),
      degreeRange: [Math.min(...degrees), Math.max(...degrees)],
      allGraphsConnected: runs.every((s) => s.graphConnected),
    };
  });
  tables.push({
    title: 'Mesh formation (navigation start → every tab at its degree, links authenticated)',
    markdown: markdownTable(
      ['tabs', 'overlay', '>formed', '>median s', '>min–max s', '>node formationMs p50', '>node start p50', '>degree'],
      formationSummary.map((f) => [
        String(f.tabs),
        f.overlay === 'full-mesh' ? `full mesh (${f.requiredDegree} peers)` : `partial (≥ ${f.requiredDegree} peers)`,
        `${f.formedRuns}/${f.runs}`,
        f.formedRuns ? secs(f.medianMs) : `> ${secs(cfg.formation.timeoutMs)}`,
        f.formedRuns ? `${secs(f.minMs)}–${secs(f.maxMs)}` : '—',
        `${formatNumber(f.nodeFormationMedianMs, 0)} ms`,
        `${formatNumber(f.nodeStartOffsetMedianMs, 0)} ms`,
        f.degreeRange[0] === f.degreeRange[1] ? String(f.degreeRange[0]) : `${f.degreeRange[0]}–${f.degreeRange[1]}`,
      ]),
    ),
  });
  const partial = formationSummary.filter((f) => f.overlay === 'partial-mesh');
  if (partial.length > 0) {
    notes.push(
      `Rooms above ${DEFAULT_OVERLAY.fullMeshMax} nodes are not full meshes (overlay policy: D=${DEFAULT_OVERLAY.degree}, ` +
        `D_low=${DEFAULT_OVERLAY.degreeLow}, D_high=${DEFAULT_OVERLAY.degreeHigh}); for them "formed" means every tab has ≥ D_low ` +
        `authenticated links (the node's own formationMs criterion). Graphs connected: ${partial.every((f) => f.allGraphsConnected) ? 'yes' : 'NO'}.`,
    );
  }
  for (const f of formationSummary) {
    if (f.formedRuns < f.runs) {
      notes.push(
        `${f.tabs} tabs: ${f.runs - f.formedRuns} of ${f.runs} runs did not form within ${secs(cfg.formation.timeoutMs)} s ` +
          `(${f.nodesWithoutFormation} nodes never reached their target; per-tab peer states are in the JSON samples' degrees).`,
      );
    }
  }

  // 2. gossip
  env.log('network: gossip latency');
  const gossip = await gossipRun(env, cfg.gossip, cfg.formation);
  const oneWay = summarize(gossip.oneWayMs);
  const allRx = summarize(gossip.allReceivedMs);
  const ack = summarize(gossip.ackRoundTripMs);
  tables.push({
    title: `Gossip in a full mesh of ${gossip.tabs} tabs: ${gossip.broadcasts} test broadcasts, one every ${cfg.gossip.spacingMs} ms, rotating senders`,
    markdown: markdownTable(
      ['metric', '>samples', '>p50 ms', '>p99 ms', '>max ms'],
      [
        ['one-way delivery (sentAtMs → receiver atMs)', `${gossip.delivered}/${gossip.expectedDeliveries}`, oneWay.p50, oneWay.p99, oneWay.max],
        ['until the last receiver has it', `${gossip.allReceivedMs.length}/${gossip.broadcasts}`, allRx.p50, allRx.p99, allRx.max],
        ['ack round trip (send → signed ack back)', `${gossip.acked}/${gossip.expectedDeliveries}`, ack.p50, ack.p99, ack.max],
      ],
    ),
  });
  if (gossip.measuredRecords < gossip.broadcasts) {
    notes.push(`Only ${gossip.measuredRecords}/${gossip.broadcasts} send records were still in the senders' snapshots (each node keeps 20).`);
  }

  // 3. throughput
  env.log('network: data-channel throughput');
  const throughput = await throughputRuns(env, cfg.throughput);
  const measured = throughput.filter((s) => s.run >= 0);
  const throughputSummary = cfg.throughput.cases.map((c) => {
    const of = (kind: ChannelKind): ThroughputSample[] => measured.filter((s) => s.label === c.label && s.kind === kind);
    const aegis = of('aegis');
    const raw = of('raw');
    const sum = (xs: ThroughputSample[]) => ({
      runs: xs.length,
      mbPerS: median(xs.map((s) => s.mbPerS)),
      msgsPerS: median(xs.map((s) => s.msgsPerS)),
      minMbPerS: Math.min(...xs.map((s) => s.mbPerS)),
      maxMbPerS: Math.max(...xs.map((s) => s.mbPerS)),
      allComplete: xs.every((s) => s.complete && !s.senderTimedOut),
    });
    const A = sum(aegis);
    const R = sum(raw);
    // The two paths of one run ran back to back: their ratio is less exposed to the machine's drift.
    const perRunRatios = aegis.map((a) => a.mbPerS / (raw.find((x) => x.run === a.run)?.mbPerS ?? Number.NaN));
    return {
      label: c.label,
      size: c.size,
      count: c.count,
      aegis: A,
      raw: R,
      ratio: A.mbPerS / R.mbPerS,
      perRunRatios,
      medianPerRunRatio: median(perRunRatios),
    };
  });
  const cold = cfg.throughput.warmup.map((c) => {
    const pick = (kind: ChannelKind) => throughput.find((s) => s.run < 0 && s.kind === kind && s.label === c.label);
    return { label: c.label, size: c.size, count: c.count, aegis: pick('aegis') ?? null, raw: pick('raw') ?? null };
  });
  tables.push({
    title: `Data channel between two tabs (median of ${cfg.throughput.runs}; sender pauses above ${cfg.throughput.highWaterBytes / MiB} MiB buffered)`,
    markdown: markdownTable(
      ['message', 'path', '>MB/s', '>min–max MB/s', '>msg/s', '>aegis/raw', '>per-run ratio p50'],
      throughputSummary.flatMap((t) => [
        [
          `${t.label} × ${t.count.toLocaleString('en-US')}`,
          'raw RTCDataChannel',
          t.raw.mbPerS,
          `${formatNumber(t.raw.minMbPerS)}–${formatNumber(t.raw.maxMbPerS)}`,
          formatNumber(t.raw.msgsPerS, 0),
          '1.00',
          '',
        ],
        [
          '',
          'Aegis WebRtcNetwork link',
          t.aegis.mbPerS,
          `${formatNumber(t.aegis.minMbPerS)}–${formatNumber(t.aegis.maxMbPerS)}`,
          formatNumber(t.aegis.msgsPerS, 0),
          formatNumber(t.ratio, 2),
          formatNumber(t.medianPerRunRatio, 2),
        ],
      ]),
    ),
  });
  if (measured.some((s) => !s.complete || s.senderTimedOut)) notes.push('Some throughput runs hit their time bound; their rates count what arrived.');
  notes.push(
    `Cold start (first transfer on each fresh link, not in the medians): ` +
      cold
        .map((c) => `${c.label} × ${c.count.toLocaleString('en-US')}: Aegis ${formatNumber(c.aegis?.mbPerS)} MB/s, raw ${formatNumber(c.raw?.mbPerS)} MB/s`)
        .join('; ') +
      '.',
  );

  // 4. signed envelopes
  env.log('network: signed-envelope throughput');
  const signed = await signedRuns(env, cfg.signed, cfg.formation);
  const raw200 = throughputSummary.find((t) => t.size === 200)?.raw.msgsPerS ?? Number.NaN;
  const raw16k = throughputSummary.find((t) => t.size === 16 * 1024)?.raw.msgsPerS ?? Number.NaN;
  const signedSummary = cfg.signed.cases.map((c) => {
    const xs = signed.filter((s) => s.run >= 0 && s.label === c.label);
    const receivedPerS = median(xs.map((s) => s.receivedPerS));
    const rawMsgs = c.bodyBytes <= 200 ? raw200 : raw16k;
    return {
      label: c.label,
      bodyBytes: c.bodyBytes,
      envelopeBytes: xs[0]?.envelopeBytes ?? 0,
      count: c.count,
      runs: xs.length,
      sendPerS: median(xs.map((s) => s.sendPerS)),
      receivedPerS,
      mbPerS: median(xs.map((s) => s.mbPerS)),
      rawMsgsPerS: rawMsgs,
      ratioVsRaw: receivedPerS / rawMsgs,
      allComplete: xs.every((s) => s.complete),
    };
  });
  tables.push({
    title: 'Signed envelopes between two full nodes (sign → gossip frame → link → verify → handler; dashboards running)',
    markdown: markdownTable(
      ['body', '>envelope B', '>sent/s', '>received/s', '>MB/s', '>raw msg/s (same size class)', '>signed/raw'],
      signedSummary.map((s) => [
        `${s.label} × ${s.count.toLocaleString('en-US')}`,
        String(s.envelopeBytes),
        formatNumber(s.sendPerS, 0),
        formatNumber(s.receivedPerS, 0),
        s.mbPerS,
        formatNumber(s.rawMsgsPerS, 0),
        formatNumber(s.ratioVsRaw, 3),
      ]),
    ),
  });

  return {
    suite: 'network',
    data: {
      config: cfg,
      formation: { summary: formationSummary, samples: formation },
      gossip: {
        summary: { oneWayMs: r(oneWay), allReceivedMs: r(allRx), ackRoundTripMs: r(ack), delivered: gossip.delivered, expected: gossip.expectedDeliveries },
        samples: gossip,
      },
      throughput: { summary: throughputSummary, coldStart: cold, samples: throughput, units: { mbPerS: '10^6 bytes per second of message payload' } },
      signed: { summary: signedSummary, samples: signed },
    },
    tables,
    notes,
  };
}

export const networkSuite: Suite = { name: 'network', run };
