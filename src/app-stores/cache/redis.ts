// CACHE_DRIVER=redis | redis-cluster: one cache for every node, which the apps command clears
// when it changes an app. Uses REDIS_URL / REDIS_CLUSTER_NODES and REDIS_PREFIX.
import { appSchema, type App } from "../../core/app.ts";
import type { Logger } from "../../core/runtime.ts";
import { failFastRedis, type FailFastRedisSettings } from "../../redis/fail-fast.ts";
import { messageOf, withTimeout } from "../timeout.ts";
import type { AppCache } from "./cache.ts";

export interface RedisCacheSettings extends FailFastRedisSettings {
  prefix: string;
  logger: Logger;
}

export async function openRedisAppCache(s: RedisCacheSettings): Promise<AppCache> {
  // While Redis is away a lookup falls through to the database at once.
  const client = await failFastRedis(s);
  let healthy = true;
  client.on("error", (error: unknown) => {
    if (healthy) s.logger.warn(`app cache (${s.cluster ? "redis-cluster" : "redis"}) unreachable: ${messageOf(error)}`);
    healthy = false;
  });
  client.on("ready", () => {
    if (!healthy) s.logger.info("app cache (redis) reachable again");
    healthy = true;
  });
  // Without an offline queue, commands sent before the connection is ready fail: wait for it (the
  // apps command's invalidation is its first command), but a Redis that is away only costs a miss.
  const ready = await withTimeout(new Promise<boolean>((resolve) => client.once("ready", () => resolve(true))), s.timeoutMs, "app cache connect").catch(() => false);
  if (!ready) s.logger.warn(`app cache (${s.cluster ? "redis-cluster" : "redis"}) not ready after ${s.timeoutMs} ms; lookups go to the database until it is`);
  const key = (entry: string) => `${s.prefix}apps:${entry}`;

  return {
    name: s.cluster ? "redis-cluster" : "redis",
    async get(entry) {
      const raw = await client.get(key(entry));
      if (raw === null) return undefined;
      if (raw === "null") return null;
      // Written by another node, maybe another version: an entry that does not parse is a miss.
      const parsed = appSchema.safeParse(JSON.parse(raw));
      if (!parsed.success) s.logger.debug(`app cache: ignoring an unreadable entry ${entry}`);
      return parsed.success ? parsed.data : undefined;
    },
    async set(entry: string, app: App | null, ttlMs: number) {
      await client.set(key(entry), JSON.stringify(app), "PX", Math.max(1, Math.round(ttlMs)));
    },
    async delete(entries) {
      // One DEL per key: in a cluster the keys may live on different shards.
      await Promise.all(entries.map((e) => client.del(key(e))));
    },
    async close() {
      client.disconnect();
    },
  };
}
