import type { App } from "../../core/app.ts";
import type { AppCache } from "./cache.ts";

/**
 * CACHE_DRIVER=memory: this process only. Misses are capped so random keys cannot grow it without
 * bound (the oldest entry goes first); found apps are bounded by the apps table itself.
 */
export class MemoryAppCache implements AppCache {
  readonly name = "memory";
  private readonly entries = new Map<string, { app: App | null; expires: number }>();

  constructor(private readonly now: () => number = Date.now, private readonly maxEntries = 10_000) {}

  async get(entry: string): Promise<App | null | undefined> {
    const hit = this.entries.get(entry);
    if (!hit) return undefined;
    if (hit.expires > this.now()) return hit.app;
    this.entries.delete(entry);
    return undefined;
  }

  async set(entry: string, app: App | null, ttlMs: number): Promise<void> {
    this.entries.delete(entry);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(entry, { app, expires: this.now() + ttlMs });
  }

  async delete(entries: string[]): Promise<void> {
    for (const entry of entries) this.entries.delete(entry);
  }
}
