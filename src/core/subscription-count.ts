import type { Adapter } from "./adapter.ts";
import { ExpiringMap } from "./expiring-map.ts";
import type { EventStream } from "./events.ts";
import { subscriptionCount } from "./messages.ts";
import type { Timers } from "./runtime.ts";

const THROTTLE_ABOVE = 100;
const THROTTLE_MS = 5000;
/**
 * Channels whose last update is remembered at most. An entry only matters for THROTTLE_MS, so it
 * lapses then; past the cap the oldest goes first, which at worst lets one extra update through.
 */
const MAX_TRACKED = 100_000;

/**
 * Broadcasts pusher_internal:subscription_count (spec §3.10). Busy channels (over 100
 * subscribers) get at most one update per 5 s, carrying the latest count; the subscription_count
 * server event (and so the webhook) follows the same schedule.
 */
export class SubscriptionCounter {
  /** When each channel's last update went out; an entry older than THROTTLE_MS is the same as none. */
  private readonly lastSent: ExpiringMap<number>;
  private readonly pending = new Map<string, { count: number; timer: unknown }>();

  constructor(private readonly adapter: Adapter, private readonly timers: Timers, private readonly events: EventStream) {
    this.lastSent = new ExpiringMap(MAX_TRACKED, () => timers.now());
  }

  /** Channels with throttle state (a last update or one waiting), for tests of memory bounds. */
  get tracked(): number {
    return this.lastSent.size + this.pending.size;
  }

  /**
   * The channel emptied: no count is announced for it (spec §3.10), so its throttle state goes
   * here, and an update still waiting would only tell a stale count to its webhook.
   */
  vacated(appId: string, channel: string): void {
    const key = `${appId}\n${channel}`;
    this.lastSent.delete(key);
    const pending = this.pending.get(key);
    if (!pending) return;
    this.timers.clearTimeout(pending.timer);
    this.pending.delete(key);
  }

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
    this.lastSent.set(key, now, THROTTLE_MS);
    this.adapter.broadcast({ type: "publish", appId, channel, frame: subscriptionCount(channel, count) });
    // Emitted with the broadcast, so webhooks are throttled like the clients' updates (spec §7.2).
    this.events.emit({ kind: "subscription_count", appId, channel, count });
  }

  stop(): void {
    for (const { timer } of this.pending.values()) this.timers.clearTimeout(timer);
    this.pending.clear();
  }
}
