// Gossip de-duplication: message ids seen recently, bounded in count and age.
export class SeenCache {
  private readonly expiry = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  has(id: string, nowMs: number): boolean {
    const t = this.expiry.get(id);
    return t !== undefined && t > nowMs;
  }

  add(id: string, nowMs: number): void {
    this.expiry.delete(id);
    this.expiry.set(id, nowMs + this.ttlMs);
    if (this.expiry.size > this.maxEntries) this.prune(nowMs);
  }

  prune(nowMs: number): void {
    // Map iteration is insertion order, so the oldest come first.
    for (const [id, t] of this.expiry) {
      if (t > nowMs && this.expiry.size <= this.maxEntries) break;
      this.expiry.delete(id);
    }
  }

  get size(): number {
    return this.expiry.size;
  }
}
