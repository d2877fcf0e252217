// Consensus simulator: N validators running the real ConsensusDriver + Tendermint state machine on an
// in-process bus in virtual time (virtual-clock.ts), seeded (seeded-random.ts). One-way delay fixed or
// uniform in [delay, delay + jitter); partitions hold cross-group messages until they heal (messages
// are eventually delivered, the partial-synchrony model the algorithm assumes); crashed nodes stop.
// Byzantine nodes run the honest code, but their outgoing messages are rewritten by a strategy:
//   silent      withhold everything
//   equivocate  every vote is double-signed: half the honest nodes get the original first and a
//               conflicting vote (nil ↔ a block) later, the other half the reverse order, so views split
//               and every honest node ends up holding the two signed votes (evidence)
//   conflict    as proposer, send one block to half the honest nodes and another to the other half;
//               each gets the other one a delay later (what gossip relays do in a real network), so
//               every honest node holds two signed proposals for the round (duplicate-proposal evidence)
//   fork        conflict + equivocate, coordinated: votes for block X to half A first, for Y to B first
//               (with ≥ 1/3 of the power and a partition this breaks safety — and it is detected)
//   flood       equivocate past the vote cap: with every vote, MAX_TARGETS_PER_VALIDATOR + 1 votes for
//               made-up blocks; half the honest nodes get the flood first and the real vote later, so
//               the real one arrives past the cap there
// All async work (noble Ed25519, the app) resolves in microtasks, so after each timer one macrotask
// drains it and runs are reproducible from the seed.
import { bytesEqual, bytesToHex, concatBytes, utf8ToBytes } from '../core/bytes.ts';
import type { Clock } from '../core/clock.ts';
import { nobleEd25519, type Signer, type Verifier } from '../core/crypto/ed25519.ts';
import { domainTag, sha256 } from '../core/crypto/hash.ts';
import { nodeIdFromPublicKey, type NodeId } from '../core/crypto/node-id.ts';
import { MessageType } from '../core/net/message-types.ts';
import {
  ConsensusDriver,
  type BatchVerifier,
  type ConsensusTransport,
  type DriverCounter,
  type ForkAlarm,
} from '../core/consensus/consensus-driver.ts';
import { decodeProposalMessage, encodeProposalMessage } from '../core/consensus/consensus-messages.ts';
import { proposalSignBytes, voteSignBytes } from '../core/consensus/sign-bytes.ts';
import { DEFAULT_TIMEOUTS, type TimeoutParams } from '../core/consensus/tendermint.ts';
import type { ConsensusApp, EngineEvidence, QuorumCertificate, Validator, ValidatorSet } from '../core/consensus/types.ts';
import { makeValidatorSet } from '../core/consensus/validator-set.ts';
import { decodeVote, encodeVote } from '../core/consensus/vote-codec.ts';
import { MAX_TARGETS_PER_VALIDATOR } from '../core/consensus/vote-set.ts';
import { nextMacrotask } from './sim-crypto.ts';
import { SeededRandom } from './seeded-random.ts';
import { TestChainApp } from './consensus-test-app.ts';
import { InFlightTimer } from '../core/in-flight-timer.ts';
import { VirtualClock } from './virtual-clock.ts';

export type ByzantineStrategy = 'equivocate' | 'silent' | 'conflict' | 'fork' | 'flood';
export const BYZANTINE_STRATEGIES: readonly ByzantineStrategy[] = ['equivocate', 'silent', 'conflict', 'fork', 'flood'];

/** The application under simulation; the sim also needs an evidence pool and a second block for a height. */
export interface SimChainApp extends ConsensusApp {
  addEvidence(e: EngineEvidence): void;
  variantBlock(height: number, round: number): Promise<Uint8Array>;
  /** Final per-validator figures for the report (stake and reputation where the app has them). */
  validatorReport(): { id: string; power: number; stake?: number; reputation?: number; jailed: boolean }[];
  /** Evidence committed so far, in commit order. */
  committedEvidence(): readonly EngineEvidence[];
  /** Height of the first block (default 0; the chain application starts at 1, genesis being 0). */
  readonly firstHeight?: number;
}

export interface SimAppContext {
  genesis: ValidatorSet;
  chainId: string;
  verifier: Verifier;
  nodeIndex: number;
}

export interface ConsensusSimOptions {
  validators: number;
  seed: number;
  /** Stop once every live honest node committed this many heights (0 .. heights−1). */
  heights: number;
  /** Keep running past `heights` until every live honest node committed this much evidence. */
  minEvidence?: number;
  /** Keep running until every live honest node committed `heights` blocks after `atMs` (liveness after a heal). */
  commitsAfter?: { atMs: number; heights: number };
  /** Default: seeded uniform integers in 1..100. */
  powers?: readonly number[];
  byzantine?: readonly number[];
  strategy?: ByzantineStrategy;
  /** One-way delay in virtual ms (default 50) plus uniform jitter in [0, jitterMs). */
  delayMs?: number;
  jitterMs?: number;
  /** Extra one-way delay on everything these nodes send (a slower phone, a loaded tab). */
  slowSenders?: readonly { node: number; extraMs: number }[];
  /**
   * Extra one-way delay chosen per message (default none): schedules aimed at one rule, such as
   * votes held back from some nodes so that some lock and others do not (sim-locking.test.ts).
   */
  extraDelayMs?: (m: { from: number; to: number; type: number; body: Uint8Array }) => number;
  /**
   * The proposer of round 0 waits until this long after its last commit before proposing
   * (timeout_commit, as ConsensusService's commitTimeoutMs); default 0, propose at once.
   */
  commitWaitMs?: number;
  /** 'fast' is a keyed-hash stand-in for Ed25519 (test speed only); default 'ed25519' (noble). */
  crypto?: 'ed25519' | 'fast';
  /** Share verification verdicts across nodes (default true): wall time only, no outcome changes. */
  verifyCache?: boolean;
  /** Charge each node virtual time for its signing/verification (ms per operation); default none. */
  cpuCost?: { signMs: number; verifyMs: number };
  timeouts?: TimeoutParams;
  /** Cross-group messages are held from atMs until healAtMs. Nodes in no group reach everyone. */
  partitions?: readonly { atMs: number; healAtMs: number; groups: readonly (readonly number[])[] }[];
  crashes?: readonly { node: number; atMs: number }[];
  maxVirtualMs?: number;
  /** Keep running past `heights` until every live honest node raised this many fork alarms (default 0). */
  minForkAlarms?: number;
  /** Decided blocks each driver keeps for lagging peers (default 1024: long partitions in tests). */
  recentCommits?: number;
  chainId?: string;
  /** Builds each node's application (default TestChainApp). */
  makeApp?: (ctx: SimAppContext) => SimChainApp;
  wallMs?: () => number;
}

export interface SimNodeReport {
  index: number;
  id: NodeId;
  byzantine: boolean;
  crashed: boolean;
  power: number;
  /** Hex block hash committed at each height, in order (index 0 = the app's first height). */
  committed: string[];
  /** Virtual time of each commit. */
  commitAtMs: number[];
  qcs: QuorumCertificate[];
  /** Fork alarms this node's driver raised (another valid commit for a height it decided). */
  forks: ForkAlarm[];
  counters: Partial<Record<DriverCounter, number>>;
  /** Virtual time with one of this node's signature batches in flight (a union of intervals). */
  verifyBusyMs: number;
}

export interface ConsensusSimResult {
  chainId: string;
  nodes: SimNodeReport[];
  genesis: ValidatorSet;
  byzantinePower: number;
  totalPower: number;
  virtualMs: number;
  /** Heights at which two honest nodes committed different blocks. */
  safetyViolations: number[];
  /** Per honest node, its app's final validator figures. */
  validators: ReturnType<SimChainApp['validatorReport']>[];
  evidence: ReturnType<SimChainApp['committedEvidence']>[];
  signCount: number;
  verifyCount: number;
  /** Wall time with any real (uncached) signature check in flight, given `wallMs`. */
  verifyWallMs: number;
}

// ---- fast stand-in signatures ----

const FAST_TAG = domainTag('aegis/sim/fast-signature/v1');

/**
 * Keyed-hash signatures for property tests: sign = SHA-256(secret ‖ msg) ‖ 32 zero bytes, checked
 * against a registry of the simulated nodes' secrets. Unforgeable only by convention (no Byzantine
 * strategy forges); ~100× faster than Ed25519 so hundreds of schedules fit in CI.
 */
export class FastSignatures implements Verifier {
  private readonly secrets = new Map<string, Uint8Array>();

  signer(secret: Uint8Array): Signer {
    const publicKey = sha256(concatBytes(FAST_TAG, secret));
    this.secrets.set(bytesToHex(publicKey), secret);
    return { publicKey, sign: async (m) => this.mac(secret, m) };
  }

  private mac(secret: Uint8Array, m: Uint8Array): Uint8Array {
    const sig = new Uint8Array(64);
    sig.set(sha256(concatBytes(secret, m)));
    return sig;
  }

  async verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
    const secret = this.secrets.get(bytesToHex(publicKey));
    return secret !== undefined && bytesEqual(this.mac(secret, message), signature);
  }
}

class VerifyCache implements Verifier {
  private readonly verdicts = new Map<string, boolean>();
  uncachedCount = 0;
  /** Wall time with any uncached check in flight (checks overlap under Promise.all). */
  private readonly wall: InFlightTimer | null;

  constructor(
    private readonly inner: Verifier,
    private readonly enabled: boolean,
    wallMs: (() => number) | undefined,
  ) {
    this.wall = wallMs ? new InFlightTimer(wallMs) : null;
  }

  get uncachedWallMs(): number {
    return this.wall?.busyMs ?? 0;
  }

  async verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
    const key = this.enabled ? bytesToHex(signature) + bytesToHex(publicKey) + bytesToHex(sha256(message)) : '';
    const hit = this.enabled ? this.verdicts.get(key) : undefined;
    if (hit !== undefined) return hit;
    const v = await (this.wall ? this.wall.time(() => this.inner.verify(publicKey, message, signature)) : this.inner.verify(publicKey, message, signature));
    this.uncachedCount++;
    if (this.enabled) {
      if (this.verdicts.size > 200_000) this.verdicts.clear();
      this.verdicts.set(key, v);
    }
    return v;
  }
}

// ---- the simulation ----

interface SimNode {
  index: number;
  id: NodeId;
  signer: Signer;
  driver: ConsensusDriver;
  app: SimChainApp;
  byzantine: boolean;
  crashed: boolean;
  report: SimNodeReport;
}

export async function runConsensusSim(o: ConsensusSimOptions): Promise<ConsensusSimResult> {
  const n = o.validators;
  if (!Number.isInteger(n) || n < 1) throw new Error('"validators" must be a positive integer');
  const rng = SeededRandom.fromSeed(o.seed);
  const chainId = o.chainId ?? `aegis-sim-${o.seed}`;
  const clock = new VirtualClock(0);
  const delayMs = o.delayMs ?? 50;
  const jitterMs = o.jitterMs ?? 0;
  const slowMs = new Map((o.slowSenders ?? []).map((s) => [s.node, s.extraMs]));
  const byz = new Set(o.byzantine ?? []);
  const strategy = o.strategy ?? 'equivocate';
  const crashedAt = new Map((o.crashes ?? []).map((c) => [c.node, c.atMs]));
  const maxVirtualMs = o.maxVirtualMs ?? 600_000;

  const fast = new FastSignatures();
  const baseVerifier: Verifier = o.crypto === 'fast' ? fast : nobleEd25519;
  const verifier = new VerifyCache(baseVerifier, o.verifyCache ?? true, o.wallMs);
  const keyRng = rng.fork('keys');
  const signers: Signer[] = [];
  for (let i = 0; i < n; i++) {
    const secret = keyRng.bytes(32);
    signers.push(o.crypto === 'fast' ? fast.signer(secret) : await nobleEd25519.signer(secret));
  }
  const powerRng = rng.fork('powers');
  const powers = o.powers ?? Array.from({ length: n }, () => 1 + powerRng.int(100));
  const validators: Validator[] = signers.map((s, i) => ({ id: nodeIdFromPublicKey(s.publicKey), publicKey: s.publicKey, power: powers[i] as number }));
  const genesis = makeValidatorSet(validators);
  const byzantinePower = validators.filter((_, i) => byz.has(i)).reduce((s, v) => s + v.power, 0);

  // Honest nodes split in two halves (by index parity among honest ones) for split-view strategies.
  const honest = validators.map((_, i) => i).filter((i) => !byz.has(i));
  const halfA = new Set(honest.filter((_, k) => k % 2 === 0));
  /** Per (height, round): the two blocks a forking proposer sent, so colluding voters match them. */
  const forkPairs = new Map<string, { a: Uint8Array; b: Uint8Array }>();
  const forkPairsPending = new Map<string, Promise<{ a: Uint8Array; b: Uint8Array }>>();

  const nodes: SimNode[] = [];
  const verifyTimers: InFlightTimer[] = [];
  const linkRng = rng.fork('links');
  const blocked = (from: number, to: number, atMs: number): number | null => {
    for (const p of o.partitions ?? []) {
      if (atMs < p.atMs || atMs >= p.healAtMs) continue;
      const gf = p.groups.findIndex((g) => g.includes(from));
      const gt = p.groups.findIndex((g) => g.includes(to));
      if (gf >= 0 && gt >= 0 && gf !== gt) return p.healAtMs;
    }
    return null;
  };
  const deliver = (from: number, to: number, type: number, body: Uint8Array, extraMs = 0): void => {
    const now = clock.now();
    const held = blocked(from, to, now);
    const chosen = o.extraDelayMs?.({ from, to, type, body }) ?? 0;
    const d = delayMs + (jitterMs > 0 ? linkRng.range(0, jitterMs) : 0) + extraMs + (slowMs.get(from) ?? 0) + chosen;
    const at = (held ?? now) + d;
    clock.setTimeout(() => {
      const target = nodes[to];
      if (target === undefined || target.crashed) return;
      const stillHeld = blocked(from, to, clock.now());
      if (stillHeld !== null) return deliver(from, to, type, body, 0);
      target.driver.receive(nodes[from]?.id ?? '', type, body);
    }, at - now);
  };

  const cpuDelay = (ms: number): Promise<void> =>
    ms <= 0 ? Promise.resolve() : new Promise((resolve) => void clock.setTimeout(resolve, ms));

  for (let i = 0; i < n; i++) {
    const signer0 = signers[i] as Signer;
    const signer: Signer = o.cpuCost
      ? { publicKey: signer0.publicKey, sign: async (m) => { const s = await signer0.sign(m); await cpuDelay(o.cpuCost?.signMs ?? 0); return s; } }
      : signer0;
    const verifying = new InFlightTimer(() => clock.now());
    verifyTimers.push(verifying);
    const batchVerifier: BatchVerifier = {
      verifyBatch: (checks) =>
        verifying.time(async () => {
          const out = await Promise.all(checks.map((c) => verifier.verify(c.publicKey, c.message, c.signature)));
          if (o.cpuCost) await cpuDelay(o.cpuCost.verifyMs * checks.length);
          return out;
        }),
    };
    const isByz = byz.has(i);
    const transport: ConsensusTransport = {
      broadcast: (type, body) => {
        for (let j = 0; j < n; j++) if (j !== i) send(i, j, type, body);
      },
      send: (to, type, body) => {
        const j = nodes.findIndex((x) => x.id === to);
        if (j >= 0) send(i, j, type, body);
      },
    };
    const app: SimChainApp = (o.makeApp ?? ((ctx) => new TestChainAppAdapter(ctx)))({ genesis, chainId, verifier, nodeIndex: i });
    const report: SimNodeReport = {
      index: i,
      id: validators[i]?.id ?? '',
      byzantine: isByz,
      crashed: false,
      power: powers[i] as number,
      committed: [],
      commitAtMs: [],
      qcs: [],
      forks: [],
      counters: {},
      verifyBusyMs: 0,
    };
    let lastCommitAtMs = 0;
    const driver = new ConsensusDriver({
      chainId,
      app: withCommitWait(app, clock, o.commitWaitMs ?? 0, () => lastCommitAtMs),
      signer,
      verifier,
      batchVerifier,
      clock: clock as Clock,
      transport,
      timeouts: o.timeouts ?? DEFAULT_TIMEOUTS,
      recentCommits: o.recentCommits ?? 1024,
      onEvidence: (e) => app.addEvidence(e),
      onFork: (a) => report.forks.push(a),
      onCommitted: (h, hash, qc) => {
        const k = h - (app.firstHeight ?? 0);
        report.committed[k] = bytesToHex(hash);
        report.commitAtMs[k] = clock.now();
        report.qcs[k] = qc;
        lastCommitAtMs = clock.now();
      },
      ...(o.wallMs ? { wallMs: o.wallMs } : {}),
    });
    nodes.push({ index: i, id: report.id, signer: signer0, driver, app, byzantine: isByz, crashed: false, report });
  }

  /** Outgoing messages pass through the sender's strategy when it is Byzantine. */
  function send(from: number, to: number, type: number, body: Uint8Array): void {
    const node = nodes[from] as SimNode;
    if (!node.byzantine) return deliver(from, to, type, body);
    if (strategy === 'silent') return;
    const toA = halfA.has(to);
    if (type === MessageType.ConsensusProposal && (strategy === 'conflict' || strategy === 'fork')) {
      void forkProposal(node, to, body, toA);
      return;
    }
    if (type === MessageType.ConsensusVote && (strategy === 'equivocate' || strategy === 'fork')) {
      void equivocateVote(node, to, body, toA);
      return;
    }
    if (type === MessageType.ConsensusVote && strategy === 'flood') {
      void floodVote(node, to, body, toA);
      return;
    }
    deliver(from, to, type, body);
  }

  async function forkProposal(node: SimNode, to: number, body: Uint8Array, toA: boolean): Promise<void> {
    const d = decodeProposalMessage(body);
    if (!d.ok) return;
    const p = d.value.proposal;
    const k = `${p.height}/${p.round}`;
    // One variant per (height, round), however many recipients ask concurrently.
    let pending = forkPairsPending.get(k);
    if (pending === undefined) {
      pending = node.app.variantBlock(p.height, p.round).then((b) => {
        const made = { a: d.value.block, b };
        forkPairs.set(k, made);
        return made;
      });
      forkPairsPending.set(k, pending);
    }
    const pair = await pending;
    // 'fork' keeps each half on its own block; 'conflict' lets the other one follow, as relays would.
    const blocks = toA ? [pair.a, pair.b] : [pair.b, pair.a];
    for (const [k, block] of blocks.slice(0, strategy === 'conflict' ? 2 : 1).entries()) {
      const blockHash = node.app.blockHash(block);
      const signature = await node.signer.sign(proposalSignBytes(chainId, p.height, p.round, p.polRound, blockHash));
      deliver(node.index, to, MessageType.ConsensusProposal, encodeProposalMessage({ proposal: { ...p, blockHash, signature }, block }), k * delayMs);
    }
  }

  async function equivocateVote(node: SimNode, to: number, body: Uint8Array, toA: boolean): Promise<void> {
    const d = decodeVote(body);
    if (!d.ok) return;
    const v = d.value;
    const pair = forkPairs.get(`${v.height}/${v.round}`);
    let first = v.blockHash;
    let second: Uint8Array | null;
    if (strategy === 'fork' && pair !== undefined) {
      const a = node.app.blockHash(pair.a);
      const b = node.app.blockHash(pair.b);
      first = toA ? a : b;
      second = toA ? b : a;
    } else {
      second = v.blockHash === null ? sha256(concatBytes(FAST_TAG, new Uint8Array([v.round]))) : null;
      if (!toA) [first, second] = [second, first];
    }
    for (const [k, h] of [first, second].entries()) {
      const signature = await node.signer.sign(voteSignBytes(chainId, v.type, v.height, v.round, h));
      // The second version trails by a delay, so each half counts a different one first.
      deliver(node.index, to, MessageType.ConsensusVote, encodeVote({ ...v, blockHash: h, signature }), k * delayMs);
    }
  }

  async function floodVote(node: SimNode, to: number, body: Uint8Array, toA: boolean): Promise<void> {
    const d = decodeVote(body);
    if (!d.ok) return;
    const v = d.value;
    // Half A: the real vote, then the flood; half B: the flood, then the real vote a delay later.
    deliver(node.index, to, MessageType.ConsensusVote, body, toA ? 0 : delayMs);
    for (let k = 0; k <= MAX_TARGETS_PER_VALIDATOR; k++) {
      const h = sha256(concatBytes(FAST_TAG, utf8ToBytes(`flood/${v.height}/${v.round}/${v.type}/${k}`)));
      const signature = await node.signer.sign(voteSignBytes(chainId, v.type, v.height, v.round, h));
      deliver(node.index, to, MessageType.ConsensusVote, encodeVote({ ...v, blockHash: h, signature }), toA ? delayMs : 0);
    }
  }

  for (const [node, atMs] of crashedAt)
    clock.setTimeout(() => {
      const x = nodes[node];
      if (x === undefined) return;
      x.crashed = true;
      x.report.crashed = true;
      x.driver.stop();
    }, atMs);

  for (const x of nodes) x.driver.start(x.app.firstHeight ?? 0);
  await nextMacrotask();
  const live = () => nodes.filter((x) => !x.byzantine && !x.crashed);
  const after = o.commitsAfter;
  const done = () =>
    live().every(
      (x) =>
        x.report.committed.length >= o.heights &&
        x.report.committed[o.heights - 1] !== undefined &&
        x.app.committedEvidence().length >= (o.minEvidence ?? 0) &&
        x.report.forks.length >= (o.minForkAlarms ?? 0) &&
        (after === undefined || x.report.commitAtMs.filter((t) => t > after.atMs).length >= after.heights),
    );
  while (!done() && clock.peek() !== undefined && (clock.peek() as number) <= maxVirtualMs) {
    clock.runNext();
    await nextMacrotask();
  }
  for (const x of nodes) x.driver.stop();

  const safetyViolations: number[] = [];
  const maxH = Math.max(0, ...nodes.map((x) => x.report.committed.length));
  for (let h = 0; h < maxH; h++) {
    const hashes = new Set(nodes.filter((x) => !x.byzantine).map((x) => x.report.committed[h]).filter((s) => s !== undefined));
    if (hashes.size > 1) safetyViolations.push(h);
  }
  for (const x of nodes) x.report.counters = Object.fromEntries(x.driver.counters) as SimNodeReport['counters'];
  for (const [i, x] of nodes.entries()) x.report.verifyBusyMs = verifyTimers[i]?.busyMs ?? 0;
  const honestNodes = nodes.filter((x) => !x.byzantine);
  return {
    chainId,
    nodes: nodes.map((x) => x.report),
    genesis,
    byzantinePower,
    totalPower: genesis.totalPower,
    virtualMs: clock.now(),
    safetyViolations,
    validators: honestNodes.map((x) => x.app.validatorReport()),
    evidence: honestNodes.map((x) => x.app.committedEvidence()),
    signCount: nodes.reduce((s, x) => s + x.driver.signCount, 0),
    verifyCount: verifier.uncachedCount,
    verifyWallMs: verifier.uncachedWallMs,
  };
}

/** The application as the driver sees it: round 0 proposed no sooner than waitMs after the last commit. */
function withCommitWait(app: SimChainApp, clock: VirtualClock, waitMs: number, lastCommitAtMs: () => number): ConsensusApp {
  if (waitMs <= 0) return app;
  const wrapped: ConsensusApp = {
    validatorSet: (h) => app.validatorSet(h),
    proposeBlock: async (h, r) => {
      const wait = r === 0 ? lastCommitAtMs() + waitMs - clock.now() : 0;
      if (wait > 0) await new Promise<void>((resolve) => void clock.setTimeout(resolve, wait));
      return app.proposeBlock(h, r);
    },
    validateBlock: (h, b, r) => app.validateBlock(h, b, r),
    blockHash: (b) => app.blockHash(b),
    commitBlock: (h, b, qc) => app.commitBlock(h, b, qc),
  };
  const extend = app.extendLastCommit;
  if (extend !== undefined) wrapped.extendLastCommit = (qc) => extend.call(app, qc);
  return wrapped;
}

/** TestChainApp behind the SimChainApp interface. */
export class TestChainAppAdapter extends TestChainApp implements SimChainApp {
  constructor(ctx: SimAppContext) {
    super(ctx.genesis, ctx.chainId, ctx.verifier);
  }

  validatorReport() {
    return [...this.powers.entries()]
      .map(([id, power]) => ({ id, power: this.jailed.has(id) ? 0 : power, jailed: this.jailed.has(id) }))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  committedEvidence(): readonly EngineEvidence[] {
    return this.committedEvidenceList;
  }
}
