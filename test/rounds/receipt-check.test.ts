import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../src/core/bytes.ts';
import { decodeBlock, type AggregationResult, type Block } from '../../src/core/consensus/block.ts';
import { makeValidatorSet } from '../../src/core/consensus/validator-set.ts';
import { nobleEd25519 } from '../../src/core/crypto/ed25519.ts';
import { nodeIdFromPublicKey } from '../../src/core/crypto/node-id.ts';
import type { ReceiptEntry } from '../../src/core/ledger/entry.ts';
import { checkReceipt, receiptBlockProof, validatorSetAt } from '../../src/core/ledger/receipt-check.ts';
import { commitTranscript, contributorInclusion } from '../../src/core/secagg/transcript-root.ts';
import { appKeys, CHAIN, LockStep, testGenesis, tx } from '../consensus/app-helpers.ts';
import { runRound } from '../secagg/round-harness.ts';

/** A real round (participant 2 drops after ShareKeys) whose result a 4-validator chain commits. */
async function committedRound() {
  const out = await runRound({ inputs: [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]], params: { timeout: 1000 }, dropouts: { mask: [2] }, seed: 9 });
  const res = out.result!;
  const tc = commitTranscript(res.roundId, out.transcript);
  if (!tc.ok) throw new Error(tc.error);
  const keys = await appKeys(4);
  const genesis = testGenesis(keys, [100, 100, 100, 100]);
  const net = LockStep.create(genesis, keys, { checkAggregation: async () => true });
  await net.submit(await tx(keys[0]!, 0, { kind: 'open-round', roundId: res.roundId, deadlineHeight: 20, params: out.params }));
  await net.step();
  const item: AggregationResult = {
    roundId: res.roundId,
    transcriptHash: tc.value.root,
    sum: res.sum,
    contributors: res.contributors.map(hexToBytes),
    dropouts: res.dropped.map(hexToBytes),
  };
  for (const c of net.chains) expect(c.submitResult(item).ok).toBe(true);
  await net.step();
  const commit = net.commits[0]!.at(-1)!;
  expect(commit.results.length).toBe(1);
  const block = decodeBlock(net.chains[0]!.blocks.get(commit.height)!.bytes);
  if (!block.ok) throw new Error(block.error);
  // Other rounds' results in the block would be siblings in the results tree; this block has one.
  const validators = net.chains[0]!.validatorSet(commit.height);
  const receiptOf = (id: string): ReceiptEntry | null => {
    const inc = contributorInclusion(tc.value, id);
    const proof = receiptBlockProof(block.value, res.roundId, net.chains[0]!.validatorSet(commit.height), id)!;
    return inc && { kind: 'receipt', timeMs: 1, roundId: res.roundId, height: commit.height, blockHash: commit.hash, qc: commit.qc, block: proof, transcript: inc };
  };
  return { out, tc: tc.value, block: block.value, validators, receiptOf, genesis, net };
}

describe('checkReceipt', () => {
  it("every contributor's receipt passes; the dropped node has none; each defect is named", async () => {
    const { out, tc, block, validators, receiptOf, genesis, net } = await committedRound();
    // Self-contained receipts: no block needed, only the height's validator set.
    const ctx: { chainId: string; verifier: typeof nobleEd25519; validators: typeof validators; block?: Block } = { chainId: CHAIN, verifier: nobleEd25519, validators };
    expect(out.result!.contributors.length).toBe(4);
    for (const id of out.result!.contributors) {
      const r = receiptOf(id)!;
      expect(await checkReceipt(r, { ...ctx, contributor: id })).toEqual({ ok: true, value: true });
    }
    expect(receiptOf(out.ids[2]!)).toBeNull();

    const [a, b] = out.result!.contributors as [string, string];
    const r = receiptOf(a)!;
    const fails = async (x: ReceiptEntry, c: Partial<typeof ctx> & { contributor?: string } = {}, why?: RegExp) => {
      const v = await checkReceipt(x, { ...ctx, ...c });
      expect(v.ok).toBe(false);
      if (why && !v.ok) expect(v.error).toMatch(why);
    };
    // Someone else's receipt filed as mine.
    await fails(receiptOf(b)!, { contributor: a }, /not .*contribution/);
    // A QC missing signatures (2 of 4 equal powers is not > 2/3), or one bit flipped.
    await fails({ ...r, qc: { ...r.qc, signatures: r.qc.signatures.slice(0, 2) } }, {}, /qc: .*not more than 2\/3/);
    const sig = r.qc.signatures[0]!;
    const bad = sig.signature.slice();
    bad[5]! ^= 1;
    await fails({ ...r, qc: { ...r.qc, signatures: [{ ...sig, signature: bad }, ...r.qc.signatures.slice(1)] } }, {}, /qc/);
    // The wrong validator set, another block, another height.
    const other = net.chains[0]!.validatorSet(1);
    const foreign = { ...other, hash: new Uint8Array(32).fill(1) };
    // v2 receipts carry their deciding set: a trusted set other than it is a light client's
    // checkpoint, accepted only when the QC's signers hold > 1/3 of it (skipping rule).
    const half = await appKeys(6);
    const strangers = makeValidatorSet(half.slice(4).map((k) => ({ id: nodeIdFromPublicKey(k.publicKey), publicKey: k.publicKey, power: 100 })));
    await fails(r, { validators: strangers }, /1\/3 or less of the trusted validator set/);
    const { block: _v1block, ...v1r } = r;
    await fails(v1r, { validators: foreign, block }, /validator set given is not the block's/);
    const overlap = makeValidatorSet([...validators.validators.slice(0, 2), ...half.slice(4).map((k) => ({ id: nodeIdFromPublicKey(k.publicKey), publicKey: k.publicKey, power: 100 }))]);
    // 2 of the trusted set's 4 equal powers signed? The QC has 3 signers of the deciding 4, 2 of them in `overlap`: > 1/3.
    expect(await checkReceipt(r, { ...ctx, validators: overlap })).toEqual({ ok: true, value: true });
    await fails({ ...r, block: { ...r.block!, validators: r.block!.validators.slice(1) } }, {}, /validators: the receipt's set is not the header's/);
    const prev = decodeBlock(net.chains[0]!.blocks.get(block.header.height - 1)!.bytes);
    if (!prev.ok) throw new Error(prev.error);
    await fails(r, { block: prev.value }, /not the given block's header/);
    // The receipt's own header, result item and result path, each tampered.
    const bp = r.block!;
    await fails({ ...r, block: { ...bp, header: { ...bp.header, timeMs: bp.header.timeMs + 1 } } }, {}, /header: not the receipt's block/);
    await fails({ ...r, block: { ...bp, header: { ...bp.header, resultsRoot: new Uint8Array(32) } } }, {}, /header: not the receipt's block/);
    // Every field of the compact item is committed by the results root.
    const flip = (x: Uint8Array): Uint8Array => x.map((v, i) => (i === 0 ? v ^ 1 : v));
    for (const field of ['transcriptHash', 'sumHash', 'contributorsRoot', 'dropoutsRoot'] as const)
      await fails({ ...r, block: { ...bp, result: { ...bp.result, [field]: flip(bp.result[field]) } } }, {}, /result: the item is not under the header's results root/);
    for (const field of ['dimension', 'contributorCount', 'dropoutCount'] as const)
      await fails({ ...r, block: { ...bp, result: { ...bp.result, [field]: bp.result[field] + 1 } } }, {}, /result: the item is not under the header's results root/);
    // The contributor path: tampered, missing, or another node's.
    expect(bp.contributorProof?.length).toBeGreaterThan(0);
    await fails({ ...r, block: { ...bp, contributorProof: bp.contributorProof!.map(flip) } }, { contributor: a }, /contributor: leaf .* is not .*contribution/);
    const { contributorProof: _p, ...noPath } = bp;
    await fails({ ...r, block: noPath }, { contributor: a }, /contributor: the receipt carries no path/);
    expect(await checkReceipt({ ...r, block: noPath }, ctx)).toEqual({ ok: true, value: true });
    expect(receiptBlockProof(block, r.roundId, validators, out.ids[2]!)!.contributorProof).toBeUndefined();
    expect(receiptBlockProof(block, r.roundId, validators)!.contributorProof).toBeUndefined();
    await fails({ ...r, block: { ...bp, resultProof: [new Uint8Array(32)] } }, {}, /results root/);
    await fails({ ...r, block: { ...bp, resultCount: 2 } }, {}, /results root/);
    await fails({ ...r, block: { ...bp, result: { ...bp.result, roundId: new Uint8Array(16).fill(3) } } }, {}, /another round/);
    // A v1 receipt (no header) needs its block; with it, it checks.
    const { block: _b, ...v1 } = r;
    await fails(v1, {}, /v1 receipt carries no header/);
    expect(await checkReceipt(v1, { ...ctx, block })).toEqual({ ok: true, value: true });
    await fails({ ...r, height: r.height + 1 }, {}, /height/);
    // A body that no longer matches its header (the result item swapped).
    const swapped: Block = { ...block, body: { ...block.body, results: [{ ...block.body.results[0]!, sum: new Uint32Array([1, 2]) }] } };
    await fails(r, { block: swapped }, /body does not match/);
    // Path defects: commitment, proof hash, index, root; and the unmasking leaf posing as a contribution.
    const t = r.transcript;
    const flipped = t.commitment.slice();
    flipped[0]! ^= 0x80;
    await fails({ ...r, transcript: { ...t, commitment: flipped } }, {}, /not included/);
    await fails({ ...r, transcript: { ...t, proof: t.proof.map((p, i) => (i === 0 ? p.map((x) => x ^ 1) : p)) } }, {}, /not included/);
    await fails({ ...r, transcript: { ...t, leafIdx: (t.leafIdx + 1) % (t.treeSize - 1) } }, {}, /not included/);
    await fails({ ...r, transcript: { ...t, root: new Uint8Array(32) } }, {}, /another transcript root/);
    const last = tc.tree.inclusionProof(tc.treeSize - 1);
    await fails({ ...r, transcript: { commitment: tc.unmaskingHash, leafIdx: tc.treeSize - 1, treeSize: tc.treeSize, root: tc.root, proof: last } }, {}, /unmasking material/);
    // Another round's receipt in this block.
    await fails({ ...r, roundId: new Uint8Array(16).fill(3) }, {}, /another round/);
    await fails({ ...v1, roundId: new Uint8Array(16).fill(3) }, { block }, /no result for the round/);
    await fails(r, { chainId: 'other-chain' }, /chain/);

    // The light client's view of the set: no set changes since genesis here.
    const set = await validatorSetAt(genesis, net.chains[0]!.certificates(), block.header.height, nobleEd25519);
    expect(set.ok && bytesToHex(set.value.hash)).toBe(bytesToHex(validators.hash));
  });
});
