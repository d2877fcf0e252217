// Recent blocks only: the last `blockWindow` blocks (genesis parameter) with their QCs, plus every
// set-change certificate (light-client.ts), which newcomers need from genesis on. Storage does not
// grow with the chain's length beyond one certificate per validator-set change. Persistence is an
// injected adapter (IndexedDB in the browser, a Map in tests and the simulator).
import type { SetChangeCertificate } from './light-client.ts';
import type { Hash, QuorumCertificate } from './types.ts';

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
}

export class BlockStore {
  private readonly blocks = new Map<number, StoredBlock>();
  private readonly certs: SetChangeCertificate[] = [];
  private lowest = Infinity;
  private highest = 0;

  constructor(
    private readonly windowBlocks: number,
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
    if (certificate !== undefined) {
      this.certs.push(certificate);
      await this.persistence?.putCertificate(certificate);
    }
    while (this.highest - this.lowest + 1 > this.windowBlocks) {
      this.blocks.delete(this.lowest);
      await this.persistence?.deleteBlock(this.lowest);
      this.lowest++;
    }
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

  /** Every set change since genesis (or since this node's snapshot), ascending. */
  get certificates(): readonly SetChangeCertificate[] {
    return this.certs;
  }

  /** Certificates a node that synced from a snapshot received with it. */
  seedCertificates(certs: readonly SetChangeCertificate[]): void {
    if (this.certs.length > 0) throw new Error('certificates already present');
    this.certs.push(...certs);
  }
}
