import { describe, expect, it } from "vitest";
import {
  applyShare, applyUser, key, memberKey, memberKeys, memberOfKey, nodesIn, parseKey, reservePlace, snapshotSeq,
} from "../../../src/adapters/nats/state.ts";

describe("nats state: the channel's share", () => {
  it("decides occupied, vacated and counts from the value before and after one node's write", () => {
    const a = applyShare(undefined, "A", 1, 0, [], 1_000);
    expect(a).toMatchObject({ occupied: true, vacated: false, subscriptionCount: 1, changed: true, countChanged: true, seq: 0 });
    const b = applyShare(a.value, "B", 2, 0, [], 1_000);
    expect(b).toMatchObject({ occupied: false, subscriptionCount: 3 });
    expect(nodesIn(b.value)).toEqual(new Set(["A", "B"]));
    const aLeft = applyShare(b.value, "A", 0, 0, [], 1_000);
    expect(aLeft).toMatchObject({ vacated: false, subscriptionCount: 2 });
    const bLeft = applyShare(aLeft.value, "B", 0, 0, [], 1_000);
    expect(bLeft).toMatchObject({ vacated: true, subscriptionCount: 0, value: undefined, changed: true });
  });

  it("reports no change when the share is already there (a repeated resync)", () => {
    const v = applyShare(undefined, "A", 2, 0, [], 1_000).value;
    expect(applyShare(v, "A", 2, 0, [], 2_000)).toMatchObject({ changed: false, occupied: false, countChanged: false });
  });

  it("keeps the member count, never below zero, and drops it with the cache_miss flag when the channel empties", () => {
    const v = applyShare(undefined, "A", 2, 2, [5, 6], 0).value!;
    expect(v.mc).toBe(2);
    expect(applyShare(v, "A", 2, -3, [7], 0).value!.mc).toBeUndefined();
    expect(applyShare({ ...v, x: 1 }, "A", 0, -1, [7], 0).value).toBeUndefined();
  });

  it("keeps a lone provisional sequence above the channel's, otherwise hands out its next one to stamp", () => {
    const first = applyShare(undefined, "A", 1, 1, [1_000_000], 2_000);
    expect(first).toMatchObject({ seq: 1_000_000, restamp: false });
    expect(first.value!.v).toBe(1_000_000);
    // Another node's transition was sequenced above this one's provisional sequence meanwhile.
    const late = applyShare({ ...first.value!, v: 1_500_000 }, "B", 1, 1, [1_200_000], 1_000);
    expect(late).toMatchObject({ seq: 1_500_001, restamp: true });
    // Several transitions in one write (a sweep) share one new sequence.
    const many = applyShare(first.value, "A", 0, -2, [1_100_000, 1_100_001], 3_000);
    expect(many).toMatchObject({ seq: 3_000_000, restamp: true, vacated: true });
    expect(applyShare(first.value, "A", 2, 0, [], 9_000)).toMatchObject({ seq: 0, restamp: false });
  });

  it("reserves a place under the presence limit, on an empty channel too", () => {
    expect(reservePlace(undefined, 1)).toEqual({ n: {}, mc: 1 });
    expect(reservePlace({ n: { A: 1 }, mc: 1, v: 3 }, 2)).toEqual({ n: { A: 1 }, mc: 2, v: 3 });
    expect(reservePlace({ n: { A: 1 }, mc: 2 }, 2)).toBeUndefined();
    expect(reservePlace(undefined, 0)).toBeUndefined();
  });

  it("gives a snapshot the channel's sequence, or now for a channel without one", () => {
    expect(snapshotSeq({ n: {}, v: 17 }, 5_000)).toBe(17);
    expect(snapshotSeq(undefined, 3_000)).toBe(2_999_999);
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

  it("keeps member keys apart from channel keys, and lists a channel's members by one filter", () => {
    const k = memberKey("app-1", "presence-a.b", "user ✓");
    expect(k).toMatch(/^[-/=._A-Za-z0-9]+$/);
    expect(parseKey(k)).toBeUndefined();
    expect(memberOfKey(k)).toEqual({ appId: "app-1", channel: "presence-a.b", userId: "user ✓" });
    expect(memberOfKey(key("app-1", "c", "presence-a.b"))).toBeUndefined();
    expect(k.startsWith(memberKeys("app-1", "presence-a.b").slice(0, -1))).toBe(true);
    expect(memberKeys("app-1", "presence-a.b").split(".")).toHaveLength(4);
  });
});
