import type { SharedRateCounter } from "../core/adapter.ts";
import type { RateLimiter, RateLimitResult } from "../core/rate-limiter.ts";

/**
 * REST budgets shared by every node, counted by the adapter's rate counter part (Redis: one
 * counter per window; NATS: each live node gets its share). A driver without one, or one that
 * cannot answer right now, leaves the count to this node, so a bus outage never turns the limits off.
 */
export class ClusterRateLimiter implements RateLimiter {
  constructor(private readonly shared: Partial<SharedRateCounter>, private readonly fallback: RateLimiter) {}

  async consume(appId: string, bucket: string, points: number, limit: number): Promise<RateLimitResult> {
    return (await this.shared.consumeRate?.(appId, bucket, points, limit)) ?? this.fallback.consume(appId, bucket, points, limit);
  }
}
