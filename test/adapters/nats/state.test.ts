import { describe, expect, it } from "vitest";
import {
  applyChannel, applyMember, applyUser, key, memberKey, memberKeys, memberSeq, membersInOrder, nodesIn, parseKey, reservePlace,
} from "../../../src/adapters/nats/state.ts";

describe("nats state: channel counts", () => {
  it("decides occupied and vacated from the value before and after one node's write, with the member count", () => {
    const a = applyChannel(undefined, "A", 1, 1);
    expect(a).toMatchObject({ occupied: true, vacated: false, subscriptionCount: 1, changed: true, value: { n: { A: 1 }, mc: 1 } });
    const b = applyChannel(a.value, "B", 2);
    expect(b).toMatchObject({ occupied: false, subscriptionCount: 3, value: { n: { A: 1, B: 2 }, mc: 1 } });
    expect(nodesIn(b.value)).toEqual(new Set(["A", "B"]));
    expect(applyChannel(b.value, "B", 2)).toMatchObject({ changed: false, countChanged: false });
    const aLeft = applyChannel(b.value, "A", 0, -1);
    expect(aLeft).toMatchObject({ vacated: false, value: { n: { B: 2 } } });
    expect(aLeft.value).not.toHaveProperty("mc");
    expect(applyChannel(aLeft.value, "B", 0)).toMatchObject({ vacated: true, value: undefined, subscriptionCount: 0 });
  });

  it("reserves a place under the presence limit, also on a channel without a value yet", () => {
    expect(reservePlace(undefined, 1)).toEqual({ n: {}, mc: 1 });
    expect(reservePlace({ n: { A: 1 }, mc: 1 }, 1)).toBeUndefined();
    expect(reservePlace({ n: { A: 1 }, mc: 1 }, 2)).toEqual({ n: { A: 1 }, mc: 2 });
    expect(reservePlace(undefined, 0)).toBeUndefined();
  });
});

describe("nats state: member keys", () => {
  it("decides member_added with the first socket anywhere and member_removed with the last", () => {
    const a = applyMember(undefined, "A", 1, { n: 1 }, 0);
    expect(a).toEqual({ value: { n: { A: 1 }, i: { n: 1 } }, changed: true, added: true, removed: false });
    // The key's next write records the revision that added the member as its join order.
    const b = applyMember(a.value, "B", 2, { n: "other" }, 7);
    expect(b).toEqual({ value: { n: { A: 1, B: 2 }, i: { n: 1 }, o: 7 }, changed: true, added: false, removed: false });
    expect(applyMember(b.value, "B", 2, null, 9)).toMatchObject({ changed: false, added: false, removed: false });
    const aLeft = applyMember(b.value, "A", 0, null, 9);
    expect(aLeft).toMatchObject({ added: false, removed: false, value: { n: { B: 2 }, o: 7 } });
    expect(applyMember(aLeft.value, "B", 0, null, 10)).toEqual({ value: undefined, changed: true, added: false, removed: true });
    // Emptying a count that is not there (a sweep repeated) changes nothing.
    expect(applyMember(undefined, "A", 0, null, 0)).toMatchObject({ changed: false, removed: false });
  });

  it("orders members by the revision that added them, ties by user id, and leaves out empty values", () => {
    const members = membersInOrder([
      { userId: "late", value: { n: { A: 1 }, i: 3 }, revision: 30 },
      { userId: "first", value: { n: { A: 2 }, i: 1, o: 5 }, revision: 40 }, // rewritten since it joined at 5
      { userId: "b", value: { n: { B: 1 }, i: 2 }, revision: 10 },
      { userId: "a", value: { n: { B: 1 }, i: 2 }, revision: 10 },
      { userId: "gone", value: { n: {} }, revision: 1 },
    ]);
    expect([...members.keys()]).toEqual(["first", "a", "b", "late"]);
  });

  it("sequences a transition by its revision above the epoch's base, so a new epoch stays above the old one", () => {
    expect(memberSeq(1_000, 5)).toBe(1_005);
    const oldEpochLast = memberSeq(1_000_000, 250);
    expect(memberSeq(Date.now() * 1000, 1)).toBeGreaterThan(oldEpochLast);
  });
});

describe("nats state: users", () => {
  it("goes online with the first socket anywhere and offline with the last", () => {
    const a = applyUser(undefined, "A", 1);
    expect(a).toMatchObject({ online: true, offline: false });
    const b = applyUser(a.value, "B", 1);
    expect(b).toMatchObject({ online: false, offline: false });
    expect(applyUser(applyUser(b.value, "A", 0).value, "B", 0)).toMatchObject({ offline: true, value: undefined });
  });
});

describe("nats state: keys", () => {
  it("encodes any channel name or user id into valid KV key tokens and back", () => {
    for (const name of ["presence-a,b;c=d@e.f", "private-encrypted-x", "#server-to-user-ü", "a".repeat(200)]) {
      const k = key("app-1", "c", name);
      expect(k).toMatch(/^[-/=._A-Za-z0-9]+$/);
      expect(parseKey(k)).toEqual({ appId: "app-1", kind: "c", name });
    }
    expect(parseKey(key("ü, ✓", "u", "✓"))).toEqual({ appId: "ü, ✓", kind: "u", name: "✓" });
    expect(parseKey("!!!.c.x")).toBeUndefined();
    expect(parseKey("epoch")).toBeUndefined();
  });

  it("parses a member key's four parts, and lists a channel's member keys apart from its channel key", () => {
    const k = memberKey("app", "presence-a.b", "u.1 ü");
    expect(k).toMatch(/^[-/=._A-Za-z0-9]+$/);
    expect(k.split(".")).toHaveLength(4);
    expect(parseKey(k)).toEqual({ appId: "app", kind: "m", name: "presence-a.b", userId: "u.1 ü" });
    expect(k.startsWith(memberKeys("app", "presence-a.b").slice(0, -1))).toBe(true);
    expect(parseKey(`${key("app", "c", "x")}.extra`)).toBeUndefined();
    expect(parseKey(key("app", "m", "x"))).toBeUndefined();
  });
});
