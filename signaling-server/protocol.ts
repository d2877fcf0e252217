// The signaling wire format: JSON text frames. Pure functions, no sockets: a frame's text in, a typed
// message or an error code out. Nothing here throws on client input.
import type { ClientMessage, ErrorCode, ServerMessage } from './types.ts';

/** 1..64 characters, safe to show and to use as a map key. */
export const ROOM_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
/** A node id: 16 bytes of SHA-256 in lowercase hex (see src/core/crypto/node-id.ts). */
export const PEER_ID_PATTERN = /^[0-9a-f]{32}$/;

export const isValidRoom = (room: unknown): room is string =>
  typeof room === 'string' && ROOM_PATTERN.test(room);
export const isValidPeerId = (id: unknown): id is string =>
  typeof id === 'string' && PEER_ID_PATTERN.test(id);

export interface ProtocolError {
  code: ErrorCode;
  message: string;
}

export type ParseResult = { ok: true; message: ClientMessage } | { ok: false; error: ProtocolError };

const fail = (code: ErrorCode, message: string): ParseResult => ({ ok: false, error: { code, message } });

/** JSON.parse that returns null on garbage (and for the literal `null`, which no caller accepts). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Own property only, so `__proto__` tricks and inherited names never count as fields. */
function field(obj: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(obj, name) ? obj[name] : undefined;
}

/** Validates one client frame. Extra fields are ignored; a field of the wrong type is `malformed`. */
export function parseClientMessage(text: string): ParseResult {
  const value = parseJson(text);
  if (!isRecord(value)) return fail('malformed', 'expected a JSON object');
  const type = field(value, 'type');
  if (typeof type !== 'string') return fail('malformed', '"type" must be a string');
  switch (type) {
    case 'join': {
      const room = field(value, 'room');
      const peerId = field(value, 'peerId');
      if (typeof room !== 'string') return fail('malformed', '"room" must be a string');
      if (typeof peerId !== 'string') return fail('malformed', '"peerId" must be a string');
      if (!isValidRoom(room)) return fail('bad-room', '"room" must be 1..64 of [A-Za-z0-9_.-]');
      if (!isValidPeerId(peerId)) return fail('bad-peer-id', '"peerId" must be 32 lowercase hex chars');
      return { ok: true, message: { type, room, peerId } };
    }
    case 'signal': {
      const to = field(value, 'to');
      if (typeof to !== 'string') return fail('malformed', '"to" must be a string');
      if (!Object.hasOwn(value, 'data')) return fail('malformed', '"data" is missing');
      if (!isValidPeerId(to)) return fail('bad-peer-id', '"to" must be 32 lowercase hex chars');
      return { ok: true, message: { type, to, data: value['data'] } };
    }
    case 'ping':
    case 'leave':
      return { ok: true, message: { type } };
    default:
      return fail('unknown-type', 'unknown message type');
  }
}

/**
 * Serialises a server message; null if it cannot be (data nested deeply enough to overflow the
 * stack), which the caller treats as a malformed request.
 */
export function encodeServerMessage(message: ServerMessage): string | null {
  try {
    return JSON.stringify(message);
  } catch {
    return null;
  }
}
