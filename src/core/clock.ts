/** Time, injected so the same protocol code runs on the wall clock and in the simulator's virtual time. */
export interface Clock {
  /** Milliseconds since an arbitrary epoch (wall clock: Unix epoch). */
  now(): number;
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export type TimerHandle = { readonly __timer: unique symbol } | number | object;

/** Randomness, injected: crypto-strong in real nodes, seeded in the simulator. */
export interface Random {
  bytes(length: number): Uint8Array;
  /** Uniform in [0, 1). */
  float(): number;
}

/** Uniform integer in [0, n). */
export function randomInt(rng: Random, n: number): number {
  return Math.floor(rng.float() * n);
}

/** Fisher–Yates shuffle of a copy. */
export function shuffled<T>(rng: Random, items: readonly T[]): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    const t = out[i] as T;
    out[i] = out[j] as T;
    out[j] = t;
  }
  return out;
}
