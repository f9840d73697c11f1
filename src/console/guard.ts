// Slows brute force on the console's sign-in. Failures are counted per key (the client's address,
// and the account tried: an app id or "operator"); past FREE_FAILURES a key is locked for a time
// that doubles with each further failure, up to MAX_LOCK_MS. An attempt while locked is refused
// without checking the secret, so guessing during a lock learns nothing. Counting per account as
// well as per address means rotating addresses does not help; the cost is that someone failing
// on purpose can keep an app's console sign-in locked for MAX_LOCK_MS at a time (never the app).

export interface GuardOptions {
  /** Failures allowed before a key is locked. */
  freeFailures?: number;
  /** The first lock; each further failure doubles it. */
  baseLockMs?: number;
  maxLockMs?: number;
  /** A key with no failure for this long starts over. */
  forgetMs?: number;
  /** Keys tracked at most; the oldest is forgotten first (the map is bounded). */
  maxKeys?: number;
}

interface Record {
  failures: number;
  lockedUntil: number;
  lastFailure: number;
}

export class FailureGuard {
  private readonly records = new Map<string, Record>();
  private readonly free: number;
  private readonly base: number;
  private readonly max: number;
  private readonly forget: number;
  private readonly maxKeys: number;

  constructor(private readonly now: () => number, options: GuardOptions = {}) {
    this.free = options.freeFailures ?? 5;
    this.base = options.baseLockMs ?? 1000;
    this.max = options.maxLockMs ?? 5 * 60_000;
    this.forget = options.forgetMs ?? 15 * 60_000;
    this.maxKeys = options.maxKeys ?? 10_000;
  }

  /** Milliseconds until any of `keys` may try again; 0 when all may try now. */
  retryAfterMs(keys: readonly string[]): number {
    const now = this.now();
    let wait = 0;
    for (const key of keys) {
      const r = this.current(key, now);
      if (r && r.lockedUntil > now) wait = Math.max(wait, r.lockedUntil - now);
    }
    return wait;
  }

  /** Counts a failure against each key; returns the longest lock it caused (0: none yet). */
  failed(keys: readonly string[]): number {
    const now = this.now();
    let lock = 0;
    for (const key of keys) {
      const r = this.current(key, now) ?? { failures: 0, lockedUntil: 0, lastFailure: 0 };
      r.failures++;
      r.lastFailure = now;
      if (r.failures > this.free) {
        const ms = Math.min(this.max, this.base * 2 ** Math.min(30, r.failures - this.free - 1));
        r.lockedUntil = now + ms;
        lock = Math.max(lock, ms);
      }
      // Re-inserted so the map's order is least recently failed first: eviction drops the oldest.
      this.records.delete(key);
      this.records.set(key, r);
      if (this.records.size > this.maxKeys) this.evict(now);
    }
    return lock;
  }

  /** A success clears the keys' failures. */
  succeeded(keys: readonly string[]): void {
    for (const key of keys) this.records.delete(key);
  }

  get size(): number {
    return this.records.size;
  }

  /**
   * Drops the least recently failed key that is not locked, so failures from many other addresses
   * cannot flush a lock; only when every tracked key is locked does the oldest go (memory stays
   * bounded, and that takes maxKeys addresses each failing past the free tries).
   */
  private evict(now: number): void {
    for (const [key, r] of this.records) {
      if (r.lockedUntil <= now) return void this.records.delete(key);
    }
    this.records.delete(this.records.keys().next().value!);
  }

  private current(key: string, now: number): Record | undefined {
    const r = this.records.get(key);
    if (r && now - r.lastFailure > this.forget && r.lockedUntil <= now) {
      this.records.delete(key);
      return undefined;
    }
    return r;
  }
}
