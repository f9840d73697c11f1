// Per-IP rate limiter drivers (RATE_LIMITER_DRIVER, used when RATE_LIMITER_ENABLED): where the
// per-address counters live (docs/operating.md, "Rate limits"). memory counts on each node; redis and
// redis-cluster share the budget across nodes.
import { z } from "zod";
import { num } from "../core/coerce.ts";
import { REDIS } from "./register-adapters.ts";
import { defineKind, registerDriver } from "./registry.ts";

defineKind({ kind: "rate-limiter", default: "memory", help: "per-IP request and connection counters (RATE_LIMITER_ENABLED)" });

/** The limits themselves; one schema object shared by every store. */
const IP_LIMITS = {
  rateLimiterApiMaxRequests: num(z.number().int().min(1)).default(100).describe("HTTP API requests per client address per window (429 above)"),
  rateLimiterApiWindowSeconds: num(z.number().min(0.1).max(86_400)).default(60).describe("seconds; the HTTP API window"),
  rateLimiterWsMaxConnections: num(z.number().int().min(1)).default(20)
    .describe("WebSocket connections a client address may open per window (refused with 429 before the upgrade)"),
  rateLimiterWsWindowSeconds: num(z.number().min(0.1).max(86_400)).default(60).describe("seconds; the WebSocket window"),
};

/** A bound on each Redis round trip: a slow limiter must not stall requests. */
const TIMEOUT = {
  rateLimiterTimeoutMs: num(z.number().int().min(10).max(60_000)).default(500)
    .describe("ms per counter round trip; past it the request is allowed"),
};

registerDriver({
  kind: "rate-limiter",
  name: "memory",
  help: "per node, in memory",
  options: z.object({ ...IP_LIMITS }),
  load: async () => {
    const { MemoryIpLimiter } = await import("../rate-limiters/ip/memory.ts");
    return (_, { timers }) => new MemoryIpLimiter(timers.now);
  },
});

registerDriver({
  kind: "rate-limiter",
  name: "redis",
  help: "shared by the nodes, in Redis (REDIS_URL)",
  options: z.object({ ...IP_LIMITS, ...TIMEOUT, redisUrl: REDIS.redisUrl, redisPrefix: REDIS.redisPrefix }),
  load: async () => {
    const { openRedisIpLimiter } = await import("../rate-limiters/ip/redis.ts");
    return (o, { logger }) => openRedisIpLimiter({ cluster: false, url: o.redisUrl, prefix: o.redisPrefix, timeoutMs: o.rateLimiterTimeoutMs, logger });
  },
});

registerDriver({
  kind: "rate-limiter",
  name: "redis-cluster",
  help: "shared by the nodes, in a Redis Cluster (REDIS_CLUSTER_NODES)",
  options: z.object({ ...IP_LIMITS, ...TIMEOUT, redisClusterNodes: REDIS.redisClusterNodes, redisPrefix: REDIS.redisPrefix }),
  load: async () => {
    const { openRedisIpLimiter } = await import("../rate-limiters/ip/redis.ts");
    return (o, { logger }) => openRedisIpLimiter({ cluster: true, nodes: o.redisClusterNodes, prefix: o.redisPrefix, timeoutMs: o.rateLimiterTimeoutMs, logger });
  },
});
