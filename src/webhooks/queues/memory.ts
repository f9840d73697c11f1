import type { Timers, Logger } from "../../core/runtime.ts";
import { targetLabel, type WebhookJob } from "../job.ts";
import { DeadLetterRing } from "./dead-letters.ts";
import type { DeadLetter, Delivery, Outcome, QueueContext, WebhookQueue, Worker } from "./queue.ts";

// QUEUE_DRIVER=memory (default): a bounded in-process queue. Fast and free of backends, but what is
// waiting is lost if the process crashes (a graceful stop sends it first, within the grace period).
// Bodies for one (target, channel) are sent one at a time in order, so a receiver sees
// channel_occupied before member_added even with many workers; a retried body goes to the back.

export class QueueFullError extends Error {}

/** Ready entries looked at per pick: a long run of one busy channel must not make picks O(n). */
const SCAN_LIMIT = 256;

export class MemoryQueue implements WebhookQueue {
  private ready: Delivery[] = [];
  private readonly waiting = new Map<Delivery, unknown>();
  /** Ordering keys of the bodies being sent. */
  private readonly busy = new Set<string>();
  private running = 0;
  private worker?: Worker;
  private stopping = false;
  private idle?: () => void;
  private readonly dead: DeadLetterRing;

  constructor(
    private readonly timers: Timers,
    private readonly logger: Logger,
    private readonly concurrency: number,
    private readonly capacity: number,
    deadLetterLimit: number,
  ) {
    this.dead = new DeadLetterRing(deadLetterLimit);
  }

  async push(job: WebhookJob): Promise<void> {
    if (this.ready.length + this.waiting.size >= this.capacity) throw new QueueFullError(`memory queue full (${this.capacity} jobs)`);
    this.ready.push({ job, attempt: 1 });
    this.pump();
  }

  start(worker: Worker): void {
    this.worker = worker;
    this.pump();
  }

  async deadLetter(job: WebhookJob, reason: string): Promise<void> {
    this.dead.add({ job, reason, at: this.timers.now() });
  }

  async depth(): Promise<number> {
    return this.ready.length + this.waiting.size;
  }

  async deadLetters(limit: number): Promise<DeadLetter[]> {
    return this.dead.recent(limit);
  }

  private pump(): void {
    while (this.worker && this.running < this.concurrency) {
      const delivery = this.pick();
      if (!delivery) break;
      void this.run(this.worker, delivery);
    }
    if (this.idle && this.running === 0 && (this.ready.length === 0 || !this.worker)) this.idle();
  }

  /** The first ready entry none of whose keys is busy or held by an earlier skipped entry. */
  private pick(): Delivery | undefined {
    const blocked = new Set<string>();
    const n = Math.min(this.ready.length, SCAN_LIMIT);
    for (let i = 0; i < n; i++) {
      const keys = orderKeys(this.ready[i]!.job);
      if (keys.some((k) => this.busy.has(k) || blocked.has(k))) {
        for (const k of keys) blocked.add(k);
        continue;
      }
      for (const k of keys) this.busy.add(k);
      return this.ready.splice(i, 1)[0];
    }
    return undefined;
  }

  private async run(worker: Worker, delivery: Delivery): Promise<void> {
    this.running++;
    let outcome: Outcome;
    try {
      outcome = await worker(delivery);
    } catch (error) {
      // The worker catches its own failures; this is a bug, so keep the job rather than lose it.
      this.logger.error(`webhook worker failed on job ${delivery.job.id}`, error);
      outcome = { kind: "retry", delayMs: 1000, firstAttemptAt: delivery.firstAttemptAt ?? this.timers.now() };
    }
    this.running--;
    for (const k of orderKeys(delivery.job)) this.busy.delete(k);
    if (outcome.kind === "retry") this.retryLater(delivery, outcome);
    else if (outcome.kind === "dead") await this.deadLetter(delivery.job, outcome.reason);
    this.pump();
  }

  private retryLater(delivery: Delivery, outcome: Extract<Outcome, { kind: "retry" }>): void {
    const next: Delivery = { job: delivery.job, attempt: delivery.attempt + 1, firstAttemptAt: outcome.firstAttemptAt };
    if (this.stopping) {
      this.logger.warn(`webhook to ${targetLabel(next.job.target)} for app ${next.job.appId} not sent before shutdown (${next.job.events} events)`);
      return;
    }
    const timer = this.timers.setTimeout(() => {
      this.waiting.delete(next);
      this.ready.push(next);
      this.pump();
    }, outcome.delayMs);
    this.waiting.set(next, timer);
  }

  async stop(deadline: number): Promise<void> {
    this.stopping = true;
    // One last attempt for bodies waiting on a retry, now rather than after their back-off.
    for (const [delivery, timer] of this.waiting) {
      this.timers.clearTimeout(timer);
      this.ready.push(delivery);
    }
    this.waiting.clear();
    await new Promise<void>((resolve) => {
      const timer = this.timers.setTimeout(() => resolve(), Math.max(0, deadline - this.timers.now()));
      this.idle = () => {
        this.timers.clearTimeout(timer);
        resolve();
      };
      this.pump();
    });
    this.idle = undefined;
    const left = this.ready.length;
    if (left > 0) this.logger.warn(`memory webhook queue: ${left} bodies not sent within the shutdown grace period are lost`);
    this.worker = undefined;
    this.ready = [];
  }
}

function orderKeys(job: WebhookJob): string[] {
  const target = targetLabel(job.target);
  return job.channels.map((c) => `${job.appId}\n${target}\n${c}`);
}

export function create(ctx: QueueContext): WebhookQueue {
  const c = ctx.config;
  return new MemoryQueue(ctx.timers, ctx.logger, c.webhookConcurrency, c.webhookMemoryQueueSize, c.webhookDeadLetterLimit);
}
