import type { App, WebhookConfig } from "../core/app.ts";
import type { Timers } from "../core/runtime.ts";
import type { WebhookEvent } from "./payload.ts";

// Batching (spec §7.3): events for the same (app, webhook) within the window share one body, at
// most 100 events and about 256 KB (SQS's message limit) per body. Without batching every event is
// its own body, as Pusher sends them. Batches never mix apps (Soketi's process-wide batch does).

export const MAX_BATCH_EVENTS = 100;
const MAX_BATCH_BYTES = 200 * 1024;

export type BatchSink = (app: App, webhook: WebhookConfig, events: WebhookEvent[]) => void;

interface Pending {
  app: App;
  webhook: WebhookConfig;
  events: WebhookEvent[];
  bytes: number;
  timer: unknown;
}

export class Batcher {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly timers: Timers, private readonly windowMs: number, private readonly sink: BatchSink) {}

  /** `index` is the webhook's position in the app's list: the batch key together with the app id. */
  add(app: App, index: number, webhook: WebhookConfig, event: WebhookEvent, batching: boolean): void {
    if (!batching) {
      this.sink(app, webhook, [event]);
      return;
    }
    const key = `${app.id}\n${index}`;
    const bytes = JSON.stringify(event).length + 1;
    let batch = this.pending.get(key);
    if (batch && batch.bytes + bytes > MAX_BATCH_BYTES) {
      this.flush(key);
      batch = undefined;
    }
    if (!batch) {
      batch = { app, webhook, events: [], bytes: 40, timer: this.timers.setTimeout(() => this.flush(key), this.windowMs) };
      this.pending.set(key, batch);
    }
    batch.events.push(event);
    batch.bytes += bytes;
    if (batch.events.length >= MAX_BATCH_EVENTS) this.flush(key);
  }

  private flush(key: string): void {
    const batch = this.pending.get(key);
    if (!batch) return;
    this.pending.delete(key);
    this.timers.clearTimeout(batch.timer);
    this.sink(batch.app, batch.webhook, batch.events);
  }

  /** Sends every open batch now (shutdown). */
  flushAll(): void {
    for (const key of [...this.pending.keys()]) this.flush(key);
  }
}
