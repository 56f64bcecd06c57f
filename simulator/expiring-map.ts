/**
 * A Map whose entries carry an expiry; expired entries are kept for a grace period (so an
 * expired id can still be told apart from an unknown one) and then swept. Sweeps run when
 * the map has doubled since the last one, so inserts stay O(1) amortized.
 */
export class ExpiringMap<V extends { expiresAt: number }> {
  private readonly map = new Map<string, V>();
  private sweepAt = 1024;

  constructor(private readonly graceMs = 10 * 60_000) {}

  set(key: string, value: V, now: number): void {
    this.map.set(key, value);
    if (this.map.size >= this.sweepAt) {
      for (const [k, v] of this.map) if (v.expiresAt + this.graceMs < now) this.map.delete(k);
      this.sweepAt = Math.max(1024, this.map.size * 2);
    }
  }

  get(key: string): V | undefined {
    return this.map.get(key);
  }

  entries(): IterableIterator<[string, V]> {
    return this.map.entries();
  }
}
