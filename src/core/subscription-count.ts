import type { Adapter } from "./adapter.ts";
import type { EventStream } from "./events.ts";
import { subscriptionCount } from "./messages.ts";
import type { Timers } from "./runtime.ts";

const THROTTLE_ABOVE = 100;
const THROTTLE_MS = 5000;

/**
 * Broadcasts pusher_internal:subscription_count (spec §3.10). Busy channels (over 100
 * subscribers) get at most one update per 5 s, carrying the latest count; the subscription_count
 * server event (and so the webhook) follows the same schedule.
 */
export class SubscriptionCounter {
  private readonly lastSent = new Map<string, number>();
  private readonly pending = new Map<string, { count: number; timer: unknown }>();

  constructor(private readonly adapter: Adapter, private readonly timers: Timers, private readonly events: EventStream) {}

  changed(appId: string, channel: string, count: number): void {
    const key = `${appId}\n${channel}`;
    const now = this.timers.now();
    const last = this.lastSent.get(key) ?? 0;
    if (count <= THROTTLE_ABOVE || now - last >= THROTTLE_MS) {
      const pending = this.pending.get(key);
      if (pending) {
        this.timers.clearTimeout(pending.timer);
        this.pending.delete(key);
      }
      this.send(appId, channel, key, count, now);
      return;
    }
    const pending = this.pending.get(key);
    if (pending) {
      pending.count = count;
      return;
    }
    const timer = this.timers.setTimeout(() => {
      const entry = this.pending.get(key);
      this.pending.delete(key);
      if (entry) this.send(appId, channel, key, entry.count, this.timers.now());
    }, THROTTLE_MS - (now - last));
    this.pending.set(key, { count, timer });
  }

  private send(appId: string, channel: string, key: string, count: number, now: number): void {
    if (count === 0) {
      this.lastSent.delete(key);
      return;
    }
    this.lastSent.set(key, now);
    this.adapter.broadcast({ type: "publish", appId, channel, frame: subscriptionCount(channel, count) });
    // Emitted with the broadcast, so webhooks are throttled like the clients' updates (spec §7.2).
    this.events.emit({ kind: "subscription_count", appId, channel, count });
  }

  stop(): void {
    for (const { timer } of this.pending.values()) this.timers.clearTimeout(timer);
    this.pending.clear();
  }
}
