// The nats adapter at the size test/adapters/cluster/sizes.test.ts holds the redis adapter to: a
// 10,000-member presence channel over two nodes, which one KV value per channel could not hold
// (the JetStream payload limit), so each member is a key of its own, and each member transition
// carries the revision of its member key's write as its sequence.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNatsAdapter, type NatsAdapter } from "../../../src/adapters/nats.ts";
import type { ClusterNode } from "../../../src/core/adapter.ts";
import type { Logger } from "../../../src/core/runtime.ts";
import { globalTimers } from "../../helpers/harness.ts";
import { uniquePrefix } from "../cluster.ts";
import { natsForFile } from "../nats.ts";

const nats = await natsForFile();
const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };
const node: ClusterNode = { receive: () => {}, transition: () => {}, syncMembers: () => {}, backendState: () => {} };
const MEMBERS = 10_000;

/** Runs `task` for 0..n-1, `width` at a time. */
async function each(n: number, width: number, task: (i: number) => Promise<unknown>): Promise<void> {
  for (let at = 0; at < n; at += width) await Promise.all(Array.from({ length: Math.min(width, n - at) }, (_, j) => task(at + j)));
}

describe.skipIf(!nats.available)("nats adapter: large channels", () => {
  let A: NatsAdapter;
  let B: NatsAdapter;
  beforeAll(async () => {
    const options = { servers: [nats.url()], prefix: uniquePrefix("natssizes"), nodeTimeoutMs: 5000, timers: globalTimers, logger: quiet };
    A = createNatsAdapter(options);
    B = createNatsAdapter(options);
    await Promise.all([A.start(node), B.start(node)]);
  });
  afterAll(async () => {
    await Promise.all([A?.stop(), B?.stop()]);
  });

  it("joins, lists and leaves a 10,000-member presence channel across two nodes", async () => {
    const ch = "presence-huge";
    // user_info large enough that all members in one value would pass NATS's 1 MiB payload limit.
    const member = (i: number) => ({ userId: `u${i}`, userInfo: { n: i, bio: "x".repeat(120) } });
    const joins: boolean[] = [];
    const seqs = new Set<number>();
    await each(MEMBERS, 250, async (i) => {
      const joined = await (i % 2 ? B : A).join("app", ch, `s${i}`, member(i));
      joins[i] = joined.memberAdded && !joined.localOnly;
      seqs.add(joined.seq ?? 0);
    });
    expect(joins.filter(Boolean)).toHaveLength(MEMBERS);
    expect(seqs.size).toBe(MEMBERS); // one sequence per member transition

    for (const reader of [A, B]) {
      const snapshot = await reader.members("app", ch);
      expect(snapshot.members.size).toBe(MEMBERS);
      // Join order: the batches of 250 joined one after another.
      const batches = [...snapshot.members.keys()].map((id) => Math.floor(Number(id.slice(1)) / 250));
      expect(batches).toEqual([...batches].sort((x, y) => x - y));
      expect(snapshot.members.get("u9999")).toEqual(member(9999).userInfo);
      // Every join's sequence is at or below the snapshot's: each is reflected in it.
      expect(snapshot.seq).toBeGreaterThanOrEqual(Math.max(...seqs));
    }
    expect(await B.channelStats("app", ch)).toEqual({ subscriptionCount: MEMBERS, userCount: MEMBERS });
    expect(await A.channels("app")).toEqual(new Map([[ch, { subscriptionCount: MEMBERS, userCount: MEMBERS }]]));

    const left: boolean[] = [];
    let vacated = 0;
    const lastJoin = Math.max(...seqs);
    await each(MEMBERS, 250, async (i) => {
      const { left: [result] } = await (i % 2 ? B : A).disconnect("app", `s${i}`, [{ channel: ch, member: member(i) }]);
      left[i] = result!.memberRemoved && !result!.localOnly && result!.seq! > lastJoin;
      if (result!.vacated) vacated++;
    });
    expect(left.filter(Boolean)).toHaveLength(MEMBERS);
    expect(vacated).toBe(1);
    expect((await A.members("app", ch)).members.size).toBe(0);
    expect(await B.channelStats("app", ch)).toEqual({ subscriptionCount: 0, userCount: 0 });
  }, 240_000);
});
