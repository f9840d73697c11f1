// The nats share store's sweep of a dead node: it empties exactly the keys the scan found naming
// that node, and none once the node is heard again (a paused node that resumed between the scan
// and the writes has written its share back; emptying it would remove live sockets).
import { describe, expect, it } from "vitest";
import { LocalAdapter } from "../../../src/adapters/local.ts";
import { NatsShares } from "../../../src/adapters/nats/share-store.ts";
import { key, type ChannelChange } from "../../../src/adapters/nats/state.ts";
import type { ContributionWriter } from "../../../src/adapters/nats/writer.ts";

const vacated: ChannelChange = {
  value: undefined, changed: true, occupied: false, vacated: true, added: [], removed: [], subscriptionCount: 0, countChanged: true,
};

function setup() {
  const written: string[] = [];
  const write = {
    channel: async (_app: string, channel: string, node: string) => (written.push(`${channel} ${node}`), vacated),
    counts: async (k: string, _count: number, node: string) => (written.push(`${k} ${node}`), { value: undefined, changed: true, online: false, offline: true }),
  } as unknown as ContributionWriter;
  const alive = new Set<string>();
  const shares = new NatsShares("me", new LocalAdapter(), write, (node) => alive.has(node));
  const found = () => new Map([["dead", new Map([["app", new Set([key("app", "c", "private-a"), key("app", "u", "u1")])]])]]);
  return { shares, written, alive, found };
}

describe("nats share store", () => {
  it("empties a dead node's share of the keys the scan found, with the transitions that made", async () => {
    const t = setup();
    t.shares.scanned(t.found());
    expect([...await t.shares.apps("dead")]).toEqual(["app"]);
    const transitions = await t.shares.sync("app", "dead");
    expect(t.written).toEqual(["private-a dead", `${key("app", "u", "u1")} dead`]);
    expect(transitions).toEqual([
      { type: "left", channel: "private-a", vacated: true, memberRemoved: false, subscriptionCount: 0 },
      { type: "offline", userId: "u1" },
    ]);
  });

  it("tells again, without a webhook, the add of a member the dead node shared with a live one", async () => {
    const t = setup();
    const kept = { ...vacated, vacated: false, subscriptionCount: 1, kept: [{ userId: "u1", userInfo: { a: 1 }, seq: 77 }] };
    (t.shares as unknown as { write: { channel: () => Promise<ChannelChange> } }).write.channel = async () => kept;
    t.shares.scanned(new Map([["dead", new Map([["app", new Set([key("app", "c", "presence-a")])]])]]));
    expect(await t.shares.sync("app", "dead")).toEqual([{
      type: "joined", channel: "presence-a", socketId: "", member: { userId: "u1", userInfo: { a: 1 } }, occupied: false, memberAdded: true,
      seq: 77, subscriptionCount: 1, localOnly: true,
    }]);
  });

  it("leaves the share of a node heard again since the scan", async () => {
    const t = setup();
    t.shares.scanned(t.found());
    t.alive.add("dead");
    expect(await t.shares.sync("app", "dead")).toEqual([]);
    expect(t.written).toEqual([]);
  });
});
