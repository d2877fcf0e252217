// Checking a receipt (docs/DESIGN.md, "one round, end to end", step 5): proof that a node's input
// counted in a finalized aggregation. A v2 receipt is self-contained: it carries the block header
// and the round's result item with its RFC 9162 path under the header's results root, so anyone
// holding the validator set of its height (a light client gets it from genesis through set-change
// certificates: validatorSetHistory) can check it at any age; a v1 receipt needs the block:
//   1. the header is the one the receipt names (header hash = QC's block hash), at its height;
//   2. its QC certifies that block and verifies against the height's validator set (> 2/3 power);
//      a v2 receipt carries that set (hashing to the header's validatorsHash), so a light client
//      holding only a checkpoint set T below the height accepts it by CometBFT's skipping rule
//      (the QC's signers in T hold more than 1/3 of T's power; light-client.ts);
//   3. the result item is under the header's results root (v3: its compact leaf form, block.ts;
//      v2: the full item, the leaf of blocks before compact leaves; v1: the block's body matches its
//      header's roots and carries the item), and names the receipt's transcript root
//      (secagg/transcript-root.ts);
//   4. the commitment's RFC 9162 inclusion path verifies under that root, at a contributor's leaf
//      (below treeSize − 1: the last leaf is the unmasking material), and the item's contributor
//      count is that leaf count;
//   5. optionally, the node whose log holds the receipt is listed among the item's contributors: at
//      the transcript leaf's index, by the receipt's RFC 9162 path under the contributors root
//      (O(log N); v1/v2: in the full list).
// Untrusted input throws nothing: a Result names the first failed step.
import { bytesEqual, hexToBytes } from '../bytes.ts';
import {
  bodyMatchesHeader,
  compactResult,
  encodeResult,
  encodeResultCommitment,
  headerHash,
  resultLeaf,
  type AggregationResult,
  type Block,
  type BlockHeader,
  type ResultCommitment,
} from '../consensus/block.ts';
import type { Genesis } from '../consensus/genesis.ts';
import { followSetChanges, trustedOverlapExceedsOneThird, verifySetChanges, type SetChangeCertificate, type TrustedSet } from '../consensus/light-client.ts';
import { verifyQuorumCertificate } from '../consensus/qc.ts';
import type { ValidatorSet } from '../consensus/types.ts';
import { tryMakeValidatorSet } from '../consensus/validator-set.ts';
import type { MakeValidatorSet } from '../consensus/validator-set-cache.ts';
import type { Verifier } from '../crypto/ed25519.ts';
import type { NodeId } from '../crypto/node-id.ts';
import { err, ok, type Result } from '../result.ts';
import type { ReceiptBlockProof, ReceiptEntry } from './entry.ts';
import { leafHash, verifyInclusion } from './merkle.ts';
import { MemoryTree } from './tree.ts';

export interface ReceiptContext {
  readonly chainId: string;
  readonly verifier: Verifier;
  /**
   * The committed block the receipt names. Optional for self-contained (v2) receipts, which carry
   * the header and the result item; when given it must be the receipt's block too.
   */
  readonly block?: Block;
  /**
   * The trusted validator set at the receipt's height: the one that decided it (required for v1
   * receipts), or a light client's checkpoint set at or below it — a v2 receipt carries its
   * deciding set and is then accepted by the skipping rule (> 1/3 of this set's power signed).
   */
  readonly validators: ValidatorSet;
  /** When given, this node must be among the result's contributors. */
  readonly contributor?: NodeId;
  /** Builds a receipt's deciding set (default tryMakeValidatorSet; a validatorSetCache when checking many). */
  readonly makeSet?: MakeValidatorSet;
}

/**
 * The header, compact result item and its RFC 9162 path under the results root, for `roundId` in
 * `block`, and the set that decided it; with `contributor`, that node's path under the item's
 * contributors root when it is listed (none for a non-contributor).
 */
export function receiptBlockProof(block: Block, roundId: Uint8Array, validators: ValidatorSet, contributor?: NodeId): ReceiptBlockProof | null {
  const idx = block.body.results.findIndex((x) => bytesEqual(x.roundId, roundId));
  const full = block.body.results[idx];
  if (full === undefined) return null;
  const tree = new MemoryTree();
  for (const x of block.body.results) tree.append(leafHash(resultLeaf(x)));
  const proof = { header: block.header, result: compactResult(full), resultIdx: idx, resultCount: block.body.results.length, resultProof: tree.inclusionProof(idx), validators: validators.validators };
  const at = contributor === undefined ? -1 : full.contributors.findIndex((id) => bytesEqual(id, hexToBytes(contributor)));
  if (at < 0) return proof;
  const ids = new MemoryTree();
  for (const id of full.contributors) ids.append(leafHash(id));
  return { ...proof, contributorProof: ids.inclusionProof(at) };
}

/** The result facts a receipt is checked against: compact always, the full item when one is at hand (v1/v2). */
interface ReceiptItem {
  readonly compact: ResultCommitment;
  readonly full?: AggregationResult;
}

/** The receipt's header and result item: from the receipt itself (v2), else from the given block (v1). */
function headerAndItem(r: ReceiptEntry, block: Block | undefined): Result<{ header: BlockHeader; item: ReceiptItem }> {
  if (block !== undefined) {
    if (!bodyMatchesHeader(block)) return err('block: body does not match the header roots');
    if (r.block !== undefined && !bytesEqual(headerHash(block.header), headerHash(r.block.header))) return err("header: not the given block's header");
  }
  const b = r.block;
  if (b === undefined) {
    if (block === undefined) return err('receipt: a v1 receipt carries no header; its block is needed');
    const item = block.body.results.find((x) => bytesEqual(x.roundId, r.roundId));
    return item === undefined ? err('block: carries no result for the round') : ok({ header: block.header, item: { compact: compactResult(item), full: item } });
  }
  return ok({ header: b.header, item: b.legacyResult === undefined ? { compact: b.result } : { compact: b.result, full: b.legacyResult } });
}

export async function checkReceipt(r: ReceiptEntry, ctx: ReceiptContext): Promise<Result<true>> {
  const hi = headerAndItem(r, ctx.block);
  if (!hi.ok) return hi;
  const { header, item } = hi.value;
  if (header.chainId !== ctx.chainId) return err(`header: chain ${header.chainId}, not ${ctx.chainId}`);
  if (!bytesEqual(headerHash(header), r.blockHash)) return err("header: not the receipt's block (hash differs)");
  if (header.height !== r.height) return err(`header: height ${header.height}, receipt says ${r.height}`);
  if (r.qc.height !== r.height || !bytesEqual(r.qc.blockHash, r.blockHash)) return err("qc: certifies another block than the receipt's");
  const b = r.block;
  // The deciding set: the receipt's own (v2, hashing to the header's) or the one given (v1).
  let deciding = ctx.validators;
  if (b !== undefined) {
    const v = (ctx.makeSet ?? tryMakeValidatorSet)(b.validators);
    if (!v.ok) return err(`validators: ${v.error}`);
    deciding = v.value;
  }
  if (!bytesEqual(header.validatorsHash, deciding.hash))
    return err(b === undefined ? "qc: the validator set given is not the block's" : "validators: the receipt's set is not the header's");
  const q = await verifyQuorumCertificate(r.qc, deciding, ctx.chainId, ctx.verifier);
  if (!q.ok) return err(`qc: ${q.error}`);
  // Another set than the trusted one decided the block: accepted by the light client's skipping
  // rule (its signers in the trusted set hold more than 1/3 of that set's power).
  if (!bytesEqual(deciding.hash, ctx.validators.hash) && !trustedOverlapExceedsOneThird(ctx.validators, deciding, r.qc))
    return err("qc: signed by 1/3 or less of the trusted validator set's power (skipping rule)");
  if (b !== undefined) {
    if (!bytesEqual(b.result.roundId, r.roundId)) return err("result: the item is for another round than the receipt's");
    // v2 entries carry the full item, whose encoding was the leaf before compact leaves.
    const leaf = b.legacyResult === undefined ? encodeResultCommitment(b.result) : encodeResult(b.legacyResult);
    const path = verifyInclusion(b.resultIdx, b.resultCount, leafHash(leaf), b.resultProof, header.resultsRoot);
    if (!path.ok) return err(`result: the item is not under the header's results root: ${path.error}`);
  }
  const t = r.transcript;
  const c = item.compact;
  if (!bytesEqual(c.transcriptHash, t.root)) return err("result: the round's result names another transcript root");
  if (t.treeSize !== c.contributorCount + 1) return err(`transcript: ${t.treeSize} leaves, the result has ${c.contributorCount} contributors + 1`);
  if (t.leafIdx >= t.treeSize - 1) return err('transcript: the leaf is the unmasking material, not a contribution');
  const inc = verifyInclusion(t.leafIdx, t.treeSize, leafHash(t.commitment), t.proof, t.root);
  if (!inc.ok) return err(`transcript: commitment not included: ${inc.error}`);
  if (ctx.contributor !== undefined) {
    const id = hexToBytes(ctx.contributor);
    // Contributors are sorted like the leaves, so the receipt's leaf is this node's.
    if (item.full !== undefined) {
      const at = item.full.contributors[t.leafIdx];
      if (at === undefined || !bytesEqual(at, id)) return err(`transcript: leaf ${t.leafIdx} is not ${ctx.contributor}'s contribution`);
    } else {
      const cp = b?.contributorProof;
      if (cp === undefined) return err(`contributor: the receipt carries no path for ${ctx.contributor} under the contributors root`);
      const listed = verifyInclusion(t.leafIdx, c.contributorCount, leafHash(id), cp, c.contributorsRoot);
      if (!listed.ok) return err(`contributor: leaf ${t.leafIdx} is not ${ctx.contributor}'s contribution: ${listed.error}`);
    }
  }
  return ok(true);
}

/** Validator sets by height, derived from genesis through verified set-change certificates. */
export interface SetHistory {
  /**
   * The trusted set at `height`: installed by the last certificate below it (the checkpoint chain
   * may skip changes, so the set that decided `height` may differ; see checkReceipt).
   */
  setAt(height: number): ValidatorSet;
  /** Certificates followed. */
  readonly certificates: number;
}

/**
 * Verifies the certificates once (light client, from genesis) and keeps every set they install, so
 * any height's set is a lookup. Certificates must be complete and ascending (a gap breaks the chain
 * of hashes and is refused). Never throws on untrusted input.
 */
export async function validatorSetHistory(genesis: Genesis, certificates: readonly SetChangeCertificate[], verifier: Verifier): Promise<Result<SetHistory>> {
  // Each step as the light client verified it (no set rebuilt); heights ascend strictly.
  const steps = await followSetChanges(genesis, certificates, verifier);
  if (!steps.ok) return steps;
  const list = steps.value;
  return ok({
    certificates: certificates.length,
    setAt(height: number): ValidatorSet {
      // The last step from at or below `height` (the first one below height 1).
      let lo = 0;
      let hi = list.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if ((list[mid] as TrustedSet).fromHeight <= height) lo = mid;
        else hi = mid - 1;
      }
      return (list[lo] as TrustedSet).set;
    },
  });
}

/**
 * The validator set deciding `height`, from genesis and the set-change certificates (light
 * client): the set installed by the last certificate below `height`. The list must be complete
 * up to there (a skipped certificate fails the chain of hashes).
 */
export async function validatorSetAt(
  genesis: Genesis,
  certificates: readonly SetChangeCertificate[],
  height: number,
  verifier: Verifier,
): Promise<Result<ValidatorSet>> {
  const before = certificates.filter((c) => c.header.height < height);
  const trusted = await verifySetChanges(genesis, before, verifier);
  return trusted.ok ? ok(trusted.value.set) : trusted;
}
