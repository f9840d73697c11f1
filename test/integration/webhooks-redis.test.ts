// Webhooks on a Redis-backed cluster: each cluster transition is sent once by a 3-node cluster,
// and with QUEUE_DRIVER=redis a SIGKILL of the node that saw the events loses nothing.
import { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { rawClient, sdk, type RawClient } from "../helpers/clients.ts";
import type { TestServer } from "../helpers/server.ts";
import { startReceiver, tally, type Receiver } from "../helpers/webhook-receiver.ts";
import { freePort, getJson, ownRedis, reachable, requireService, startNode, subscribe, uniquePrefix } from "../adapters/cluster.ts";
import { startServer } from "../helpers/server.ts";
import { scrape, total, waitFor } from "../helpers/observe.ts";

const redisUp = await requireService(reachable(6379), "Redis on 127.0.0.1:6379");
const APP = { appId: "app-id", key: "app-key", secret: "app-secret" };
const TYPES = ["channel_occupied", "channel_vacated", "member_added", "member_removed", "client_event"];

const servers: TestServer[] = [];
const clients: RawClient[] = [];
const receivers: Receiver[] = [];
const prefixes: string[] = [];

async function node(prefix: string, receiver: Receiver, env: Record<string, string> = {}): Promise<TestServer> {
  const s = await startNode({
    prefix,
    nodeTimeout: 2,
    env: { QUEUE_DRIVER: "redis", LOG_LEVEL: "debug", APP_WEBHOOKS: JSON.stringify([{ url: receiver.url, event_types: TYPES }]), ...env },
  });
  servers.push(s);
  return s;
}

/** A webhook counter of the nodes, summed (switchboard_webhook_<name>_total). */
async function counted(nodes: TestServer[], name: string): Promise<number> {
  const values = await Promise.all(nodes.map(async (n) => total(await scrape(n), `switchboard_webhook_${name}_total`)));
  return values.reduce((a, b) => a + b, 0);
}

/**
 * Every job the nodes queued has been delivered: what "no duplicate arrives later" can wait for.
 * A duplicate is a job some node queued, so it shows in webhook_queued_total before it is sent.
 */
async function drained(nodes: TestServer[], what: string): Promise<void> {
  await waitFor(async () => (await counted(nodes, "sent")) === (await counted(nodes, "queued")), what, 10_000);
}

async function client(server: TestServer): Promise<RawClient> {
  const c = await rawClient(server);
  clients.push(c);
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

afterAll(async () => {
  if (!redisUp) return;
  const redis = new Redis("redis://127.0.0.1:6379");
  for (const p of prefixes) {
    const keys = await redis.keys(`${p}*`);
    if (keys.length) await redis.del(...keys);
  }
  redis.disconnect();
});

describe.skipIf(!redisUp)("webhooks on a 3-node Redis cluster", () => {
  it("sends each transition once, whichever nodes the clients are on", async () => {
    const receiver = await startReceiver(APP);
    receivers.push(receiver);
    const prefix = uniquePrefix("hooks3");
    prefixes.push(prefix);
    const [a, b, c] = await Promise.all([node(prefix, receiver), node(prefix, receiver), node(prefix, receiver)]);
    const ch = "presence-trio";
    const ca = await client(a!);
    await subscribe(a!, ca, ch, { user_id: "u1" });
    const cb = await client(b!);
    await subscribe(b!, cb, ch, { user_id: "u2" });
    const cc = await client(c!);
    await subscribe(c!, cc, ch, { user_id: "u1" }); // u1 again, from another node: no member_added
    const pub = await Promise.all([a!, b!, c!].map(async (s) => {
      const x = await client(s);
      await subscribe(s, x, "public-trio");
      return x;
    }));
    cb.send({ event: "client-hi", channel: ch, data: {} });
    for (const x of [ca, cb, cc, ...pub]) x.close();
    await receiver.waitFor((all) => all.filter((e) => e.name === "channel_vacated").length >= 2, 15_000);
    await drained([a!, b!, c!], "every queued webhook to be sent");
    expect(await counted([a!, b!, c!], "queued")).toBe(9);
    expect(tally(receiver.events())).toEqual({
      "channel_occupied presence-trio": 1,
      "member_added presence-trio u1": 1,
      "member_added presence-trio u2": 1,
      "client_event presence-trio u2": 1,
      "member_removed presence-trio u1": 1,
      "member_removed presence-trio u2": 1,
      "channel_vacated presence-trio": 1,
      "channel_occupied public-trio": 1,
      "channel_vacated public-trio": 1,
    });
    expect(receiver.events()).toHaveLength(9);
    expect(receiver.received.every((r) => r.valid)).toBe(true);
  });
});

describe.skipIf(!redisUp)("webhooks with QUEUE_DRIVER=redis: a SIGKILL loses nothing", () => {
  it("another node delivers the jobs the killed node had taken, once their lease expires", async () => {
    const receiver = await startReceiver(APP);
    receivers.push(receiver);
    let hanging = true;
    let hung = 0;
    receiver.answer = () => {
      if (!hanging) return 200;
      hung++; // the endpoint hangs while A holds the jobs
      return undefined;
    };
    const prefix = uniquePrefix("hookskill");
    prefixes.push(prefix);
    const timing = { WEBHOOK_TIMEOUT_MS: "5000", WEBHOOK_VISIBILITY_TIMEOUT_MS: "6000" };
    const a = await node(prefix, receiver, timing);
    const ca = await client(a);
    for (const ch of ["kill-1", "kill-2", "kill-3"]) await subscribe(a, ca, ch);
    // A alone works the queue, so A holds the three jobs (their requests hang).
    await waitFor(async () => (await counted([a], "queued")) >= 3 && hung >= 3, "A to queue and send the three jobs");
    const b = await node(prefix, receiver, timing);
    await a.kill("SIGKILL");
    hanging = false;
    const done = (all: { name: string; channel: string }[]) => ["kill-1", "kill-2", "kill-3"].every((ch) =>
      ["channel_occupied", "channel_vacated"].every((name) => all.some((e) => e.name === name && e.channel === ch)));
    await receiver.waitFor(done, 20_000);
    // B answers for what A queued too (the lease expired), so B's own counters cannot balance:
    // the sentinel is a channel B queues after everything above, on the queue A's jobs went back to.
    const cb = await client(b);
    await subscribe(b, cb, "kill-sentinel");
    const events = await receiver.waitFor((all) => all.some((e) => e.channel === "kill-sentinel"), 20_000);
    const t = tally(events);
    for (const ch of ["kill-1", "kill-2", "kill-3"]) {
      expect(t[`channel_occupied ${ch}`]).toBe(1);
      expect(t[`channel_vacated ${ch}`]).toBe(1); // from B's sweep of the dead node
    }
    // The receiver records a body before answering; B counts the send once the answer is in.
    await waitFor(async () => (await counted([b], "sent")) >= 1, "B to count a delivered webhook");
    expect(receiver.received.every((r) => r.valid)).toBe(true);
  });

  it("retries wait in Redis: an endpoint down for a while gets everything from whichever node is alive", async () => {
    const receiver = await startReceiver(APP);
    receivers.push(receiver);
    let down = true;
    receiver.answer = () => (down ? 503 : 200);
    const prefix = uniquePrefix("hooksretry");
    prefixes.push(prefix);
    const a = await node(prefix, receiver);
    const b = await node(prefix, receiver);
    const ca = await client(a);
    await subscribe(a, ca, "retry-kill");
    await waitFor(async () => (await counted([a, b], "failures")) >= 1, "a failed attempt");
    await a.kill("SIGKILL");
    down = false;
    // The occupied job waits in Redis for its retry (or for its lease to expire, if A held it when it
    // died); the vacated one comes from B's sweep: either may arrive first.
    const has = (all: { name: string; channel?: string }[], name: string) => all.some((e) => e.name === name && e.channel === "retry-kill");
    const events = await receiver.waitFor((all) => has(all, "channel_vacated") && has(all, "channel_occupied"), 30_000);
    expect(tally(events)).toEqual({ "channel_occupied retry-kill": 1, "channel_vacated retry-kill": 1 });
  });
});

describe.skipIf(!redisUp)("webhooks with QUEUE_DRIVER=redis while Redis is down", () => {
  it("keeps serving, holds the jobs, and queues them once Redis is back", async () => {
    const receiver = await startReceiver(APP);
    receivers.push(receiver);
    const redis = ownRedis(await freePort());
    try {
      const s = await startServer({
        env: { QUEUE_DRIVER: "redis", REDIS_URL: redis.url, LOG_LEVEL: "debug", APP_WEBHOOKS: JSON.stringify([{ url: receiver.url, event_types: TYPES }]) },
      });
      servers.push(s);
      const c = await client(s);
      await subscribe(s, c, "while-down"); // the socket is answered although the queue is away
      const deadline = Date.now() + 5000;
      while (!/webhooks: queue unreachable, holding job/.test(s.output())) {
        if (Date.now() > deadline) throw new Error(`no warning logged:\n${s.output()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      await redis.start();
      const events = await receiver.waitFor((all) => all.some((e) => e.channel === "while-down"), 15_000);
      expect(tally(events)).toEqual({ "channel_occupied while-down": 1 });
    } finally {
      await redis.kill();
    }
  });
});

describe.skipIf(!redisUp)("cache_miss webhooks on a 2-node Redis cluster", () => {
  it("are sent once per channel cluster-wide, until an event is cached or the channel is vacated", async () => {
    const receiver = await startReceiver(APP);
    receivers.push(receiver);
    const prefix = uniquePrefix("hooksmiss");
    prefixes.push(prefix);
    const hooks = { APP_WEBHOOKS: JSON.stringify([{ url: receiver.url, event_types: ["cache_miss"] }]), CACHE_TTL_SECONDS: "1" };
    const [a, b] = await Promise.all([node(prefix, receiver, hooks), node(prefix, receiver, hooks)]);
    const misses = (ch: string) => receiver.events((e) => e.name === "cache_miss" && e.channel === ch).length;
    /**
     * A miss on a fresh channel from `on`, sent after the misses before it on that node (one
     * connection keeps their order): once its webhook arrived and the queues drained, no earlier
     * miss can still be on its way.
     */
    const settled = async (on: TestServer, label: string) => {
      const ch = `cache-sentinel-${label}`;
      await subscribe(on, await client(on), ch);
      await receiver.waitFor((all) => all.some((e) => e.name === "cache_miss" && e.channel === ch), 10_000);
      await drained([a!, b!], "every queued webhook to be sent");
    };

    // Both nodes' subscribers see pusher:cache_miss; only one webhook goes out.
    const first = await client(a!);
    await subscribe(a!, first, "cache-shared");
    await first.next((f) => f.event === "pusher:cache_miss" && f.channel === "cache-shared");
    const second = await client(b!);
    await subscribe(b!, second, "cache-shared");
    await second.next((f) => f.event === "pusher:cache_miss" && f.channel === "cache-shared");
    await settled(b!, "1");
    expect(misses("cache-shared")).toBe(1);

    // An event cached ends the suppression: once it expired (CACHE_TTL_SECONDS=1), the next
    // subscriber's miss is sent again.
    await sdk(a!).trigger("cache-shared", "tick", { n: 1 });
    await waitFor(async () => (await getJson(b!, "/channels/cache-shared", { info: "cache" })).cache === null, "the cached event to expire");
    const third = await client(b!);
    await subscribe(b!, third, "cache-shared");
    await third.next((f) => f.event === "pusher:cache_miss" && f.channel === "cache-shared");
    await settled(b!, "1b");
    expect(misses("cache-shared")).toBe(2);
    // Vacating ends it too: everyone leaves, a new subscriber on the other node misses again.
    await subscribe(b!, await client(b!), "cache-vacated");
    await settled(b!, "2");
    expect(misses("cache-vacated")).toBe(1);
    for (const c of clients.splice(0)) c.close();
    await waitFor(async () => (await getJson(a!, "/channels/cache-vacated")).occupied === false, "cache-vacated to be vacated");
    const again = await client(a!);
    await subscribe(a!, again, "cache-vacated");
    await again.next((f) => f.event === "pusher:cache_miss" && f.channel === "cache-vacated");
    await settled(a!, "3");
    expect(misses("cache-vacated")).toBe(2);
  });
});
