import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Logger, Timers } from "../../core/runtime.ts";
import type { WebhookJob } from "../job.ts";
import type { DeadLetter, Delivery, Outcome, QueueContext, WebhookQueue, Worker } from "./queue.ts";

// QUEUE_DRIVER=sqs: Amazon SQS (or an emulator at SQS_ENDPOINT). A received message is invisible
// for the visibility timeout while one node sends it; success deletes it; a retry sets its
// visibility to the back-off delay, so it reappears (for any node) when due; a node that dies
// just lets the visibility lapse. Attempt number and first-attempt time are SQS's own receive
// count and first-receive timestamp. Dead letters go to SQS_DEAD_LETTER_QUEUE_URL when set.
// Standard queues do not keep order; use a FIFO queue's semantics elsewhere if order matters.

type Sdk = typeof import("@aws-sdk/client-sqs");

/** Long-poll length: short enough that a stop does not wait long, long enough to be cheap. */
const WAIT_SECONDS = 5;
const DOWN_RETRY_MS = 1000;

export class SqsQueue implements WebhookQueue {
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
    private readonly opts: { queueUrl: string; deadLetterUrl?: string; concurrency: number; visibilityMs: number },
  ) {}

  async push(job: WebhookJob): Promise<void> {
    await this.client.send(new this.sdk.SendMessageCommand({ QueueUrl: this.opts.queueUrl, MessageBody: JSON.stringify(job) }));
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
          WaitTimeSeconds: WAIT_SECONDS,
          VisibilityTimeout: Math.ceil(this.opts.visibilityMs / 1000),
          MessageSystemAttributeNames: ["ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp"],
        }), { abortSignal: this.abort.signal });
        messages = res.Messages ?? [];
        this.setDown(false);
      } catch (error) {
        if (this.stopping) break;
        this.setDown(true, error);
        await this.sleep(DOWN_RETRY_MS);
        continue;
      }
      for (const m of messages) void this.run(worker, m.ReceiptHandle!, m.Body ?? "", m.Attributes ?? {});
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

  private async run(worker: Worker, receipt: string, body: string, attrs: Record<string, string>): Promise<void> {
    this.running++;
    try {
      let job: WebhookJob;
      try {
        job = JSON.parse(body) as WebhookJob;
        if (typeof job?.body !== "string" || typeof job.headers !== "object") throw new Error("not a webhook job");
      } catch (error) {
        this.logger.warn("sqs webhook queue: deleting a malformed message", { error: (error as Error).message, body: body.slice(0, 200) });
        await this.delete(receipt);
        return;
      }
      const attempt = Number(attrs.ApproximateReceiveCount ?? "1") || 1;
      const first = Number(attrs.ApproximateFirstReceiveTimestamp ?? "");
      const delivery: Delivery = { job, attempt, firstAttemptAt: attempt > 1 && first > 0 ? first : undefined };
      await this.settle(receipt, job, await worker(delivery));
    } catch (error) {
      // SQS failed while settling: the visibility lapses and the message is attempted again.
      this.logger.warn("sqs webhook queue: could not record an outcome; the message reappears after its visibility timeout", error);
    } finally {
      this.running--;
    }
  }

  private async settle(receipt: string, job: WebhookJob, outcome: Outcome): Promise<void> {
    if (outcome.kind === "done") return this.delete(receipt);
    if (outcome.kind === "retry") {
      // Visibility is whole seconds; the first 1 s back-off stays 1 s.
      const seconds = Math.min(43_200, Math.max(1, Math.ceil(outcome.delayMs / 1000)));
      await this.client.send(new this.sdk.ChangeMessageVisibilityCommand({ QueueUrl: this.opts.queueUrl, ReceiptHandle: receipt, VisibilityTimeout: seconds }));
      return;
    }
    await this.deadLetter(job, outcome.reason);
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
    requestHandler: { requestTimeout: (WAIT_SECONDS + 5) * 1000, connectionTimeout: 5000 },
  });
  return new SqsQueue(sdk, client, ctx.timers, ctx.logger, {
    queueUrl: c.sqsQueueUrl!, deadLetterUrl: c.sqsDeadLetterQueueUrl, concurrency: c.webhookConcurrency, visibilityMs: c.webhookVisibilityTimeoutMs,
  });
}
