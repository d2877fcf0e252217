// Many signature checks at once (verifying a whole exported log: heads, certificates' QCs, receipts'
// QCs). A batching Verifier takes every check asked for, keeps up to `inFlight` of them running
// concurrently (WebCrypto verifies off the JS thread, so the raw cost is only reached with many in
// flight; with noble each check runs to completion anyway, and the result is the same), and checks
// an identical (key, message, signature) triple once — a receipt whose block also installed a set
// carries the very QC its set-change certificate does. Ed25519 verification is a pure function, so
// sharing a verdict between identical triples is exact.
import { bytesEqual } from '../bytes.ts';
import type { Verifier } from './ed25519.ts';

/** Checks running at once: enough to keep a thread pool busy, few enough to bound memory. */
export const DEFAULT_IN_FLIGHT = 1024;

export interface BatchingVerifier extends Verifier {
  /** Distinct checks run so far (identical triples counted once). */
  readonly distinct: () => number;
  /** Checks asked for so far. */
  readonly requested: () => number;
}

interface Known {
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
  readonly message: Uint8Array;
  readonly verdict: Promise<boolean>;
}

/** Wraps `verifier` for one verification job; drop it afterwards (it remembers every verdict). */
export function batchingVerifier(verifier: Verifier, inFlight = DEFAULT_IN_FLIGHT): BatchingVerifier {
  if (!Number.isInteger(inFlight) || inFlight < 1) throw new Error('"inFlight" must be a positive integer');
  const known = new Map<number, Known[]>();
  let queue: (() => void)[] = [];
  let next = 0;
  let running = 0;
  let distinct = 0;
  let requested = 0;
  const pump = (): void => {
    while (running < inFlight && next < queue.length) {
      running++;
      (queue[next++] as () => void)();
    }
    // Drop the started part once drained (shift() on a long queue would be quadratic).
    if (next === queue.length) {
      queue = [];
      next = 0;
    }
  };
  const run = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> =>
    new Promise<boolean>((resolve) => {
      queue.push(() => {
        verifier
          .verify(publicKey, message, signature)
          .catch(() => false)
          .then((v) => {
            running--;
            resolve(v);
            pump();
          });
      });
      pump();
    });
  return {
    distinct: () => distinct,
    requested: () => requested,
    verify(publicKey, message, signature) {
      requested++;
      // A signature's first 4 bytes (random-looking; R of RFC 8032) pick the bucket; all three compared in full.
      const k = ((signature[0] ?? 0) | ((signature[1] ?? 0) << 8) | ((signature[2] ?? 0) << 16) | ((signature[3] ?? 0) << 24)) >>> 0;
      const bucket = known.get(k) ?? [];
      const same = bucket.find((x) => bytesEqual(x.signature, signature) && bytesEqual(x.publicKey, publicKey) && bytesEqual(x.message, message));
      if (same !== undefined) return same.verdict;
      distinct++;
      // Kept as given, not copied (a whole log's worth): callers hand in buffers they no longer change.
      const verdict = run(publicKey, message, signature);
      bucket.push({ publicKey, message, signature, verdict });
      known.set(k, bucket);
      return verdict;
    },
  };
}
