import { describe, expect, it } from "vitest";
import { PresenceViews } from "../../../src/adapters/cluster/presence-views.ts";
import { memberAdded, memberRemoved } from "../../../src/core/messages.ts";

const eventsOf = (messages: { type: string; frame?: string }[]) =>
  messages.map((m) => {
    const f = JSON.parse((m as { frame: string }).frame);
    return `${f.event.replace("pusher_internal:", "")} ${JSON.parse(f.data).user_id}`;
  });

describe("presence views", () => {
  it("follows delivered member events and tells local sockets what they missed during an outage", () => {
    const views = new PresenceViews();
    views.snapshot("app", "presence-x", new Map([["u1", null], ["u2", null]]));
    // A later snapshot (another local subscriber) does not overwrite what the first one was told.
    views.snapshot("app", "presence-x", new Map([["u9", null]]));
    views.observe({ type: "publish", appId: "app", channel: "presence-x", frame: memberAdded("presence-x", "u3", { a: 1 }) });
    views.observe({ type: "publish", appId: "app", channel: "presence-x", frame: memberRemoved("presence-x", "u1") });
    // The cluster meanwhile: u2 left and u4 joined while this node was cut off.
    const missed = views.catchUp("app", "presence-x", new Map<string, unknown>([["u3", { a: 1 }], ["u4", { b: 2 }]]));
    expect(eventsOf(missed)).toEqual(["member_removed u2", "member_added u4"]);
    for (const m of missed) views.observe(m);
    expect(views.catchUp("app", "presence-x", new Map<string, unknown>([["u3", { a: 1 }], ["u4", { b: 2 }]]))).toEqual([]);
  });

  it("drops the original event when a catch-up already told the local sockets", () => {
    const views = new PresenceViews();
    views.snapshot("app", "presence-x", new Map([["u1", null]]));
    for (const m of views.catchUp("app", "presence-x", new Map<string, unknown>([["u2", null]]))) views.observe(m);
    const late = (frame: string) => views.observe({ type: "publish", appId: "app", channel: "presence-x", frame });
    expect(late(memberAdded("presence-x", "u2", null))).toBe(false);
    expect(late(memberRemoved("presence-x", "u1"))).toBe(false);
    expect(late(memberRemoved("presence-x", "u2"))).toBe(true);
    expect(late(memberAdded("presence-x", "u2", null))).toBe(true);
  });

  it("only adds members while the backend is being refilled after losing its data", () => {
    const views = new PresenceViews();
    views.snapshot("app", "presence-x", new Map([["u1", null], ["u2", null]]));
    const missed = views.catchUp("app", "presence-x", new Map<string, unknown>([["u1", null], ["u3", null]]), false);
    expect(eventsOf(missed)).toEqual(["member_added u3"]);
  });

  it("ignores non-presence channels and forgets channels without local subscribers", () => {
    const views = new PresenceViews();
    views.snapshot("app", "private-x", new Map([["u1", null]]));
    expect(views.entries()).toEqual([]);
    views.snapshot("app", "presence-y", new Map());
    views.drop("app", "presence-y");
    expect(views.catchUp("app", "presence-y", new Map([["u1", null]]))).toEqual([]);
  });
});
