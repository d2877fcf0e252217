// Splits messages into data-channel frames of at most `maxFrameBytes` (16 KiB: the size every
// browser's SCTP stack delivers intact) and reassembles them. Data channels are reliable and ordered,
// so chunks of one message arrive contiguously; any deviation is a protocol error.
//
// Frame: u32 message id, u16 chunk index, u16 chunk count, payload.
import { ByteReader, safeDecode } from '../codec/index.ts';
import type { Result } from '../result.ts';

export const MAX_FRAME_BYTES = 16 * 1024;
const CHUNK_HEADER_BYTES = 8;

export function chunkMessage(messageId: number, message: Uint8Array, maxFrameBytes = MAX_FRAME_BYTES): Uint8Array[] {
  const payload = maxFrameBytes - CHUNK_HEADER_BYTES;
  const count = Math.max(1, Math.ceil(message.length / payload));
  if (count > 0xffff) throw new Error(`"message" of ${message.length} bytes needs more than 65535 chunks`);
  const frames: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const part = message.subarray(i * payload, Math.min(message.length, (i + 1) * payload));
    const f = new Uint8Array(CHUNK_HEADER_BYTES + part.length);
    const v = new DataView(f.buffer);
    v.setUint32(0, messageId >>> 0);
    v.setUint16(4, i);
    v.setUint16(6, count);
    f.set(part, CHUNK_HEADER_BYTES);
    frames.push(f);
  }
  return frames;
}

/**
 * Reassembles one link's frames. `push` returns a whole message, null while incomplete, or an error.
 * Each frame's payload is copied once, straight into a buffer sized from the first frame's chunk
 * count (capped at `maxMessageBytes`): a multi-MB message costs no final gather copy on the page.
 */
export class Reassembler {
  private id = -1;
  private count = 0;
  private next = 0;
  private buffer = new Uint8Array(0);
  private bytes = 0;

  constructor(private readonly maxMessageBytes: number) {}

  push(frame: Uint8Array): Result<Uint8Array | null> {
    const header = safeDecode(() => {
      const r = new ByteReader(frame);
      return { id: r.u32(), index: r.u16(), count: r.u16() };
    });
    if (!header.ok) return this.fail(header.error);
    const { id, index, count } = header.value;
    if (count === 0 || index >= count) return this.fail(`bad chunk ${index}/${count}`);
    if (index === 0) {
      if (this.next > 0) return this.fail('new message before the previous one finished');
      this.id = id;
      this.count = count;
      // Every frame but the last is full in practice; a sender with smaller frames grows the buffer.
      const estimate = Math.min(this.maxMessageBytes, count * Math.max(0, frame.length - CHUNK_HEADER_BYTES));
      this.buffer = new Uint8Array(estimate);
    } else if (id !== this.id || count !== this.count || index !== this.next) {
      return this.fail(`out-of-order chunk ${index}/${count}`);
    }
    const part = frame.subarray(CHUNK_HEADER_BYTES);
    const end = this.bytes + part.length;
    if (end > this.maxMessageBytes) return this.fail(`oversize: message exceeds ${this.maxMessageBytes} bytes`);
    if (end > this.buffer.length) {
      const grown = new Uint8Array(Math.min(this.maxMessageBytes, Math.max(end, 2 * this.buffer.length)));
      grown.set(this.buffer.subarray(0, this.bytes));
      this.buffer = grown;
    }
    this.buffer.set(part, this.bytes);
    this.bytes = end;
    this.next++;
    if (this.next < count) return { ok: true, value: null };
    // The message keeps the buffer; the next message gets a fresh one.
    const out = this.buffer.subarray(0, this.bytes);
    this.buffer = new Uint8Array(0);
    this.resetMessage();
    return { ok: true, value: out };
  }

  private fail(error: string): Result<never> {
    this.buffer = new Uint8Array(0);
    this.resetMessage();
    return { ok: false, error };
  }

  private resetMessage(): void {
    this.next = 0;
    this.bytes = 0;
    this.id = -1;
    this.count = 0;
  }
}
