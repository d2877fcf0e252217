// The ledger suite (issue 5, "Benchmark"), in Node (no browser needed):
//   - verifying a 10,000-entry exported log (a head every 100 entries) with `verifyExportedLog`,
//     beside verifying 10,000 raw Ed25519 signatures in the same run (goal ≤ 1.2× and < 1 s), and
//     the same log with every receipt checked in full (QCs through the export's genesis and
//     certificates) beside raw verifications of the same total signature count;
//   - proof sizes: inclusion and consistency proofs at 10^3 … 10^6 entries;
//   - bytes one node stores after R rounds in networks of N = 10, 100, 1000, beside a full replica
//     (every block and every masked input), from real encoded entries, tree nodes and heads. The
//     validator set is capped at genesis maxValidators (default 100), so a receipt's QC has at most
//     ⌊2·min(N, 100)/3⌋+1 signatures and its deciding set min(N, 100) entries.
// IndexedDB append throughput is measured in the browser, elsewhere.
//   npm run bench -- --suite ledger [--quick]      (or: npx tsx bench/ledger.ts [--quick])
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compactResult } from '../src/core/consensus/block.ts';
import { DEFAULT_PARAMS } from '../src/core/consensus/genesis.ts';
import { VoteType } from '../src/core/consensus/types.ts';
import type { Ed25519Backend } from '../src/core/crypto/ed25519.ts';
import { AuditLog } from '../src/core/ledger/audit-log.ts';
import { nodeIdFromPublicKey } from '../src/core/crypto/node-id.ts';
import { fromBase64 } from '../src/core/ledger/base64.ts';
import { decodeEntry, encodeEntry, type LogEntry } from '../src/core/ledger/entry.ts';
import { MemoryLogStorage } from '../src/core/ledger/storage.ts';
import { consistencyProofLength, inclusionProofLength } from '../src/core/ledger/tree.ts';
import { verifyExportedLog } from '../src/core/ledger/verify.ts';
import { detectEd25519Backend } from '../src/platform/webcrypto-ed25519.ts';
import { simulateAuditLog } from '../src/sim/audit-sim.ts';
import { SeededRandom } from '../src/sim/seeded-random.ts';
import { runStandalone } from './lib/standalone.ts';
import { median, round } from './lib/stats.ts';
import type { BenchEnv, Suite, SuiteReport } from './lib/suite.ts';
import { formatNumber, markdownTable } from './lib/table.ts';

const SELF = fileURLToPath(import.meta.url);
const LOG_ENTRIES = 10_000;
const HEAD_EVERY = 100;
/**
 * Validators of the simulated log's chain: a receipt's QC has ⌊2V/3⌋+1 signatures (11 here). The
 * simulator's default of 4 understates QC work; 16 keeps the quick run short on a shared machine
 * (100, genesis maxValidators, means ~6× as many signatures to sign and verify: not measured here).
 */
const SIM_VALIDATORS = 16;
const ROUNDS = 100;
/** Dimension of the aggregated vector in the storage model (uint32 words per masked input). */
const DIMENSION = 1000;
/** Peers whose heads a node records per round: its overlay neighbours (D = 8). */
const PEER_HEADS_PER_ROUND = 8;

async function timeMs(f: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await f();
  return performance.now() - t;
}

async function verifyBench(backend: Ed25519Backend, runs: number, log: (m: string) => void) {
  log(`ledger: simulating a ${LOG_ENTRIES}-entry log (head every ${HEAD_EVERY})`);
  const sim = await simulateAuditLog({ entries: LOG_ENTRIES, seed: 1, headEvery: HEAD_EVERY, backend, validators: SIM_VALIDATORS });
  // The log itself (no chain material: receipts' QCs unchecked) and the full export.
  const { genesis: _g, certificates: _c, ...bare } = sim.exported;
  const text = JSON.stringify(bare);
  const fullText = JSON.stringify(sim.exported);
  const signaturesInLog = sim.exported.heads.length + sim.kinds['peer-head'];
  const qcSignatures = sim.certificates.reduce((n, c) => n + c.qc.signatures.length, 0) + receiptQcSignatures(sim.exported);
  const signaturesWithQcs = signaturesInLog + qcSignatures;

  // The same number of raw signatures: distinct messages, one key per 100 (like many peers).
  const rng = SeededRandom.fromSeed(2);
  const signers = await Promise.all(Array.from({ length: 100 }, () => backend.signer(rng.bytes(32))));
  const raw = await Promise.all(
    Array.from({ length: Math.max(LOG_ENTRIES, signaturesWithQcs) }, async (_, i) => {
      const s = signers[i % signers.length]!;
      const message = rng.bytes(200);
      return { publicKey: s.publicKey, message, signature: await s.sign(message) };
    }),
  );

  const rawVerify = (n: number) => async () => {
    const ok = await Promise.all(raw.slice(0, n).map((x) => backend.verify(x.publicKey, x.message, x.signature)));
    if (!ok.every(Boolean)) throw new Error('raw signature failed');
  };
  const logMs: number[] = [];
  const rawMs: number[] = [];
  const fullMs: number[] = [];
  const rawFullMs: number[] = [];
  // Checks that reach the backend: identical ones (a receipt's QC that is also a certificate's) run once.
  let distinctSignatures = 0;
  const counting: Ed25519Backend = { ...backend, verify: (k, m, s) => (distinctSignatures++, backend.verify(k, m, s)) };
  for (let r = 0; r < runs; r++) {
    rawMs.push(await timeMs(rawVerify(LOG_ENTRIES)));
    logMs.push(
      await timeMs(async () => {
        const v = await verifyExportedLog(text, { verifier: backend });
        if (!v.ok) throw new Error(`log failed: ${JSON.stringify(v.failures.slice(0, 3))}`);
      }),
    );
    rawFullMs.push(await timeMs(rawVerify(signaturesWithQcs)));
    distinctSignatures = 0;
    fullMs.push(
      await timeMs(async () => {
        const v = await verifyExportedLog(fullText, { verifier: counting });
        if (!v.ok || v.receiptsFullyChecked.length !== sim.kinds.receipt) throw new Error(`log with QCs failed: ${JSON.stringify(v.failures.slice(0, 3))}`);
      }),
    );
  }
  return {
    entries: LOG_ENTRIES,
    heads: sim.exported.heads.length,
    signaturesInLog,
    exportBytes: text.length,
    bytesPerEntry: round(text.length / LOG_ENTRIES, 1) as number,
    backend: backend.name,
    logMs: logMs.map((x) => round(x, 1) as number),
    rawSignaturesMs: rawMs.map((x) => round(x, 1) as number),
    ratio: round(median(logMs) / median(rawMs), 2) as number,
    receipts: sim.kinds.receipt,
    certificates: sim.certificates.length,
    validators: sim.validatorSet.validators.length,
    signaturesWithQcs,
    distinctSignatures,
    fullExportBytes: fullText.length,
    fullMs: fullMs.map((x) => round(x, 1) as number),
    rawFullMs: rawFullMs.map((x) => round(x, 1) as number),
    fullRatio: round(median(fullMs) / median(rawFullMs), 2) as number,
  };
}

/** Signatures in the receipts' QCs of an export (decoded from the leaves). */
function receiptQcSignatures(exported: { entries: { leaf: string }[] }): number {
  let n = 0;
  for (const e of exported.entries) {
    const d = decodeEntry(fromBase64(e.leaf) as Uint8Array);
    if (d.ok && d.value.kind === 'receipt') n += d.value.qc.signatures.length;
  }
  return n;
}

function proofSizes() {
  return [1e3, 1e4, 1e5, 1e6].map((n) => {
    const incl = [0, Math.floor(n / 2), n - 1].map((i) => inclusionProofLength(i, n));
    const cons = [1, Math.floor(n / 2), n - 1].map((m) => consistencyProofLength(m, n));
    return {
      size: n,
      inclusionHashesMax: Math.max(...incl),
      inclusionBytesMax: 32 * Math.max(...incl),
      consistencyHashesMax: Math.max(...cons),
      consistencyBytesMax: 32 * Math.max(...cons),
    };
  });
}

/** One node's entries for one round in a network of n nodes (sizes as real; signatures random). */
function roundEntries(n: number, r: number, rng: SeededRandom, peerHead: Uint8Array): LogEntry[] {
  const t = 1_767_225_600_000 + r * 60_000;
  const roundId = rng.bytes(16);
  const commitment = rng.bytes(32);
  const blockHash = rng.bytes(32);
  // Validators are capped at genesis maxValidators: beyond that, QCs and sets stop growing with N.
  const validators = Math.min(n, DEFAULT_PARAMS.maxValidators);
  const signers = Math.floor((2 * validators) / 3) + 1;
  const depth = Math.ceil(Math.log2(n + 1));
  const h = (): Uint8Array => rng.bytes(32);
  const entries: LogEntry[] = [
    { kind: 'contribution', timeMs: t, roundId, commitment },
    { kind: 'vote', timeMs: t + 1, voteType: VoteType.Prevote, height: r + 1, round: 0, blockHash },
    { kind: 'vote', timeMs: t + 2, voteType: VoteType.Precommit, height: r + 1, round: 0, blockHash },
    {
      kind: 'receipt',
      timeMs: t + 3,
      roundId,
      height: r + 1,
      blockHash,
      qc: { height: r + 1, round: 0, blockHash, signatures: Array.from({ length: signers }, (_, i) => ({ validatorIndex: i, signature: rng.bytes(64) })) },
      // Self-contained: header, the round's result item in its compact leaf form (156 B, whatever
      // N and m), its path among the block's results (one here), the deciding set (min(N, 100) ×
      // 40 B), and this node's id path under the contributors root (⌈log2 N⌉ × 32 B).
      block: {
        header: { chainId: 'aegis-bench', height: r + 1, timeMs: t, prevBlockHash: h(), lastCommitHash: h(), validatorsHash: h(), nextValidatorsHash: h(), appStateRoot: h(), txRoot: h(), resultsRoot: h(), evidenceRoot: h(), proposer: h() },
        result: compactResult({ roundId, transcriptHash: h(), sum: new Uint32Array(DIMENSION), contributors: Array.from({ length: n }, () => rng.bytes(16)), dropouts: [] }),
        resultIdx: 0,
        resultCount: 1,
        resultProof: [],
        validators: Array.from({ length: validators }, () => {
          const publicKey = h();
          return { id: nodeIdFromPublicKey(publicKey), publicKey, power: 10 };
        }),
        contributorProof: Array.from({ length: Math.ceil(Math.log2(n)) }, () => rng.bytes(32)),
      },
      transcript: { commitment, leafIdx: 0, treeSize: n + 1, root: rng.bytes(32), proof: Array.from({ length: depth }, () => rng.bytes(32)) },
    },
    { kind: 'stake', timeMs: t + 4, event: 'reputation', height: r + 1, amount: 1, total: 500 + r },
  ];
  for (let p = 0; p < Math.min(n - 1, PEER_HEADS_PER_ROUND); p++)
    entries.push({ kind: 'peer-head', timeMs: t + 5 + p, peer: rng.bytes(32), head: peerHead });
  return entries;
}

async function storageModel(backend: Ed25519Backend, rounds: number) {
  const rng = SeededRandom.fromSeed(3);
  const self = await backend.signer(rng.bytes(32));
  // A typical signed head (~290 bytes) as the peers' heads a node records.
  const sample = await AuditLog.open({ storage: new MemoryLogStorage(), signer: self, verifier: backend, clock: { now: () => 0 } });
  if (!sample.ok) throw new Error(sample.error);
  await sample.value.append({ kind: 'stake', timeMs: 0, event: 'stake', height: 0, amount: 1, total: 1 });
  const peerHead = (await sample.value.signHead()).bytes;

  return Promise.all(
    [10, 100, 1000].map(async (n) => {
      const storage = new MemoryLogStorage();
      const opened = await AuditLog.open({ storage, signer: self, verifier: backend, clock: { now: () => 0 } });
      if (!opened.ok) throw new Error(opened.error);
      let qcBytes = 0;
      let pathBytes = 0;
      for (let r = 0; r < rounds; r++) {
        const entries = roundEntries(n, r, rng, peerHead);
        for (const e of entries) {
          if (e.kind !== 'receipt' || e.block === undefined) continue;
          const full = encodeEntry(e).length;
          qcBytes += full - encodeEntry({ ...e, qc: { ...e.qc, signatures: [] }, block: { ...e.block, validators: [] } }).length;
          const { contributorProof: _, ...withoutPath } = e.block;
          pathBytes += full - encodeEntry({ ...e, block: withoutPath }).length;
        }
        await opened.value.appendMany(entries);
        await opened.value.signHead();
      }
      const signers = Math.floor((2 * Math.min(n, DEFAULT_PARAMS.maxValidators)) / 3) + 1;
      // Full replica per round: every masked input (n · m · 4 B), and the block: header (~200 B),
      // the result (transcript root, sum m · 4 B, contributor ids n · 16 B), its QC, and every vote
      // that made it (2 votes per validator, ~180 B each with the signature).
      const block = 200 + 32 + DIMENSION * 4 + n * 16 + signers * 68;
      const replicaPerRound = n * DIMENSION * 4 + block + 2 * Math.min(n, DEFAULT_PARAMS.maxValidators) * 180;
      return {
        nodes: n,
        rounds,
        perNodeBytes: storage.bytesStored,
        qcBytes,
        contributorPathBytes: pathBytes,
        perNodeWithoutQcBytes: storage.bytesStored - qcBytes,
        fullReplicaBytes: replicaPerRound * rounds,
        entries: opened.value.size,
      };
    }),
  );
}

export async function runLedgerBench(quick: boolean, log: (m: string) => void): Promise<SuiteReport> {
  const backend = await detectEd25519Backend();
  const verify = await verifyBench(backend, quick ? 1 : 3, log);
  log(`ledger: verify ${verify.entries} entries in ${median(verify.logMs)} ms vs ${median(verify.rawSignaturesMs)} ms of raw signatures`);
  log(`ledger: with receipts' QCs ${median(verify.fullMs)} ms vs ${median(verify.rawFullMs)} ms of ${verify.signaturesWithQcs} raw signatures`);
  const proofs = proofSizes();
  const storage = await storageModel(backend, ROUNDS);
  const notes = [
    `verifying a ${verify.entries}-entry log (${verify.heads} heads, ${verify.signaturesInLog} signatures: heads and recorded peer heads) takes ${formatNumber(median(verify.logMs), 0)} ms, ${verify.ratio}× the ${formatNumber(median(verify.rawSignaturesMs), 0)} ms of ${verify.entries} raw Ed25519 verifications (${verify.backend}); goal ≤ 1.2× and < 1 s: ${verify.ratio <= 1.2 && median(verify.logMs) < 1000 ? 'met' : 'NOT met'}. Signatures are on heads, not entries; the rest is SHA-256 (noble) over every leaf and every inclusion proof, and JSON parsing.`,
    `with every receipt checked in full (${verify.receipts} receipts, QCs of a ${verify.validators}-validator set through the export's genesis and ${verify.certificates} set-change certificates: ${verify.signaturesWithQcs} signatures in all, ${verify.distinctSignatures} distinct), verification takes ${formatNumber(median(verify.fullMs), 0)} ms, ${verify.fullRatio}× the ${formatNumber(median(verify.rawFullMs), 0)} ms of as many raw Ed25519 verifications; goal ≤ 1.2×: ${verify.fullRatio <= 1.2 ? 'met' : 'NOT met'}. Every signature check is batched (up to 1024 in flight, identical ones once: a receipt whose block is a set-change certificate shares its QC), the certificate chain's run while the entries are hashed, and each distinct validator set is built once; QC signatures dominate (⌊2V/3⌋+1 per receipt: 11 at V = ${verify.validators}, 67 at V = 100), so the cost tracks the raw count.`,
    `storage: validators are capped at genesis maxValidators (${DEFAULT_PARAMS.maxValidators}), so a receipt's QC has at most ⌊2·min(N, ${DEFAULT_PARAMS.maxValidators})/3⌋+1 signatures (68 B each) and its deciding set min(N, ${DEFAULT_PARAMS.maxValidators}) × 40 B: flat in N beyond ${DEFAULT_PARAMS.maxValidators}. The receipt stores the round's result item in its compact leaf form (156 B: roots over the contributor and dropout ids and a hash of the sum, which the block carries in full), so what still grows with N is only logarithmic: this node's id path under the contributors root (column "contributor path") and the transcript path (⌈log2 N⌉ × 32 B each). A full replica grows with N · m (every masked input).`,
  ];
  const tables = [
    {
      title: `Verify a ${verify.entries}-entry log vs ${verify.entries} raw Ed25519 signatures (${verify.backend})`,
      markdown: markdownTable(
        ['variant', '>entries', '>heads', '>signatures', '>log ms', '>raw sigs (same count) ms', '>ratio', '>export B/entry'],
        [
          ['log itself (QCs not checked)', String(verify.entries), String(verify.heads), String(verify.signaturesInLog), formatNumber(median(verify.logMs), 0), `${formatNumber(median(verify.rawSignaturesMs), 0)} (${verify.entries})`, formatNumber(verify.ratio, 2), formatNumber(verify.bytesPerEntry, 0)],
          ['receipts in full, QCs via certificates', String(verify.entries), String(verify.heads), String(verify.signaturesWithQcs), formatNumber(median(verify.fullMs), 0), `${formatNumber(median(verify.rawFullMs), 0)} (${verify.signaturesWithQcs})`, formatNumber(verify.fullRatio, 2), formatNumber(verify.fullExportBytes / verify.entries, 0)],
        ],
      ),
    },
    {
      title: 'Proof sizes (largest over first, middle and last leaf; consistency from 1, n/2 and n−1)',
      markdown: markdownTable(
        ['>entries', '>inclusion hashes', '>inclusion B', '>consistency hashes', '>consistency B'],
        proofs.map((p) => [String(p.size), String(p.inclusionHashesMax), String(p.inclusionBytesMax), String(p.consistencyHashesMax), String(p.consistencyBytesMax)]),
      ),
    },
    {
      title: `Bytes stored per node after ${ROUNDS} rounds vs a full replica (m = ${DIMENSION})`,
      markdown: markdownTable(
        ['>N', '>entries', '>per node KiB', '>of which QCs + sets KiB', '>of which contributor path KiB', '>without QCs KiB', '>full replica MiB', '>replica / node'],
        storage.map((s) => [
          String(s.nodes),
          String(s.entries),
          formatNumber(s.perNodeBytes / 1024, 1),
          formatNumber(s.qcBytes / 1024, 1),
          formatNumber(s.contributorPathBytes / 1024, 1),
          formatNumber(s.perNodeWithoutQcBytes / 1024, 1),
          formatNumber(s.fullReplicaBytes / 2 ** 20, 1),
          formatNumber(s.fullReplicaBytes / s.perNodeBytes, 0),
        ]),
      ),
    },
  ];
  return { suite: 'ledger', data: { verify, proofs, storage: { rounds: ROUNDS, dimension: DIMENSION, peerHeadsPerRound: PEER_HEADS_PER_ROUND, rows: storage } }, tables, notes };
}

export const ledgerSuite: Suite = {
  name: 'ledger',
  run: (env: BenchEnv) => runLedgerBench(env.quick, env.log),
};

if (process.argv[1] !== undefined && resolve(process.argv[1]) === SELF) {
  await runStandalone(process.argv.includes('--quick'), runLedgerBench);
}
