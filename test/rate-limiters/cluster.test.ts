import { describe, expect, it } from "vitest";
import { ClusterRateLimiter } from "../../src/rate-limiters/cluster.ts";
import { LocalRateLimiter } from "../../src/rate-limiters/local.ts";

describe("cluster rate limiter", () => {
  const local = () => new LocalRateLimiter(() => 0);

  it("uses the adapter's shared counter when it answers", async () => {
    const limiter = new ClusterRateLimiter({ consumeRate: async () => ({ allowed: false, remaining: 0, resetMs: 10 }) }, local());
    expect(await limiter.consume("app", "backend", 1, 5)).toEqual({ allowed: false, remaining: 0, resetMs: 10 });
  });

  it("counts on this node when the counter cannot answer or the driver has none", async () => {
    for (const shared of [{ consumeRate: async () => undefined }, {}]) {
      const limiter = new ClusterRateLimiter(shared, local());
      expect((await limiter.consume("app", "backend", 5, 5)).allowed).toBe(true);
      expect((await limiter.consume("app", "backend", 1, 5)).allowed).toBe(false);
    }
  });
});
