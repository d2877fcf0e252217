// Where an audit log keeps its entries, tree nodes and signed heads. Small on purpose, so an
// IndexedDB adapter (platform/) and the in-memory map below both fit: one atomic `commit` per append
// (the entries and the tree nodes they created, optionally a head), reads by key. A crash between
// commits leaves the log as it was before or after one, never in between.
import type { Hash } from './merkle.ts';
import type { NodeKey, TreeNode } from './tree.ts';

/** Reads of tree nodes by (level, index); proof builders fetch all keys they need in one call. */
export interface TreeStorage {
  nodes(keys: readonly NodeKey[]): Promise<(Hash | undefined)[]>;
}

export interface LogBatch {
  /** Entry bytes for indices firstIndex, firstIndex + 1, …; firstIndex is the current size. */
  readonly firstIndex: number;
  readonly entries: readonly Uint8Array[];
  /** Tree nodes the appends created (tree.ts appendLeaf). */
  readonly nodes: readonly TreeNode[];
  /** A signed head to add after the existing ones. */
  readonly head?: Uint8Array;
}

export interface LogStorage extends TreeStorage {
  /** Number of entries stored. */
  size(): Promise<number>;
  /** Entry bytes for indices [from, to). */
  entries(from: number, to: number): Promise<Uint8Array[]>;
  /** Every signed head, oldest first. */
  heads(): Promise<Uint8Array[]>;
  /** Write a batch atomically (all or nothing). */
  commit(batch: LogBatch): Promise<void>;
}

const nodeKey = (level: number, index: number): string => `${level}/${index}`;

/** Maps in memory: tests, the simulator and the CLI. */
export class MemoryLogStorage implements LogStorage {
  private readonly entryList: Uint8Array[] = [];
  private readonly nodeMap = new Map<string, Hash>();
  private readonly headList: Uint8Array[] = [];
  /** Total bytes written (entries + 32 per node + heads), for storage figures. */
  bytesStored = 0;

  async size(): Promise<number> {
    return this.entryList.length;
  }

  async entries(from: number, to: number): Promise<Uint8Array[]> {
    return this.entryList.slice(from, to);
  }

  async nodes(keys: readonly NodeKey[]): Promise<(Hash | undefined)[]> {
    return keys.map((k) => this.nodeMap.get(nodeKey(k.level, k.index)));
  }

  async heads(): Promise<Uint8Array[]> {
    return this.headList.slice();
  }

  async commit(batch: LogBatch): Promise<void> {
    if (batch.firstIndex !== this.entryList.length)
      throw new Error(`"firstIndex" ${batch.firstIndex} must be the log size ${this.entryList.length}`);
    for (const e of batch.entries) {
      this.entryList.push(e.slice());
      this.bytesStored += e.length;
    }
    for (const n of batch.nodes) {
      this.nodeMap.set(nodeKey(n.level, n.index), n.hash);
      this.bytesStored += n.hash.length;
    }
    if (batch.head !== undefined) {
      this.headList.push(batch.head.slice());
      this.bytesStored += batch.head.length;
    }
  }
}
