// Time during which at least one operation is in flight: the union of their intervals, not the sum
// of their durations. Overlapping checks (Promise.all, concurrent batches) are counted once, so the
// busy time never exceeds the elapsed time.
export class InFlightTimer {
  private inFlight = 0;
  private since = 0;
  private busy = 0;

  constructor(private readonly nowMs: () => number) {}

  /** Runs `f`, counting the time until it settles. */
  async time<T>(f: () => Promise<T>): Promise<T> {
    if (this.inFlight++ === 0) this.since = this.nowMs();
    try {
      return await f();
    } finally {
      if (--this.inFlight === 0) this.busy += this.nowMs() - this.since;
    }
  }

  /** Busy time so far (including the current stretch, if one is in flight). */
  get busyMs(): number {
    return this.busy + (this.inFlight > 0 ? this.nowMs() - this.since : 0);
  }
}
