// pusher_internal:subscription_count (spec §3.10) through the in-process harness: every change
// while a channel is small, at most one update per 5 s, carrying the latest count, once it is busy.
import { describe, expect, it } from "vitest";
import type { Adapter, ClusterMessage } from "../../src/core/adapter.ts";
import { CountOrder } from "../../src/core/count-order.ts";
import { EventStream } from "../../src/core/events.ts";
import { SubscriptionCounter } from "../../src/core/subscription-count.ts";
import { Harness, ManualTimers, type FakeClient } from "../helpers/harness.ts";

const counts = (c: FakeClient) => c.events("pusher_internal:subscription_count", "busy").map((f) => f.data.subscription_count);

describe("subscription count", () => {
  it("announces each change up to 100 subscribers, then throttles to one update per 5 s", async () => {
    const h = await new Harness({ env: { APP_ENABLE_SUBSCRIPTION_COUNT: "true" } }).start();
    const first = await h.connect();
    await first.subscribe("busy");
    const others: FakeClient[] = [];
    for (let i = 0; i < 99; i++) {
      const c = await h.connect();
      await c.subscribe("busy");
      others.push(c);
    }
    expect(counts(first).at(-1)).toBe(100);
    expect(counts(first)).toHaveLength(100);
    for (let i = 0; i < 5; i++) await (await h.connect()).subscribe("busy");
    // Past 100 the next update waits until 5 s after the last one, and carries the count by then.
    const afterBurst = counts(first).length;
    await h.timers.advance(4_999);
    expect(counts(first).length).toBe(afterBurst);
    await h.timers.advance(1);
    expect(counts(first).at(-1)).toBe(105);
    expect(counts(first).length).toBe(afterBurst + 1);
    expect(h.eventsOf("subscription_count").at(-1)).toMatchObject({ channel: "busy", count: 105 });
    // The server event (and so the webhook) is throttled with the broadcast, not sent per change.
    expect(h.eventsOf("subscription_count")).toHaveLength(counts(first).length);
    await h.stop();
  });

  it("keeps the newest order's count waiting on a busy channel, and drops it once a newer one was applied", async () => {
    const timers = new ManualTimers();
    const sent: ClusterMessage[] = [];
    const adapter = { broadcast: (m: ClusterMessage) => sent.push(m) } as unknown as Adapter;
    const order = new CountOrder(() => timers.now());
    const counter = new SubscriptionCounter(adapter, timers, new EventStream(() => timers.now(), console), order);
    const last = () => sent.at(-1) as Extract<ClusterMessage, { type: "publish" }>;
    counter.changed("app", "busy", 150, 10);
    expect(last()).toMatchObject({ countSeq: 10, frame: expect.stringContaining("150") });
    counter.changed("app", "busy", 152, 30); // throttled: waits
    counter.changed("app", "busy", 151, 20); // answered late: older than the one waiting
    await timers.advance(5_000);
    expect(sent).toHaveLength(2);
    expect(last()).toMatchObject({ countSeq: 30, frame: expect.stringContaining("152") });
    counter.changed("app", "busy", 160, 60); // waits again
    order.fresh("app\nbusy", 70); // another node's newer count reached this node meanwhile
    await timers.advance(5_000);
    expect(sent).toHaveLength(2);
    counter.changed("app", "busy", 140, 65); // older than the one applied: never sent
    await timers.advance(5_000);
    expect(sent).toHaveLength(2);
  });
});
