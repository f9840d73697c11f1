import type { Logger, Timers } from "../../core/runtime.ts";
import { targetLabel, type WebhookJob } from "../job.ts";
import { DeadLetterRing } from "./dead-letters.ts";
import type { DeadLetter, Delivery, QueueContext, WebhookQueue, Worker } from "./queue.ts";

// QUEUE_DRIVER=sync (Socket Rush's "local"): no queue; each body is sent at once by the node that
// saw the event, with no concurrency bound and no ordering between bodies. Retries wait on timers
// in this process, so, as with memory, a crash loses them.

class SyncQueue implements WebhookQueue {
  private worker?: Worker;
  /** Bodies pushed before start(), sent when it is called. */
  private early: Delivery[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly waiting = new Map<Delivery, unknown>();
  private stopping = false;
  private readonly dead: DeadLetterRing;

  constructor(private readonly timers: Timers, private readonly logger: Logger, deadLetterLimit: number) {
    this.dead = new DeadLetterRing(deadLetterLimit);
  }

  async push(job: WebhookJob): Promise<void> {
    this.attempt({ job, attempt: 1 });
  }

  start(worker: Worker): void {
    this.worker = worker;
    const early = this.early;
    this.early = [];
    for (const d of early) this.attempt(d);
  }

  private attempt(delivery: Delivery): void {
    const worker = this.worker;
    if (!worker) {
      this.early.push(delivery);
      return;
    }
    const run = worker(delivery).then(async (outcome) => {
      if (outcome.kind === "dead") await this.deadLetter(delivery.job, outcome.reason);
      else if (outcome.kind === "retry") {
        const next: Delivery = { job: delivery.job, attempt: delivery.attempt + 1, firstAttemptAt: outcome.firstAttemptAt };
        if (this.stopping) {
          this.logger.warn(`webhook to ${targetLabel(next.job.target)} for app ${next.job.appId} not sent before shutdown (${next.job.events} events)`);
          return;
        }
        const timer = this.timers.setTimeout(() => {
          this.waiting.delete(next);
          this.attempt(next);
        }, outcome.delayMs);
        this.waiting.set(next, timer);
      }
    }, (error: unknown) => this.logger.error(`webhook worker failed on job ${delivery.job.id}`, error));
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
  }

  async deadLetter(job: WebhookJob, reason: string): Promise<void> {
    this.dead.add({ job, reason, at: this.timers.now() });
  }

  async depth(): Promise<number> {
    return this.waiting.size + this.early.length;
  }

  async deadLetters(limit: number): Promise<DeadLetter[]> {
    return this.dead.recent(limit);
  }

  async stop(deadline: number): Promise<void> {
    this.stopping = true;
    // Bodies waiting on a retry get one last attempt now.
    for (const [delivery, timer] of this.waiting) {
      this.timers.clearTimeout(timer);
      this.attempt(delivery);
    }
    this.waiting.clear();
    let timer: unknown;
    const expired = new Promise<void>((resolve) => (timer = this.timers.setTimeout(resolve, Math.max(0, deadline - this.timers.now()))));
    await Promise.race([Promise.allSettled([...this.inFlight]), expired]);
    this.timers.clearTimeout(timer);
  }
}

export function create(ctx: QueueContext): WebhookQueue {
  return new SyncQueue(ctx.timers, ctx.logger, ctx.config.webhookDeadLetterLimit);
}
