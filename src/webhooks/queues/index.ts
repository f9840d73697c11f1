import type { QueueContext, WebhookQueue } from "./queue.ts";

// QUEUE_DRIVER → driver file. Each is imported only when selected, so a node that never uses SQS
// never loads the AWS SDK (nor ioredis for the redis drivers' queue code).

type Factory = (ctx: QueueContext) => WebhookQueue | Promise<WebhookQueue>;

export const QUEUE_DRIVERS: Record<QueueContext["config"]["queueDriver"], () => Promise<{ create: Factory }>> = {
  sync: () => import("./sync.ts"),
  memory: () => import("./memory.ts"),
  redis: () => import("./redis.ts"),
  "redis-cluster": () => import("./redis-cluster.ts"),
  sqs: () => import("./sqs.ts"),
  none: () => import("./none.ts"),
};

export async function createQueue(ctx: QueueContext): Promise<WebhookQueue> {
  const driver = await QUEUE_DRIVERS[ctx.config.queueDriver]();
  return driver.create(ctx);
}
