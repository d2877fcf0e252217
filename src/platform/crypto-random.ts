// The `Random` of real nodes. `crypto.getRandomValues` exists in every page (secure context or not),
// worker and Node 20, unlike `crypto.subtle`.
import type { Random } from '../core/clock.ts';

/** getRandomValues refuses more than 65,536 bytes per call (WebCrypto §10.1.1). */
const MAX_RANDOM_BYTES_PER_CALL = 65_536;

export function cryptoRandom(): Random {
  const crypto = (globalThis as { crypto?: { getRandomValues?: <T extends ArrayBufferView>(array: T) => T } }).crypto;
  const getRandomValues = crypto?.getRandomValues?.bind(crypto);
  if (getRandomValues === undefined) throw new Error('crypto.getRandomValues is not available in this host');
  const words = new Uint32Array(2);
  return {
    bytes(length) {
      if (!Number.isSafeInteger(length) || length < 0) throw new Error(`"length" must be a non-negative integer, got ${length}`);
      const out = new Uint8Array(length);
      for (let o = 0; o < length; o += MAX_RANDOM_BYTES_PER_CALL)
        getRandomValues(out.subarray(o, Math.min(length, o + MAX_RANDOM_BYTES_PER_CALL)));
      return out;
    },
    float() {
      // 27 + 26 = 53 random bits: every double in [0, 1) on the 2^-53 grid, equally likely.
      getRandomValues(words);
      const hi = (words[0] as number) >>> 5;
      const lo = (words[1] as number) >>> 6;
      return (hi * 2 ** 26 + lo) / 2 ** 53;
    },
  };
}
