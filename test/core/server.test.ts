// The node as a whole through the in-process harness (test/helpers/harness.ts): the event stream
// its parts feed, with time driven by hand.
import { describe, expect, it } from "vitest";
import { Harness, settle } from "../helpers/harness.ts";

describe("event stream", () => {
  it("reports subscriptions, occupancy, members and closes, once each, in order", async () => {
    const h = await new Harness().start();
    const a = await h.connect();
    await a.subscribe("presence-room", { user_id: "alice" });
    const b = await h.connect();
    await b.subscribe("presence-room", { user_id: "bob" });
    b.close();
    await settle();
    a.close();
    await settle();
    const kinds = h.events.filter((e) => "channel" in e && e.kind !== "broadcast").map((e) => `${e.kind} ${"userId" in e ? e.userId ?? "" : ""}`.trim());
    expect(kinds).toEqual([
      "channel_occupied", "member_added alice", "subscribed alice",
      "member_added bob", "subscribed bob",
      "member_removed bob", "unsubscribed bob",
      "member_removed alice", "channel_vacated", "unsubscribed alice",
    ]);
    expect(h.eventsOf("connection_closed").map((e) => e.socketId)).toEqual([b.socketId, a.socketId]);
    await h.stop();
  });

  it("reports refused subscriptions with the reason the client got", async () => {
    const h = await new Harness().start();
    const c = await h.connect();
    c.send({ event: "pusher:subscribe", data: { channel: "private-x", auth: "app-key:bad" } });
    await settle();
    const [refused] = h.eventsOf("subscription_refused");
    expect(refused).toMatchObject({ channel: "private-x", type: "AuthError", status: 401 });
    expect(c.events("pusher:subscription_error")[0]?.data.error).toBe(refused!.reason);
    await h.stop();
  });

  it("keeps delivering when a consumer throws, and counts the failures", async () => {
    const h = await new Harness().start();
    h.server.events.subscribe("broken", () => {
      throw new Error("consumer bug");
    });
    const a = await h.connect();
    const b = await h.connect();
    await a.subscribe("private-chat");
    await b.subscribe("private-chat");
    a.send({ event: "client-hi", channel: "private-chat", data: { n: 1 } });
    await settle();
    expect(b.events("client-hi", "private-chat")).toHaveLength(1);
    expect(h.eventsOf("client_event")).toEqual([expect.objectContaining({ channel: "private-chat", event: "client-hi", socketId: a.socketId })]);
    expect(h.server.events.failures.get("broken")).toBeGreaterThan(3);
    await h.stop();
  });
});
