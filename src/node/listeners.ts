// The change listeners of a node service (the UI's stores subscribe here), in the manner of
// zustand's vanilla store: subscribe returns the unsubscribe, notify calls every listener.
export class Listeners {
  private readonly set = new Set<() => void>();

  subscribe(listener: () => void): () => void {
    this.set.add(listener);
    return () => this.set.delete(listener);
  }

  notify(): void {
    for (const l of this.set) l();
  }
}

/** Counts one refused message under its reason (a service's `refused`, shown on the dashboard). */
export function countRefusal(refused: Record<string, number>, reason: string): void {
  refused[reason] = (refused[reason] ?? 0) + 1;
}
