// Subscription counts by order (src/core/count-order.ts): a node never takes its sockets back to
// an older count, whether it arrives after a newer one or was held for a socket whose own join
// produced a newer one.
import { describe, expect, it } from "vitest";
import { LocalAdapter } from "../../src/adapters/local.ts";
import type { ClusterMessage } from "../../src/core/adapter.ts";
import { CountOrder, olderThanJoin } from "../../src/core/count-order.ts";
import { framesAfterAck } from "../../src/core/handlers/join-window.ts";
import { subscriptionCount } from "../../src/core/messages.ts";
import { Harness, settle, type FakeClient } from "../helpers/harness.ts";

const COUNTING = { APP_ENABLE_SUBSCRIPTION_COUNT: "true" };
const counts = (c: FakeClient, channel: string) => c.events("pusher_internal:subscription_count", channel).map((f) => f.data.subscription_count);

/** A count another node broadcast, as the bus hands it to this node. */
const remoteCount = (h: Harness, channel: string, count: number, countSeq?: number): ClusterMessage => ({
  type: "publish", appId: h.app.id, channel, frame: subscriptionCount(channel, count), ...(countSeq !== undefined && { countSeq }),
});

describe("CountOrder", () => {
  it("takes a count newer than the newest, drops an older one, and leaves unordered ones alone", () => {
    const order = new CountOrder(() => 0);
    expect(order.fresh("a\nc", 10)).toBe(true);
    expect(order.fresh("a\nc", 5)).toBe(false);
    expect(order.stale("a\nc", 5)).toBe(true);
    expect(order.fresh("a\nc", 12)).toBe(true);
    expect(order.fresh("a\nc", 0)).toBe(true);
    expect(order.fresh("a\nc", undefined)).toBe(true);
    expect(order.fresh("a\nother", 1)).toBe(true); // per channel
  });

  it("forgets a channel after its horizon, so memory stays bounded", () => {
    let now = 0;
    const order = new CountOrder(() => now);
    order.fresh("a\nc", 10);
    now = 120_001;
    order.fresh("a\nd", 1);
    expect(order.size).toBe(1);
  });

  it("tells a held count older than the socket's own join", () => {
    expect(olderThanJoin(5, 10)).toBe(true);
    expect(olderThanJoin(15, 10)).toBe(false);
    expect(olderThanJoin(undefined, 10)).toBe(false);
    expect(olderThanJoin(5, undefined)).toBe(false);
  });
});

describe("framesAfterAck with counts", () => {
  it("drops held counts older than the count of the socket's own join, keeps newer ones and other frames", () => {
    const held = [
      { frame: subscriptionCount("c", 1), countSeq: 5 },
      { frame: "event" },
      { frame: subscriptionCount("c", 3), countSeq: 15 },
    ];
    expect(framesAfterAck(held, undefined, undefined, 10)).toEqual(["event", subscriptionCount("c", 3)]);
  });
});

describe("a node receiving counts", () => {
  it("drops a count older than one it applied, whichever node sent it", async () => {
    const h = await new Harness({ env: COUNTING }).start();
    const a = await h.connect();
    await a.subscribe("counted");
    expect(counts(a, "counted")).toEqual([1]);
    h.server.cluster.receive(remoteCount(h, "counted", 3, 1_000));
    h.server.cluster.receive(remoteCount(h, "counted", 2, 900)); // crossed on the bus: older
    h.server.cluster.receive(remoteCount(h, "counted", 4)); // unordered (a node that was away)
    expect(counts(a, "counted")).toEqual([1, 3, 4]);
    await h.stop();
  });

  it("does not send its own count once a newer one from another node was applied", async () => {
    const h = await new Harness({ env: COUNTING }).start();
    const a = await h.connect();
    await a.subscribe("counted");
    h.server.cluster.receive(remoteCount(h, "counted", 5, 1_000));
    // This node's join answered with an older order than the count just applied (round trips overlap).
    h.server.subscriptionCounts.changed(h.app.id, "counted", 2, 500);
    expect(counts(a, "counted")).toEqual([1, 5]);
    expect(h.eventsOf("subscription_count").map((e) => e.count)).toEqual([1]);
    await h.stop();
  });

  it("does not hand a joining socket a held count older than its own join's", async () => {
    const adapter = new LocalAdapter();
    const join = adapter.join.bind(adapter);
    let stuck = false;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // Orders like a cluster's: the reader's count is 10; the stuck join is answered 3 as of order 20,
    // after another node's socket made it 2 as of order 15.
    adapter.join = async (...args) => {
      const waited = stuck;
      if (waited) await gate;
      const result = await join(...args);
      return waited ? { ...result, subscriptionCount: 3, countSeq: 20 } : { ...result, countSeq: 10 };
    };
    const h = await new Harness({ adapter, env: COUNTING }).start();
    const reader = await h.connect();
    await reader.subscribe("counted");
    stuck = true;
    const joiner = await h.connect();
    await joiner.subscribe("counted");
    h.server.cluster.receive(remoteCount(h, "counted", 2, 15)); // held for the joiner
    release();
    await settle();
    expect(counts(reader, "counted")).toEqual([1, 2, 3]);
    expect(counts(joiner, "counted")).toEqual([3]);
    expect(joiner.frames.map((f) => f.event)).toEqual([
      "pusher:connection_established", "pusher_internal:subscription_succeeded", "pusher_internal:subscription_count",
    ]);
    await h.stop();
  });
});
