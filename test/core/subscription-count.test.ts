// pusher_internal:subscription_count (spec §3.10) through the in-process harness: every change
// while a channel is small, at most one update per 5 s, carrying the latest count, once it is busy.
import { describe, expect, it } from "vitest";
import { Harness, type FakeClient } from "../helpers/harness.ts";

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
});
