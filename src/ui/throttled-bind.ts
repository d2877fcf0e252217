// Copies a service's state into the dashboard store: once at once, then at most every `intervalMs`
// after the service signals a change (a round or a block fires many changes; React needs one).
/**
 * Runs `update` now and at most once per `intervalMs` after `subscribe` reports a change; with
 * `periodicMs`, also every `periodicMs` (for figures that move without an event). Returns the unbind.
 */
export function bindThrottled(
  subscribe: (listener: () => void) => () => void,
  update: () => void,
  intervalMs: number,
  periodicMs?: number,
): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const run = (): void => {
    timer = null;
    update();
  };
  const unsubscribe = subscribe(() => {
    if (timer === null) timer = setTimeout(run, intervalMs);
  });
  run();
  const periodic = periodicMs === undefined ? null : setInterval(run, periodicMs);
  return () => {
    unsubscribe();
    if (periodic !== null) clearInterval(periodic);
    if (timer !== null) clearTimeout(timer);
  };
}
