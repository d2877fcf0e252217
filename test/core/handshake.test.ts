import { beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../src/core/bytes.ts';
import { nobleEd25519, type Ed25519Backend, type Signer } from '../../src/core/crypto/ed25519.ts';
import { nodeIdFromPublicKey } from '../../src/core/crypto/node-id.ts';
import { sealEnvelope } from '../../src/core/net/envelope.ts';
import {
  checkHello,
  handshakeTranscript,
  HANDSHAKE_NONCE_BYTES,
  signProof,
  verifyProof,
  type HandshakeContext,
  type Role,
} from '../../src/core/net/handshake.ts';
import { webCryptoEd25519 } from '../../src/platform/webcrypto-ed25519.ts';

const FP_ALICE = 'sha-256 D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F';
const FP_BOB = 'sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08';
const FP_MALLORY_1 = 'sha-256 11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00';
const FP_MALLORY_2 = 'sha-256 A0:B1:C2:D3:E4:F5:06:17:28:39:4A:5B:6C:7D:8E:9F:A0:B1:C2:D3:E4:F5:06:17:28:39:4A:5B:6C:7D:8E:9F';

let alice: Signer;
let bob: Signer;
let mallory: Signer;
let nonceCounter = 0;

beforeAll(async () => {
  alice = await nobleEd25519.signer(hexToBytes('a1'.repeat(32)));
  bob = await nobleEd25519.signer(hexToBytes('b0'.repeat(32)));
  mallory = await nobleEd25519.signer(hexToBytes('3e'.repeat(32)));
});

function freshNonce(): Uint8Array {
  const n = globalThis.crypto.getRandomValues(new Uint8Array(HANDSHAKE_NONCE_BYTES));
  n[0] = nonceCounter++ & 0xff; // distinct even if the RNG were broken
  return n;
}

function context(
  role: Role,
  self: Signer,
  remote: Signer,
  localFingerprint: string,
  remoteFingerprint: string,
  localNonce = freshNonce(),
): HandshakeContext {
  return {
    role,
    localFingerprint,
    remoteFingerprint,
    localPublicKey: self.publicKey,
    localNonce,
    expectedRemoteId: nodeIdFromPublicKey(remote.publicKey),
  };
}

interface Session {
  a: HandshakeContext;
  b: HandshakeContext;
  proofA: Uint8Array;
  proofB: Uint8Array;
}

/** Honest run: both HELLOs accepted, both proofs signed. Fingerprints as each side sees them. */
async function session(fp: { aLocal: string; aRemote: string; bLocal: string; bRemote: string }): Promise<Session> {
  const a = context('initiator', alice, bob, fp.aLocal, fp.aRemote);
  const b = context('responder', bob, alice, fp.bLocal, fp.bRemote);
  expect(checkHello(a, bob.publicKey, b.localNonce)).toEqual({ ok: true });
  expect(checkHello(b, alice.publicKey, a.localNonce)).toEqual({ ok: true });
  const proofA = await signProof(a, alice, bob.publicKey, b.localNonce);
  const proofB = await signProof(b, bob, alice.publicKey, a.localNonce);
  return { a, b, proofA, proofB };
}

const direct = { aLocal: FP_ALICE, aRemote: FP_BOB, bLocal: FP_BOB, bRemote: FP_ALICE };

describe.each([
  ['noble', () => nobleEd25519],
  ['webcrypto', () => webCryptoEd25519(globalThis.crypto.subtle)],
] as [string, () => Ed25519Backend][])('handshake (%s verifier)', (_, makeVerifier) => {
  const verifier = makeVerifier();

  it('two honest peers with matching fingerprints verify each other', async () => {
    const s = await session(direct);
    expect(await verifyProof(s.b, verifier, alice.publicKey, s.a.localNonce, s.proofA)).toBe(true);
    expect(await verifyProof(s.a, verifier, bob.publicKey, s.b.localNonce, s.proofB)).toBe(true);
    // Both sides build the same transcript for each signer.
    expect(bytesToHex(handshakeTranscript(s.a, bob.publicKey, s.b.localNonce, 'initiator'))).toBe(
      bytesToHex(handshakeTranscript(s.b, alice.publicKey, s.a.localNonce, 'initiator')),
    );
  });

  it('a signaling MITM (each side sees the attacker’s DTLS fingerprint) fails both proofs', async () => {
    // Mallory swapped the SDPs: Alice's DTLS session is with Mallory (cert M1), Bob's with Mallory (cert M2).
    const s = await session({ aLocal: FP_ALICE, aRemote: FP_MALLORY_1, bLocal: FP_BOB, bRemote: FP_MALLORY_2 });
    expect(await verifyProof(s.b, verifier, alice.publicKey, s.a.localNonce, s.proofA)).toBe(false);
    expect(await verifyProof(s.a, verifier, bob.publicKey, s.b.localNonce, s.proofB)).toBe(false);
  });

  it('any single mismatched or swapped fingerprint fails', async () => {
    const variants = [
      { ...direct, aRemote: FP_MALLORY_1 },
      { ...direct, bRemote: FP_MALLORY_1 },
      { ...direct, aLocal: FP_MALLORY_1 },
      { aLocal: FP_BOB, aRemote: FP_ALICE, bLocal: FP_BOB, bRemote: FP_ALICE }, // Alice swapped hers
      { ...direct, aRemote: FP_BOB.toLowerCase() }, // normalisation is the parser's job; bytes must match
    ];
    for (const fp of variants) {
      const s = await session(fp);
      expect(await verifyProof(s.b, verifier, alice.publicKey, s.a.localNonce, s.proofA), JSON.stringify(fp)).toBe(false);
      expect(await verifyProof(s.a, verifier, bob.publicKey, s.b.localNonce, s.proofB), JSON.stringify(fp)).toBe(false);
    }
  });

  it('a reflected proof fails, and a reflected HELLO is refused', async () => {
    const s = await session(direct);
    // Mallory sends Alice's own proof back to her as if it were Bob's.
    expect(await verifyProof(s.a, verifier, bob.publicKey, s.b.localNonce, s.proofA)).toBe(false);
    // …or claims Alice's key, with Alice's proof and nonce.
    expect(await verifyProof(s.a, verifier, alice.publicKey, s.a.localNonce, s.proofA)).toBe(false);
    // A HELLO that echoes Alice's own key, or her nonce, never gets a proof in return.
    const selfExpecting = { ...s.a, expectedRemoteId: nodeIdFromPublicKey(alice.publicKey) };
    expect(checkHello(selfExpecting, alice.publicKey, freshNonce())).toEqual({ ok: false, error: 'peer claims our own identity' });
    expect(checkHello(s.a, bob.publicKey, s.a.localNonce)).toEqual({ ok: false, error: 'nonce reflected' });
  });

  it('a proof signed by another role of the same transcript does not verify', async () => {
    const s = await session(direct);
    // Bob's proof re-signed as if he were the initiator.
    const wrongRole = await bob.sign(handshakeTranscript(s.b, alice.publicKey, s.a.localNonce, 'initiator'));
    expect(await verifyProof(s.a, verifier, bob.publicKey, s.b.localNonce, wrongRole)).toBe(false);
  });

  it('a key that does not match the signalled id is refused before any proof', async () => {
    const s = await session(direct);
    // Mallory answers Alice's dial to Bob with her own key and a perfectly valid proof for it.
    const m = context('responder', mallory, alice, FP_BOB, FP_ALICE);
    const proofM = await signProof(m, mallory, alice.publicKey, s.a.localNonce);
    expect(checkHello(s.a, mallory.publicKey, m.localNonce)).toEqual({
      ok: false,
      error: 'identity mismatch: key does not match the signalled peer id',
    });
    // The proof itself is valid for Mallory's key: only the identity check stops her.
    expect(await verifyProof(s.a, verifier, mallory.publicKey, m.localNonce, proofM)).toBe(true);
    // With Bob's key claimed, Mallory's signature does not verify.
    expect(await verifyProof(s.a, verifier, bob.publicKey, m.localNonce, proofM)).toBe(false);
  });

  it('replaying an old proof into a session with new nonces fails', async () => {
    const old = await session(direct);
    expect(await verifyProof(old.a, verifier, bob.publicKey, old.b.localNonce, old.proofB)).toBe(true);
    const fresh = await session(direct);
    // Mallory replays Bob's old HELLO nonce and proof: Alice's nonce is new, so the transcript differs.
    expect(await verifyProof(fresh.a, verifier, bob.publicKey, old.b.localNonce, old.proofB)).toBe(false);
    expect(await verifyProof(fresh.a, verifier, bob.publicKey, fresh.b.localNonce, old.proofB)).toBe(false);
    expect(await verifyProof(fresh.b, verifier, alice.publicKey, old.a.localNonce, old.proofA)).toBe(false);
  });

  it('an envelope signature is never accepted as a proof (domain separation)', async () => {
    const s = await session(direct);
    const transcript = handshakeTranscript(s.a, bob.publicKey, s.b.localNonce, 'responder');
    // Bob seals an envelope whose signed bytes have the transcript as body; its signature is over a different domain.
    const env = await sealEnvelope({ type: 1, sender: bob.publicKey, sequence: 1, body: transcript }, bob);
    expect(await verifyProof(s.a, verifier, bob.publicKey, s.b.localNonce, env.signature)).toBe(false);
  });

  it('malformed proofs and keys are false, not thrown', async () => {
    const s = await session(direct);
    for (const sig of [new Uint8Array(0), new Uint8Array(63), new Uint8Array(64), s.proofB.subarray(1)])
      expect(await verifyProof(s.a, verifier, bob.publicKey, s.b.localNonce, sig)).toBe(false);
    expect(await verifyProof(s.a, verifier, new Uint8Array(31), s.b.localNonce, s.proofB)).toBe(false);
  });
});

describe('handshake transcript', () => {
  it('length-prefixes fingerprints so their boundary cannot shift', () => {
    const nonce = new Uint8Array(32);
    const base = context('initiator', { publicKey: new Uint8Array(32), sign: async () => new Uint8Array(64) }, {
      publicKey: new Uint8Array(32).fill(1),
      sign: async () => new Uint8Array(64),
    }, 'ab', 'c', nonce);
    const shifted = { ...base, localFingerprint: 'a', remoteFingerprint: 'bc' };
    const remoteKey = new Uint8Array(32).fill(1);
    expect(bytesToHex(handshakeTranscript(base, remoteKey, nonce, 'initiator'))).not.toBe(
      bytesToHex(handshakeTranscript(shifted, remoteKey, nonce, 'initiator')),
    );
  });

  it('starts with the domain tag and binds role, fingerprints, nonces and keys in initiator-first order', () => {
    const aNonce = new Uint8Array(32).fill(0xa0);
    const bNonce = new Uint8Array(32).fill(0xb0);
    const aKey = new Uint8Array(32).fill(0xaa);
    const bKey = new Uint8Array(32).fill(0xbb);
    const ctxB: HandshakeContext = {
      role: 'responder',
      localFingerprint: 'F-B',
      remoteFingerprint: 'F-A',
      localPublicKey: bKey,
      localNonce: bNonce,
      expectedRemoteId: nodeIdFromPublicKey(aKey),
    };
    const hex = bytesToHex(handshakeTranscript(ctxB, aKey, aNonce, 'responder'));
    const tag = bytesToHex(new TextEncoder().encode('aegis/handshake/v1')) + '00';
    const f = (s: string) => s.length.toString(16).padStart(8, '0') + bytesToHex(new TextEncoder().encode(s));
    expect(hex).toBe(tag + '02' + f('F-A') + f('F-B') + 'a0'.repeat(32) + 'b0'.repeat(32) + 'aa'.repeat(32) + 'bb'.repeat(32));
  });
});
