import { reconnectDelay } from "../core/backoff.ts";
import type { App, WebhookConfig } from "../core/app.ts";
import type { AppStore } from "../core/app-store.ts";
import type { ServerEvent } from "../core/events.ts";
import type { CryptoProvider, Logger, Timers } from "../core/runtime.ts";
import { Batcher } from "./batcher.ts";
import { appWants, webhookMatches } from "./filter.ts";
import { buildJob, targetLabel, type WebhookJob } from "./job.ts";
import { toWebhookEvent, type WebhookEvent } from "./payload.ts";
import { DeadLetterRing } from "./queues/dead-letters.ts";
import { QueueFullError } from "./queues/memory.ts";
import type { WebhookQueue } from "./queues/queue.ts";
import type { WebhookStats } from "./stats.ts";
import { VacancyDelay } from "./vacancy.ts";

// From the server's event stream to queued jobs: map (payload.ts), check the app's switches, drop
// repeated cache misses (spec §3.8), hold removals (vacancy.ts), fan out to matching webhooks
// (filter.ts), batch (batcher.ts), sign (job.ts) and push. Events are handled one after another,
// so each channel's events reach the queue in the order they happened (spec §7.1).

export interface PipelineOptions {
  apps: AppStore;
  crypto: CryptoProvider;
  timers: Timers;
  logger: Logger;
  queue: WebhookQueue;
  stats: WebhookStats;
  batching: boolean;
  batchWindowMs: number;
  vacateDelayMs: number;
  /** Jobs kept while the queue backend is unreachable; beyond it new ones are dead-lettered. */
  maxUnpushed: number;
  /** How long a job may wait for an unreachable queue before it is dead-lettered. */
  retryWindowMs: number;
}

/** Push retry while the queue is unreachable: 100 ms doubling to 5 s. */


export class WebhookPipeline {
  private events: Promise<void> = Promise.resolve();
  private pushes: Promise<void> = Promise.resolve();
  private unpushed = 0;
  private stopping = false;
  private readonly batcher: Batcher;
  private readonly vacancy: VacancyDelay<App>;
  /** Jobs the queue never took (unreachable backend): kept here for the operator. */
  readonly unqueued: DeadLetterRing;

  constructor(private readonly o: PipelineOptions) {
    this.batcher = new Batcher(o.timers, o.batchWindowMs, (app, webhook, events) => this.enqueue(app, webhook, events));
    this.vacancy = new VacancyDelay<App>(o.timers, o.vacateDelayMs, (app, event) => this.fanOut(app, event));
    this.unqueued = new DeadLetterRing(100);
  }

  /** The stream consumer: returns at once; the work is chained so order is kept. */
  readonly consume = (e: ServerEvent): void => {
    this.events = this.events.then(() => this.handle(e)).catch((error) => this.o.logger.error(`webhooks: handling ${e.kind} failed`, error));
  };

  private async handle(e: ServerEvent): Promise<void> {
    if ("localOnly" in e && e.localOnly) {
      // Only this node's view while the cluster backend was away: the resync announces what
      // really changed cluster-wide, and a webhook now could contradict it (another node's socket).
      this.o.logger.debug(`webhooks: no ${e.kind} for ${e.channel} yet: decided while the cluster backend was away`);
      return;
    }
    if (e.kind === "cache_miss" && !e.first) {
      this.o.logger.debug(`webhooks: no cache_miss for ${e.channel}: one was sent since it was occupied or last cached`);
      return;
    }
    const event = toWebhookEvent(e);
    if (!event) return;
    const app = await this.o.apps.findById(e.appId);
    if (!app || !appWants(app, event.name)) return;
    this.vacancy.offer(app, event);
  }

  private fanOut(app: App, event: WebhookEvent): void {
    const batching = app.hasWebhookBatchingEnabled ?? this.o.batching;
    app.webhooks.forEach((webhook, i) => {
      if (webhookMatches(webhook, event)) this.batcher.add(app, i, webhook, event, batching);
    });
  }

  private enqueue(app: App, webhook: WebhookConfig, events: WebhookEvent[]): void {
    const now = this.o.timers.now();
    const job = buildJob(this.o.crypto, app, webhook, events, now);
    if (this.unpushed >= this.o.maxUnpushed) {
      void job.then((j) => this.giveUp(j, `the ${this.o.maxUnpushed} jobs kept for an unreachable queue are full`));
      return;
    }
    this.unpushed++;
    // Signing runs in parallel; pushes happen one at a time, in the order the bodies were made.
    this.pushes = this.pushes.then(async () => {
      try {
        await this.push(await job, now);
      } finally {
        this.unpushed--;
      }
    }).catch((error) => this.o.logger.error("webhooks: enqueueing failed", error));
  }

  private async push(job: WebhookJob, since: number): Promise<void> {
    for (let n = 0; ; n++) {
      try {
        await this.o.queue.push(job);
        this.o.stats.queued++;
        this.o.logger.debug(`webhook queued for ${targetLabel(job.target)}, app ${job.appId} (${job.events} events, job ${job.id})`);
        return;
      } catch (error) {
        if (error instanceof QueueFullError) return this.giveUp(job, error.message, true);
        if (n === 0) this.o.logger.warn(`webhooks: queue unreachable, holding job ${job.id} until it is back`, error);
        if (this.stopping || this.o.timers.now() - since > this.o.retryWindowMs) return this.giveUp(job, `queue unreachable: ${(error as Error).message}`);
        await new Promise<void>((r) => this.o.timers.setTimeout(() => r(), reconnectDelay(n)));
      }
    }
  }

  private async giveUp(job: WebhookJob, reason: string, storeInQueue = false): Promise<void> {
    this.o.stats.deadLetters++;
    this.o.logger.warn(`webhook dead-lettered: app ${job.appId}, target ${targetLabel(job.target)}, ${job.events} events (${reason}; job ${job.id})`);
    // A full memory queue can still keep the letter; an unreachable one cannot.
    if (storeInQueue) {
      await this.o.queue.deadLetter(job, reason);
      return;
    }
    this.unqueued.add({ job, reason, at: this.o.timers.now() });
  }

  /** Releases what the vacancy delay and the batches hold, and waits for their pushes. */
  async flush(deadline: number): Promise<void> {
    this.stopping = true;
    await this.events;
    this.vacancy.flushAll();
    this.batcher.flushAll();
    let timer: unknown;
    const late = new Promise<void>((r) => (timer = this.o.timers.setTimeout(() => r(), Math.max(0, deadline - this.o.timers.now()))));
    await Promise.race([this.pushes, late]);
    this.o.timers.clearTimeout(timer);
  }
}
