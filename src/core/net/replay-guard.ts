// Drops envelopes whose (sender, sequence) was already accepted or fell out of the window.
// Senders start their sequence from the clock (sequence.ts) so a reloaded node keeps climbing.
//
// The window is a distance in sequence numbers, and clock-derived sequences advance 1000 per
// millisecond (SEQUENCES_PER_MS), so it is sized in time: a message overtaken in flight by its
// sender's later ones (a 4 MB masked input still crossing the direct link while later broadcasts
// arrive relayed) must stay fresh for as long as it may take to arrive. A window of 4096 sequence
// numbers was 4 ms of the sender's clock: such a masked input was dropped as stale.
//
// Memory stays bounded by count instead: a sender's newest `maxRemembered` accepted sequences are
// kept, and once older ones are forgotten everything at or below the newest forgotten one is stale
// (a replay must never be fresh again).
import { SEQUENCES_PER_MS } from './sequence.ts';

export type ReplayVerdict = 'fresh' | 'replay' | 'stale';

/** How far behind its sender's newest message one may arrive and still count: 5 minutes. */
export const DEFAULT_REPLAY_WINDOW = 5 * 60_000 * SEQUENCES_PER_MS;
/** Accepted sequences remembered per sender (a message overtaken by more of them is stale). */
export const DEFAULT_MAX_REMEMBERED = 4096;

interface SenderWindow {
  highest: number;
  /** Every accepted sequence above `floor`. */
  seen: Set<number>;
  /** The newest forgotten sequence: at or below it is stale (−∞ until one is forgotten). */
  floor: number;
}

export class ReplayGuard {
  private readonly senders = new Map<string, SenderWindow>();

  constructor(
    /** How far behind the highest sequence a late (reordered) message may still be accepted. */
    private readonly windowSize = DEFAULT_REPLAY_WINDOW,
    private readonly maxSenders = 10_000,
    private readonly maxRemembered = DEFAULT_MAX_REMEMBERED,
  ) {
    if (!(windowSize >= 1)) throw new Error('"windowSize" must be at least 1');
    if (!(maxRemembered >= 1)) throw new Error('"maxRemembered" must be at least 1');
  }

  check(sender: string, sequence: number): ReplayVerdict {
    const w = this.senders.get(sender);
    if (!w) return 'fresh';
    if (w.seen.has(sequence)) return 'replay';
    if (sequence <= w.highest - this.windowSize || sequence <= w.floor) return 'stale';
    return 'fresh';
  }

  /** Record a verified envelope; call only after `check` said fresh and the signature verified. */
  accept(sender: string, sequence: number): void {
    let w = this.senders.get(sender);
    if (w) {
      // Move to the back: eviction drops the least recently active sender, so a flood of
      // throwaway keys cannot push out (and re-open replays for) senders that are still talking.
      this.senders.delete(sender);
      this.senders.set(sender, w);
    } else {
      if (this.senders.size >= this.maxSenders) {
        const oldest = this.senders.keys().next().value;
        if (oldest !== undefined) this.senders.delete(oldest);
      }
      w = { highest: sequence, seen: new Set(), floor: -Infinity };
      this.senders.set(sender, w);
    }
    w.seen.add(sequence);
    if (sequence > w.highest) w.highest = sequence;
    // Forget in batches (amortised O(log n) per accept): what left the window, then the oldest
    // beyond maxRemembered, raising the floor to the newest forgotten.
    if (w.seen.size > this.maxRemembered * 2) {
      const kept = [...w.seen].filter((s) => s > w.highest - this.windowSize).sort((a, b) => b - a);
      const keep = kept.slice(0, this.maxRemembered);
      const newestForgotten = kept[this.maxRemembered];
      if (newestForgotten !== undefined) w.floor = Math.max(w.floor, newestForgotten);
      w.seen = new Set(keep);
    }
  }
}
