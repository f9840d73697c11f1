import { describe, expect, it } from "vitest";
import {
  EMPTY, applyChannel, applyUser, key, membersOf, nodesIn, overMemberLimit, parseKey, type Contribution,
} from "../../../src/adapters/nats/state.ts";

const share = (sockets: number, members: [string, number, unknown?][] = []): Contribution => ({
  sockets,
  members: new Map(members.map(([id, count, info]) => [id, { count, info: info ?? null }])),
});

describe("nats state: channel contributions", () => {
  it("decides occupied, member_added and counts from the value before and after one node's write", () => {
    const a = applyChannel(undefined, "A", share(1, [["u1", 1, { n: 1 }]]));
    expect(a).toMatchObject({ occupied: true, vacated: false, added: [{ userId: "u1", userInfo: { n: 1 } }], removed: [], subscriptionCount: 1, changed: true });
    // Same user on another node: no member_added, the channel was already occupied.
    const b = applyChannel(a.value, "B", share(2, [["u1", 2, { n: "other" }]]));
    expect(b).toMatchObject({ occupied: false, added: [], subscriptionCount: 3 });
    expect(membersOf(b.value)).toEqual(new Map([["u1", { n: 1 }]]));
    // A new user joins on B after u1: join order is kept.
    const c = applyChannel(b.value, "B", share(3, [["u1", 2], ["u2", 1]]));
    expect(c.added.map((m) => m.userId)).toEqual(["u2"]);
    expect([...membersOf(c.value).keys()]).toEqual(["u1", "u2"]);
    expect(nodesIn(c.value)).toEqual(new Set(["A", "B"]));
  });

  it("removes a member only when its last socket on the last node goes, and vacates once", () => {
    const one = applyChannel(undefined, "A", share(1, [["u1", 1]])).value;
    const both = applyChannel(one, "B", share(1, [["u1", 1]])).value;
    const aLeft = applyChannel(both, "A", EMPTY);
    expect(aLeft).toMatchObject({ removed: [], vacated: false, subscriptionCount: 1 });
    const bLeft = applyChannel(aLeft.value, "B", EMPTY);
    expect(bLeft).toMatchObject({ removed: ["u1"], vacated: true, subscriptionCount: 0, value: undefined });
  });

  it("reports no change when the contribution is already there (a repeated resync)", () => {
    const v = applyChannel(undefined, "A", share(2, [["u1", 2]])).value;
    expect(applyChannel(v, "A", share(2, [["u1", 2]]))).toMatchObject({ changed: false, occupied: false, added: [], removed: [] });
  });

  it("sweeping a dead node removes only what no live node still holds", () => {
    let v = applyChannel(undefined, "A", share(1, [["u1", 1]])).value;
    v = applyChannel(v, "dead", share(2, [["u1", 1], ["u3", 1]])).value;
    const swept = applyChannel(v, "dead", EMPTY);
    expect(swept).toMatchObject({ removed: ["u3"], vacated: false, subscriptionCount: 1, countChanged: true });
    expect(nodesIn(swept.value)).toEqual(new Set(["A"]));
  });

  it("applies the presence limit to new members only", () => {
    const v = applyChannel(undefined, "A", share(2, [["u1", 1], ["u2", 1]])).value;
    expect(overMemberLimit(v, "u3", 2)).toBe(true);
    expect(overMemberLimit(v, "u1", 2)).toBe(false);
    expect(overMemberLimit(v, "u3", -1)).toBe(false);
    expect(overMemberLimit(undefined, "u1", 0)).toBe(true);
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
});

describe("member sequences", () => {
  it("gives each write with member transitions a sequence above the last, and a snapshot its value's", async () => {
    const { snapshotOf } = await import("../../../src/adapters/nats/state.ts");
    const a = applyChannel(undefined, "A", share(1, [["u1", 1]]), 1_000);
    expect(a.seq).toBe(1_000_000);
    const same = applyChannel(a.value, "A", share(2, [["u1", 2]]), 2_000); // no member transition
    expect(same.seq).toBe(0);
    const b = applyChannel(same.value, "B", share(1, [["u2", 1]]), 500); // B's clock is behind
    expect(b.seq).toBe(1_000_001);
    expect(snapshotOf(b.value, 9_999)).toEqual({ members: new Map([["u1", null], ["u2", null]]), seq: 1_000_001 });
    expect(snapshotOf(undefined, 3_000).seq).toBe(2_999_999);
  });
});
