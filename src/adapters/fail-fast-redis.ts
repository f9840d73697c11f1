// An ioredis client for backends that have a fallback while Redis is away (the app cache falls
// through to the database, the per-IP limiter lets requests pass): no offline queue and one retry,
// so a command fails at once instead of waiting for a reconnect. Imported lazily by its drivers.
import type { Cluster, Redis } from "ioredis";

export interface FailFastRedisSettings {
  cluster: boolean;
  /** redis:// URL for plain Redis. */
  url?: string;
  /** "host:port,host:port" startup nodes for a Redis Cluster. */
  nodes?: string;
  timeoutMs: number;
}

export async function failFastRedis(s: FailFastRedisSettings): Promise<Redis | Cluster> {
  const ioredis = await import("ioredis");
  const options = { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: s.timeoutMs, connectTimeout: s.timeoutMs };
  if (!s.cluster) return new ioredis.Redis(s.url ?? "redis://127.0.0.1:6379", options);
  const nodes = (s.nodes ?? "").split(",").map((hostPort) => {
    const entry = hostPort.trim().replace(/^rediss?:\/\//, "");
    const colon = entry.lastIndexOf(":");
    return { host: entry.slice(0, colon), port: Number(entry.slice(colon + 1)) };
  });
  return new ioredis.Cluster(nodes, { enableOfflineQueue: false, redisOptions: options });
}
