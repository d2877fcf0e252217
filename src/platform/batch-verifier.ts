// Consensus signature checks off the page's critical path (issue 4). With WebCrypto Ed25519 the
// checks of a batch are handed to the browser concurrently (its crypto runs off the JS thread; the
// page only awaits). Without it (insecure contexts: noble, ~0.25 ms of CPU each) a batch goes to a
// Web Worker (worker/verify-worker.ts); if the worker cannot start, the page checks in slices of 16
// with a macrotask between them, so input and rendering still get turns.
import { batchVerifierFrom, type BatchVerifier, type SignatureCheck } from '../core/consensus/consensus-driver.ts';
import type { Ed25519Backend } from '../core/crypto/ed25519.ts';

export interface BrowserBatchVerifier extends BatchVerifier {
  /** 'webcrypto', 'worker (noble)' or 'page (noble, sliced)'. */
  readonly name: () => string;
}

const SLICE = 16;
const yieldToPage = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

function slicedVerifier(backend: Ed25519Backend): BatchVerifier {
  return {
    async verifyBatch(checks) {
      const out: boolean[] = [];
      for (let i = 0; i < checks.length; i += SLICE) {
        if (i > 0) await yieldToPage();
        const part = checks.slice(i, i + SLICE);
        out.push(...(await Promise.all(part.map((c) => backend.verify(c.publicKey, c.message, c.signature)))));
      }
      return out;
    },
  };
}

export function browserBatchVerifier(backend: Ed25519Backend): BrowserBatchVerifier {
  if (backend.name === 'webcrypto') return { ...batchVerifierFrom(backend), name: () => 'webcrypto' };
  const fallback = slicedVerifier(backend);
  let worker: Worker | null = null;
  let ready = false;
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: boolean[]) => void; checks: readonly SignatureCheck[] }>();
  const giveUp = (): void => {
    worker?.terminate();
    worker = null;
    ready = false;
    // Whatever was in flight is checked in the page instead.
    for (const [, p] of pending) void fallback.verifyBatch(p.checks).then(p.resolve);
    pending.clear();
  };
  try {
    worker = new Worker(new URL('../worker/verify-worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (e: MessageEvent) => {
      const d = e.data as { id?: number; verdicts?: boolean[]; hello?: string };
      if (d.hello !== undefined) ready = true;
      else if (typeof d.id === 'number') {
        const p = pending.get(d.id);
        pending.delete(d.id);
        p?.resolve(Array.isArray(d.verdicts) && d.verdicts.length === p.checks.length ? d.verdicts.map((v) => v === true) : p.checks.map(() => false));
      }
    };
    worker.onerror = giveUp;
  } catch {
    worker = null;
  }
  return {
    name: () => (worker !== null && ready ? 'worker (noble)' : 'page (noble, sliced)'),
    verifyBatch(checks) {
      if (worker === null || !ready) return fallback.verifyBatch(checks);
      const id = nextId++;
      return new Promise<boolean[]>((resolve) => {
        pending.set(id, { resolve, checks });
        worker?.postMessage({ id, checks: checks.map((c) => ({ publicKey: c.publicKey, message: c.message, signature: c.signature })) });
      });
    },
  };
}
