// Where a node keeps its chain between reloads: genesis, the set-change certificates, the latest
// certified snapshot, recent blocks and the double-sign guard, as bytes under string keys
// ("<room>/genesis", "<room>/block/000000000042", ...). In the browser the IndexedDB `chain` store
// (platform/idb-chain-storage.ts); in tests and the simulator a Map that outlives a node restart.
import { ByteReader, ByteWriter, safeDecode } from '../core/codec/index.ts';
import type { BlockPersistence, StoredBlock } from '../core/consensus/block-store.ts';
import { decodeCommitMessage, encodeCommitMessage } from '../core/consensus/consensus-messages.ts';
import { decodeSnapshot, encodeSnapshot } from '../core/consensus/chain-messages.ts';
import { decodeGenesis, type Genesis } from '../core/consensus/genesis.ts';
import { decodeCertificate, encodeCertificate, type CertifiedSnapshot, type SetChangeCertificate } from '../core/consensus/light-client.ts';
import type { Result } from '../core/result.ts';

/** A small key → bytes store; every call may be async. */
export interface ChainStorage {
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, value: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
  /** Keys starting with `prefix`, ascending. */
  keys(prefix: string): Promise<string[]>;
}

export class MemoryChainStorage implements ChainStorage {
  readonly map = new Map<string, Uint8Array>();

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.map.get(key)?.slice();
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    this.map.set(key, value.slice());
  }

  async delete(key: string): Promise<void> {
    this.map.delete(key);
  }

  async keys(prefix: string): Promise<string[]> {
    return [...this.map.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
}

/** Fixed width, so keys sort by height. */
const pad = (n: number): string => String(n).padStart(12, '0');

export interface LoadedChain {
  genesisBytes: Uint8Array;
  genesis: Genesis;
  certificates: SetChangeCertificate[];
  snapshot: CertifiedSnapshot | null;
}

/** The double-sign guard's record: the last (height, round, step) this validator signed, and what. */
export interface SignPosition {
  height: number;
  round: number;
  /** 0 proposal, 1 prevote, 2 precommit. */
  step: number;
  signBytesHash: Uint8Array;
}

/** One network's chain in a ChainStorage, under `<room>/`. Writes are queued in order. */
export class RoomChainStore implements BlockPersistence {
  private queue: Promise<void> = Promise.resolve();
  /** Writes that failed (quota, closed database): the node runs on, a reload re-syncs. */
  failedWrites = 0;

  constructor(
    private readonly storage: ChainStorage,
    private readonly room: string,
  ) {}

  private key(...parts: string[]): string {
    return [this.room, ...parts].join('/');
  }

  private write(f: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(f).catch(() => {
      this.failedWrites++;
    });
    return this.queue;
  }

  /** Resolves once every queued write has finished. */
  flushed(): Promise<void> {
    return this.queue;
  }

  async load(): Promise<Result<LoadedChain | null>> {
    const g = await this.storage.get(this.key('genesis'));
    if (g === undefined) return { ok: true, value: null };
    const genesis = decodeGenesis(g);
    if (!genesis.ok) return { ok: false, error: `stored genesis: ${genesis.error}` };
    const certificates: SetChangeCertificate[] = [];
    for (const k of await this.storage.keys(this.key('cert', ''))) {
      const bytes = await this.storage.get(k);
      const c = bytes === undefined ? null : decodeCertificate(bytes);
      if (c === null || !c.ok) return { ok: false, error: `stored certificate ${k}: ${c?.error ?? 'missing'}` };
      certificates.push(c.value);
    }
    const s = await this.storage.get(this.key('snapshot'));
    const snapshot = s === undefined ? null : decodeSnapshot(s);
    if (snapshot !== null && !snapshot.ok) return { ok: false, error: `stored snapshot: ${snapshot.error}` };
    return { ok: true, value: { genesisBytes: g, genesis: genesis.value, certificates, snapshot: snapshot?.value ?? null } };
  }

  /** Forgets this room's chain (a losing genesis, or a store that no longer verifies). */
  clear(): Promise<void> {
    return this.write(async () => {
      for (const k of await this.storage.keys(`${this.room}/`)) await this.storage.delete(k);
    });
  }

  saveGenesis(bytes: Uint8Array): Promise<void> {
    return this.write(() => this.storage.put(this.key('genesis'), bytes));
  }

  saveSnapshot(s: CertifiedSnapshot): Promise<void> {
    const bytes = encodeSnapshot(s);
    return this.write(() => this.storage.put(this.key('snapshot'), bytes));
  }

  /** Certificates a synced node received with its snapshot. */
  saveCertificates(certs: readonly SetChangeCertificate[]): Promise<void> {
    return Promise.all(certs.map((c) => this.putCertificate(c))).then(() => undefined);
  }

  /** Keyed by height, so a superseded checkpoint (block-store.ts) can be deleted. */
  putCertificate(cert: SetChangeCertificate): Promise<void> {
    const k = this.key('cert', pad(cert.header.height));
    const bytes = encodeCertificate(cert);
    return this.write(() => this.storage.put(k, bytes));
  }

  deleteCertificate(height: number): Promise<void> {
    return this.write(() => this.storage.delete(this.key('cert', pad(height))));
  }

  putBlock(b: StoredBlock): Promise<void> {
    const bytes = encodeCommitMessage({ height: b.height, block: b.bytes, qc: b.qc });
    return this.write(() => this.storage.put(this.key('block', pad(b.height)), bytes));
  }

  deleteBlock(height: number): Promise<void> {
    return this.write(() => this.storage.delete(this.key('block', pad(height))));
  }

  /** Recent blocks kept on disk (for inspection and serving peers), ascending. */
  async blocks(): Promise<{ height: number; block: Uint8Array }[]> {
    const out: { height: number; block: Uint8Array }[] = [];
    for (const k of await this.storage.keys(this.key('block', ''))) {
      const bytes = await this.storage.get(k);
      const d = bytes === undefined ? null : decodeCommitMessage(bytes);
      if (d !== null && d.ok) out.push({ height: d.value.height, block: d.value.block });
    }
    return out;
  }

  async signPosition(): Promise<SignPosition | null> {
    const bytes = await this.storage.get(this.key('sign-guard'));
    if (bytes === undefined) return null;
    const d = safeDecode(() => {
      const r = new ByteReader(bytes);
      const p = { height: r.u64('height'), round: r.u32('round'), step: r.u8('step'), signBytesHash: r.bytes(32, 'hash').slice() };
      r.end('sign position');
      return p;
    });
    return d.ok ? d.value : null;
  }

  /** Awaited before a signature leaves the node. */
  saveSignPosition(p: SignPosition): Promise<void> {
    const bytes = new ByteWriter(48).u64(p.height).u32(p.round).u8(p.step).bytes(p.signBytesHash).finish();
    return this.write(() => this.storage.put(this.key('sign-guard'), bytes));
  }
}
