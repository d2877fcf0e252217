// A minimal chain application for the consensus simulator, standing in for core/consensus/chain.ts:
// a block is (height, a counter, the previous block's hash, evidence). Evidence of a double vote or a
// duplicate proposal is included ahead of everything (first block after it is seen), and on commit
// the offender loses 5%
// of its power and leaves the set (jailed) — enough that "every honest node computes identical
// powers" is a property with teeth. Validator sets advance with proposer-selection.ts.
import { bytesEqual, bytesToHex } from '../core/bytes.ts';
import { ByteReader, ByteWriter, DecodeError, safeDecode } from '../core/codec/index.ts';
import type { Verifier } from '../core/crypto/ed25519.ts';
import { domainTag, sha256 } from '../core/crypto/hash.ts';
import { concatBytes } from '../core/bytes.ts';
import { advanceValidatorSet } from '../core/consensus/proposer-selection.ts';
import { offenceHeight, offenceKey, offender, readEvidence, writeEvidence } from '../core/consensus/evidence.ts';
import { proposalSignBytesOf, voteSignBytesOf } from '../core/consensus/sign-bytes.ts';
import type { EngineEvidence, Hash, QuorumCertificate, Validator, ValidatorSet } from '../core/consensus/types.ts';
import { indexOfValidator } from '../core/consensus/validator-set.ts';
import { voteKey } from '../core/consensus/vote-set.ts';

const BLOCK_TAG = domainTag('aegis/sim/test-block/v1');
const MAX_EVIDENCE = 16;
export const SLASH_PERCENT = 5;

export interface TestBlock {
  height: number;
  counter: number;
  prevHash: Hash;
  evidence: EngineEvidence[];
}

export function encodeTestBlock(b: TestBlock): Uint8Array {
  const w = new ByteWriter(64).u8(1).u64(b.height).u32(b.counter).bytes(b.prevHash).u8(b.evidence.length);
  for (const e of b.evidence) writeEvidence(w, e);
  return w.finish();
}

export function decodeTestBlock(bytes: Uint8Array) {
  return safeDecode((): TestBlock => {
    const r = new ByteReader(bytes);
    if (r.u8() !== 1) throw new DecodeError('version');
    const height = r.u64();
    const counter = r.u32();
    const prevHash = r.bytes(32).slice();
    const n = r.u8();
    if (n > MAX_EVIDENCE) throw new DecodeError('too much evidence');
    const evidence: EngineEvidence[] = [];
    for (let i = 0; i < n; i++) {
      const e = readEvidence(r);
      if (e.kind === 'split-view') throw new DecodeError('split-view evidence in a test block');
      evidence.push(e);
    }
    r.end();
    return { height, counter, prevHash, evidence };
  });
}

export class TestChainApp {
  private readonly sets = new Map<number, ValidatorSet>();
  private lastHash: Hash = new Uint8Array(32);
  private lastHeight = -1;
  private counter = 0;
  private readonly pool = new Map<string, EngineEvidence>();
  private readonly punished = new Set<string>();
  readonly committedHashes: string[] = [];
  readonly committedEvidenceList: EngineEvidence[] = [];
  /** Current powers by validator id (0 once jailed). */
  readonly powers = new Map<string, number>();
  readonly jailed = new Set<string>();

  constructor(
    genesis: ValidatorSet,
    private readonly chainId: string,
    private readonly verifier: Verifier,
  ) {
    this.sets.set(0, genesis);
    for (const v of genesis.validators) this.powers.set(v.id, v.power);
  }

  validatorSet(height: number): ValidatorSet {
    const s = this.sets.get(height);
    if (s === undefined) throw new Error(`"height" ${height}: validator set not yet decided`);
    return s;
  }

  addEvidence(e: EngineEvidence): void {
    const k = offenceKey(e);
    if (!this.punished.has(k) && !this.pool.has(k)) this.pool.set(k, e);
  }

  async proposeBlock(height: number, _round: number): Promise<Uint8Array> {
    // Only evidence every validator can still check (its height's set is kept).
    const evidence = [...this.pool.values()].filter((e) => this.sets.has(offenceHeight(e))).slice(0, MAX_EVIDENCE);
    return encodeTestBlock({ height, counter: this.counter++, prevHash: this.lastHash, evidence });
  }

  /** A second, different valid block for the same height (for a conflicting proposer). */
  async variantBlock(height: number, round: number): Promise<Uint8Array> {
    return encodeTestBlock({ height, counter: 1_000_000 + this.counter++ + round, prevHash: this.lastHash, evidence: [] });
  }

  async validateBlock(height: number, block: Uint8Array): Promise<boolean> {
    const d = decodeTestBlock(block);
    if (!d.ok) return false;
    const b = d.value;
    if (b.height !== height || height !== this.lastHeight + 1 || !bytesEqual(b.prevHash, this.lastHash)) return false;
    const set = this.sets.get(height);
    if (set === undefined) return false;
    const keys = new Set<string>();
    for (const e of b.evidence) {
      const k = offenceKey(e);
      if (keys.has(k) || this.punished.has(k) || !(await this.evidenceValid(e))) return false;
      keys.add(k);
    }
    return true;
  }

  private async evidenceValid(e: EngineEvidence): Promise<boolean> {
    if (e.kind === 'duplicate-proposal') {
      const { proposalA: a, proposalB: b } = e;
      if (!bytesEqual(a.proposer, b.proposer) || a.height !== b.height || a.round !== b.round || bytesEqual(a.blockHash, b.blockHash)) return false;
      const set = this.sets.get(a.height);
      if (set === undefined || indexOfValidator(set, a.proposer) < 0) return false;
      const [okA, okB] = await Promise.all([
        this.verifier.verify(a.proposer, proposalSignBytesOf(this.chainId, a), a.signature),
        this.verifier.verify(b.proposer, proposalSignBytesOf(this.chainId, b), b.signature),
      ]);
      return okA && okB;
    }
    const { voteA: a, voteB: b } = e;
    if (!bytesEqual(a.validator, b.validator) || a.height !== b.height || a.round !== b.round || a.type !== b.type) return false;
    if (voteKey(a.blockHash) === voteKey(b.blockHash)) return false;
    const set = this.sets.get(a.height);
    if (set === undefined || indexOfValidator(set, a.validator) < 0) return false;
    const [okA, okB] = await Promise.all([
      this.verifier.verify(a.validator, voteSignBytesOf(this.chainId, a), a.signature),
      this.verifier.verify(b.validator, voteSignBytesOf(this.chainId, b), b.signature),
    ]);
    return okA && okB;
  }

  blockHash(block: Uint8Array): Hash {
    return sha256(concatBytes(BLOCK_TAG, block));
  }

  async commitBlock(height: number, block: Uint8Array, _qc: QuorumCertificate): Promise<void> {
    if (height !== this.lastHeight + 1) throw new Error(`"height" ${height} out of order`);
    const d = decodeTestBlock(block);
    if (!d.ok) throw new Error(`"block": ${d.error}`);
    const set = this.validatorSet(height);
    for (const e of d.value.evidence) {
      const k = offenceKey(e);
      if (this.punished.has(k)) continue;
      this.punished.add(k);
      this.pool.delete(k);
      this.committedEvidenceList.push(e);
      const i = indexOfValidator(set, offender(e));
      const v = set.validators[i];
      if (v === undefined) continue;
      const p = this.powers.get(v.id) ?? 0;
      this.powers.set(v.id, p - Math.floor((p * SLASH_PERCENT) / 100));
      this.jailed.add(v.id);
    }
    for (const k of this.pool.keys()) if (this.punished.has(k)) this.pool.delete(k);
    let next: Validator[] = set.validators
      .filter((v) => !this.jailed.has(v.id))
      .map((v) => ({ ...v, power: this.powers.get(v.id) ?? v.power }));
    if (next.length === 0) next = set.validators.slice();
    this.sets.set(height + 1, advanceValidatorSet(set, next));
    this.sets.delete(height - 8);
    this.lastHash = this.blockHash(block);
    this.lastHeight = height;
    this.committedHashes.push(bytesToHex(this.lastHash));
  }
}
