// Recent blocks only: the last `blockWindow` blocks (genesis parameter) with their QCs, plus a
// checkpoint chain of set-change certificates (light-client.ts) that newcomers follow from genesis.
// Reputation moves powers at every set recompute, so keeping one certificate per change would grow
// without bound. A new certificate replaces the newest kept one when the set before that one could
// verify the new one by skipping (its signers hold > 1/3 of that set's power): what is kept is one
// certificate per change of ≥ 1/3 of the trusted power, each verifiable from the previous one.
// Persistence is an injected adapter (IndexedDB in the browser, a Map in tests and the simulator).
import { trustedOverlapExceedsOneThird, type SetChangeCertificate } from './light-client.ts';
import { tryMakeValidatorSet } from './validator-set.ts';
import type { Hash, QuorumCertificate, ValidatorSet } from './types.ts';

export interface StoredBlock {
  readonly height: number;
  readonly hash: Hash;
  readonly bytes: Uint8Array;
  readonly qc: QuorumCertificate;
}

/** Where blocks go beyond memory. Calls are awaited in commit order. */
export interface BlockPersistence {
  putBlock(block: StoredBlock): Promise<void> | void;
  deleteBlock(height: number): Promise<void> | void;
  putCertificate(cert: SetChangeCertificate): Promise<void> | void;
  /** A kept certificate was superseded by a later one a light client can skip to. */
  deleteCertificate(height: number): Promise<void> | void;
}

export class BlockStore {
  private readonly blocks = new Map<number, StoredBlock>();
  private readonly certs: SetChangeCertificate[] = [];
  private lowest = Infinity;
  private highest = 0;

  constructor(
    private readonly windowBlocks: number,
    /** The set genesis installs: what a newcomer trusts before the first certificate. */
    private readonly genesisSet: ValidatorSet,
    private readonly persistence?: BlockPersistence,
  ) {
    if (!Number.isSafeInteger(windowBlocks) || windowBlocks < 1) throw new Error(`"windowBlocks" must be a positive integer`);
  }

  /** Adds the next block (and its certificate, if it changed the set); drops blocks out of the window. */
  async add(block: StoredBlock, certificate?: SetChangeCertificate): Promise<void> {
    if (this.highest !== 0 && block.height !== this.highest + 1)
      throw new Error(`"block.height" must be ${this.highest + 1}, got ${block.height}`);
    this.blocks.set(block.height, block);
    this.highest = block.height;
    this.lowest = Math.min(this.lowest, block.height);
    await this.persistence?.putBlock(block);
    if (certificate !== undefined) await this.addCertificate(certificate);
    while (this.highest - this.lowest + 1 > this.windowBlocks) {
      this.blocks.delete(this.lowest);
      await this.persistence?.deleteBlock(this.lowest);
      this.lowest++;
    }
  }

  private async addCertificate(c: SetChangeCertificate): Promise<void> {
    const newest = this.certs.at(-1);
    if (newest !== undefined && this.canSkipTo(this.trustedBefore(this.certs.length - 1), c)) {
      this.certs.pop();
      await this.persistence?.deleteCertificate(newest.header.height);
    }
    this.certs.push(c);
    await this.persistence?.putCertificate(c);
  }

  /** The set a light client trusts before kept certificate `i`. */
  private trustedBefore(i: number): ValidatorSet | null {
    const prev = this.certs[i - 1];
    if (prev === undefined) return this.genesisSet;
    const s = tryMakeValidatorSet(prev.nextValidators);
    return s.ok ? s.value : null;
  }

  private canSkipTo(trusted: ValidatorSet | null, c: SetChangeCertificate): boolean {
    if (trusted === null || c.validators === undefined) return false;
    const signing = tryMakeValidatorSet(c.validators);
    return signing.ok && trustedOverlapExceedsOneThird(trusted, signing.value, c.qc);
  }

  get(height: number): StoredBlock | undefined {
    return this.blocks.get(height);
  }

  get size(): number {
    return this.blocks.size;
  }

  /** Lowest and highest stored heights (0, 0 when empty). */
  get range(): { lowest: number; highest: number } {
    return this.blocks.size === 0 ? { lowest: 0, highest: 0 } : { lowest: this.lowest, highest: this.highest };
  }

  /** The checkpoint chain from genesis, ascending; the last one installs the current set. */
  get certificates(): readonly SetChangeCertificate[] {
    return this.certs;
  }

  /** Certificates a node that synced from a snapshot received with it. */
  seedCertificates(certs: readonly SetChangeCertificate[]): void {
    if (this.certs.length > 0) throw new Error('certificates already present');
    this.certs.push(...certs);
  }
}
