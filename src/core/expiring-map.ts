/**
 * Entries that lapse after their own lifetime, with a cap on how many are kept: past it the oldest
 * entry goes first, so memory stays bounded whatever the traffic. Lapsed entries are dropped when
 * read and, from the oldest end, whenever one is written, so no sweep timer is needed.
 */
export class ExpiringMap<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(private readonly max: number, private readonly now: () => number) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt > this.now()) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: V, ttlMs: number): void {
    const now = this.now();
    // Re-inserted, so insertion order stays close to expiry order for the pruning below.
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: now + ttlMs });
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= this.max && entry.expiresAt > now) break;
      this.entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}
