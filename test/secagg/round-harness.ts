// Drives one secure-aggregation round between an aggregator and n participants in memory, with real
// signed envelopes and real crypto (noble backends: deterministic for a seed). Dropouts are chosen
// per stage; an optional `tamper` hook lets a test play a malicious aggregator.
import { bytesToHex } from '../../src/core/bytes.ts';
import { nobleEd25519, type Signer } from '../../src/core/crypto/ed25519.ts';
import { nodeIdFromPublicKey, type NodeId } from '../../src/core/crypto/node-id.ts';
import { nobleAesCtrPrg } from '../../src/core/crypto/prg.ts';
import { nobleX25519 } from '../../src/core/crypto/x25519.ts';
import { decodeEnvelope, sealEnvelope, type Envelope } from '../../src/core/net/envelope.ts';
import { MessageType } from '../../src/core/net/message-types.ts';
import { SecAggAggregator, type Outgoing } from '../../src/core/secagg/aggregator.ts';
import { decodeBundle, decodeIdList, decodeShareKeys } from '../../src/core/secagg/messages.ts';
import { DEFAULT_PARAMS, type SecAggParams } from '../../src/core/secagg/params.ts';
import { SecAggParticipant, type ToAggregator } from '../../src/core/secagg/participant.ts';
import type { AggregateResult } from '../../src/core/secagg/transcript.ts';
import { SeededRandom } from '../../src/sim/seeded-random.ts';

export type Stage = 'advertise' | 'share' | 'mask' | 'consistency' | 'unmask';
export const STAGES: Stage[] = ['advertise', 'share', 'mask', 'consistency', 'unmask'];

export interface RoundSetup {
  inputs: number[][];
  params?: Partial<SecAggParams>;
  /** Participant indices that go silent before sending their message of that stage. */
  dropouts?: Partial<Record<Stage, number[]>>;
  seed?: number;
  /** A malicious aggregator: rewrite what participant i receives (return the new body). */
  tamper?: (stage: Stage, to: number, body: Uint8Array, ids: readonly NodeId[]) => Uint8Array;
}

export interface RoundOutcome {
  result: AggregateResult | null;
  abortReason: string | null;
  transcript: Uint8Array[];
  ids: NodeId[];
  participants: SecAggParticipant[];
  /** Every envelope any participant sent, in order (for auditing what honest nodes revealed). */
  sentByParticipants: Envelope[];
  participantAborts: Array<string | null>;
}

export const deps = (random: SeededRandom) => ({ x25519: nobleX25519, prg: nobleAesCtrPrg, verifier: nobleEd25519, random });

export async function runRound(setup: RoundSetup): Promise<RoundOutcome> {
  const n = setup.inputs.length;
  const rng = SeededRandom.fromSeed(setup.seed ?? 1);
  const params: SecAggParams = { ...DEFAULT_PARAMS, dimension: setup.inputs[0]?.length ?? 1, ...setup.params };
  const signers: Signer[] = [];
  for (let i = 0; i <= n; i++) signers.push(await nobleEd25519.signer(rng.fork(`key${i}`).bytes(32)));
  const aggSigner = signers[n] as Signer;
  const ids = signers.slice(0, n).map((s) => nodeIdFromPublicKey(s.publicKey));
  const aggId = nodeIdFromPublicKey(aggSigner.publicKey);
  const seqs = new Map<Signer, number>();
  const seal = (signer: Signer, type: number, body: Uint8Array, to?: Signer): Promise<Envelope> => {
    const sequence = (seqs.get(signer) ?? 0) + 1;
    seqs.set(signer, sequence);
    return sealEnvelope({ type, sender: signer.publicKey, sequence, body, ...(to ? { recipient: to.publicKey } : {}) }, signer);
  };

  const roundId = rng.fork('round').bytes(16);
  const agg = new SecAggAggregator(aggId, roundId, params, deps(rng.fork('agg')), ids);
  agg.opened((await seal(aggSigner, MessageType.SecAggOpen, agg.openBody())).bytes, 0);

  const dropped = new Set<number>();
  const sent: Envelope[] = [];
  const dropAt = (stage: Stage): void => {
    for (const i of setup.dropouts?.[stage] ?? []) dropped.add(i);
  };
  const deliver = async (i: number, msg: ToAggregator | null): Promise<void> => {
    if (!msg || dropped.has(i)) return;
    const env = await seal(signers[i] as Signer, msg.type, msg.body, aggSigner);
    sent.push(env);
    const r = agg.accept(decodeEnvelope(env.bytes).ok ? env : env);
    if (!r.ok) throw new Error(`aggregator refused participant ${i}: ${r.error}`);
  };

  // Stage 1: advertise.
  dropAt('advertise');
  const participants: SecAggParticipant[] = [];
  for (let i = 0; i < n; i++) {
    const { participant, send } = await SecAggParticipant.join(ids[i] as NodeId, aggId, roundId, params, setup.inputs[i] as number[], deps(rng.fork(`p${i}`)));
    participants.push(participant);
    await deliver(i, send);
  }
  const out = async (): Promise<Outgoing[] | null> => {
    const ev = await agg.closeStage(0);
    return ev.kind === 'send' ? ev.messages : null;
  };
  const bodyFor = (stage: Stage, i: number, body: Uint8Array): Uint8Array => (setup.tamper ? setup.tamper(stage, i, body, ids) : body);
  const finish = (): RoundOutcome => ({
    result: agg.result,
    abortReason: agg.abortReason,
    transcript: agg.result ? agg.transcript() : [],
    ids,
    participants,
    sentByParticipants: sent,
    participantAborts: participants.map((p) => p.abortReason),
  });

  // Stage 2: share keys.
  let msgs = await out();
  if (!msgs) return finish();
  dropAt('share');
  const bundle = msgs[0] as Outgoing;
  for (let i = 0; i < n; i++) {
    if (dropped.has(i)) continue;
    const b = decodeBundle(bodyFor('share', i, bundle.body));
    if (!b.ok) throw new Error(b.error);
    await deliver(i, await (participants[i] as SecAggParticipant).onAdvertiseBundle(b.value.envelopes));
  }
  // Stage 3: masked inputs.
  msgs = await out();
  if (!msgs) return finish();
  dropAt('mask');
  for (const m of msgs) {
    const i = ids.indexOf(m.to as NodeId);
    if (dropped.has(i)) continue;
    const s = decodeShareKeys(bodyFor('mask', i, m.body));
    if (!s.ok) throw new Error(s.error);
    await deliver(i, await (participants[i] as SecAggParticipant).onShares(s.value.shares));
  }
  // Stage 4: consistency.
  msgs = await out();
  if (!msgs) return finish();
  dropAt('consistency');
  for (let i = 0; i < n; i++) {
    if (dropped.has(i) || (participants[i] as SecAggParticipant).stage !== 'masked') continue;
    const l = decodeIdList(bodyFor('consistency', i, (msgs[0] as Outgoing).body));
    if (!l.ok) throw new Error(l.error);
    await deliver(i, (participants[i] as SecAggParticipant).onSurvivors(l.value.ids.map(bytesToHex)));
  }
  // Stage 5: unmask.
  msgs = await out();
  if (!msgs) return finish();
  dropAt('unmask');
  for (let i = 0; i < n; i++) {
    if (dropped.has(i) || (participants[i] as SecAggParticipant).stage !== 'signed') continue;
    const b = decodeBundle(bodyFor('unmask', i, (msgs[0] as Outgoing).body));
    if (!b.ok) throw new Error(b.error);
    await deliver(i, await (participants[i] as SecAggParticipant).onConsistencyBundle(b.value.envelopes));
  }
  await agg.closeStage(0);
  return finish();
}
