import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../../src/core/bounded-map.ts';
import { nobleEd25519, type Signer } from '../../src/core/crypto/ed25519.ts';
import { nodeIdFromPublicKey, type NodeId } from '../../src/core/crypto/node-id.ts';
import type { AuditLog } from '../../src/core/ledger/audit-log.ts';
import { decodeEntry } from '../../src/core/ledger/entry.ts';
import {
  decodeConsistencyRequest,
  encodeConsistencyResponse,
  encodeLedgerHead,
  type EntriesResponse,
  type HeadsResponse,
} from '../../src/core/ledger/ledger-messages.ts';
import { MemoryLogStorage } from '../../src/core/ledger/storage.ts';
import type { Envelope } from '../../src/core/net/envelope.ts';
import { MessageType } from '../../src/core/net/message-types.ts';
import { auditPeer, TOO_LARGE } from '../../src/node/ledger-audit.ts';
import { LedgerService, type LedgerNode, type LedgerServiceOptions } from '../../src/node/ledger-service.ts';
import { VirtualClock } from '../../src/sim/virtual-clock.ts';
import { memoryLog, signer as seededSigner } from './helpers.ts';

// Hostile peers against the audit log (issue 5 hardening): heads only from members, one written
// head per peer per window, bounded per-peer state, and an audit that stops at a byte budget.

type Handler = (env: Envelope, from: NodeId) => unknown;

/** A node whose handlers the test calls directly; consistency requests are answered from `peers`. */
function stubNode(s: Signer, clock: VirtualClock, peers: Map<NodeId, AuditLog>) {
  const handlers = new Map<number, Handler[]>();
  const deliver = (type: number, sender: Uint8Array, body: Uint8Array): void => {
    for (const h of handlers.get(type) ?? []) void h({ type, sender, body } as unknown as Envelope, nodeIdFromPublicKey(sender));
  };
  const node = {
    id: nodeIdFromPublicKey(s.publicKey),
    publicKey: s.publicKey,
    clock,
    broadcast: async () => ({}) as Envelope,
    sendTo: async (to: NodeId, type: number, body: Uint8Array) => {
      const log = peers.get(to);
      if (log !== undefined && type === MessageType.LedgerConsistencyRequest) {
        const m = decodeConsistencyRequest(body);
        if (!m.ok) throw new Error(m.error);
        const answers = await Promise.all(m.value.pairs.map(async (p) => ({ ...p, proof: await log.consistencyProof(p.size1, p.size2) })));
        queueMicrotask(() => deliver(MessageType.LedgerConsistencyResponse, log.publicKey, encodeConsistencyResponse({ requestId: m.value.requestId, answers })));
      }
      return {} as Envelope;
    },
    onMessage: (type: number, h: Handler) => {
      handlers.set(type, [...(handlers.get(type) ?? []), h]);
      return () => {};
    },
    schedule: (task: () => unknown) => void task(),
    publicKeyOf: () => undefined,
  } as unknown as LedgerNode;
  return { node, deliver };
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 30; i++) await new Promise((r) => setTimeout(r, 0));
};

async function setup(opts: Partial<LedgerServiceOptions> = {}) {
  const s = await seededSigner(1);
  const clock = new VirtualClock(1_767_225_600_000);
  const peers = new Map<NodeId, AuditLog>();
  const { node, deliver } = stubNode(s, clock, peers);
  const svc = await LedgerService.start({ node, signer: s, verifier: nobleEd25519, storage: new MemoryLogStorage(), gossipIntervalMs: 600_000, ...opts });
  const peerHeads = async (): Promise<number> => {
    const log = svc.auditLog as AuditLog;
    return (await log.entryBytes(0, log.size)).filter((b) => {
      const d = decodeEntry(b);
      return d.ok && d.value.kind === 'peer-head';
    }).length;
  };
  return { svc, clock, peers, deliver, peerHeads };
}

const vote = (h: number) => ({ kind: 'vote' as const, timeMs: 1, voteType: 1 as const, height: h, round: 0, blockHash: null });

describe('the audit log against hostile peers', () => {
  it('a head from a node that is neither a room member nor a peer is refused before any check and never written', async () => {
    const member = await memoryLog(2);
    const stranger = await memoryLog(3);
    const memberId = nodeIdFromPublicKey(member.log.publicKey);
    let verifications = 0;
    const counting = { verify: (k: Uint8Array, m: Uint8Array, sig: Uint8Array) => (verifications++, nobleEd25519.verify(k, m, sig)) };
    const { svc, deliver, peerHeads } = await setup({ isPeer: (id) => id === memberId, verifier: counting });
    verifications = 0;
    for (let i = 0; i < 20; i++) {
      await stranger.log.append(vote(i));
      deliver(MessageType.LedgerHead, stranger.log.publicKey, encodeLedgerHead({ head: (await stranger.log.signHead()).bytes }));
    }
    await flush();
    expect(verifications).toBe(0);
    expect(await peerHeads()).toBe(0);
    expect(svc.snapshot().refused['head from a node that is not a room member or peer']).toBe(20);
    deliver(MessageType.LedgerHead, member.log.publicKey, encodeLedgerHead({ head: (await member.log.signHead()).bytes }));
    await flush();
    expect(await peerHeads()).toBe(1);
    // A member relaying a stranger's head does not let it in either.
    deliver(MessageType.LedgerHead, member.log.publicKey, encodeLedgerHead({ head: (await stranger.log.signHead()).bytes }));
    await flush();
    expect(svc.snapshot().refused['relayed head of a node that is not a room member or peer']).toBe(1);
    expect(await peerHeads()).toBe(1);
  });

  it('one written head per peer per 30 s: a burst of new heads writes one, the monitor still follows each, the newest is written after the window', async () => {
    const peer = await memoryLog(2);
    const { svc, clock, peers, deliver, peerHeads } = await setup();
    peers.set(nodeIdFromPublicKey(peer.log.publicKey), peer.log);
    const send = async (): Promise<void> => {
      deliver(MessageType.LedgerHead, peer.log.publicKey, encodeLedgerHead({ head: (await peer.log.signHead()).bytes }));
      await flush();
    };
    for (let i = 0; i < 10; i++) {
      await peer.log.append(vote(i));
      await send();
      clock.advanceTo(clock.now() + 1000);
    }
    expect(await peerHeads()).toBe(1);
    expect(svc.snapshot().peerHeadsDeferred).toBe(9);
    expect(svc.snapshot().evidence).toEqual([]);
    expect(svc.snapshot().refused).toEqual({});
    // The split-view monitor followed every head: it holds the newest.
    const monitor = (svc as unknown as { monitor: { lastHead(k: Uint8Array): { size: number } | undefined } }).monitor;
    expect(monitor.lastHead(peer.log.publicKey)?.size).toBe(10);
    clock.advanceTo(clock.now() + 30_000);
    await send(); // the same head, gossiped again after the window: now written
    expect(await peerHeads()).toBe(2);
    const log = svc.auditLog as AuditLog;
    const last = decodeEntry((await log.entryBytes(log.size - 1, log.size))[0]!);
    expect(last.ok && last.value.kind === 'peer-head' && last.value.head).toEqual((await peer.log.heads()).at(-1)!.bytes);
  });

  it('per-peer state stays bounded however many keys send heads', async () => {
    const { svc, deliver } = await setup({ peersKept: 8 });
    for (let i = 0; i < 40; i++) {
      const p = await memoryLog(10 + i);
      deliver(MessageType.LedgerHead, p.log.publicKey, encodeLedgerHead({ head: (await p.log.signHead()).bytes }));
    }
    await flush();
    const t = svc.snapshot().peersTracked;
    expect(t.last).toBe(8);
    expect(t.recorded).toBe(8);
    expect(t.pending).toBe(0);
    expect((svc as unknown as { peerQueues: Map<string, unknown> }).peerQueues.size).toBe(0);
  });

  it('an audit stops at its byte budget with "peer log too large to audit here"', async () => {
    const peer = await memoryLog(2);
    for (let i = 0; i < 40; i++) await peer.log.append(vote(i));
    const head = await peer.log.signHead();
    const served = { entries: 0 };
    const transport = {
      heads: async (from: number): Promise<HeadsResponse> => ({ requestId: 0, total: 1, from, heads: from === 0 ? [head.bytes] : [] }),
      entries: async (from: number, to: number, size: number): Promise<EntriesResponse> => {
        const bytes = await peer.log.entryBytes(from, Math.min(to, from + 4));
        served.entries += bytes.length;
        return { requestId: 0, from, proofTreeSize: size, entries: await Promise.all(bytes.map(async (b, i) => ({ bytes: b, proof: await peer.log.inclusionProof(from + i, size) }))) };
      },
      consistency: async () => ({ requestId: 0, answers: [] }),
    };
    const whole = await auditPeer(peer.log.publicKey, transport, { verifier: nobleEd25519 });
    expect(whole.failures).toEqual([]);
    served.entries = 0;
    const capped = await auditPeer(peer.log.publicKey, transport, { verifier: nobleEd25519, maxBytes: 2048 });
    expect(capped.ok).toBe(false);
    expect(capped.failures[0]).toMatch(new RegExp(`^${TOO_LARGE}: more than 0\\.00 MiB`));
    expect(served.entries).toBeLessThan(40);
  });
});

describe('BoundedMap', () => {
  it('evicts the least recently used key beyond its capacity', () => {
    const m = new BoundedMap<string, number>(2);
    m.set('a', 1).set('b', 2);
    expect(m.get('a')).toBe(1);
    m.set('c', 3);
    expect([...m.entries()].map(([k]) => k)).toEqual(['a', 'c']);
    expect(m.evicted).toBe(1);
    expect(() => new BoundedMap(0)).toThrow(/capacity/);
  });
});
