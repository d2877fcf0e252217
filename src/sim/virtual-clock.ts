// Virtual time for the simulator. Timers live in a binary min-heap ordered by due time, then by
// the order they were set, so two timers due at the same instant always fire in a fixed order.
// Nothing fires by itself: the scheduler (simulator.ts) calls `runNext()` between awaits, which is
// what lets async node work finish before the next event and keeps runs deterministic.
import type { Clock, TimerHandle } from '../core/clock.ts';

interface Timer {
  atMs: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
  /** Present on timers set through a `ClockView`: consulted just before firing. */
  view: ClockView | null;
}

export class VirtualClock implements Clock {
  private heap: Timer[] = [];
  private nowMs: number;
  private seq = 0;
  private live = 0;
  private fired = 0;

  constructor(epochMs = 0) {
    if (!Number.isFinite(epochMs)) throw new Error('"epochMs" must be finite');
    this.nowMs = epochMs;
  }

  now(): number {
    return this.nowMs;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    return this.schedule(fn, delayMs, null);
  }

  clearTimeout(handle: TimerHandle): void {
    const t = handle as Timer;
    if (typeof t === 'object' && t !== null && 'cancelled' in t && !t.cancelled) {
      t.cancelled = true;
      this.live--;
    }
  }

  /** Number of timers still due to fire. */
  get pending(): number {
    return this.live;
  }

  /** Timers fired so far (a cheap progress measure). */
  get firedCount(): number {
    return this.fired;
  }

  /** Due time of the next live timer, or undefined when none is pending. */
  peek(): number | undefined {
    this.dropCancelledTop();
    return this.heap[0]?.atMs;
  }

  /**
   * Advance to the next live timer's due time and run it. Returns false when nothing is pending.
   * A timer whose view is suspended is consumed without running (a crashed node's timers).
   */
  runNext(): boolean {
    this.dropCancelledTop();
    const t = this.pop();
    if (!t) return false;
    this.live--;
    t.cancelled = true;
    this.nowMs = Math.max(this.nowMs, t.atMs);
    this.fired++;
    if (t.view && !t.view.beforeFire()) return true;
    t.fn();
    return true;
  }

  /** Move time forward to `atMs` without firing anything; a timer due earlier is a scheduler bug. */
  advanceTo(atMs: number): void {
    if (!(atMs >= this.nowMs)) throw new Error(`"atMs" ${atMs} is before now (${this.nowMs})`);
    const next = this.peek();
    if (next !== undefined && next < atMs) throw new Error(`cannot advance to ${atMs}: a timer is due at ${next}`);
    this.nowMs = atMs;
  }

  /**
   * A Clock for one component (one node) that shares this timeline. Its timers fire only while
   * `beforeFire()` returns true; the simulator uses that to silence crashed nodes and to learn
   * which node an event touched.
   */
  view(beforeFire: () => boolean): ClockView {
    return new ClockView(this, beforeFire);
  }

  /** @internal used by ClockView */
  schedule(fn: () => void, delayMs: number, view: ClockView | null): Timer {
    const delay = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0;
    const t: Timer = { atMs: this.nowMs + delay, seq: this.seq++, fn, cancelled: false, view };
    this.push(t);
    this.live++;
    return t;
  }

  // ---- binary heap ------------------------------------------------------------------------

  private dropCancelledTop(): void {
    while (this.heap.length > 0 && (this.heap[0] as Timer).cancelled) this.pop();
  }

  private push(t: Timer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = h[parent] as Timer;
      if (!before(t, p)) break;
      h[i] = p;
      i = parent;
    }
    h[i] = t;
  }

  private pop(): Timer | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && before(h[r] as Timer, h[l] as Timer) ? r : l;
      const child = h[c] as Timer;
      if (!before(child, last)) break;
      h[i] = child;
      i = c;
    }
    h[i] = last;
    return top;
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
}

/** A node's window onto the shared virtual clock (see `VirtualClock.view`). */
export class ClockView implements Clock {
  constructor(
    private readonly clock: VirtualClock,
    /** @internal */ readonly beforeFire: () => boolean,
  ) {}

  now(): number {
    return this.clock.now();
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    return this.clock.schedule(fn, delayMs, this);
  }

  clearTimeout(handle: TimerHandle): void {
    this.clock.clearTimeout(handle);
  }
}
