// What travels over one authenticated peer link (after chunk reassembly). One kind byte, then:
//
//   kind 1 HELLO   32-byte public key, 32-byte nonce           (handshake, both sides)
//   kind 2 PROOF   64-byte signature over the handshake transcript
//   kind 3 GOSSIP  u8 ttl, then a signed envelope
//   kind 4 PING    u32 ping id, f64 sender time (ms)
//   kind 5 PONG    u32 ping id, f64 echoed time
//   kind 6 BYE     u8 reason length, UTF-8 reason (polite close)
import { utf8Decode, utf8ToBytes } from '../bytes.ts';
import { ByteReader, ByteWriter, safeDecode } from '../codec/index.ts';
import type { Result } from '../result.ts';

export const LinkFrameKind = { Hello: 1, Proof: 2, Gossip: 3, Ping: 4, Pong: 5, Bye: 6 } as const;

export type LinkFrame =
  | { kind: 'hello'; publicKey: Uint8Array; nonce: Uint8Array }
  | { kind: 'proof'; signature: Uint8Array }
  | { kind: 'gossip'; ttl: number; envelope: Uint8Array }
  | { kind: 'ping'; id: number; timeMs: number }
  | { kind: 'pong'; id: number; timeMs: number }
  | { kind: 'bye'; reason: string };

export function encodeLinkFrame(f: LinkFrame): Uint8Array {
  const w = new ByteWriter(f.kind === 'gossip' ? f.envelope.length + 2 : 80);
  switch (f.kind) {
    case 'hello':
      return w.u8(LinkFrameKind.Hello).bytes(f.publicKey).bytes(f.nonce).finish();
    case 'proof':
      return w.u8(LinkFrameKind.Proof).bytes(f.signature).finish();
    case 'gossip':
      return w.u8(LinkFrameKind.Gossip).u8(f.ttl).bytes(f.envelope).finish();
    case 'ping':
      return w.u8(LinkFrameKind.Ping).u32(f.id).f64(f.timeMs).finish();
    case 'pong':
      return w.u8(LinkFrameKind.Pong).u32(f.id).f64(f.timeMs).finish();
    case 'bye': {
      // 200 characters can be up to 600 UTF-8 bytes: cut to what the u8 length can say, on a
      // character boundary (back off while the first byte left out is a continuation, 0b10xxxxxx).
      const utf8 = utf8ToBytes(f.reason.slice(0, 200));
      let n = Math.min(utf8.length, 0xff);
      while (n < utf8.length && ((utf8[n] as number) & 0xc0) === 0x80) n--;
      const reason = utf8.subarray(0, n);
      return w.u8(LinkFrameKind.Bye).u8(reason.length).bytes(reason).finish();
    }
  }
}

/** Strict decode of one link frame. Never throws. */
export function decodeLinkFrame(bytes: Uint8Array): Result<LinkFrame> {
  return safeDecode((): LinkFrame => {
    const r = new ByteReader(bytes);
    const kind = r.u8('kind');
    let f: LinkFrame;
    switch (kind) {
      case LinkFrameKind.Hello:
        f = { kind: 'hello', publicKey: r.bytes(32, 'public key'), nonce: r.bytes(32, 'nonce') };
        break;
      case LinkFrameKind.Proof:
        f = { kind: 'proof', signature: r.bytes(64, 'signature') };
        break;
      case LinkFrameKind.Gossip: {
        const ttl = r.u8('ttl');
        return { kind: 'gossip', ttl, envelope: r.bytes(r.remaining, 'envelope') };
      }
      case LinkFrameKind.Ping:
      case LinkFrameKind.Pong: {
        const id = r.u32('ping id');
        const timeMs = r.f64('time');
        if (!Number.isFinite(timeMs)) throw new Error('time is not finite');
        f = { kind: kind === LinkFrameKind.Ping ? 'ping' : 'pong', id, timeMs };
        break;
      }
      case LinkFrameKind.Bye: {
        const n = r.u8('reason length');
        f = { kind: 'bye', reason: utf8Decode(r.bytes(n, 'reason')) };
        break;
      }
      default:
        throw new Error(`unknown link frame kind ${kind}`);
    }
    r.end('link frame');
    return f;
  });
}
