// App cache drivers: what sits in front of a database app store (src/app-stores/cached.ts).
// memory is per node; redis and redis-cluster are shared by the nodes, so the apps command can
// drop a changed app for all of them at once; none asks the database every time.
import { z } from "zod";
import { num } from "../core/coerce.ts";
import { REDIS } from "./register-adapters.ts";
import { DATABASE_TIMEOUT } from "./register-app-stores.ts";
import { defineKind, registerDriver } from "./registry.ts";

defineKind({ kind: "cache", default: "memory", help: "the app cache in front of a database app store" });

/** How long answers are kept; one schema object shared by every cache driver. */
const CACHE_TTL = {
  appCacheTtlSeconds: num(z.number().min(0)).default(60).describe("seconds a found app is kept in the app cache"),
  appCacheMissTtlSeconds: num(z.number().min(0)).default(5).describe("seconds an unknown app id or key is remembered as unknown"),
};

registerDriver({
  kind: "cache",
  name: "memory",
  // Socket Rush's name for its in-memory cache.
  aliases: ["local"],
  help: "per node, in memory",
  options: z.object({ ...CACHE_TTL }),
  load: async () => {
    const { MemoryAppCache } = await import("../app-stores/cache/memory.ts");
    return (_, { timers }) => new MemoryAppCache(timers.now);
  },
});

registerDriver({
  kind: "cache",
  name: "redis",
  help: "shared by the nodes, in Redis (REDIS_URL)",
  options: z.object({ ...CACHE_TTL, redisUrl: REDIS.redisUrl, redisPrefix: REDIS.redisPrefix, ...DATABASE_TIMEOUT }),
  load: async () => {
    const { openRedisAppCache } = await import("../app-stores/cache/redis.ts");
    return (o, { logger }) => openRedisAppCache({ cluster: false, url: o.redisUrl, prefix: o.redisPrefix, timeoutMs: o.databaseTimeoutMs, logger });
  },
});

registerDriver({
  kind: "cache",
  name: "redis-cluster",
  help: "shared by the nodes, in a Redis Cluster (REDIS_CLUSTER_NODES)",
  options: z.object({ ...CACHE_TTL, redisClusterNodes: REDIS.redisClusterNodes, redisPrefix: REDIS.redisPrefix, ...DATABASE_TIMEOUT }),
  load: async () => {
    const { openRedisAppCache } = await import("../app-stores/cache/redis.ts");
    return (o, { logger }) => openRedisAppCache({ cluster: true, nodes: o.redisClusterNodes, prefix: o.redisPrefix, timeoutMs: o.databaseTimeoutMs, logger });
  },
});

registerDriver({
  kind: "cache",
  name: "none",
  help: "no cache: every lookup asks the database",
  options: z.object({ ...CACHE_TTL }),
  load: async () => () => undefined,
});
