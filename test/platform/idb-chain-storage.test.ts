// The IndexedDB chain storage under fake-indexeddb: rooms are separate key ranges, and a room's
// chain (genesis, certificates, snapshot, blocks, sign guard) reads back and clears on its own.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { RoomChainStore } from '../../src/node/chain-storage.ts';
import { openAegisDB } from '../../src/platform/db.ts';
import { idbChainStorage } from '../../src/platform/idb-chain-storage.ts';

describe('idbChainStorage', () => {
  it('keeps rooms apart, lists keys by prefix in order, and clears one room only', async () => {
    const storage = idbChainStorage(await openAegisDB('aegis-chain-test-1'));
    await storage.put('a/block/000000000002', new Uint8Array([2]));
    await storage.put('a/block/000000000010', new Uint8Array([10]));
    await storage.put('a/genesis', new Uint8Array([1]));
    await storage.put('ab/genesis', new Uint8Array([9]));
    expect(await storage.keys('a/block/')).toEqual(['a/block/000000000002', 'a/block/000000000010']);
    expect(await storage.get('a/genesis')).toEqual(new Uint8Array([1]));
    await new RoomChainStore(storage, 'a').clear();
    expect(await storage.keys('a/')).toEqual([]);
    expect(await storage.get('ab/genesis')).toEqual(new Uint8Array([9]));
  });

  it('stores the double-sign guard position and reads it back', async () => {
    const store = new RoomChainStore(idbChainStorage(await openAegisDB('aegis-chain-test-2')), 'r');
    expect(await store.signPosition()).toBeNull();
    await store.saveSignPosition({ height: 41, round: 2, step: 1, signBytesHash: new Uint8Array(32).fill(4) });
    expect(await store.signPosition()).toEqual({ height: 41, round: 2, step: 1, signBytesHash: new Uint8Array(32).fill(4) });
    expect((await store.load()).ok).toBe(true);
  });
});
