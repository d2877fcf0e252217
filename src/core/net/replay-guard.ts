// Drops envelopes whose (sender, sequence) was already accepted or fell out of the window.
// Senders start their sequence from the clock (sequence.ts) so a reloaded node keeps climbing.

export type ReplayVerdict = 'fresh' | 'replay' | 'stale';

interface SenderWindow {
  highest: number;
  seen: Set<number>;
}

export class ReplayGuard {
  private readonly senders = new Map<string, SenderWindow>();

  constructor(
    /** How far behind the highest sequence a late (reordered) message may still be accepted. */
    private readonly windowSize = 4096,
    private readonly maxSenders = 10_000,
  ) {}

  check(sender: string, sequence: number): ReplayVerdict {
    const w = this.senders.get(sender);
    if (!w) return 'fresh';
    if (w.seen.has(sequence)) return 'replay';
    if (sequence <= w.highest - this.windowSize) return 'stale';
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
      w = { highest: sequence, seen: new Set() };
      this.senders.set(sender, w);
    }
    w.seen.add(sequence);
    if (sequence > w.highest) w.highest = sequence;
    if (w.seen.size > this.windowSize * 2) {
      const floor = w.highest - this.windowSize;
      for (const s of w.seen) if (s <= floor) w.seen.delete(s);
    }
  }
}
