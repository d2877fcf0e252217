// One simulated node's audit log, deterministic for a seed: a node that, height after height,
// contributes to a round, votes, receives a self-contained receipt (a real block header with the
// round's result item under its results root, a real quorum certificate signed by that height's
// validator set, and a real Merkle path of its commitment in a seeded transcript), sees a stake or
// reputation change, and records a peer's signed head — cycling through these so every kind
// appears. It signs a head every `headEvery` entries. The validator set starts from a seeded
// genesis and changes every `setChangeEvery` receipts (the receipt's block is then a set-change
// certificate), so the export carries genesis and certificates and every receipt's QC checks
// offline through the light client. Used by `aegis sim audit`, tests and bench.
import { genesisState } from '../core/consensus/app-state.ts';
import { compactResult, headerHash, resultLeaf, type AggregationResult, type BlockHeader } from '../core/consensus/block.ts';
import { encodeGenesis, makeGenesis, type Genesis } from '../core/consensus/genesis.ts';
import { merkleRoot } from '../core/consensus/hash-tree.ts';
import { encodeCertificate, type SetChangeCertificate } from '../core/consensus/light-client.ts';
import { voteSignBytes } from '../core/consensus/sign-bytes.ts';
import { VoteType, type QuorumCertificate, type ValidatorSet } from '../core/consensus/types.ts';
import { makeValidatorSet } from '../core/consensus/validator-set.ts';
import { nobleEd25519, type Ed25519Backend, type Signer } from '../core/crypto/ed25519.ts';
import { hexToBytes } from '../core/bytes.ts';
import { nodeIdFromPublicKey } from '../core/crypto/node-id.ts';
import { AuditLog } from '../core/ledger/audit-log.ts';
import type { LogEntry, StakeEventKind } from '../core/ledger/entry.ts';
import { exportLog, type ExportedLog } from '../core/ledger/export.ts';
import { leafHash, type Hash } from '../core/ledger/merkle.ts';
import { MemoryLogStorage } from '../core/ledger/storage.ts';
import { MemoryTree } from '../core/ledger/tree.ts';
import { NO_PREVIOUS_HEAD, signTreeHead, type SignedTreeHead } from '../core/ledger/tree-head.ts';
import { ROUND_ID_BYTES } from '../core/secagg/messages.ts';
import { SeededRandom } from './seeded-random.ts';

export const SIM_CHAIN_ID = 'aegis-sim';
/** 2026-01-01T00:00:00Z: simulated entries start here. */
const START_MS = 1_767_225_600_000;

export interface AuditSimOptions {
  entries: number;
  seed: number;
  /** Sign a head after every this many entries (and once at the end). Default 10. */
  headEvery?: number;
  /** Validators signing the receipts' QCs. Default 4. */
  validators?: number;
  /** The validator set changes (one power moves) every this many receipts. Default 5. */
  setChangeEvery?: number;
  /** Ed25519 backend for every signature (default noble; WebCrypto gives the same bytes, faster). */
  backend?: Ed25519Backend;
}

export interface AuditSimResult {
  log: AuditLog;
  storage: MemoryLogStorage;
  exported: ExportedLog;
  /** The genesis validator set (later heights: from `certificates`). */
  validatorSet: ValidatorSet;
  genesis: Genesis;
  /** Set-change certificates from genesis on (also in the export). */
  certificates: SetChangeCertificate[];
  chainId: string;
  kinds: Record<LogEntry['kind'], number>;
}

async function seededSigner(backend: Ed25519Backend, rng: SeededRandom): Promise<Signer> {
  return backend.signer(rng.bytes(32));
}

interface Peer {
  signer: Signer;
  size: number;
  last: SignedTreeHead | null;
}

export async function simulateAuditLog(opts: AuditSimOptions): Promise<AuditSimResult> {
  const { entries, seed } = opts;
  const headEvery = opts.headEvery ?? 10;
  const backend = opts.backend ?? nobleEd25519;
  if (!Number.isSafeInteger(entries) || entries < 0) throw new Error('"entries" must be a non-negative integer');
  if (!Number.isInteger(headEvery) || headEvery < 1) throw new Error('"headEvery" must be a positive integer');
  const rng = SeededRandom.fromSeed(seed);
  const keys = rng.fork('keys');
  const self = await seededSigner(backend, keys.fork('self'));
  const validators = await Promise.all(Array.from({ length: opts.validators ?? 4 }, (_, i) => seededSigner(backend, keys.fork(`validator:${i}`))));
  const setChangeEvery = opts.setChangeEvery ?? 5;
  if (!Number.isInteger(setChangeEvery) || setChangeEvery < 1) throw new Error('"setChangeEvery" must be a positive integer');
  const genesis = makeGenesis({ chainId: SIM_CHAIN_ID, timeMs: START_MS - 1000, validators: validators.map((v) => ({ publicKey: v.publicKey, stake: 1000 })) });
  const validatorSet = genesisState(genesis).validators;
  let currentSet = validatorSet;
  const certificates: SetChangeCertificate[] = [];
  const selfId = hexToBytes(nodeIdFromPublicKey(self.publicKey));
  const signerOf = new Map(validators.map((s) => [nodeIdFromPublicKey(s.publicKey), s]));
  const peers: Peer[] = await Promise.all(
    [0, 1, 2].map(async (i) => ({ signer: await seededSigner(backend, keys.fork(`peer:${i}`)), size: 0, last: null })),
  );

  let now = START_MS;
  const storage = new MemoryLogStorage();
  const opened = await AuditLog.open({ storage, signer: self, verifier: backend, clock: { now: () => now } });
  if (!opened.ok) throw new Error(opened.error);
  const log = opened.value;
  const events = rng.fork('events');
  const kinds: Record<LogEntry['kind'], number> = { contribution: 0, vote: 0, receipt: 0, stake: 0, 'peer-head': 0 };

  let height = 1;
  let roundId: Uint8Array = new Uint8Array(ROUND_ID_BYTES);
  let commitment: Hash = new Uint8Array(32);
  let blockHash: Hash = new Uint8Array(32);
  let stake = 1000;
  let reputation = 500;

  async function quorumCertificate(h: number, block: Hash): Promise<QuorumCertificate> {
    // Validators in set order sign until their power is more than 2/3 of the total.
    const validatorSet = currentSet;
    let count = 0;
    for (let power = 0; 3 * power <= 2 * validatorSet.totalPower; count++) power += (validatorSet.validators[count] as { power: number }).power;
    const message = voteSignBytes(genesis.chainId, VoteType.Precommit, h, 0, block);
    const signatures = await Promise.all(
      validatorSet.validators.slice(0, count).map(async (v, validatorIndex) => ({
        validatorIndex,
        signature: await (signerOf.get(v.id) as Signer).sign(message),
      })),
    );
    return { height: h, round: 0, blockHash: block, signatures };
  }

  async function nextEntry(step: number): Promise<LogEntry> {
    now += 100 + events.int(5000);
    const timeMs = now;
    switch (step % 6) {
      case 0:
        roundId = events.bytes(ROUND_ID_BYTES);
        commitment = events.bytes(32);
        blockHash = events.bytes(32);
        return { kind: 'contribution', timeMs, roundId, commitment };
      case 1:
        return { kind: 'vote', timeMs, voteType: VoteType.Prevote, height, round: 0, blockHash: events.int(10) === 0 ? null : blockHash };
      case 2:
        return { kind: 'vote', timeMs, voteType: VoteType.Precommit, height, round: 0, blockHash };
      case 3: {
        // The round's transcript: our commitment among other contributors' at a seeded position,
        // then the unmasking material as the last leaf (secagg/transcript-root.ts).
        const contributors = 3 + events.int(30);
        const mine = events.int(contributors);
        const tree = new MemoryTree();
        for (let i = 0; i <= contributors; i++) tree.append(leafHash(i === mine ? commitment : events.bytes(32)));
        const ids = Array.from({ length: contributors }, (_, i) => (i === mine ? selfId : events.bytes(16)));
        const result: AggregationResult = { roundId, transcriptHash: tree.root(), sum: Uint32Array.from({ length: 4 }, () => events.int(2 ** 31)), contributors: ids, dropouts: [] };
        // Other rounds' results in the same block, ours at a seeded position.
        const others = events.int(3);
        const at = events.int(others + 1);
        const idTree = new MemoryTree();
        for (const id of ids) idTree.append(leafHash(id));
        const results = Array.from({ length: others + 1 }, (_, i) => (i === at ? resultLeaf(result) : events.bytes(64)));
        const resultTree = new MemoryTree();
        for (const x of results) resultTree.append(leafHash(x));
        // Every setChangeEvery-th receipt's block moves one validator's power: a set-change certificate.
        const decidedBy = currentSet;
        const changes = (kinds.receipt + 1) % setChangeEvery === 0;
        const moved = changes ? events.int(decidedBy.validators.length) : -1;
        const next = changes ? makeValidatorSet(decidedBy.validators.map((v, i) => (i === moved ? { ...v, power: v.power + 1 + events.int(5) } : v))) : decidedBy;
        const header: BlockHeader = {
          chainId: genesis.chainId,
          height,
          timeMs,
          prevBlockHash: events.bytes(32),
          lastCommitHash: events.bytes(32),
          validatorsHash: decidedBy.hash,
          nextValidatorsHash: next.hash,
          appStateRoot: events.bytes(32),
          txRoot: merkleRoot([]),
          resultsRoot: resultTree.root(),
          evidenceRoot: merkleRoot([]),
          proposer: (decidedBy.validators[height % decidedBy.validators.length] as { publicKey: Uint8Array }).publicKey,
        };
        blockHash = headerHash(header);
        const qc = await quorumCertificate(height, blockHash);
        if (changes) {
          certificates.push({ header, qc, nextValidators: next.validators });
          currentSet = next;
        }
        const receipt: LogEntry = {
          kind: 'receipt',
          timeMs,
          roundId,
          height,
          blockHash,
          qc,
          block: {
            header,
            result: compactResult(result),
            resultIdx: at,
            resultCount: results.length,
            resultProof: resultTree.inclusionProof(at),
            validators: decidedBy.validators,
            contributorProof: idTree.inclusionProof(mine),
          },
          transcript: { commitment, leafIdx: mine, treeSize: contributors + 1, root: tree.root(), proof: tree.inclusionProof(mine) },
        };
        height++;
        return receipt;
      }
      case 4: {
        const roll = events.int(20);
        const event: StakeEventKind = roll < 12 ? 'reputation' : roll < 16 ? 'stake' : roll < 18 ? 'unstake' : roll < 19 ? 'slash' : 'jail';
        let amount: number;
        let total: number;
        if (event === 'reputation') {
          amount = events.int(21) - 5;
          reputation = Math.max(0, reputation + amount);
          total = reputation;
        } else if (event === 'jail') {
          amount = 100;
          total = height + amount;
        } else {
          const size = 1 + events.int(100);
          amount = event === 'stake' ? size : -Math.min(size, stake);
          stake += amount;
          total = stake;
        }
        return { kind: 'stake', timeMs, event, height, amount, total };
      }
      default: {
        const peer = peers[events.int(peers.length)] as Peer;
        peer.size += 1 + events.int(20);
        peer.last = await signTreeHead(
          { size: peer.size, root: events.bytes(32), timeMs, prevHash: peer.last?.hash ?? NO_PREVIOUS_HEAD },
          peer.signer,
        );
        return { kind: 'peer-head', timeMs, peer: peer.signer.publicKey, head: peer.last.bytes };
      }
    }
  }

  for (let i = 0; i < entries; i++) {
    const entry = await nextEntry(i);
    kinds[entry.kind]++;
    await log.append(entry);
    if ((i + 1) % headEvery === 0) await log.signHead();
  }
  now += 1000;
  const exported = await exportLog(log, { genesis: encodeGenesis(genesis), certificates: certificates.map(encodeCertificate) });
  return { log, storage, exported, validatorSet, genesis, certificates, chainId: SIM_CHAIN_ID, kinds };
}
