import type { RateLimiter, RateLimitResult } from "../core/rate-limiter.ts";

/** In-process fixed-window limiter; one window per key. */
export class LocalRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { start: number; used: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async consume(appId: string, bucket: string, points: number, limit: number): Promise<RateLimitResult> {
    const key = `${appId}\n${bucket}`;
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || now - window.start >= 1000) {
      window = { start: now - (now % 1000), used: 0 };
      this.windows.set(key, window);
      if (this.windows.size > 10_000) this.prune(now);
    }
    const resetMs = window.start + 1000 - now;
    if (window.used + points > limit) return { allowed: false, remaining: Math.max(0, limit - window.used), resetMs };
    window.used += points;
    return { allowed: true, remaining: limit - window.used, resetMs };
  }

  private prune(now: number): void {
    for (const [key, window] of this.windows) if (now - window.start >= 1000) this.windows.delete(key);
  }
}
