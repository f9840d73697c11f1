import type { AppStore } from "../core/app-store.ts";
import type { EventStream } from "../core/events.ts";
import type { Logger, Timers } from "../core/runtime.ts";
import { targetLabel, type WebhookJob } from "./job.ts";
import type { Delivery, Outcome, Worker } from "./queues/queue.ts";
import { nextRetryMs } from "./retry.ts";
import type { WebhookStats } from "./stats.ts";
import { postWebhook } from "./targets/http.ts";
import { invokeLambda } from "./targets/lambda.ts";
import type { AttemptResult } from "./targets/target.ts";

declare module "../core/events.ts" {
  interface FeatureEvents {
    /**
     * One webhook attempt's outcome, on the node whose worker sent it. `target` is the URL
     * without its query (or lambda:name); `error` says why an attempt failed.
     */
    webhook_delivery: { target: string; outcome: "sent" | "retry" | "dead"; status?: number; error?: string; events: number; attempt: number; ms: number };
  }
}

// One attempt at one job, whichever queue handed it out: send, log, count, and decide what comes
// next under the retry policy (retry.ts). Never throws: every failure becomes an Outcome.

export interface ProcessorOptions {
  apps: AppStore;
  timers: Timers;
  logger: Logger;
  stats: WebhookStats;
  timeoutMs: number;
  retryWindowMs: number;
  /** Where each attempt's outcome is told as a webhook_delivery server event (the debug console). */
  events?: EventStream;
}

/**
 * How late after the retry window an attempt may still start. Retries are due within the window
 * (retry.ts) and start a poll or a busy worker late; a job later than this came back through
 * leases that expired (redis queue): its attempts end the node that makes them, so it is not made.
 */
export const LATE_ATTEMPT_MS = 60_000;

export function createProcessor(o: ProcessorOptions): Worker {
  return async (d: Delivery): Promise<Outcome> => {
    const { job } = d;
    const started = o.timers.now();
    const first = d.firstAttemptAt ?? started;
    if (started > first + o.retryWindowMs + LATE_ATTEMPT_MS) {
      o.stats.deadLetters++;
      const reason = `not attempted: ${d.attempt - 1} attempts over ${Math.round((started - first) / 1000)} s, the last ones never finished (their node stopped mid-attempt)`;
      o.logger.warn(`webhook dead-lettered: app ${job.appId}, target ${targetLabel(job.target)}, ${job.events} events (${reason}; job ${job.id})`);
      o.events?.emit({ kind: "webhook_delivery", appId: job.appId, target: targetLabel(job.target), outcome: "dead", events: job.events, attempt: d.attempt, ms: 0 });
      return { kind: "dead", reason };
    }
    let result: AttemptResult;
    try {
      result = await attempt(o, job);
    } catch (error) {
      result = { ok: false, error: `unexpected: ${(error as Error).message}` };
    }
    const ms = o.timers.now() - started;
    const where = `${targetLabel(job.target)} for app ${job.appId}`;
    const tell = (outcome: "sent" | "retry" | "dead") => o.events?.emit({
      kind: "webhook_delivery", appId: job.appId, target: targetLabel(job.target), outcome, status: result.status,
      error: result.ok ? undefined : result.error, events: job.events, attempt: d.attempt, ms,
    });
    if (result.ok) {
      o.stats.sent++;
      o.stats.eventsSent += job.events;
      o.logger.debug(`webhook sent to ${where}: ${result.status} in ${ms} ms (${job.events} events, attempt ${d.attempt}, job ${job.id})`);
      tell("sent");
      return { kind: "done" };
    }
    o.stats.failures++;
    const delay = nextRetryMs(d.attempt, first, o.timers.now(), o.retryWindowMs);
    if (delay === undefined) {
      o.stats.deadLetters++;
      const reason = `${d.attempt} attempts failed over ${Math.round((o.timers.now() - first) / 1000)} s; last: ${result.error}`;
      o.logger.warn(`webhook dead-lettered: app ${job.appId}, target ${targetLabel(job.target)}, ${job.events} events (${reason}; job ${job.id})`);
      tell("dead");
      return { kind: "dead", reason };
    }
    o.stats.retries++;
    o.logger.debug(`webhook to ${where} failed: ${result.error} in ${ms} ms (attempt ${d.attempt}, job ${job.id}); retrying in ${delay} ms`);
    tell("retry");
    return { kind: "retry", delayMs: delay, firstAttemptAt: first };
  };
}

async function attempt(o: ProcessorOptions, job: WebhookJob): Promise<AttemptResult> {
  const t = job.target;
  if ("url" in t) return postWebhook(t.url, job.headers, job.body, o.timeoutMs);
  // client_options (which may hold credentials) come from the app's current config, not the queue.
  const app = await o.apps.findById(job.appId);
  const webhook = app?.webhooks.find((w) => w.lambda_function === t.lambdaFunction);
  return invokeLambda(
    { functionName: t.lambdaFunction, async: t.async, region: t.region, clientOptions: webhook?.lambda?.client_options },
    job.headers, job.body, o.timeoutMs,
  );
}
