// The nats driver's rate counter part. NATS has no cheap shared counter (a KV compare-and-set per
// REST request would cost more than the request), so each live node enforces its share of the
// limit, the remainder going to the first nodes in id order: the cluster never lets more than the
// limit through, though uneven load can refuse a request on one node while another has budget.
import type { SharedRateCounter } from "../../core/adapter.ts";
import type { RateLimitResult } from "../../core/rate-limiter.ts";
import { LocalRateLimiter } from "../../rate-limiters/local.ts";

export class NodeShareRateCounter implements SharedRateCounter {
  private readonly counts: LocalRateLimiter;

  /** `liveNodes` lists this node and every live one in a stable order; undefined while NATS is away. */
  constructor(private readonly nodeId: string, private readonly liveNodes: () => string[] | undefined, now: () => number) {
    this.counts = new LocalRateLimiter(now);
  }

  async consumeRate(appId: string, bucket: string, points: number, limit: number): Promise<RateLimitResult | undefined> {
    const nodes = this.liveNodes();
    if (!nodes) return undefined;
    const rank = Math.max(0, nodes.indexOf(this.nodeId));
    const share = Math.floor(limit / nodes.length) + (rank < limit % nodes.length ? 1 : 0);
    return this.counts.consume(appId, bucket, points, share);
  }
}
