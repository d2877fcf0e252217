import type { Clock } from '../clock.ts';

/** Clock-derived sequences advance this many per millisecond (the replay window is sized by it). */
export const SEQUENCES_PER_MS = 1000;

/**
 * Per-sender envelope sequence. Starts at the wall clock in microseconds so a node that reloads
 * (and forgets its counter) still sends numbers above everything it sent before, with room for
 * 1000 messages per millisecond before it overtakes real time.
 */
export class SequenceCounter {
  private last: number;
  constructor(private readonly clock: Clock) {
    this.last = Math.floor(clock.now()) * SEQUENCES_PER_MS;
  }
  next(): number {
    this.last = Math.max(this.last + 1, Math.floor(this.clock.now()) * SEQUENCES_PER_MS);
    return this.last;
  }
}
