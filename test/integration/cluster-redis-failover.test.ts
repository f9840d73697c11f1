// Node and bus failures with the redis adapter: a SIGKILLed node's sockets disappear from the
// cluster after its heartbeat expires (member_removed once, never back); a SIGTERMed node hands
// over at once; a Redis restart leaves every node serving its own clients, and the cluster state
// is rebuilt when Redis is back.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { byEvent, connected, dataOf, once, pusherClient, rawClient, sdk, type RawClient } from "../helpers/clients.ts";
import type { TestServer } from "../helpers/server.ts";
import {
  MEMBER_ADDED, MEMBER_REMOVED, eventually, freePort, ownRedis, reachable, received, requireService, startCluster,
  subscribe, subscribed, uniquePrefix, type OwnRedis,
} from "../adapters/cluster.ts";

const redisUp = await requireService(reachable(6379), "Redis on 127.0.0.1:6379");
const redisBinary = await requireService(
  import("node:child_process").then(({ spawnSync }) => spawnSync("redis-server", ["--version"]).status === 0),
  "the redis-server binary (for the Redis restart test)",
);

async function users(server: TestServer, channel: string): Promise<string[]> {
  const res = await sdk(server).get({ path: `/channels/${channel}/users` });
  return ((await res.json()).users as { id: string }[]).map((u) => u.id).sort();
}

async function subscriptionCount(server: TestServer, channel: string): Promise<number> {
  const res = await sdk(server).get({ path: `/channels/${channel}`, params: { info: "subscription_count" } });
  return (await res.json()).subscription_count ?? 0;
}

function nodeIdOf(server: TestServer): string {
  const m = /adapter: connected \(node ([0-9a-f-]+)\)/.exec(server.output());
  if (!m) throw new Error(`no node id in output:\n${server.output()}`);
  return m[1]!;
}

const count = (text: string, needle: string) => text.split(needle).length - 1;

describe.skipIf(!redisUp)("redis adapter: a node killed with SIGKILL", () => {
  const prefix = uniquePrefix("kill");
  let nodes: TestServer[] = [];
  const clients: { close(): void }[] = [];
  beforeAll(async () => {
    nodes = await startCluster(3, { prefix, nodeTimeout: 2 });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it("stops being counted once its heartbeat expires: member_removed once, counts drop, no stale member returns", async () => {
    const [A, B, C] = nodes as [TestServer, TestServer, TestServer];
    const ch = "presence-kill";
    const pa = pusherClient(A, { presence: { user_id: "u1" } });
    clients.push({ close: () => pa.disconnect() });
    await connected(pa);
    const pac = pa.subscribe(ch) as any;
    await once(pac, "pusher:subscription_succeeded");
    const rb = await rawClient(B);
    clients.push(rb);
    await subscribe(B, rb, ch, { user_id: "u2" });
    // The doomed node holds u3 twice, and a public subscriber.
    const rc1 = await rawClient(C);
    await subscribe(C, rc1, ch, { user_id: "u3" });
    const rc2 = await rawClient(C);
    await subscribe(C, rc2, ch, { user_id: "u3" });
    expect(dataOf(await rb.next(byEvent(MEMBER_ADDED, ch))).user_id).toBe("u3");
    clients.push(await subscribed(C, "public-kill"), await subscribed(A, "public-kill"));
    expect(await users(A, ch)).toEqual(["u1", "u2", "u3"]);
    expect(await subscriptionCount(B, "public-kill")).toBe(2);
    const deadId = nodeIdOf(C);

    const pusherSaw = once(pac, "pusher:member_removed", 20_000);
    await C.kill("SIGKILL");
    expect(dataOf(await rb.next(byEvent(MEMBER_REMOVED, ch), 20_000))).toEqual({ user_id: "u3" });
    expect((await pusherSaw).id).toBe("u3");
    expect(pac.members.count).toBe(2);

    for (const node of [A, B]) {
      expect(await users(node, ch)).toEqual(["u1", "u2"]);
      expect(await subscriptionCount(node, ch)).toBe(2);
      expect(await subscriptionCount(node, "public-kill")).toBe(1);
    }
    // Exactly once: nothing more arrives before a later event from the sweeping nodes.
    for (const node of [A, B]) {
      await sdk(node).trigger(ch, "marker", {});
      await rb.next(byEvent("marker", ch));
    }
    expect(received(rb, MEMBER_REMOVED, ch)).toEqual([]);
    expect(received(rb, MEMBER_ADDED, ch)).toEqual([]);

    // The dead node is gone from Redis for good, so nothing of it can come back.
    const redis = new Redis("redis://127.0.0.1:6379");
    try {
      expect(await redis.zscore(`${prefix}{nodes}:nodes`, deadId)).toBeNull();
      expect(await redis.scard(`${prefix}{app-id}:n:${deadId}`)).toBe(0);
      expect(await redis.exists(`${prefix}{nodes}:na:${deadId}`)).toBe(0);
    } finally {
      redis.disconnect();
    }
    const late = pusherClient(B, { presence: { user_id: "u4" } });
    clients.push({ close: () => late.disconnect() });
    const lc = late.subscribe(ch) as any;
    await once(lc, "pusher:subscription_succeeded");
    expect(Object.keys(lc.members.members).sort()).toEqual(["u1", "u2", "u4"]);
  });
});

describe.skipIf(!redisUp)("redis adapter: a node stopped with SIGTERM", () => {
  const prefix = uniquePrefix("term");
  let nodes: TestServer[] = [];
  beforeAll(async () => {
    // A one-minute heartbeat timeout: only the graceful handover can explain a prompt removal.
    nodes = await startCluster(2, { prefix, nodeTimeout: 60 });
  });
  afterAll(() => Promise.all(nodes.map((n) => n.stop())));

  it("closes its sockets with 4200, removes its members at once, and the clients rejoin elsewhere", async () => {
    const [A, B] = nodes as [TestServer, TestServer];
    const ch = "presence-term";
    const watcher = await rawClient(A);
    await subscribe(A, watcher, ch, { user_id: "stay" });
    const leaving = await rawClient(B);
    await subscribe(B, leaving, ch, { user_id: "mover" });
    await watcher.next(byEvent(MEMBER_ADDED, ch));
    const leavingId = nodeIdOf(B);

    const stopped = B.stop();
    expect((await leaving.closed).code).toBe(4200);
    expect(dataOf(await watcher.next(byEvent(MEMBER_REMOVED, ch), 10_000))).toEqual({ user_id: "mover" });
    await stopped;
    expect(await users(A, ch)).toEqual(["stay"]);
    const redis = new Redis("redis://127.0.0.1:6379");
    try {
      expect(await redis.zscore(`${prefix}{nodes}:nodes`, leavingId)).toBeNull();
      expect(await redis.exists(`${prefix}{nodes}:na:${leavingId}`)).toBe(0);
    } finally {
      redis.disconnect();
    }
    // Reconnecting (as a load balancer would route it) to the surviving node.
    const back = await rawClient(A);
    await subscribe(A, back, ch, { user_id: "mover" });
    expect(dataOf(await watcher.next(byEvent(MEMBER_ADDED, ch)))).toEqual({ user_id: "mover", user_info: null });
    expect(await users(A, ch)).toEqual(["mover", "stay"]);
    watcher.close();
    back.close();
  });
});

describe.skipIf(!redisBinary)("redis adapter: Redis restarts under a running cluster", () => {
  let redis: OwnRedis;
  let nodes: TestServer[] = [];
  const clients: RawClient[] = [];
  beforeAll(async () => {
    redis = ownRedis(await freePort());
    await redis.start();
    nodes = await startCluster(2, { prefix: uniquePrefix("restart"), redisUrl: redis.url, nodeTimeout: 2 });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all(nodes.map((n) => n.stop()));
    await redis?.kill();
  });

  it("keeps serving local clients during the outage and resynchronises the cluster afterwards", async () => {
    const [A, B] = nodes as [TestServer, TestServer];
    const ch = "presence-restart";
    const a = await rawClient(A);
    await subscribe(A, a, ch, { user_id: "u1" });
    const b = await rawClient(B);
    await subscribe(B, b, ch, { user_id: "u2" });
    const pubA = await subscribed(A, "public-restart");
    const pubB = await subscribed(B, "public-restart");
    clients.push(a, b, pubA, pubB);
    expect(await users(B, ch)).toEqual(["u1", "u2"]);

    await redis.kill();
    await eventually(() => A.output().includes("connection lost") && B.output().includes("connection lost"), 10_000, "nodes to notice the outage");
    // Local clients are still served: REST to their own node, new subscriptions, presence.
    await sdk(A).trigger("public-restart", "during", { n: 1 });
    expect(dataOf(await pubA.next(byEvent("during", "public-restart")))).toEqual({ n: 1 });
    const joiner = await rawClient(A);
    clients.push(joiner);
    const ack = dataOf(await subscribe(A, joiner, ch, { user_id: "u3" }));
    expect(ack.presence.ids).toContain("u3");

    await redis.start();
    await eventually(async () => (await users(B, ch)).join() === "u1,u2,u3", 20_000, "presence state to be rebuilt");
    expect(await users(A, ch)).toEqual(["u1", "u2", "u3"]);
    await eventually(async () => (await subscriptionCount(B, "public-restart")) === 2, 10_000, "subscriptions to be rebuilt");
    // The bus works again in both directions.
    await sdk(A).trigger("public-restart", "after", { n: 2 });
    expect(dataOf(await pubB.next(byEvent("after", "public-restart"), 10_000))).toEqual({ n: 2 });
    await sdk(B).trigger("public-restart", "after", { n: 3 });
    expect(dataOf(await pubA.next((f) => f.event === "after" && dataOf(f).n === 3, 10_000))).toEqual({ n: 3 });
    // Only what changed during the outage is announced, once, and only to the nodes that missed it.
    expect(dataOf(await b.next(byEvent(MEMBER_ADDED, ch), 10_000))).toEqual({ user_id: "u3", user_info: null });
    await sdk(A).trigger(ch, "marker", {});
    await Promise.all([a, b].map((c) => c.next(byEvent("marker", ch))));
    expect(received(b, MEMBER_ADDED, ch)).toEqual([]);
    expect(received(a, MEMBER_ADDED, ch).map((f) => dataOf(f).user_id)).toEqual(["u2", "u3"]);
    expect(received(a, MEMBER_REMOVED, ch)).toEqual([]);
    // One log line per state change, and no crash.
    for (const node of [A, B]) {
      expect(count(node.output(), "connection lost")).toBe(1);
      expect(count(node.output(), "connection restored")).toBe(1);
      expect(node.process.exitCode).toBeNull();
    }
  });
});
