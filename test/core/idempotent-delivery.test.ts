// Each node delivers a keyed publish at most once within the idempotency window (src/core/server.ts
// receive): a publish answered 503 whose bus message went out anyway, then retried, must not reach
// a socket twice.
import { describe, expect, it } from "vitest";
import { channelEvent } from "../../src/core/messages.ts";
import { Harness, settle } from "../helpers/harness.ts";

const keyed = (dedupe: string | undefined, data = "{}") =>
  ({ type: "publish" as const, appId: "app-id", channel: "orders", frame: channelEvent("paid", "orders", data), dedupe });

describe("keyed publishes on one node", () => {
  it("delivers a message with the same dedupe key once, and messages without a key every time", async () => {
    const h = await new Harness({ env: { IDEMPOTENCY_WINDOW_SECONDS: "60" } }).start();
    const client = await h.connect();
    await client.subscribe("orders");
    await settle();
    h.server.receive(keyed("k1\norders"));
    h.server.receive(keyed("k1\norders"));
    h.server.receive(keyed("k2\norders"));
    h.server.receive(keyed(undefined));
    h.server.receive(keyed(undefined));
    expect(client.events("paid", "orders").length).toBe(4);
    expect(h.logs.filter((l) => l.level === "debug" && l.message.includes("not delivered twice")).length).toBe(1);
    await h.stop();
  });

  it("delivers the key again once the window is over", async () => {
    const h = await new Harness({ env: { IDEMPOTENCY_WINDOW_SECONDS: "60" } }).start();
    const client = await h.connect();
    await client.subscribe("orders");
    await settle();
    h.server.receive(keyed("k1\norders"));
    await h.timers.advance(59_000);
    h.server.receive(keyed("k1\norders"));
    expect(client.events("paid", "orders").length).toBe(1);
    await h.timers.advance(1_000);
    h.server.receive(keyed("k1\norders"));
    expect(client.events("paid", "orders").length).toBe(2);
    await h.stop();
  });
});
