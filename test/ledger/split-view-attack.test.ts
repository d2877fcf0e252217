import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../src/core/bytes.ts';
import type { SplitViewEvidence } from '../../src/core/consensus/types.ts';
import { encodeLedgerHead } from '../../src/core/ledger/ledger-messages.ts';
import { checkSplitViewEvidence } from '../../src/core/ledger/split-view.ts';
import { MemoryLogStorage } from '../../src/core/ledger/storage.ts';
import { MessageType } from '../../src/core/net/message-types.ts';
import type { AegisNode } from '../../src/node/aegis-node.ts';
import { forkedHead } from '../../src/node/ledger-fork.ts';
import { LedgerService } from '../../src/node/ledger-service.ts';
import { Simulator } from '../../src/sim/simulator.ts';
import { sharedCrypto } from '../sim-helpers.ts';

// Split view, the real attack: the attacker does not hand both heads to everyone (that is caught by
// any single node). It sends one head to half of its peers and a conflicting head to the other
// half, with a hop limit of 1 so nobody forwards either envelope. Each honest node holds one
// consistent-looking head; only relaying the heads it received lets the two halves compare.

const N = 6;
const ATTACKER = 5;

/** Send raw gossip with hop limit 1 (what a modified client can do; honest nodes never forward it). */
function sendUnforwarded(node: AegisNode, peer: string, bytes: Uint8Array): boolean {
  const opts = (node as unknown as { opts: { gossipTtl: number } }).opts;
  const ttl = opts.gossipTtl;
  opts.gossipTtl = 1;
  try {
    return node.sendRawGossip(peer as never, bytes);
  } finally {
    opts.gossipTtl = ttl;
  }
}

describe('split view: different heads to different peers', () => {
  it('is caught by every honest node through relayed heads, with evidence anyone can check', async () => {
    const sim = await Simulator.create({ nodes: N, seed: 31, crypto: await sharedCrypto() });
    await sim.runUntilFormed({ maxVirtualMs: 30_000 });
    const submitted: SplitViewEvidence[][] = sim.nodes.map(() => []);
    const services: LedgerService[] = [];
    for (const s of sim.nodes)
      services.push(await LedgerService.start({ node: s.node, signer: s.signer, verifier: sim.crypto, storage: new MemoryLogStorage(), submitEvidence: (e) => submitted[s.index]!.push(e) }));
    // Everyone learns everyone's first (empty) head.
    await sim.runFor(12_000);
    const attacker = sim.nodes[ATTACKER]!;
    const svc = services[ATTACKER]!;
    svc.stop(); // the attacker's own gossip would send its real head to everyone
    let sent = 0;
    sim.at(0, async () => {
      const log = svc.auditLog!;
      await log.append({ kind: 'vote', timeMs: Math.floor(sim.clock.now()), voteType: 1, height: 1, round: 0, blockHash: null });
      const real = await log.signHead();
      const forked = await forkedHead(log, real, attacker.signer);
      const node = sim.node(ATTACKER);
      const [a, b] = await Promise.all([node.seal(MessageType.LedgerHead, encodeLedgerHead({ head: real.bytes })), node.seal(MessageType.LedgerHead, encodeLedgerHead({ head: forked.bytes }))]);
      node.connectedPeers().forEach((peer, i) => (sent += sendUnforwarded(node, peer, (i % 2 === 0 ? a : b).bytes) ? 1 : 0));
    });
    const honest = services.filter((_, i) => i !== ATTACKER);
    const caught = (): boolean => honest.every((h) => h.snapshot().evidence.some((e) => e.peer === attacker.id && e.status === 'proven'));
    expect(await sim.runUntil(caught, { maxVirtualMs: 60_000 })).toBe(true);
    expect(sent).toBe(N - 1);
    for (let i = 0; i < N; i++) {
      if (i === ATTACKER) continue;
      expect(submitted[i]!.length).toBe(1);
      const e = submitted[i]![0]!;
      expect(bytesEqual(e.logOwner, attacker.publicKey)).toBe(true);
      expect(await checkSplitViewEvidence(e, sim.crypto)).toMatchObject({ valid: true, proven: 'same-size' });
      expect(services[i]!.snapshot().evidence.every((v) => v.peer === attacker.id)).toBe(true);
    }
  }, 30_000);
});
