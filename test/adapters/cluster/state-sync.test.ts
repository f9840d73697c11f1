// The reconcile path every cluster driver shares: what a resync announces (to the other nodes
// only), what it keeps quiet after the backend lost its data (everything the cluster knew
// already, but what was decided while away and a channel announced vacated meanwhile), and what a
// sweep of a dead node announces (everything, to every node).
import { describe, expect, it } from "vitest";
import { StateSync, type ShareStore, type StoreTransition } from "../../../src/adapters/cluster/state-sync.ts";
import { LocalAdapter } from "../../../src/adapters/local.ts";
import type { ClusterTransition } from "../../../src/core/adapter.ts";

const member = (userId: string) => ({ userId, userInfo: null });
const joined = (channel: string, userId?: string, extra: Partial<StoreTransition> = {}): StoreTransition => ({
  type: "joined", channel, socketId: "s1", member: userId ? member(userId) : undefined, occupied: true, memberAdded: userId !== undefined,
  subscriptionCount: 1, ...extra,
} as StoreTransition);

function setup() {
  const epochs = ["first"];
  const writes = new Map<string, StoreTransition[]>();
  const announced: [string, ClusterTransition][] = [];
  const store: ShareStore = {
    epoch: async () => epochs[0]!,
    apps: async (node) => (node === "me" ? ["app"] : ["app"]),
    sync: async (_appId, node) => writes.get(node) ?? [],
  };
  const sync = new StateSync("me", store, new LocalAdapter(), {
    announce: (appId, t) => void announced.push([appId, t]), syncMembers: () => {}, active: () => true,
  });
  return {
    sync, announced, writes,
    /** The backend comes back empty: a new data epoch. */
    loseData: () => void (epochs[0] = `${epochs[0]}+`),
  };
}

describe("the shared resync", () => {
  it("announces what the resync's writes changed to the other nodes only", async () => {
    const t = setup();
    t.writes.set("me", [joined("presence-x", "u1"), { type: "left", channel: "private-y", vacated: true, memberRemoved: false, subscriptionCount: 0 }]);
    expect(await t.sync.resync()).toBe(false);
    expect(t.announced.map(([, a]) => [a.type, a.remoteOnly])).toEqual([["joined", true], ["left", true]]);
  });

  it("after the backend lost its data, announces only what joined while away and channels vacated meanwhile; known members as frames without webhooks", async () => {
    const t = setup();
    await t.sync.resync();
    t.sync.joinedAway("app", "presence-new", { ok: true, occupied: true, memberAdded: true, subscriptionCount: 1 }, "u2");
    t.sync.signedAway("app", "u3", true);
    t.loseData();
    t.writes.set("me", [
      joined("presence-known", "u1"), // re-registered: the cluster knew it
      joined("presence-new", "u2"),
      joined("presence-emptied", "u4", { vacatedSince: true }),
      { type: "online", userId: "u1" },
      { type: "online", userId: "u3" },
      { type: "left", channel: "private-z", vacated: true, memberRemoved: false, subscriptionCount: 0 },
    ]);
    expect(await t.sync.resync()).toBe(true);
    expect(t.announced.map(([, a]) => a)).toEqual([
      expect.objectContaining({ type: "joined", channel: "presence-known", occupied: false, memberAdded: true, localOnly: true, remoteOnly: true }),
      expect.objectContaining({ type: "joined", channel: "presence-new", occupied: true, memberAdded: true, remoteOnly: true }),
      expect.objectContaining({ type: "joined", channel: "presence-emptied", occupied: true, memberAdded: true, remoteOnly: true }),
      { type: "online", userId: "u3", remoteOnly: true },
    ]);
    expect(t.announced.some(([, a]) => "vacatedSince" in a)).toBe(false);
  });

  it("forgets a join made while away once it was left while away, and everything once settled", async () => {
    const t = setup();
    await t.sync.resync();
    t.sync.joinedAway("app", "presence-x", { ok: true, occupied: true, memberAdded: true, subscriptionCount: 1 }, "u1");
    expect(t.sync.leftAwayFrom("app", "presence-x", { vacated: false, memberRemoved: true, subscriptionCount: 1, seq: 9, countSeq: 9 }, "u1"))
      .toEqual({ vacated: false, memberRemoved: true, subscriptionCount: 1, seq: 0, countSeq: 0, localOnly: true });
    t.loseData();
    t.writes.set("me", [joined("presence-x", "u1")]);
    await t.sync.resync();
    // Still occupied by this node's other socket: that part is news; the member is not (frames only).
    expect(t.announced.map(([, a]) => a)).toEqual([
      expect.objectContaining({ occupied: true, memberAdded: false }),
      expect.objectContaining({ occupied: false, memberAdded: true, localOnly: true }),
    ]);
    await t.sync.settle(true, false, { members: async () => ({ members: new Map(), seq: 0 }), channelStats: async () => ({ subscriptionCount: 1, userCount: 0 }) });
    t.announced.length = 0;
    t.loseData();
    t.writes.set("me", [joined("private-y")]);
    await t.sync.resync();
    expect(t.announced).toEqual([]);
  });

  it("releases what the backend still holds of this node on a graceful stop, to the other nodes", async () => {
    const t = setup();
    t.writes.set("me", [{ type: "left", channel: "private-y", vacated: true, memberRemoved: false, subscriptionCount: 0 }]);
    await t.sync.release();
    expect(t.announced).toEqual([["app", { type: "left", channel: "private-y", vacated: true, memberRemoved: false, subscriptionCount: 0, remoteOnly: true }]]);
  });

  it("sweeps a dead node's share of each app and announces every transition to every node", async () => {
    const t = setup();
    t.writes.set("dead", [{ type: "left", channel: "presence-x", userId: "u1", vacated: false, memberRemoved: true, seq: 5, subscriptionCount: 1 }]);
    t.loseData(); // a sweep is never news-filtered: the dead node's sockets are gone either way
    await t.sync.sweep("dead");
    expect(t.announced).toEqual([["app", { type: "left", channel: "presence-x", userId: "u1", vacated: false, memberRemoved: true, seq: 5, subscriptionCount: 1 }]]);
  });
});
