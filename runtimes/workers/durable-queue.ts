// Webhook deliveries that survive an eviction: every job the object's queue takes is written to
// its SQLite storage first and removed once delivered or dead-lettered. The queue in front (the
// memory queue by default) sends and retries as on every runtime, its retries waiting on the
// object's alarm; when the object is rebuilt, the jobs still stored go back into the queue and are
// sent at once. Their attempt count starts again, so an endpoint down across many evictions is
// retried for longer than WEBHOOK_RETRY_WINDOW_MS.
import type { Logger } from "../../src/core/runtime.ts";
import type { WebhookJob } from "../../src/webhooks/job.ts";
import type { DeadLetter, WebhookQueue, Worker } from "../../src/webhooks/queues/queue.ts";

export class DurableQueue implements WebhookQueue {
  private readonly resumed: WebhookJob[];

  constructor(private readonly inner: WebhookQueue, private readonly sql: SqlStorage, private readonly logger: Pick<Logger, "info" | "warn">) {
    sql.exec("CREATE TABLE IF NOT EXISTS webhook_jobs (id TEXT PRIMARY KEY, job TEXT NOT NULL)");
    this.resumed = sql.exec<{ job: string }>("SELECT job FROM webhook_jobs ORDER BY rowid").toArray().map((row) => JSON.parse(row.job) as WebhookJob);
    if (this.resumed.length > 0) logger.info(`webhooks: ${this.resumed.length} delivery(ies) pending from before an eviction or restart, sending them now`);
  }

  async push(job: WebhookJob): Promise<void> {
    this.sql.exec("INSERT OR REPLACE INTO webhook_jobs (id, job) VALUES (?, ?)", job.id, JSON.stringify(job));
    try {
      await this.inner.push(job);
    } catch (error) {
      // Not taken (queue full): the caller dead-letters it, so it must not come back after a rebuild.
      this.forget(job.id);
      throw error;
    }
  }

  start(worker: Worker): void {
    this.inner.start(async (delivery) => {
      const outcome = await worker(delivery);
      if (outcome.kind !== "retry") this.forget(delivery.job.id);
      return outcome;
    });
    for (const job of this.resumed.splice(0)) {
      this.inner.push(job).catch((error: unknown) => {
        this.logger.warn(`webhook job ${job.id} of app ${job.appId} pending from before a rebuild could not be queued again: dropped`, error);
        this.forget(job.id);
      });
    }
  }

  deadLetter(job: WebhookJob, reason: string): Promise<void> {
    this.forget(job.id);
    return this.inner.deadLetter(job, reason);
  }

  depth(): Promise<number> {
    return this.inner.depth();
  }

  deadLetters(limit: number): Promise<DeadLetter[]> {
    return this.inner.deadLetters(limit);
  }

  stop(deadline: number): Promise<void> {
    return this.inner.stop(deadline);
  }

  private forget(id: string): void {
    this.sql.exec("DELETE FROM webhook_jobs WHERE id = ?", id);
  }
}
