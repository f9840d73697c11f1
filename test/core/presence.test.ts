// Member transitions by identity and order (src/core/presence.ts) and their delivery through the
// registry: each socket is told about each member once, never about one it could not know.
import { describe, expect, it } from "vitest";
import type { Connection } from "../../src/core/connection.ts";
import { EventStream } from "../../src/core/events.ts";
import { memberAdded, memberRemoved } from "../../src/core/messages.ts";
import { MemberLog, MemberView, nextMemberSeq, type MemberChange } from "../../src/core/presence.ts";
import { LocalRegistry } from "../../src/core/registry.ts";

const NO_EVENTS = new EventStream(() => 0, console);
const ch = "presence-room";
const add = (userId: string, seq: number): MemberChange => ({ userId, added: true, seq });
const remove = (userId: string, seq: number): MemberChange => ({ userId, added: false, seq });
const view = (seq: number, ...ids: string[]) => MemberView.of({ members: new Map(ids.map((id) => [id, null])), seq });

describe("nextMemberSeq", () => {
  it("follows the clock in microseconds and never goes back", () => {
    expect(nextMemberSeq(undefined, 1_000)).toBe(1_000_000);
    expect(nextMemberSeq(1_000_000, 1_000)).toBe(1_000_001);
    expect(nextMemberSeq(5_000_000, 1_000)).toBe(5_000_001); // the clock stepped back
  });
});

describe("MemberView", () => {
  it("drops what its snapshot reflects, and adds or removes each member once", () => {
    const v = view(10, "a", "b");
    expect(v.admit(add("c", 9))).toBe(false); // happened before the snapshot was read
    expect(v.admit(remove("a", 10))).toBe(false);
    expect(v.admit(add("a", 11))).toBe(false); // known already
    expect(v.admit(add("c", 12))).toBe(true);
    expect(v.admit(add("c", 13))).toBe(false);
    expect(v.admit(remove("d", 14))).toBe(false); // never told about d
    expect(v.admit(remove("a", 15))).toBe(true);
    expect(v.admit(remove("a", 16))).toBe(false);
    expect([...v.ids()].sort()).toEqual(["b", "c"]);
  });
});

describe("MemberLog", () => {
  it("drops a change older than one already seen for the same user", () => {
    const log = new MemberLog();
    expect(log.fresh("k", remove("x", 6))).toBe(true);
    expect(log.fresh("k", add("x", 5))).toBe(false); // crossed publishes: the removal is newer
    expect(log.fresh("k", add("y", 5))).toBe(true); // another user
    expect(log.fresh("k", add("x", 7))).toBe(true);
    log.drop("k");
    expect(log.fresh("k", add("x", 1))).toBe(true);
  });
});

describe("LocalRegistry member delivery", () => {
  const conn = (id: string) => {
    const sent: string[] = [];
    const c = { id, app: { id: "app" }, channels: new Map(), socket: { send: (f: string) => sent.push(f) }, send: (f: string) => sent.push(f), overBound: () => false, sent };
    return c as unknown as Connection & { sent: string[]; channels: Map<string, { view?: MemberView }> };
  };
  const subscribe = (registry: LocalRegistry, c: ReturnType<typeof conn>, v: MemberView) => {
    c.channels.set(ch, { view: v });
    registry.addSocket(c);
    return registry.join(c, ch);
  };
  const deliver = (registry: LocalRegistry, change: MemberChange, except?: string) => {
    const frame = change.added ? memberAdded(ch, change.userId, null) : memberRemoved(ch, change.userId);
    registry.deliver("app", ch, frame, except, NO_EVENTS, change);
  };
  const told = (c: { sent: string[] }) => c.sent.map((f) => {
    const frame = JSON.parse(f);
    return `${frame.event === "pusher_internal:member_added" ? "+" : "-"}${JSON.parse(frame.data).user_id}`;
  });

  it("tells sockets with different snapshots only what each of them is missing", () => {
    const registry = new LocalRegistry();
    const early = conn("1.1");
    const late = conn("2.2");
    subscribe(registry, early, view(10, "a"));
    subscribe(registry, late, view(20, "a", "b"));
    deliver(registry, add("b", 15)); // published before late's snapshot, arriving after it
    deliver(registry, add("c", 25));
    deliver(registry, remove("a", 30));
    expect(told(early)).toEqual(["+b", "+c", "-a"]);
    expect(told(late)).toEqual(["+c", "-a"]);
  });

  it("drops a stale change that arrives after a newer one of the same user", () => {
    const registry = new LocalRegistry();
    const s = conn("1.1");
    subscribe(registry, s, view(4));
    deliver(registry, remove("x", 6)); // x joined at 5 and left at 6; the publishes crossed
    deliver(registry, add("x", 5));
    expect(told(s)).toEqual([]);
  });

  it("holds member changes for a joining socket and reconciles them with its snapshot", () => {
    const registry = new LocalRegistry();
    const joiner = conn("3.3");
    registry.beginJoin(joiner, ch);
    deliver(registry, add("a", 5));
    deliver(registry, add("b", 12));
    const held = subscribe(registry, joiner, view(10, "a"));
    expect(held.map((h) => h.member?.userId)).toEqual(["a", "b"]);
    const v = joiner.channels.get(ch)!.view!;
    expect(held.filter((h) => v.admit(h.member!)).map((h) => h.member!.userId)).toEqual(["b"]);
  });

  it("after an outage tells each socket what it missed, once, and leaves newer news alone", () => {
    const registry = new LocalRegistry();
    const s = conn("1.1");
    subscribe(registry, s, view(10, "u1", "u2"));
    deliver(registry, add("u3", 11));
    deliver(registry, remove("u1", 12));
    deliver(registry, add("u5", 40)); // arrived live after the catch-up read below
    // The store meanwhile: u2 left, u4 joined; read at sequence 30.
    const snapshot = { members: new Map<string, unknown>([["u3", null], ["u4", { b: 2 }]]), seq: 30 };
    registry.syncMembers("app", ch, snapshot, true);
    expect(told(s)).toEqual(["+u3", "-u1", "+u5", "-u2", "+u4"]);
    registry.syncMembers("app", ch, snapshot, true);
    deliver(registry, add("u4", 25)); // the original, late: older than the catch-up
    expect(told(s)).toEqual(["+u3", "-u1", "+u5", "-u2", "+u4"]);
  });

  it("after a catch-up drops a late change the snapshot already reflects, even for a user the socket agreed on", () => {
    const registry = new LocalRegistry();
    const s = conn("1.1");
    subscribe(registry, s, view(10, "u1", "u2"));
    // Swept and re-registered meanwhile: u1's removal (15) and re-add (20) are still in flight.
    registry.syncMembers("app", ch, { members: new Map<string, unknown>([["u1", null], ["u2", null]]), seq: 30 }, true);
    expect(told(s)).toEqual([]);
    deliver(registry, remove("u1", 15));
    deliver(registry, add("u1", 20));
    expect(told(s)).toEqual([]);
    deliver(registry, remove("u1", 31)); // news
    expect(told(s)).toEqual(["-u1"]);
  });

  it("keeps held changes for a socket still joining during a catch-up", () => {
    const registry = new LocalRegistry();
    const s = conn("1.1");
    subscribe(registry, s, view(10, "u1"));
    const joiner = conn("2.2");
    registry.beginJoin(joiner, ch);
    registry.syncMembers("app", ch, { members: new Map<string, unknown>([["u1", null]]), seq: 30 }, true);
    deliver(registry, add("u2", 25)); // the joiner's snapshot (12) may predate it
    const held = subscribe(registry, joiner, view(12, "u1"));
    expect(held.map((h) => h.member?.userId)).toEqual(["u2"]);
  });

  it("an unordered change (decided while the bus was down) does not outrank the catch-up's snapshot", () => {
    const registry = new LocalRegistry();
    const s = conn("1.1");
    subscribe(registry, s, view(10, "u1", "u2"));
    // u1's socket on this node closed while the bus was down: told at once, unknown to the store.
    deliver(registry, remove("u1", 0));
    expect(told(s)).toEqual(["-u1"]);
    // It came back before this node re-registered, so the store never saw it leave: its snapshot
    // is older than any clock-based sequence this node could have given the removal.
    registry.syncMembers("app", ch, { members: new Map<string, unknown>([["u1", null], ["u2", null]]), seq: 12 }, true);
    expect(told(s)).toEqual(["-u1", "+u1"]);
  });

  it("only adds members while the store is being refilled after losing its data", () => {
    const registry = new LocalRegistry();
    const s = conn("1.1");
    subscribe(registry, s, view(10, "u1", "u2"));
    registry.syncMembers("app", ch, { members: new Map<string, unknown>([["u1", null], ["u3", null]]), seq: 20 }, false);
    expect(told(s)).toEqual(["+u3"]);
  });
});

describe("MemberLog pruning", () => {
  it("forgets users recorded more than two minutes ago once a channel's log is large, whatever their sequences", () => {
    let now = 0;
    const log = new MemberLog(() => now);
    // Sequences like NATS KV revisions: small and close together, not microseconds of a clock.
    for (let u = 0; u < 1000; u++) expect(log.fresh("k", add(`old${u}`, u + 1))).toBe(true);
    now = 121_000;
    for (let u = 0; u < 100; u++) log.fresh("k", add(`new${u}`, 2000 + u));
    expect(log.size("k")).toBeLessThanOrEqual(100);
    expect(log.last("k", "new99")).toBe(2099);
    expect(log.last("k", "old0")).toBeUndefined();
  });

  it("keeps recent users however many there are", () => {
    let now = 0;
    const log = new MemberLog(() => now);
    for (let u = 0; u < 3000; u++) {
      now += 10;
      log.fresh("k", add(`u${u}`, u + 1));
    }
    expect(log.size("k")).toBe(3000);
    expect(log.fresh("k", add("u5", 3))).toBe(false);
  });
});
