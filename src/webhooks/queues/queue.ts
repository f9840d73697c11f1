import type { Logger, Timers } from "../../core/runtime.ts";
import { z } from "zod";
import { parseJsonObject } from "../../core/frames.ts";
import type { WebhookJob } from "../job.ts";

// What every queue driver implements (one file per driver, chosen by QUEUE_DRIVER: src/drivers/register-queues.ts).
// The queue stores jobs and leases them to this node's worker; the worker (processor.ts) owns the
// policy and answers with an Outcome, which the queue carries out in its own storage.

/** One attempt at a job, as the queue hands it out. */
export interface Delivery {
  job: WebhookJob;
  /** 1 for the first attempt. */
  attempt: number;
  /**
   * When the first attempt started (the redis queue stamps it when it first leases the job);
   * undefined when the queue has no record of it, on a first attempt.
   */
  firstAttemptAt?: number;
}

export type Outcome =
  | { kind: "done" }
  /** Try again after delayMs; firstAttemptAt is remembered for the next Delivery. */
  | { kind: "retry"; delayMs: number; firstAttemptAt: number }
  /** Give up: keep the job where an operator can see it (ring, Redis list, SQS dead-letter queue). */
  | { kind: "dead"; reason: string };

export type Worker = (delivery: Delivery) => Promise<Outcome>;

export interface DeadLetter {
  job: WebhookJob;
  reason: string;
  at: number;
}

export interface WebhookQueue {
  /** Resolves once the job is stored (durable drivers: acknowledged by the backend). */
  push(job: WebhookJob): Promise<void>;
  /** Starts leasing jobs to `worker`, at most `concurrency` at a time. */
  start(worker: Worker): void;
  /** Stores a job that was never attempted as dead (queue full, backend unreachable). */
  deadLetter(job: WebhookJob, reason: string): Promise<void>;
  /** Jobs waiting (including those waiting for a retry). */
  depth(): Promise<number>;
  /** The most recent dead letters, newest first, at most `limit`. */
  deadLetters(limit: number): Promise<DeadLetter[]>;
  /**
   * Stops leasing and waits for attempts under way, at most until `deadline` (epoch ms).
   * The memory queue first sends what is waiting; durable queues leave it for other nodes.
   */
  stop(deadline: number): Promise<void>;
}

/** The server's webhook settings every queue reads (WEBHOOK_CONCURRENCY, ...). */
export interface WebhookQueueSettings {
  webhookConcurrency: number;
  webhookDeadLetterLimit: number;
  webhookMemoryQueueSize: number;
}

/** The server's webhook settings and the selected driver's own (src/drivers/register-queues.ts). */
export interface QueueSettings extends WebhookQueueSettings {
  webhookVisibilityTimeoutMs: number;
  redisUrl?: string;
  redisClusterNodes?: string;
  redisPrefix: string;
  sqsQueueUrl?: string;
  sqsDeadLetterQueueUrl?: string;
  sqsRegion?: string;
  awsRegion?: string;
  sqsEndpoint?: string;
  sqsWaitTimeSeconds: number;
}

/** What a driver gets to build itself. */
export interface QueueContext {
  config: QueueSettings;
  timers: Timers;
  logger: Logger;
}

/** What the registry hands out for the chosen queue driver: its constructor, settings bound. */
export type QueueOpener = (ctx: { config: WebhookQueueSettings; timers: Timers; logger: Logger }) =>
  WebhookQueue | Promise<WebhookQueue>;

/** A job as the durable queues (redis, sqs) store it: with its attempt and first-attempt time. */
export interface Envelope {
  job: WebhookJob;
  attempt: number;
  first?: number;
}

/**
 * What a stored envelope must hold to be delivered: the body to send and where, and its attempt.
 * Another version's extra fields pass through; a job missing what delivery needs is refused.
 */
const envelopeSchema = z.looseObject({
  job: z.looseObject({
    id: z.string(),
    appId: z.string(),
    target: z.union([
      z.looseObject({ url: z.string() }),
      z.looseObject({ lambdaFunction: z.string(), async: z.boolean(), region: z.string().optional() }),
    ]),
    headers: z.record(z.string(), z.string()),
    body: z.string(),
    events: z.number(),
    channels: z.array(z.string()),
    createdAt: z.number(),
  }),
  attempt: z.number().int().min(0),
  first: z.number().optional(),
});

/** A stored envelope read back; undefined for anything else (the caller reports and removes it). */
export function parseEnvelope(raw: string): Envelope | undefined {
  const checked = envelopeSchema.safeParse(parseJsonObject(raw));
  return checked.success ? checked.data : undefined;
}
