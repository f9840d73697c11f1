import type { Adapter } from "./adapter.ts";
import { CountOrder } from "./count-order.ts";
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
 * server event (and so the webhook) follows the same schedule. Each count carries its order
 * (count-order.ts): one older than a count this node applied or has waiting is not sent.
 */
export class SubscriptionCounter {
  /** When each channel's last update went out; an entry older than THROTTLE_MS is the same as none. */
  private readonly lastSent: ExpiringMap<number>;
  private readonly pending = new Map<string, { count: number; seq: number | undefined; timer: unknown }>();

  constructor(
    private readonly adapter: Adapter, private readonly timers: Timers, private readonly events: EventStream,
    /** The node's newest applied orders (the registry's), which its own broadcasts also go through. */
    private readonly order: CountOrder = new CountOrder(() => timers.now()),
  ) {
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

  /** The channel's count is now `count`, as of order `seq` (undefined or 0: unordered). */
  changed(appId: string, channel: string, count: number, seq?: number): void {
    const key = `${appId}\n${channel}`;
    // Joins and leaves of one node can answer out of order too (their round trips overlap): a
    // count older than one applied here, or than the one waiting, would only take sockets back.
    if (this.order.stale(key, seq)) return;
    const pending = this.pending.get(key);
    if (pending && seq && pending.seq && seq < pending.seq) return;
    const now = this.timers.now();
    const last = this.lastSent.get(key) ?? 0;
    if (count <= THROTTLE_ABOVE || now - last >= THROTTLE_MS) {
      if (pending) {
        this.timers.clearTimeout(pending.timer);
        this.pending.delete(key);
      }
      this.send(appId, channel, key, count, seq, now);
      return;
    }
    if (pending) {
      pending.count = count;
      pending.seq = seq;
      return;
    }
    const timer = this.timers.setTimeout(() => {
      const entry = this.pending.get(key);
      this.pending.delete(key);
      if (entry) this.send(appId, channel, key, entry.count, entry.seq, this.timers.now());
    }, THROTTLE_MS - (now - last));
    this.pending.set(key, { count, seq, timer });
  }

  private send(appId: string, channel: string, key: string, count: number, seq: number | undefined, now: number): void {
    if (count === 0) {
      this.lastSent.delete(key);
      return;
    }
    // Another node's newer count arrived while this one waited out the throttle: it is the news.
    if (this.order.stale(key, seq)) return;
    this.lastSent.set(key, now, THROTTLE_MS);
    const frame = subscriptionCount(channel, count);
    this.adapter.broadcast(seq ? { type: "publish", appId, channel, frame, countSeq: seq } : { type: "publish", appId, channel, frame });
    // Emitted with the broadcast, so webhooks are throttled like the clients' updates (spec §7.2).
    this.events.emit({ kind: "subscription_count", appId, channel, count });
  }

  stop(): void {
    for (const { timer } of this.pending.values()) this.timers.clearTimeout(timer);
    this.pending.clear();
  }
}
