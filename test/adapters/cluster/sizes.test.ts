// The redis adapter's reads at sizes that broke the single-script reads: a 10,000-member presence
// channel (one HMGET of every id overflowed Lua's stack and the failure became the local list),
// an app with more occupied channels than one page, and a closing socket with many channels,
// released in one script. On a real Redis, two adapters sharing a prefix as two nodes would.
import { describe, expect, it, vi } from "vitest";
import type { ClusterBackend } from "../../../src/adapters/cluster/backend.ts";
import { expectCacheMissClaims } from "../cache-miss-claims.ts";
import { expectChannelPage } from "../channel-page-check.ts";
import { redisAvailable, twoRedisNodes } from "./two-redis-nodes.ts";

const MEMBERS = 10_000;

/** Runs `task` for 0..n-1, `width` at a time. */
async function each(n: number, width: number, task: (i: number) => Promise<unknown>): Promise<void> {
  for (let at = 0; at < n; at += width) await Promise.all(Array.from({ length: Math.min(width, n - at) }, (_, j) => task(at + j)));
}

describe.skipIf(!redisAvailable)("redis adapter: large channels and apps", () => {
  const nodes = twoRedisNodes("sizes");

  it("joins, lists and leaves a 10,000-member presence channel across two nodes", async () => {
    const { A, B } = nodes;
    const ch = "presence-huge";
    const member = (i: number) => ({ userId: `u${i}`, userInfo: { n: i } });
    const joins: boolean[] = [];
    await each(MEMBERS, 250, async (i) => {
      const joined = await (i % 2 ? B : A).join("app", ch, `s${i}`, member(i));
      joins[i] = joined.memberAdded;
    });
    expect(joins.filter(Boolean)).toHaveLength(MEMBERS);

    const snapshot = await A.members("app", ch);
    expect(snapshot.members.size).toBe(MEMBERS);
    // Join order across the pages: the batches of 250 joined one after another.
    const batches = [...snapshot.members.keys()].map((id) => Math.floor(Number(id.slice(1)) / 250));
    expect(batches).toEqual([...batches].sort((x, y) => x - y));
    expect(snapshot.members.get("u9999")).toEqual({ n: 9999 });
    expect(await B.channelStats("app", ch)).toEqual({ subscriptionCount: MEMBERS, userCount: MEMBERS });

    const left: boolean[] = [];
    let vacated = 0;
    await each(MEMBERS, 250, async (i) => {
      const { left: [result] } = await (i % 2 ? B : A).disconnect("app", `s${i}`, [{ channel: ch, member: member(i) }]);
      left[i] = result!.memberRemoved;
      if (result!.vacated) vacated++;
    });
    expect(left.filter(Boolean)).toHaveLength(MEMBERS);
    expect(vacated).toBe(1);
    expect((await A.members("app", ch)).members.size).toBe(0);
  }, 120_000);

  it("lists more occupied channels than one page, filtered by prefix", async () => {
    const { A, B } = nodes;
    await each(1200, 200, (i) => (i % 2 ? B : A).join("app2", `${i % 3 ? "private-" : "public-"}c${i}`, `x${i}`));
    const all = await A.channels("app2");
    expect(all.size).toBe(1200);
    const privates = await B.channels("app2", "private-");
    expect(privates.size).toBe(800);
    expect([...privates.keys()].every((name) => name.startsWith("private-"))).toBe(true);
    expect(privates.get("private-c1")).toEqual({ subscriptionCount: 1, userCount: 0 });
    // What the console shows: the first page by name, past the server's own "#" channels, and the total.
    await A.join("app2", "#server-to-user-u1", "x-user");
    const page = await B.channelPage("app2", 500);
    expect(page.total).toBe(1200);
    expect([...page.channels.keys()]).toEqual([...all.keys()].sort().slice(0, 500));
    expect(page.channels.get("private-c1")).toEqual({ subscriptionCount: 1, userCount: 0 });
  }, 60_000);

  it("releases a closing socket's channels, sign-in and connection in one script", async () => {
    const { A, B, redis, prefix } = nodes;
    expect(await A.addConnection("app3", "sock", -1)).toBe(true);
    const channels = Array.from({ length: 50 }, (_, i) => `presence-many-${i}`);
    for (const channel of channels) await A.join("app3", channel, "sock", { userId: "u", userInfo: null });
    await B.join("app3", channels[0]!, "other", { userId: "u", userInfo: null });
    expect(await A.signIn("app3", "u", "sock")).toBe(true);

    const backend = (A as unknown as { backend: ClusterBackend }).backend;
    const run = vi.spyOn(backend, "run");
    const departure = await A.disconnect("app3", "sock", channels.map((channel) => ({ channel, member: { userId: "u", userInfo: null } })), "u");
    expect(run.mock.calls.map(([script]) => script)).toEqual(["release"]);
    run.mockRestore();

    expect(departure.wentOffline).toBe(true);
    // The first channel keeps B's socket of the same user: no member_removed, not vacated.
    expect(departure.left[0]).toMatchObject({ vacated: false, memberRemoved: false, subscriptionCount: 1 });
    expect(departure.left.slice(1).every((l) => l.vacated && l.memberRemoved && l.subscriptionCount === 0)).toBe(true);
    expect(await B.onlineUsers("app3", ["u"])).toEqual(new Set());
    expect((await B.channels("app3")).size).toBe(1);
    expect(await redis.hlen(`${prefix}{app3}:conns`)).toBe(0);
  });

  it("lists the first occupied channels by name, past the server's own, with the total", async () => {
    const { A, B } = nodes;
    await expectChannelPage(A, B, "app5");
  });

  it("sends cache_miss once per channel until an event is cached or the channel is vacated", async () => {
    const { A, B } = nodes;
    await expectCacheMissClaims(A, B, "app4");
  });
});
