import type { IpLimiter, IpLimitResult } from "./ip-limiter.ts";

/** Fixed windows per key in this process: each node counts alone. */
export class MemoryIpLimiter implements IpLimiter {
  readonly name = "memory";
  private readonly windows = new Map<string, { start: number; used: number; length: number }>();
  private lastPrune = 0;

  constructor(private readonly now: () => number) {}

  hit(key: string, limit: number, windowMs: number): IpLimitResult {
    const now = this.now();
    // Stale windows go at most once a window, so a flood of distinct addresses can't grow the map
    // for longer than that. Each entry is judged by its own window (the API and WebSocket differ).
    if (now - this.lastPrune >= windowMs) this.prune(now);
    let window = this.windows.get(key);
    if (!window || now - window.start >= windowMs) {
      window = { start: now - (now % windowMs), used: 0, length: windowMs };
      this.windows.set(key, window);
    }
    window.used++;
    const resetMs = window.start + windowMs - now;
    return { allowed: window.used <= limit, remaining: Math.max(0, limit - window.used), resetMs, limit };
  }

  private prune(now: number): void {
    this.lastPrune = now;
    for (const [key, window] of this.windows) if (now - window.start >= window.length) this.windows.delete(key);
  }
}
