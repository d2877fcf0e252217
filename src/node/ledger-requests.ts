// Request/response correlation for the audit-log protocol: each request carries a u32 id; a
// response is accepted only from the peer it was sent to, once, before its timeout. A late,
// unknown or foreign response is refused (and counted by the caller), never matched to another.
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { NodeId } from '../core/crypto/node-id.ts';

interface Waiting {
  peer: NodeId;
  type: number;
  resolve: (body: Uint8Array | null) => void;
  timer: TimerHandle;
}

export class PendingRequests {
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();

  constructor(
    private readonly clock: Pick<Clock, 'setTimeout' | 'clearTimeout'>,
    private readonly timeoutMs: number,
  ) {}

  /** A fresh id and a promise of the response body of `responseType` from `peer` (null on timeout). */
  open(peer: NodeId, responseType: number): { requestId: number; response: Promise<Uint8Array | null> } {
    const requestId = this.nextId;
    this.nextId = this.nextId >= 0xffff_ffff ? 1 : this.nextId + 1;
    const response = new Promise<Uint8Array | null>((resolve) => {
      const timer = this.clock.setTimeout(() => {
        this.waiting.delete(requestId);
        resolve(null);
      }, this.timeoutMs);
      this.waiting.set(requestId, { peer, type: responseType, resolve, timer });
    });
    return { requestId, response };
  }

  /** Hand a response over; false if nobody waits for it (unknown id, other peer or type). */
  settle(requestId: number, peer: NodeId, type: number, body: Uint8Array): boolean {
    const w = this.waiting.get(requestId);
    if (w === undefined || w.peer !== peer || w.type !== type) return false;
    this.waiting.delete(requestId);
    this.clock.clearTimeout(w.timer);
    w.resolve(body);
    return true;
  }

  /** Abandon everything (the service stops): every waiter gets null. */
  cancelAll(): void {
    for (const [id, w] of this.waiting) {
      this.clock.clearTimeout(w.timer);
      w.resolve(null);
      this.waiting.delete(id);
    }
  }
}
