import type { Logger } from "../core/runtime.ts";
import type { Switchboard } from "../core/server.ts";
import { WebhookPipeline } from "./pipeline.ts";
import { WEBHOOK_KINDS } from "./payload.ts";
import { createProcessor } from "./processor.ts";
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

/** The server's webhook settings (WEBHOOK_*), as the composition root hands them over. */
export interface WebhookSettings {
  webhookBatching: boolean;
  webhookBatchingDurationMs: number;
  webhookVacateDelayMs: number;
  webhookMemoryQueueSize: number;
  webhookRetryWindowMs: number;
  webhookTimeoutMs: number;
  webhookConcurrency: number;
}

/** Webhooks off (QUEUE_DRIVER=none): nothing listens to the event stream. */
export function noWebhooks(logger: Logger): Webhooks {
  logger.info("webhooks: off (QUEUE_DRIVER=none)");
  return { stats: new WebhookStats(async () => 0), deadLetters: async () => [], stop: async () => {} };
}

/** Listens to the server's event stream and delivers through `queue` (named `queueName` in the log). */
export function startWebhooks(settings: WebhookSettings, server: Switchboard, logger: Logger, queue: WebhookQueue, queueName: string): Webhooks {
  const timers = server.timers;
  const stats = new WebhookStats(() => queue.depth());
  const pipeline = new WebhookPipeline({
    apps: server.apps,
    crypto: server.crypto,
    timers,
    logger,
    queue,
    stats,
    batching: settings.webhookBatching,
    batchWindowMs: settings.webhookBatchingDurationMs,
    vacateDelayMs: settings.webhookVacateDelayMs,
    maxUnpushed: settings.webhookMemoryQueueSize,
    retryWindowMs: settings.webhookRetryWindowMs,
  });
  const unsubscribe = server.events.subscribe("webhooks", pipeline.consume, WEBHOOK_KINDS);
  queue.start(createProcessor({
    apps: server.apps, timers, logger, stats, events: server.events, timeoutMs: settings.webhookTimeoutMs, retryWindowMs: settings.webhookRetryWindowMs,
  }));
  logger.debug(`webhooks: ${queueName} queue, batching ${settings.webhookBatching ? `${settings.webhookBatchingDurationMs} ms` : "off"}, vacancy delay ${settings.webhookVacateDelayMs} ms, ${settings.webhookConcurrency} workers`);

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
