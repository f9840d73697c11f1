// An ioredis client for backends that have a fallback while Redis is away (the app cache falls
// through to the database, the per-IP limiter lets requests pass): no offline queue and one retry,
// so a command fails at once instead of waiting for a reconnect. Imported lazily by its drivers.
import type { Cluster, Redis } from "ioredis";
import { parseClusterNodes } from "./cluster-nodes.ts";

export interface FailFastRedisSettings {
  cluster: boolean;
  /** redis:// URL for plain Redis. */
  url?: string;
  /** REDIS_CLUSTER_NODES: startup nodes for a Redis Cluster (cluster-nodes.ts). */
  nodes?: string;
  timeoutMs: number;
}

export async function failFastRedis(s: FailFastRedisSettings): Promise<Redis | Cluster> {
  const ioredis = await import("ioredis");
  const options = { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: s.timeoutMs, connectTimeout: s.timeoutMs };
  if (!s.cluster) return new ioredis.Redis(s.url ?? "redis://127.0.0.1:6379", options);
  const { nodes, tls } = parseClusterNodes(s.nodes ?? "");
  return new ioredis.Cluster(nodes, { enableOfflineQueue: false, redisOptions: { ...options, ...(tls ? { tls: {} } : {}) } });
}
