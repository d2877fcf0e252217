import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../src/core/bytes.ts';
import type { SplitViewEvidence } from '../../src/core/consensus/types.ts';
import { VoteType } from '../../src/core/consensus/types.ts';
import { sha256 } from '../../src/core/crypto/hash.ts';
import { encodeLedgerHead } from '../../src/core/ledger/ledger-messages.ts';
import { checkSplitViewEvidence } from '../../src/core/ledger/split-view.ts';
import { MemoryLogStorage } from '../../src/core/ledger/storage.ts';
import { signTreeHead } from '../../src/core/ledger/tree-head.ts';
import { MessageType } from '../../src/core/net/message-types.ts';
import { LedgerService } from '../../src/node/ledger-service.ts';
import { Simulator } from '../../src/sim/simulator.ts';
import { nobleEd25519 } from '../../src/core/crypto/ed25519.ts';
import { nobleAesCtrPrg } from '../../src/core/crypto/prg.ts';
import { nobleX25519 } from '../../src/core/crypto/x25519.ts';
import { decodeEntry } from '../../src/core/ledger/entry.ts';
import { connectSecAggToLedger } from '../../src/node/ledger-secagg.ts';
import { SecAggService } from '../../src/node/secagg-service.ts';
import { sharedCrypto } from '../sim-helpers.ts';

const N = 5;
const FORKER = 4;

async function network() {
  const sim = await Simulator.create({ nodes: N, seed: 11, crypto: await sharedCrypto() });
  await sim.runUntilFormed({ maxVirtualMs: 30_000 });
  const submitted: SplitViewEvidence[][] = sim.nodes.map(() => []);
  const services: LedgerService[] = [];
  for (const s of sim.nodes) {
    services.push(
      await LedgerService.start({
        node: s.node,
        signer: s.signer,
        verifier: sim.crypto,
        storage: new MemoryLogStorage(),
        submitEvidence: (e) => submitted[s.index]!.push(e),
      }),
    );
  }
  return { sim, services, submitted };
}

const vote = (height: number) => ({ voteType: VoteType.Precommit, height, round: 0, blockHash: new Uint8Array(32).fill(height) });

/** Every node holds a peer-head entry of every other node at (at least) `size`. */
function allSaw(services: LedgerService[], size: number): boolean {
  return services.every((svc, i) =>
    services.every((other, j) => {
      if (i === j) return true;
      const want = other.snapshot().head;
      return want !== null && want.size >= size && svc.snapshot().recent.some((e) => e.kind === 'peer-head' && e.summary.includes(`size ${want.size},`));
    }),
  );
}

describe('audit logs over the simulated overlay', () => {
  it('heads gossip and grow consistently; a forking node is caught by every other node with proven evidence; audits pass', async () => {
    const { sim, services, submitted } = await network();
    // Some activity on every node, twice, so heads grow and consistency proofs are asked for.
    for (const round of [0, 1]) {
      sim.at(0, () => services.forEach((svc, i) => void Promise.all(Array.from({ length: 3 + i }, (_, k) => svc.recordVote(vote(round * 10 + k + 1))))));
      const target = round === 0 ? 3 : 6;
      // One peer head per peer per 30 s is written: the second round's heads wait out the window.
      expect(await sim.runUntil(() => allSaw(services, target), { maxVirtualMs: 60_000 })).toBe(true);
    }
    for (const svc of services) {
      expect(svc.snapshot().evidence).toEqual([]);
      expect(Object.keys(svc.snapshot().refused)).toEqual([]);
    }

    // Audit an honest peer: green, with the verifier's list of checks.
    let audit: Awaited<ReturnType<LedgerService['auditPeer']>> | null = null;
    sim.at(0, async () => {
      audit = await services[0]!.auditPeer(sim.nodes[1]!.id);
    });
    await sim.runUntil(() => audit !== null, { maxVirtualMs: 30_000 });
    expect(audit!.failures).toEqual([]);
    expect(audit!.ok).toBe(true);
    expect(audit!.checks.join('\n')).toMatch(/inclusion proofs[\s\S]*consistency proofs[\s\S]*history only grew since our last look/);
    expect(audit!.entries).toBe(services[1]!.snapshot().head!.size);

    // Node 4 forks its log.
    let forked = false;
    sim.at(0, async () => {
      forked = (await services[FORKER]!.forkLog()).ok;
    });
    const forkerKey = sim.nodes[FORKER]!.publicKey;
    const caught = (): boolean => services.every((svc, i) => i === FORKER || svc.snapshot().evidence.some((e) => e.peer === sim.nodes[FORKER]!.id && e.status === 'proven'));
    expect(await sim.runUntil(caught, { maxVirtualMs: 30_000 })).toBe(true);
    expect(forked).toBe(true);
    for (let i = 0; i < N; i++) {
      if (i === FORKER) {
        expect(submitted[i]).toEqual([]);
        continue;
      }
      expect(submitted[i]!.length).toBe(1);
      const e = submitted[i]![0]!;
      expect(bytesEqual(e.logOwner, forkerKey)).toBe(true);
      expect(await checkSplitViewEvidence(e, sim.crypto)).toMatchObject({ valid: true });
      // Only the forker is accused, and the conflicting head is written into the accuser's log.
      expect(services[i]!.snapshot().evidence.every((v) => v.peer === sim.nodes[FORKER]!.id)).toBe(true);
      expect(services[i]!.snapshot().evidence[0]!.submitted).toBe(true);
    }

    // A head of another size that its owner cannot prove consistent is only suspected: shown, not submitted.
    const before = submitted.map((s) => s.length);
    sim.at(0, async () => {
      const bogus = await signTreeHead({ size: 1000, root: sha256(new Uint8Array([1])), timeMs: 5, prevHash: sha256(new Uint8Array([2])) }, sim.nodes[2]!.signer);
      await sim.node(2).broadcast(MessageType.LedgerHead, encodeLedgerHead({ head: bogus.bytes }));
    });
    const suspected = (): boolean => services.every((svc, i) => i === 2 || svc.snapshot().evidence.some((e) => e.peer === sim.nodes[2]!.id && e.status === 'suspected'));
    expect(await sim.runUntil(suspected, { maxVirtualMs: 30_000 })).toBe(true);
    expect(submitted.map((s) => s.length)).toEqual(before);
    for (const svc of services) await svc.exportLog();
    sim.nodes.forEach((s, i) => expect(services[i]!.snapshot().status, s.id).toBe('ready'));
  });

  it('each masked input a node sends becomes a contribution entry committing to that envelope', async () => {
    const sim = await Simulator.create({ nodes: 3, seed: 4, crypto: await sharedCrypto() });
    await sim.runUntilFormed({ maxVirtualMs: 30_000 });
    const deps = { x25519: nobleX25519, prg: nobleAesCtrPrg, verifier: nobleEd25519 };
    const secagg = sim.nodes.map((s) => new SecAggService(s.node, deps));
    const sent: Uint8Array[][] = sim.nodes.map(() => []);
    sim.nodes.forEach((s, i) => {
      const node = s.node;
      const sendTo = node.sendTo.bind(node);
      node.sendTo = async (to, type, body) => {
        const env = await sendTo(to, type, body);
        if (type === MessageType.SecAggMaskedInput) sent[i]!.push(env.bytes);
        return env;
      };
    });
    const ledgers = await Promise.all(sim.nodes.map((s) => LedgerService.start({ node: s.node, signer: s.signer, verifier: sim.crypto, storage: new MemoryLogStorage() })));
    secagg.forEach((svc, i) => {
      connectSecAggToLedger(svc, ledgers[i]!);
      svc.setInput([i + 1, 2]);
    });
    let roundId = '';
    sim.at(0, async () => {
      roundId = await secagg[0]!.startRound({ dimension: 2, timeout: 2000 });
    });
    await sim.runUntil(() => secagg.every((s) => s.views()[0]?.result), { maxVirtualMs: 60_000 });
    await sim.runFor(100);
    const { commitmentOfEnvelope } = await import('../secagg/masked-input-fixture.ts');
    const { hexToBytes } = await import('../../src/core/bytes.ts');
    for (let i = 0; i < 3; i++) {
      const log = ledgers[i]!.auditLog!;
      const entries = (await log.entryBytes(0, log.size)).map((b) => decodeEntry(b)).flatMap((d) => (d.ok && d.value.kind === 'contribution' ? [d.value] : []));
      expect(entries.length).toBe(1);
      const env = i === 0 ? null : sent[i]![0]!; // node 0 aggregates: its own input is sealed locally
      if (env) expect(entries[0]!.commitment).toEqual(commitmentOfEnvelope(hexToBytes(roundId), env));
      expect(ledgers[i]!.snapshot().storage.replica.bytes).toBeGreaterThan(0);
    }
  });
});
