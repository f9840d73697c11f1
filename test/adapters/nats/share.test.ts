// A node's share of a presence channel written as member keys plus the channel key, against an
// in-memory bucket where a test can hold one node between its two writes: the races of a user
// moving between nodes, the presence limit across nodes, and a sweep of a dead node's members.
import { describe, expect, it } from "vitest";
import { LocalAdapter } from "../../../src/adapters/local.ts";
import { key, memberKey, memberKeys } from "../../../src/adapters/nats/state.ts";
import { MEMBER } from "../../../src/adapters/nats/values.ts";
import { ContributionWriter } from "../../../src/adapters/nats/writer.ts";
import { FakeLink, FakeStore } from "./fake-link.ts";

const CH = "presence-room";
const ck = key("app", "c", CH);
const mk = (userId: string) => memberKey("app", CH, userId);

function node(store: FakeStore, id: string, clockMs: () => number) {
  const link = new FakeLink(store);
  const local = new LocalAdapter(clockMs);
  const write = new ContributionWriter(link.asLink(), local, id, clockMs);
  return {
    link, local, write,
    async join(socketId: string, userId: string, maxMembers?: number) {
      const member = { userId, userInfo: { id: userId } };
      const joined = await local.join("app", CH, socketId, member);
      const change = await write.socket("app", CH, userId, joined.memberAdded ? maxMembers : undefined);
      if (!change) await local.leave("app", CH, socketId, member);
      return change;
    },
    async leave(socketId: string, userId: string) {
      await local.leave("app", CH, socketId, { userId, userInfo: null });
      return (await write.socket("app", CH, userId))!;
    },
  };
}

describe("nats share writes: members as keys of their own", () => {
  it("a user moving from Y to X, Y's channel write landing last: Y's removal is superseded, not announced after X's add", async () => {
    const store = new FakeStore();
    const Y = node(store, "Y", () => 10_000);
    const X = node(store, "X", () => 10_000);
    const joined = await Y.join("y1", "u");
    expect(joined!.added).toEqual([{ userId: "u", userInfo: { id: "u" } }]);

    const held = Y.link.hold((k) => k === ck);
    const leaving = Y.leave("y1", "u");
    await held.reached; // Y decided the removal (a tombstone) and has not sequenced it yet
    expect(store.live()[mk("u")]).toMatchObject({ n: {} });
    const added = await X.join("x1", "u");
    expect(added!.added.map((a) => a.userId)).toEqual(["u"]);
    held.release();
    const left = await leaving;

    expect(left.removed).toEqual([]);
    expect(store.live()[mk("u")]).toMatchObject({ n: { X: 1 } });
    expect(store.live()[ck]).toMatchObject({ n: { X: 1 }, mc: 1 });
  });

  it("a user moving from Y to X, X's channel write landing last: X's add is sequenced above Y's removal even with X's clock behind", async () => {
    const store = new FakeStore();
    const Y = node(store, "Y", () => 10_000);
    const X = node(store, "X", () => 9_000);
    await Y.join("y0", "stays"); // the channel stays occupied: a vacated channel starts again from the clock
    await Y.join("y1", "u");
    const left = await Y.leave("y1", "u");
    expect(left.removed).toEqual(["u"]);
    expect(store.live()[mk("u")]).toBeUndefined(); // the tombstone goes once the removal is sequenced
    const added = await X.join("x1", "u");
    expect(added!.added.map((a) => a.userId)).toEqual(["u"]);
    expect(added!.seq).toBeGreaterThan(left.seq);
    expect(store.live()[mk("u")]).toMatchObject({ v: added!.seq, o: added!.seq });
  });

  it("sequences a transition above one the channel sequenced while it was between its writes", async () => {
    const store = new FakeStore();
    const A = node(store, "A", () => 1_000);
    const B = node(store, "B", () => 2_000);
    const held = A.link.hold((k) => k === ck);
    const joining = A.join("a1", "early");
    await held.reached;
    const b = await B.join("b1", "late");
    held.release();
    const a = (await joining)!;
    expect(a.added.map((m) => m.userId)).toEqual(["early"]);
    expect(a.seq).toBeGreaterThan(b!.seq);
    expect(store.live()[mk("early")]).toMatchObject({ v: a.seq });
    expect(store.live()[ck]).toMatchObject({ v: a.seq, mc: 2, n: { A: 1, B: 1 } });
  });

  it("a removal whose node stalled before sequencing it is announced once: by the sweep that claims its tombstone", async () => {
    const store = new FakeStore();
    const Y = node(store, "Y", () => 10_000);
    const sweeper = node(store, "S", () => 10_000);
    await Y.join("y0", "stays");
    await Y.join("y1", "u");
    const held = Y.link.hold((k) => k === ck);
    const leaving = Y.leave("y1", "u");
    await held.reached;
    const tombstone = (await sweeper.link.entries(memberKeys("app", CH), MEMBER)).get(mk("u"))!;
    const claimed = await sweeper.write.orphanRemoval({ appId: "app", channel: CH, userId: "u", tombstone });
    expect(claimed).toMatchObject({ removed: ["u"] });
    expect(claimed!.seq).toBeGreaterThan(tombstone.value.v);
    expect(await sweeper.write.orphanRemoval({ appId: "app", channel: CH, userId: "u", tombstone })).toBeUndefined();
    held.release();
    expect((await leaving).removed).toEqual([]);
    expect(store.live()[mk("u")]).toBeUndefined();
  });

  it("admits a new member only under the presence limit, an existing member always, and gives back an unused place", async () => {
    const store = new FakeStore();
    const A = node(store, "A", () => 1_000);
    const B = node(store, "B", () => 1_000);
    expect(await A.join("a1", "u1", 1)).not.toBeNull();
    expect(await B.join("b1", "u2", 1)).toBeNull();
    expect(store.live()[mk("u2")]).toBeUndefined();
    expect((await B.join("b2", "u1", 1))!.added).toEqual([]);
    expect(store.live()[ck]).toMatchObject({ mc: 1, n: { A: 1, B: 1 } });

    // B reserves a place for u3, then A makes u3 a member before B's member write: B's place goes back.
    let memberWrites = 0;
    const held = B.link.hold((k) => k === mk("u3") && ++memberWrites === 2);
    const joining = B.join("b3", "u3", 3);
    await held.reached;
    expect(store.live()[ck]).toMatchObject({ mc: 2 });
    expect((await A.join("a3", "u3", 3))!.added.map((m) => m.userId)).toEqual(["u3"]);
    held.release();
    expect((await joining)!.added).toEqual([]);
    expect(store.live()[ck]).toMatchObject({ mc: 2 });
  });

  it("sweeping a dead node removes the members only it held, once, and leaves the others' counts", async () => {
    const store = new FakeStore();
    const A = node(store, "A", () => 1_000);
    const dead = node(store, "dead", () => 1_000);
    await A.join("a1", "shared");
    await dead.join("d1", "shared");
    await dead.join("d2", "only-dead");
    await dead.join("d3", "only-dead");
    const swept = await A.write.channel("app", CH, "dead");
    expect(swept).toMatchObject({ removed: ["only-dead"], vacated: false, subscriptionCount: 1, changed: true });
    expect(store.live()[mk("shared")]).toMatchObject({ n: { A: 1 } });
    expect(store.live()[mk("only-dead")]).toBeUndefined();
    expect(store.live()[ck]).toMatchObject({ n: { A: 1 }, mc: 1 });
    // A second sweeper finds nothing left to remove.
    expect(await A.write.channel("app", CH, "dead")).toMatchObject({ removed: [], changed: false });
  });

  it("a resync writes back the members a sweep removed while this node was paused", async () => {
    const store = new FakeStore();
    const A = node(store, "A", () => 1_000);
    const B = node(store, "B", () => 1_000);
    await A.join("a1", "u1");
    await A.join("a2", "u2");
    await B.write.channel("app", CH, "A");
    expect(store.live()[ck]).toBeUndefined();
    const back = await A.write.channel("app", CH);
    expect(back).toMatchObject({ occupied: true, subscriptionCount: 2 });
    expect(back.added.map((m) => m.userId).sort()).toEqual(["u1", "u2"]);
    expect(store.live()[ck]).toMatchObject({ mc: 2 });
    expect(await A.write.channel("app", CH)).toMatchObject({ changed: false, added: [] });
  });
});
