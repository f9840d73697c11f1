import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Logger, Timers } from "../../core/runtime.ts";
import type { WebhookJob } from "../job.ts";
import { parseEnvelope, type DeadLetter, type Delivery, type Envelope, type Outcome, type QueueContext, type WebhookQueue, type Worker } from "./queue.ts";

// QUEUE_DRIVER=sqs: Amazon SQS (or an emulator at SQS_ENDPOINT). A received message is invisible
// for the visibility timeout while one node sends it, and success deletes it; a node that dies
// just lets the visibility lapse and any node receives the message again. A retry sends the job
// again with its attempt count and first-attempt time and a delivery delay (DelaySeconds), then
// deletes the old message: SQS's own receive count can't be trusted for this (emulators count
// visibility changes too) and a message body can't be changed in place. Send-then-delete means a
// crash in between duplicates a body, never loses one. Dead letters go to
// SQS_DEAD_LETTER_QUEUE_URL when set. Standard queues keep no order between bodies.

type Sdk = typeof import("@aws-sdk/client-sqs");

const DOWN_RETRY_MS = 1000;
/** SQS's limit on DelaySeconds (15 min); our longest back-off is 60 s. */
const MAX_DELAY_SECONDS = 900;

class SqsQueue implements WebhookQueue {
  private running = 0;
  private stopping = false;
  private loop?: Promise<void>;
  private readonly abort = new AbortController();
  private down = false;

  constructor(
    private readonly sdk: Sdk,
    private readonly client: SQSClient,
    private readonly timers: Timers,
    private readonly logger: Logger,
    private readonly opts: { queueUrl: string; deadLetterUrl?: string; concurrency: number; visibilityMs: number; waitSeconds: number },
  ) {}

  async push(job: WebhookJob): Promise<void> {
    await this.send({ job, attempt: 1 }, 0);
  }

  private async send(envelope: Envelope, delaySeconds: number): Promise<void> {
    await this.client.send(new this.sdk.SendMessageCommand({ QueueUrl: this.opts.queueUrl, MessageBody: JSON.stringify(envelope), DelaySeconds: delaySeconds }));
  }

  start(worker: Worker): void {
    this.loop = this.work(worker);
  }

  private async work(worker: Worker): Promise<void> {
    while (!this.stopping) {
      const free = this.opts.concurrency - this.running;
      if (free <= 0) {
        await this.sleep(50);
        continue;
      }
      let messages;
      try {
        const res = await this.client.send(new this.sdk.ReceiveMessageCommand({
          QueueUrl: this.opts.queueUrl,
          MaxNumberOfMessages: Math.min(10, free),
          WaitTimeSeconds: this.opts.waitSeconds,
          VisibilityTimeout: Math.ceil(this.opts.visibilityMs / 1000),
        }), { abortSignal: this.abort.signal });
        messages = res.Messages ?? [];
        this.setDown(false);
      } catch (error) {
        if (this.stopping) break;
        this.setDown(true, error);
        await this.sleep(DOWN_RETRY_MS);
        continue;
      }
      for (const m of messages) void this.run(worker, m.ReceiptHandle!, m.Body ?? "");
    }
  }

  private setDown(down: boolean, error?: unknown): void {
    if (down === this.down) return;
    this.down = down;
    if (down) this.logger.warn(`sqs webhook queue unreachable; retrying every ${DOWN_RETRY_MS} ms`, error);
    else this.logger.info("sqs webhook queue reachable again");
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.timers.setTimeout(resolve, ms));
  }

  private async run(worker: Worker, receipt: string, body: string): Promise<void> {
    this.running++;
    try {
      const envelope = parseEnvelope(body);
      if (!envelope) {
        this.logger.warn("sqs webhook queue: deleting a malformed message", body.slice(0, 200));
        await this.delete(receipt);
        return;
      }
      const delivery: Delivery = { job: envelope.job, attempt: envelope.attempt, firstAttemptAt: envelope.first };
      await this.settle(receipt, delivery, await worker(delivery));
    } catch (error) {
      // SQS failed while settling: the visibility lapses and the message is attempted again.
      this.logger.warn("sqs webhook queue: could not record an outcome; the message reappears after its visibility timeout", error);
    } finally {
      this.running--;
    }
  }

  private async settle(receipt: string, d: Delivery, outcome: Outcome): Promise<void> {
    if (outcome.kind === "retry") {
      const seconds = Math.min(MAX_DELAY_SECONDS, Math.ceil(outcome.delayMs / 1000));
      await this.send({ job: d.job, attempt: d.attempt + 1, first: outcome.firstAttemptAt }, seconds);
    } else if (outcome.kind === "dead") {
      await this.deadLetter(d.job, outcome.reason);
    }
    await this.delete(receipt);
  }

  private async delete(receipt: string): Promise<void> {
    await this.client.send(new this.sdk.DeleteMessageCommand({ QueueUrl: this.opts.queueUrl, ReceiptHandle: receipt }));
  }

  async deadLetter(job: WebhookJob, reason: string): Promise<void> {
    if (!this.opts.deadLetterUrl) return; // logged at warn by the processor; nowhere else to keep it
    const letter: DeadLetter = { job, reason, at: this.timers.now() };
    await this.client.send(new this.sdk.SendMessageCommand({ QueueUrl: this.opts.deadLetterUrl, MessageBody: JSON.stringify(letter) }));
  }

  async depth(): Promise<number> {
    const res = await this.client.send(new this.sdk.GetQueueAttributesCommand({
      QueueUrl: this.opts.queueUrl, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"],
    }));
    const a = res.Attributes ?? {};
    return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesDelayed ?? 0);
  }

  async deadLetters(): Promise<DeadLetter[]> {
    return []; // receiving would hide them from the operator's own tools; read the DLQ there
  }

  async stop(deadline: number): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    await this.loop;
    while (this.running > 0 && this.timers.now() < deadline) await this.sleep(20);
    if (this.running > 0) this.logger.info(`sqs webhook queue: ${this.running} attempts unfinished at shutdown; they reappear after their visibility timeout`);
    this.client.destroy();
  }
}

export async function create(ctx: QueueContext): Promise<WebhookQueue> {
  // Imported here, not at the top: only a node with QUEUE_DRIVER=sqs loads the AWS SDK.
  const sdk = await import("@aws-sdk/client-sqs");
  const c = ctx.config;
  const client = new sdk.SQSClient({
    region: c.sqsRegion ?? c.awsRegion ?? "us-east-1",
    ...(c.sqsEndpoint ? { endpoint: c.sqsEndpoint } : {}),
    // One attempt per call: the queue loop and the retry policy already retry.
    maxAttempts: 1,
    // Above the long poll, so only a stuck request times out.
    requestHandler: { requestTimeout: (c.sqsWaitTimeSeconds + 10) * 1000, connectionTimeout: 5000 },
  });
  return new SqsQueue(sdk, client, ctx.timers, ctx.logger, {
    queueUrl: c.sqsQueueUrl!, deadLetterUrl: c.sqsDeadLetterQueueUrl, concurrency: c.webhookConcurrency, visibilityMs: c.webhookVisibilityTimeoutMs,
    waitSeconds: c.sqsWaitTimeSeconds,
  });
}
