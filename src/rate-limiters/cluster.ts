import type { Adapter } from "../core/adapter.ts";
import type { RateLimiter, RateLimitResult } from "../core/rate-limiter.ts";

/**
 * REST budgets shared by every node: the cluster adapter counts them (Redis: one counter per
 * window; NATS: each live node gets its share). While the adapter cannot answer, this node
 * counts alone, so a bus outage never turns the limits off.
 */
export class ClusterRateLimiter implements RateLimiter {
  constructor(private readonly adapter: Adapter, private readonly fallback: RateLimiter) {}

  async consume(appId: string, bucket: string, points: number, limit: number): Promise<RateLimitResult> {
    return (await this.adapter.consumeRate?.(appId, bucket, points, limit)) ?? this.fallback.consume(appId, bucket, points, limit);
  }
}
