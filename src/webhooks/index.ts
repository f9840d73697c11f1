import type { Config } from "../config/load.ts";
import type { Logger } from "../core/runtime.ts";
import type { Switchboard } from "../core/server.ts";
import { WebhookPipeline } from "./pipeline.ts";
import { WEBHOOK_KINDS } from "./payload.ts";
import { createProcessor } from "./processor.ts";
import { createDriver, type DriverContext } from "../drivers/index.ts";
import type { DeadLetter, WebhookQueue } from "./queues/queue.ts";
import { WebhookStats } from "./stats.ts";
import { closeLambdaClients } from "./targets/lambda.ts";

// Webhooks (spec §7): listens to the server's event stream and delivers through the configured
// queue. Each node sends what its own stream emits; the adapters emit each cluster transition on
// exactly one node, so a cluster sends one webhook per transition.

export interface Webhooks {
  readonly stats: WebhookStats;
  /** Newest first: the queue's dead letters (and jobs it never took). */
  deadLetters(limit?: number): Promise<DeadLetter[]>;
  /** Sends what is held (batches, vacancy delay) and stops, by `deadline` (epoch ms) at the latest. */
  stop(deadline: number): Promise<void>;
}

export async function startWebhooks(config: Config, server: Switchboard, logger: Logger, context: DriverContext): Promise<Webhooks> {
  const timers = server.timers;
  const queueDriver = config.drivers.queue?.name ?? "memory";
  if (queueDriver === "none") {
    logger.info("webhooks: off (QUEUE_DRIVER=none)");
    return { stats: new WebhookStats(async () => 0), deadLetters: async () => [], stop: async () => {} };
  }
  const open = await createDriver("queue", config.drivers.queue ?? { kind: "queue", name: "memory", options: {} }, context);
  const queue: WebhookQueue = await open({ config, timers, logger });
  const stats = new WebhookStats(() => queue.depth());
  const pipeline = new WebhookPipeline({
    apps: server.apps,
    crypto: server.crypto,
    timers,
    logger,
    queue,
    stats,
    batching: config.webhookBatching,
    batchWindowMs: config.webhookBatchingDurationMs,
    vacateDelayMs: config.webhookVacateDelayMs,
    maxUnpushed: config.webhookMemoryQueueSize,
    retryWindowMs: config.webhookRetryWindowMs,
  });
  const unsubscribe = server.events.subscribe("webhooks", pipeline.consume, WEBHOOK_KINDS);
  queue.start(createProcessor({
    apps: server.apps, timers, logger, stats, events: server.events, timeoutMs: config.webhookTimeoutMs, retryWindowMs: config.webhookRetryWindowMs,
  }));
  logger.debug(`webhooks: ${queueDriver} queue, batching ${config.webhookBatching ? `${config.webhookBatchingDurationMs} ms` : "off"}, vacancy delay ${config.webhookVacateDelayMs} ms, ${config.webhookConcurrency} workers`);

  return {
    stats,
    async deadLetters(limit = 100) {
      return [...pipeline.unqueued.recent(limit), ...(await queue.deadLetters(limit))].slice(0, limit);
    },
    async stop(deadline) {
      unsubscribe();
      await pipeline.flush(deadline);
      await queue.stop(deadline);
      closeLambdaClients();
    },
  };
}
