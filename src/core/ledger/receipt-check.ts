// Checking a receipt (docs/DESIGN.md, "one round, end to end", step 5): proof that a node's input
// counted in a finalized aggregation, checkable by anyone holding the block and the validator set
// of its height (a light client gets that set from genesis through set-change certificates):
//   1. the block is the one the receipt names (header hash), at the receipt's height;
//   2. its QC certifies that block and verifies against the height's validator set (> 2/3 power);
//   3. the block's body matches its header's roots, and its aggregation item for the round names
//      the receipt's transcript root (secagg/transcript-root.ts);
//   4. the commitment's RFC 9162 inclusion path verifies under that root, at a contributor's leaf
//      (below treeSize − 1: the last leaf is the unmasking material), and the item's contributor
//      count is that leaf count;
//   5. optionally, the node whose log holds the receipt is listed among the item's contributors.
// Untrusted input throws nothing: a Result names the first failed step.
import { bytesEqual, hexToBytes } from '../bytes.ts';
import { bodyMatchesHeader, headerHash, type Block } from '../consensus/block.ts';
import type { Genesis } from '../consensus/genesis.ts';
import { verifySetChanges, type SetChangeCertificate } from '../consensus/light-client.ts';
import { verifyQuorumCertificate } from '../consensus/qc.ts';
import type { ValidatorSet } from '../consensus/types.ts';
import type { Verifier } from '../crypto/ed25519.ts';
import type { NodeId } from '../crypto/node-id.ts';
import { err, ok, type Result } from '../result.ts';
import type { ReceiptEntry } from './entry.ts';
import { leafHash, verifyInclusion } from './merkle.ts';

export interface ReceiptContext {
  readonly chainId: string;
  readonly verifier: Verifier;
  /** The committed block the receipt names. */
  readonly block: Block;
  /** The validator set that decided the receipt's height. */
  readonly validators: ValidatorSet;
  /** When given, this node must be among the result's contributors. */
  readonly contributor?: NodeId;
}

export async function checkReceipt(r: ReceiptEntry, ctx: ReceiptContext): Promise<Result<true>> {
  const { header, body } = ctx.block;
  if (header.chainId !== ctx.chainId) return err(`block: chain ${header.chainId}, not ${ctx.chainId}`);
  if (!bytesEqual(headerHash(header), r.blockHash)) return err("block: not the receipt's block (hash differs)");
  if (header.height !== r.height) return err(`block: height ${header.height}, receipt says ${r.height}`);
  if (r.qc.height !== r.height || !bytesEqual(r.qc.blockHash, r.blockHash)) return err("qc: certifies another block than the receipt's");
  if (!bytesEqual(header.validatorsHash, ctx.validators.hash)) return err("qc: the validator set given is not the block's");
  const q = await verifyQuorumCertificate(r.qc, ctx.validators, ctx.chainId, ctx.verifier);
  if (!q.ok) return err(`qc: ${q.error}`);
  if (!bodyMatchesHeader(ctx.block)) return err('block: body does not match the header roots');
  const item = body.results.find((x) => bytesEqual(x.roundId, r.roundId));
  if (item === undefined) return err('block: carries no result for the round');
  const t = r.transcript;
  if (!bytesEqual(item.transcriptHash, t.root)) return err("block: the round's result names another transcript root");
  if (t.treeSize !== item.contributors.length + 1) return err(`transcript: ${t.treeSize} leaves, the result has ${item.contributors.length} contributors + 1`);
  if (t.leafIdx >= t.treeSize - 1) return err('transcript: the leaf is the unmasking material, not a contribution');
  const inc = verifyInclusion(t.leafIdx, t.treeSize, leafHash(t.commitment), t.proof, t.root);
  if (!inc.ok) return err(`transcript: commitment not included: ${inc.error}`);
  if (ctx.contributor !== undefined) {
    const id = hexToBytes(ctx.contributor);
    // Contributors are sorted like the leaves, so the receipt's leaf is this node's.
    const at = item.contributors[t.leafIdx];
    if (at === undefined || !bytesEqual(at, id)) return err(`transcript: leaf ${t.leafIdx} is not ${ctx.contributor}'s contribution`);
  }
  return ok(true);
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
