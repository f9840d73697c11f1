// Webhook queue drivers (QUEUE_DRIVER): where webhook jobs wait between the event and its delivery
// (docs/webhooks.md). Each implementation is imported only when selected, so a node that never
// uses SQS never loads the AWS SDK.
import { z } from "zod";
import { num } from "../core/coerce.ts";
import type { QueueContext, QueueOpener, QueueSettings, WebhookQueue } from "../webhooks/queues/queue.ts";
import { REDIS } from "./register-adapters.ts";
import { AWS } from "./register-app-stores.ts";
import { defineKind, registerDriver } from "./registry.ts";

defineKind({ kind: "queue", default: "memory", help: "where webhook jobs wait (none: webhooks off)" });

/** A job taken by a node that then dies is taken again after this; one schema object for every durable queue. */
const LEASE = {
  webhookVisibilityTimeoutMs: num(z.number().int().min(1000).max(43_200_000)).default(30_000)
    .describe("ms; a webhook job taken by a node that dies is taken again after this (above WEBHOOK_TIMEOUT_MS)"),
};

/** The driver's `create`, given its own settings on top of the server's webhook settings. */
const opener = (load: () => Promise<{ create: (ctx: QueueContext) => WebhookQueue | Promise<WebhookQueue> }>) =>
  async () => {
    const { create } = await load();
    // The registry parsed `options` with the driver's schema, so its required keys are there.
    return (options: object): QueueOpener => (ctx) => create({ ...ctx, config: { ...ctx.config, ...options } as QueueSettings });
  };

registerDriver({ kind: "queue", name: "sync", aliases: ["local"], help: "sent from the node that saw the event, no queue", load: opener(() => import("../webhooks/queues/sync.ts")) });
registerDriver({ kind: "queue", name: "memory", help: "in-process and bounded; lost on a crash", load: opener(() => import("../webhooks/queues/memory.ts")) });

registerDriver({
  kind: "queue",
  name: "redis",
  help: "durable in Redis (REDIS_URL); any node works the queue",
  options: z.object({ redisUrl: REDIS.redisUrl, redisPrefix: REDIS.redisPrefix, ...LEASE }),
  load: opener(() => import("../webhooks/queues/redis.ts")),
});

registerDriver({
  kind: "queue",
  name: "redis-cluster",
  help: "durable in a Redis Cluster (REDIS_CLUSTER_NODES)",
  options: z.object({ redisClusterNodes: REDIS.redisClusterNodes, redisPrefix: REDIS.redisPrefix, ...LEASE }),
  load: opener(() => import("../webhooks/queues/redis-cluster.ts")),
});

registerDriver({
  kind: "queue",
  name: "sqs",
  help: "durable in Amazon SQS (SQS_QUEUE_URL)",
  options: z.object({
    sqsQueueUrl: z.string().url().describe("URL of the SQS queue for webhook jobs"),
    sqsDeadLetterQueueUrl: z.string().url().optional().describe("where SQS dead letters go; without it they are only logged"),
    sqsRegion: z.string().min(1).optional().describe("region of the SQS queue (else AWS_REGION)"),
    ...AWS,
    sqsEndpoint: z.string().url().optional().describe("an SQS-compatible endpoint (an emulator such as local-aws-sqs)"),
    sqsWaitTimeSeconds: num(z.number().int().min(0).max(20)).default(20).describe("long-poll seconds of each receive (0-20)"),
    ...LEASE,
  }),
  load: opener(() => import("../webhooks/queues/sqs.ts")),
});

registerDriver({ kind: "queue", name: "none", help: "webhooks off", load: opener(() => import("../webhooks/queues/none.ts")) });
