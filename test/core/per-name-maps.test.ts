// Every map keyed by a channel name has a bound or a lifetime: 100,000 distinct names, each
// subscribed, published to and left (cache channels and channels with subscription counts among
// them), leave the subscription-count throttle and the cache back near where they started, through
// the in-process harness so it runs in seconds.
import { describe, expect, it } from "vitest";
import { LocalAdapter } from "../../src/adapters/local.ts";
import { Harness, settle } from "../helpers/harness.ts";

const NAMES = 100_000;
const CACHE_TTL_SECONDS = 60;

describe("maps keyed by channel name", () => {
  it("return near their baseline after 100,000 distinct channels came and went", { timeout: 120_000 }, async () => {
    let now = (): number => 0;
    const adapter = new LocalAdapter(() => now());
    const h = new Harness({ env: { APP_ENABLE_SUBSCRIPTION_COUNT: "true", CACHE_TTL_SECONDS: String(CACHE_TTL_SECONDS) }, adapter });
    now = () => h.timers.now();
    await h.start();
    const client = await h.connect();
    const baseline = { counts: h.server.subscriptionCounts.tracked, cache: adapter.cachedChannels(h.app.id) };

    for (let i = 0; i < NAMES; i++) {
      // A third are cache channels; every one is counted (the app announces subscription counts).
      const channel = i % 3 === 0 ? `cache-n${i}` : `n${i}`;
      client.send({ event: "pusher:subscribe", data: { channel } });
      await settle();
      await h.server.publish(h.app, channel, "e", "{}");
      client.send({ event: "pusher:unsubscribe", data: { channel } });
      if (i % 100 === 99) await settle();
    }
    await settle();
    // The work was done: each channel was counted once, and every cache channel holds its event.
    expect(h.eventsOf("subscription_count")).toHaveLength(NAMES);
    expect(client.events("pusher_internal:subscription_count")).toHaveLength(NAMES);
    expect((await adapter.channels(h.app.id)).size).toBe(0);

    // No count is announced on vacate: the throttle forgets the channel then.
    expect(h.server.subscriptionCounts.tracked).toBe(baseline.counts);
    // Cache entries live out their lifetime, then the next write drops every lapsed one.
    expect(adapter.cachedChannels(h.app.id)).toBe(Math.ceil(NAMES / 3));
    await h.timers.advance(CACHE_TTL_SECONDS * 1000 + 1);
    await h.server.publish(h.app, "cache-after", "e", "{}");
    expect(adapter.cachedChannels(h.app.id)).toBe(baseline.cache + 1);
    await h.stop();
  });

  it("forget a counted channel that stays occupied once its throttle window is over", async () => {
    const h = await new Harness({ env: { APP_ENABLE_SUBSCRIPTION_COUNT: "true" } }).start();
    const client = await h.connect();
    for (let i = 0; i < 1000; i++) await client.subscribe(`kept-${i}`);
    expect(h.server.subscriptionCounts.tracked).toBe(1000);
    // An entry only throttles for 5 s; past it the next update (any channel's) drops the lapsed ones.
    await h.timers.advance(5_001);
    await client.subscribe("kept-last");
    expect(h.server.subscriptionCounts.tracked).toBe(1);
    // Count orders are kept longer (a stale count may still be on the bus), then lapse the same way.
    expect(h.server.registry.countOrder.size).toBe(1001);
    await h.timers.advance(120_001);
    await client.subscribe("kept-after");
    expect(h.server.registry.countOrder.size).toBe(1);
    await h.stop();
  });
});
