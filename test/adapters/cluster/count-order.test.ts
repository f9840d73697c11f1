// The order the Redis scripts give each subscription count (core/count-order.ts): one clock per
// channel shared with member sequences, rising with every join and leave whichever node makes
// it, and across a vacate. On a real Redis, two adapters sharing a prefix as two nodes would.
import { describe, expect, it } from "vitest";
import type { ClusterTransition } from "../../../src/core/adapter.ts";
import { redisAvailable, twoRedisNodes } from "./two-redis-nodes.ts";

describe.skipIf(!redisAvailable)("redis adapter: subscription count order", () => {
  const nodes = twoRedisNodes("count-order");

  it("rises with every join and leave on either node, across a vacate, and through a closing socket's release", async () => {
    const { A, B } = nodes;
    const seqs: number[] = [];
    const counts: number[] = [];
    const note = (r: { subscriptionCount: number; countSeq?: number }) => {
      seqs.push(r.countSeq!);
      counts.push(r.subscriptionCount);
    };
    note(await A.join("app", "c", "a1"));
    note(await B.join("app", "c", "b1"));
    note(await A.leave("app", "c", "a1"));
    note(await B.leave("app", "c", "b1")); // vacated
    note(await B.join("app", "c", "b2"));
    note(await A.join("app", "c", "a2"));
    note((await A.disconnect("app", "a2", [{ channel: "c" }])).left[0]!);
    expect(counts).toEqual([1, 2, 1, 0, 1, 2, 1]);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]!);
    // A leave of a socket the store no longer holds changes nothing: it answers the last order.
    const again = await A.leave("app", "c", "a1");
    expect(again).toMatchObject({ subscriptionCount: 1, countSeq: seqs.at(-1) });
  });

  it("keeps a vacated channel's sequence key 10 minutes, not a day: short-lived channels leave nothing behind", async () => {
    const { A, redis, prefix } = nodes;
    await A.join("app", "brief", "a1");
    const [vkey] = (await redis.keys(`${prefix}*`)).filter((k) => k.includes("v:") && k.endsWith("brief"));
    expect(await redis.pttl(vkey!)).toBeGreaterThan(600_000);
    await A.leave("app", "brief", "a1");
    const ttl = await redis.pttl(vkey!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(600_000);
  });

  it("orders a presence join's count by its member transition's sequence: one clock for both", async () => {
    const { A, B } = nodes;
    const joined = await A.join("app", "presence-p", "a1", { userId: "u", userInfo: null });
    expect(joined.memberAdded).toBe(true);
    expect(joined.countSeq).toBe(joined.seq);
    const second = await B.join("app", "presence-p", "b1", { userId: "u", userInfo: null }); // no member transition
    expect(second.countSeq!).toBeGreaterThan(joined.seq!);
    expect((await A.members("app", "presence-p")).seq).toBeGreaterThanOrEqual(second.countSeq!);
  });

  it("orders the counts of a dead node's sweep like any leave", async () => {
    const { A, B } = nodes;
    type Shares = { releaseItems(appId: string, node: string, items: string[], report: boolean): Promise<{ transitions: ClusterTransition[] }> };
    const joined = await B.join("app", "swept", "b1");
    await A.join("app", "swept", "a1");
    // What B's sweep runs for A's items once A's heartbeat expired (state-sync.ts).
    const shares = (B as unknown as { shares: Shares }).shares;
    const { transitions } = await shares.releaseItems("app", (A as unknown as { nodeId: string }).nodeId, ["s|a1|swept"], true);
    expect(transitions).toEqual([expect.objectContaining({ type: "left", channel: "swept", subscriptionCount: 1 })]);
    expect((transitions[0] as { countSeq: number }).countSeq).toBeGreaterThan(joined.countSeq!);
  });
});
