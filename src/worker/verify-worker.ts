// A dedicated module worker that checks batches of Ed25519 signatures with @noble/curves, for pages
// without WebCrypto Ed25519 (insecure contexts): ~0.25 ms of CPU per check would otherwise block the
// page for a whole batch of consensus votes. Protocol (platform/batch-verifier.ts):
//   page → worker  { id, checks: [{ publicKey, message, signature }] }
//   worker → page  { id, verdicts: boolean[] }          and once at start { hello: 'noble' }
import { nobleEd25519 } from '../core/crypto/ed25519.ts';

interface WorkerScope {
  postMessage(message: unknown): void;
  onmessage: ((event: MessageEvent) => void) | null;
}

interface Check {
  publicKey: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
}

const scope = globalThis as unknown as WorkerScope;
const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;

scope.onmessage = (event) => {
  const data = event.data as { id?: unknown; checks?: unknown } | null;
  const id = typeof data?.id === 'number' ? data.id : -1;
  const checks = Array.isArray(data?.checks) ? (data.checks as unknown[]) : [];
  void Promise.all(
    checks.map((c) => {
      const x = c as Partial<Check> | null;
      if (!x || !isBytes(x.publicKey) || !isBytes(x.message) || !isBytes(x.signature)) return false;
      return nobleEd25519.verify(x.publicKey, x.message, x.signature);
    }),
  ).then((verdicts) => scope.postMessage({ id, verdicts }));
};

scope.postMessage({ hello: 'noble' });
