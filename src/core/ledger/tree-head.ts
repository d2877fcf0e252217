// Signed tree heads, modelled on C2SP tlog-checkpoint (a signed note). The bytes are UTF-8 text:
//
//   aegis.log/<64 hex: Ed25519 public key>      origin line: names the log and its key
//   <size>                                      decimal, no leading zeros
//   <base64 root hash>                          RFC 9162 root of the first <size> entries
//   aegis-v1 <timeMs> <base64 previous head>    extension line: signing time (ms since the Unix
//                                               epoch) and SHA-256 of the previous signed head's
//                                               bytes (32 zero bytes for the first head)
//   (empty line)
//   — aegis.log/<hex key> <base64(key id ‖ signature)>
//
// The body is the first four lines with their newlines. The signature is Ed25519 over
// "aegis/tree-head/v1" 0x00 ‖ body (domain-separated, so it is never a valid signature of an envelope
// or vote), which is why it is not a plain note signature: its key id is, as signed-note computes it,
// SHA-256(name ‖ "\n" ‖ 0xFF ‖ "aegis/tree-head/v1" ‖ public key)[:4], with type 0xFF (a signature
// type named by an identifier). Parsing is strict: one canonical text per head.
import { bytesEqual, bytesToHex, concatBytes, hexToBytes, utf8Decode, utf8ToBytes } from '../bytes.ts';
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES, type Signer, type Verifier } from '../crypto/ed25519.ts';
import { domainTag, sha256 } from '../crypto/hash.ts';
import { err, ok, type Result } from '../result.ts';
import { fromBase64, toBase64 } from './base64.ts';
import { HASH_BYTES, type Hash } from './merkle.ts';

export const TREE_HEAD_LABEL = 'aegis/tree-head/v1';
export const MAX_TREE_HEAD_BYTES = 1024;
export const NO_PREVIOUS_HEAD: Hash = new Uint8Array(HASH_BYTES);
const SIGNATURE_TAG = domainTag(TREE_HEAD_LABEL);
const ORIGIN_PREFIX = 'aegis.log/';
const KEY_ID_BYTES = 4;

export interface TreeHead {
  /** Ed25519 public key of the log's owner (the origin names it). */
  readonly publicKey: Uint8Array;
  readonly size: number;
  readonly root: Hash;
  readonly timeMs: number;
  /** SHA-256 of the previous signed head's bytes, or NO_PREVIOUS_HEAD. */
  readonly prevHash: Hash;
}

export interface SignedTreeHead extends TreeHead {
  /** The exact signed note; what is stored, exchanged, exported and hashed. */
  readonly bytes: Uint8Array;
  readonly signature: Uint8Array;
  /** SHA-256(bytes): what the next head names as previous. */
  readonly hash: Hash;
}

export const originOf = (publicKey: Uint8Array): string => `${ORIGIN_PREFIX}${bytesToHex(publicKey)}`;

function keyId(origin: string, publicKey: Uint8Array): Uint8Array {
  return sha256(concatBytes(utf8ToBytes(`${origin}\n`), new Uint8Array([0xff]), utf8ToBytes(TREE_HEAD_LABEL), publicKey)).subarray(0, KEY_ID_BYTES);
}

/** The body text (four lines) that the signature covers. */
export function treeHeadBody(h: TreeHead): string {
  if (!(h.publicKey instanceof Uint8Array) || h.publicKey.length !== ED25519_PUBLIC_KEY_BYTES) throw new Error('"publicKey" must be 32 bytes');
  if (!Number.isSafeInteger(h.size) || h.size < 0) throw new Error('"size" must be a non-negative safe integer');
  if (!Number.isSafeInteger(h.timeMs) || h.timeMs < 0) throw new Error('"timeMs" must be a non-negative safe integer');
  if (h.root.length !== HASH_BYTES) throw new Error('"root" must be 32 bytes');
  if (h.prevHash.length !== HASH_BYTES) throw new Error('"prevHash" must be 32 bytes');
  return `${originOf(h.publicKey)}\n${h.size}\n${toBase64(h.root)}\naegis-v1 ${h.timeMs} ${toBase64(h.prevHash)}\n`;
}

const signedMessage = (body: string): Uint8Array => concatBytes(SIGNATURE_TAG, utf8ToBytes(body));

export async function signTreeHead(head: Omit<TreeHead, 'publicKey'>, signer: Signer): Promise<SignedTreeHead> {
  const full: TreeHead = { ...head, publicKey: signer.publicKey };
  const body = treeHeadBody(full);
  const signature = await signer.sign(signedMessage(body));
  const origin = originOf(signer.publicKey);
  const text = `${body}\n— ${origin} ${toBase64(concatBytes(keyId(origin, signer.publicKey), signature))}\n`;
  const bytes = utf8ToBytes(text);
  return { ...full, root: full.root.slice(), prevHash: full.prevHash.slice(), bytes, signature, hash: sha256(bytes) };
}

const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;
const ORIGIN = /^aegis\.log\/([0-9a-f]{64})$/;

function decimal(s: string, what: string): Result<number> {
  if (!DECIMAL.test(s)) return err(`${what} "${s.slice(0, 20)}" is not a canonical decimal`);
  const n = Number(s);
  return Number.isSafeInteger(n) ? ok(n) : err(`${what} exceeds 2^53`);
}

function hash32(s: string, what: string): Result<Hash> {
  const b = fromBase64(s);
  if (b === null || b.length !== HASH_BYTES) return err(`${what} is not base64 of 32 bytes`);
  return ok(b);
}

/** Parse a signed head without checking its signature (see verifyTreeHead). */
export function parseTreeHead(bytes: Uint8Array): Result<SignedTreeHead> {
  if (bytes.length > MAX_TREE_HEAD_BYTES) return err(`tree head is ${bytes.length} bytes, limit ${MAX_TREE_HEAD_BYTES}`);
  let text: string;
  try {
    text = utf8Decode(bytes);
  } catch {
    return err('tree head is not UTF-8');
  }
  const lines = text.split('\n');
  if (lines.length !== 7 || lines[4] !== '' || lines[6] !== '') return err('tree head must be 4 body lines, an empty line and one signature line, each ending in a newline');
  const [originLine, sizeLine, rootLine, extLine, , sigLine] = lines as [string, string, string, string, string, string];
  const origin = ORIGIN.exec(originLine);
  if (origin === null) return err('tree head origin must be aegis.log/<64 lowercase hex>');
  const publicKey = hexToBytes(origin[1] as string);
  const size = decimal(sizeLine, 'size');
  if (!size.ok) return size;
  const root = hash32(rootLine, 'root hash');
  if (!root.ok) return root;
  const ext = extLine.split(' ');
  if (ext.length !== 3 || ext[0] !== 'aegis-v1') return err('extension line must be "aegis-v1 <timeMs> <base64 previous head hash>"');
  const timeMs = decimal(ext[1] as string, 'timeMs');
  if (!timeMs.ok) return timeMs;
  const prevHash = hash32(ext[2] as string, 'previous head hash');
  if (!prevHash.ok) return prevHash;
  const sig = sigLine.split(' ');
  if (sig.length !== 3 || sig[0] !== '—' || sig[1] !== originLine) return err('signature line must be "— <origin> <base64 signature>"');
  const blob = fromBase64(sig[2] as string);
  if (blob === null || blob.length !== KEY_ID_BYTES + ED25519_SIGNATURE_BYTES) return err('signature must be base64 of a 4-byte key id and 64 bytes');
  if (!bytesEqual(blob.subarray(0, KEY_ID_BYTES), keyId(originLine, publicKey))) return err('signature key id does not match the origin key');
  return ok({
    publicKey,
    size: size.value,
    root: root.value,
    timeMs: timeMs.value,
    prevHash: prevHash.value,
    bytes: bytes.slice(),
    signature: blob.slice(KEY_ID_BYTES),
    hash: sha256(bytes),
  });
}

/** Parse and check the owner's signature. */
export async function verifyTreeHead(bytes: Uint8Array, verifier: Verifier): Promise<Result<SignedTreeHead>> {
  const h = parseTreeHead(bytes);
  if (!h.ok) return h;
  const good = await verifier.verify(h.value.publicKey, signedMessage(treeHeadBody(h.value)), h.value.signature);
  return good ? h : err('tree head signature is invalid');
}

/** The text of a head (it is always valid UTF-8 once parsed or signed). */
export const treeHeadText = (h: SignedTreeHead): string => utf8Decode(h.bytes);
