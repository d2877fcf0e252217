import type { Clock, TimerHandle } from '../core/clock.ts';

/** The real clock, for nodes in a browser tab or a Node process. */
export const wallClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, delayMs) => globalThis.setTimeout(fn, delayMs) as unknown as TimerHandle,
  clearTimeout: (handle) => globalThis.clearTimeout(handle as unknown as number),
};
