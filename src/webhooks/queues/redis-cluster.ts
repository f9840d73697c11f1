import { reconnectDelay } from "../../core/backoff.ts";
import { parseClusterNodes } from "../../redis/cluster-nodes.ts";
import type { QueueContext, WebhookQueue } from "./queue.ts";
import { RedisQueue } from "./redis.ts";

// QUEUE_DRIVER=redis-cluster: the redis queue on a Redis Cluster (REDIS_CLUSTER_NODES). Its keys
// share one hash tag, so the scripts run on the shard that owns it.

export async function create(ctx: QueueContext): Promise<WebhookQueue> {
  const { Cluster } = await import("ioredis");
  const c = ctx.config;
  const { nodes, tls } = parseClusterNodes(c.redisClusterNodes!);
  const client = new Cluster(nodes, {
    clusterRetryStrategy: reconnectDelay,
    enableOfflineQueue: false,
    redisOptions: { connectTimeout: 5000, commandTimeout: 5000, maxRetriesPerRequest: 0, ...(tls ? { tls: {} } : {}) },
  });
  return new RedisQueue(client, c.redisPrefix, ctx.timers, ctx.logger, "redis-cluster", {
    concurrency: c.webhookConcurrency, visibilityMs: c.webhookVisibilityTimeoutMs, deadLetterLimit: c.webhookDeadLetterLimit,
  });
}
