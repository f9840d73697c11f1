// pusher:subscribe when the adapter cannot answer (a cluster backend away or past its deadline):
// the client gets the protocol's error for the channel, nothing stays recorded on the connection
// or in the adapter, and subscribing again joins the delivery set for real.
import { describe, expect, it } from "vitest";
import { LocalAdapter } from "../../../src/adapters/local.ts";
import { ClusterUnavailableError } from "../../../src/core/adapter.ts";
import { Harness, settle } from "../../helpers/harness.ts";

const unavailable = () => new ClusterUnavailableError("backend hung");

describe("subscribe while the adapter fails", () => {
  it("answers 503 when the join rejects, and a retry subscribes", async () => {
    const adapter = new LocalAdapter();
    const join = adapter.join.bind(adapter);
    let failures = 1;
    adapter.join = (...args) => (failures-- > 0 ? Promise.reject(unavailable()) : join(...args));
    const h = await new Harness({ adapter }).start();
    const c = await h.connect();
    await c.subscribe("room");
    expect(c.events("pusher:subscription_error", "room").map((f) => f.data)).toEqual([
      { type: "ServerError", error: "Cluster state unavailable, subscribe again", status: 503 },
    ]);
    expect(c.events("pusher_internal:subscription_succeeded")).toEqual([]);
    await c.subscribe("room");
    expect(c.events("pusher_internal:subscription_succeeded", "room")).toHaveLength(1);
    await h.server.publish(h.app, "room", "hello", "{}");
    expect(c.events("hello", "room")).toHaveLength(1);
    await h.stop();
  });

  it("leaves again when a read after the join rejects, and a retry joins the delivery set", async () => {
    const adapter = new LocalAdapter();
    const members = adapter.members.bind(adapter);
    let failures = 1;
    adapter.members = (...args) => (failures-- > 0 ? Promise.reject(unavailable()) : members(...args));
    const h = await new Harness({ adapter }).start();
    const c = await h.connect();
    await c.subscribe("presence-room", { user_id: "u1" });
    expect(c.events("pusher:subscription_error", "presence-room").map((f) => f.data.status)).toEqual([503]);
    // Nothing orphaned: the adapter holds no subscriber the connection does not know of.
    expect((await adapter.channelStats(h.app.id, "presence-room")).subscriptionCount).toBe(0);
    expect((await members(h.app.id, "presence-room")).members.size).toBe(0);

    await c.subscribe("presence-room", { user_id: "u1" });
    const ack = c.events("pusher_internal:subscription_succeeded", "presence-room");
    expect(ack.map((f) => f.data.presence.ids)).toEqual([["u1"]]);
    await h.server.publish(h.app, "presence-room", "hello", "{}");
    expect(c.events("hello", "presence-room")).toHaveLength(1);
    expect((await adapter.channelStats(h.app.id, "presence-room")).subscriptionCount).toBe(1);
    await h.stop();
  });

  it("answers 503 for a cache channel whose cached event cannot be read", async () => {
    const adapter = new LocalAdapter();
    const cacheGet = adapter.cacheGet.bind(adapter);
    let failures = 1;
    adapter.cacheGet = (...args) => (failures-- > 0 ? Promise.reject(unavailable()) : cacheGet(...args));
    const h = await new Harness({ adapter }).start();
    const c = await h.connect();
    await c.subscribe("cache-room");
    expect(c.events("pusher:subscription_error", "cache-room").map((f) => f.data.status)).toEqual([503]);
    await c.subscribe("cache-room");
    expect(c.events("pusher_internal:subscription_succeeded", "cache-room")).toHaveLength(1);
    await h.server.publish(h.app, "cache-room", "hello", "{}");
    await settle();
    expect(c.events("hello", "cache-room")).toHaveLength(1);
    await h.stop();
  });
});
