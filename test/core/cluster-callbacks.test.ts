// What the adapter calls on a node (src/core/cluster-callbacks.ts), through the in-process harness:
// feature messages by topic, keyed publishes delivered once per node, backend reports as events.
import { describe, expect, it } from "vitest";
import { LocalAdapter } from "../../src/adapters/local.ts";
import type { ClusterNode } from "../../src/core/adapter.ts";
import { channelEvent } from "../../src/core/messages.ts";
import { Harness, settle } from "../helpers/harness.ts";

describe("feature messages on the cluster bus", () => {
  it("go to the listener of their topic until it stops; a topic nobody listens to is dropped", async () => {
    const h = await new Harness().start();
    const heard: unknown[] = [];
    const stop = h.server.listenFeature("console", (m) => void heard.push(m.body));
    h.server.cluster.receive({ type: "feature", topic: "console", appId: "app-id", body: 1 });
    h.server.cluster.receive({ type: "feature", topic: "other", appId: "app-id", body: 2 });
    stop();
    h.server.cluster.receive({ type: "feature", topic: "console", appId: "app-id", body: 3 });
    expect(heard).toEqual([1]);
    await h.stop();
  });
});

// A publish answered 503 whose bus message went out anyway, then retried, must not reach a socket twice.
const keyed = (dedupe: string | undefined, data = "{}") =>
  ({ type: "publish" as const, appId: "app-id", channel: "orders", frame: channelEvent("paid", "orders", data), dedupe });

/** A node with a 60 s idempotency window and a client on "orders". */
async function subscribedToOrders() {
  const h = await new Harness({ env: { IDEMPOTENCY_WINDOW_SECONDS: "60" } }).start();
  const client = await h.connect();
  await client.subscribe("orders");
  await settle();
  return { h, client };
}

describe("keyed publishes on one node", () => {
  it("delivers a message with the same dedupe key once, and messages without a key every time", async () => {
    const { h, client } = await subscribedToOrders();
    h.server.cluster.receive(keyed("k1\norders"));
    h.server.cluster.receive(keyed("k1\norders"));
    h.server.cluster.receive(keyed("k2\norders"));
    h.server.cluster.receive(keyed(undefined));
    h.server.cluster.receive(keyed(undefined));
    expect(client.events("paid", "orders").length).toBe(4);
    expect(h.logs.filter((l) => l.level === "debug" && l.message.includes("not delivered twice")).length).toBe(1);
    await h.stop();
  });

  it("delivers the key again once the window is over", async () => {
    const { h, client } = await subscribedToOrders();
    h.server.cluster.receive(keyed("k1\norders"));
    await h.timers.advance(59_000);
    h.server.cluster.receive(keyed("k1\norders"));
    expect(client.events("paid", "orders").length).toBe(1);
    await h.timers.advance(1_000);
    h.server.cluster.receive(keyed("k1\norders"));
    expect(client.events("paid", "orders").length).toBe(2);
    await h.stop();
  });
});

class ReportingAdapter extends LocalAdapter {
  reportTo?: ClusterNode;
  override async start(node: ClusterNode): Promise<void> {
    this.reportTo = node;
    await super.start(node);
  }
}

describe("backend state", () => {
  it("becomes a backend event with the driver, the adapter role and the reason", async () => {
    const adapter = new ReportingAdapter();
    const h = await new Harness({ adapter }).start();
    adapter.reportTo!.backendState!("redis", false, "connection closed");
    adapter.reportTo!.backendState!("redis", true);
    expect(h.eventsOf("backend")).toEqual([
      expect.objectContaining({ appId: "", driver: "redis", role: "adapter", up: false, detail: "connection closed" }),
      expect.objectContaining({ appId: "", driver: "redis", role: "adapter", up: true }),
    ]);
    await h.stop();
  });
});
