// The dedicated module worker that runs secure aggregation's heavy work off the page's main thread
// (issue 3: "the page stays responsive during a round with a 1M-entry vector"). It runs this host's
// engine (platform/host-engine.ts: core's `localEngine` with WebCrypto where the worker has it,
// noble otherwise) and answers requests from platform/worker-engine.ts in the protocol of
// core/secagg/engine-protocol.ts.
import { dispatch, engineHello, engineStartFailed, errorReply, type Outbound } from '../core/secagg/engine-protocol.ts';
import { hostEngine } from '../platform/host-engine.ts';

/** What this file uses of DedicatedWorkerGlobalScope (the project's DOM typings describe a page). */
interface WorkerScope {
  postMessage(message: unknown, transfer: Transferable[]): void;
  onmessage: ((event: MessageEvent) => void) | null;
}

const scope = globalThis as unknown as WorkerScope;
const engine = hostEngine();
const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function send(out: Outbound<{ id: number }>): void {
  try {
    scope.postMessage(out.message, out.transfer);
    out.wipe?.();
  } catch (e) {
    out.wipe?.();
    // Still answer, so the page's promise settles.
    const fallback = errorReply(out.message.id, `reply could not be sent: ${errorText(e)}`);
    scope.postMessage(fallback.message, fallback.transfer);
  }
}

// Listen at once: requests that arrive while the engine starts wait on its promise.
scope.onmessage = (event) => {
  engine.then(
    (e) => dispatch(e, event.data).then(send),
    (e: unknown) => send(errorReply((event.data as { id?: unknown } | null)?.id, `engine did not start: ${errorText(e)}`)),
  );
};

engine.then(
  (e) => scope.postMessage(engineHello(e.name), []),
  (e: unknown) => scope.postMessage(engineStartFailed(errorText(e)), []),
);
