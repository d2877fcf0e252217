// A node's id is derived from its Ed25519 public key, so an id can only be claimed by the key's holder
// (the channel handshake proves possession). 16 bytes of SHA-256 is ample against collisions.
import { bytesToHex, concatBytes } from '../bytes.ts';
import { domainTag, sha256 } from './hash.ts';

export type NodeId = string;

const NODE_ID_TAG = domainTag('aegis/node-id/v1');
export const NODE_ID_HEX_LENGTH = 32;

const cache = new Map<string, NodeId>();

export function nodeIdFromPublicKey(publicKey: Uint8Array): NodeId {
  const key = bytesToHex(publicKey);
  let id = cache.get(key);
  if (id === undefined) {
    id = bytesToHex(sha256(concatBytes(NODE_ID_TAG, publicKey)).subarray(0, 16));
    if (cache.size > 10_000) cache.clear();
    cache.set(key, id);
  }
  return id;
}

export function isNodeId(s: unknown): s is NodeId {
  return typeof s === 'string' && /^[0-9a-f]{32}$/.test(s);
}

/** Short human-checkable fingerprint, e.g. "3fa9-01bc". */
export function shortFingerprint(id: NodeId): string {
  return `${id.slice(0, 4)}-${id.slice(4, 8)}`;
}
