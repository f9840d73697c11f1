// Webhooks across a restart of the cluster's bus: Redis without persistence (it comes back empty)
// and NATS (JetStream keeps the bucket). A node cut off from the bus sees only its own sockets, so
// what it decides alone must not become a webhook: the channel or member it saw go may still be
// held on another node. When the bus is back, the real transitions are sent, once.
import { spawnSync } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { byEvent, rawClient, type RawClient } from "../helpers/clients.ts";
import { scrape, total, waitFor } from "../helpers/observe.ts";
import type { TestServer } from "../helpers/server.ts";
import { startReceiver, tally, type Receiver } from "../helpers/webhook-receiver.ts";
import { freePort, ownRedis, requireService, startNode, subscribe, uniquePrefix } from "../adapters/cluster.ts";
import { natsServerInstalled, ownNats } from "../adapters/nats.ts";

interface Bus {
  env: Record<string, string>;
  start(): Promise<void>;
  kill(): Promise<void>;
  destroy(): Promise<void>;
}

const buses: [string, boolean, () => Promise<Bus>][] = [
  ["Redis", await requireService(spawnSync("redis-server", ["--version"]).status === 0, "the redis-server binary"), async () => {
    const redis = ownRedis(await freePort());
    return { env: { REDIS_URL: redis.url }, start: redis.start, kill: redis.kill, destroy: redis.kill };
  }],
  ["NATS", await requireService(natsServerInstalled(), "the nats-server binary"), async () => {
    const nats = await ownNats();
    return { env: { ADAPTER_DRIVER: "nats", NATS_SERVERS: nats.url }, start: nats.start, kill: nats.kill, destroy: nats.destroy };
  }],
];
const APP = { appId: "app-id", key: "app-key", secret: "app-secret" };
const TYPES = ["channel_occupied", "channel_vacated", "member_added", "member_removed"];

/** Whether the node reports its cluster bus up (the backend_up gauge of role adapter). */
async function busUp(node: TestServer): Promise<boolean> {
  return total(await scrape(node), "switchboard_backend_up", 'role="adapter"') === 1;
}

describe.each(buses)("webhooks across a %s restart", (_name, available, ownBus) => {
  let bus: Bus | undefined;
  let receiver: Receiver | undefined;
  const nodes: TestServer[] = [];
  const clients: RawClient[] = [];
  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all(nodes.map((n) => n.stop()));
    if (process.env.DEBUG_CLUSTER) for (const n of nodes) console.log("=====", n.output());
    if (process.env.DEBUG_CLUSTER) console.log(JSON.stringify(receiver?.events()));
    await receiver?.close();
    await bus?.destroy();
  });

  it.skipIf(!available)("sends none from one node's view during the outage, then the real transitions once", async () => {
    bus = await ownBus();
    await bus.start();
    receiver = await startReceiver(APP);
    // One webhook worker per node: each node's webhooks arrive in the order it decided them, so a
    // node's sentinel arriving means whatever it decided before has arrived too.
    const env = { ...bus.env, WEBHOOK_CONCURRENCY: "1", APP_WEBHOOKS: JSON.stringify([{ url: receiver.url, event_types: TYPES }]) };
    const prefix = uniquePrefix("hook-outage");
    // A node timeout well above the reconnect back-off's spread (NATS: jittered, so two nodes come
    // back up to ~1.5 s apart after this restart): otherwise the first node back may rightly take
    // the other for dead and sweep it, and the webhooks of that sweep are not what this test checks.
    const [A, B] = await Promise.all([startNode({ prefix, nodeTimeout: 4, env }), startNode({ prefix, nodeTimeout: 4, env })]) as [TestServer, TestServer];
    nodes.push(A, B);
    const join = async (node: TestServer, channel: string, member?: { user_id: string }) => {
      const c = await rawClient(node);
      clients.push(c);
      await subscribe(node, c, channel, member);
      return c;
    };
    // "u" is on both nodes in presence-shared; private-alone has one socket, on B.
    await join(A, "presence-shared", { user_id: "u" });
    const onB = await join(B, "presence-shared", { user_id: "u" });
    const alone = await join(B, "private-alone");
    await receiver.waitFor((events) => events.length >= 3);

    await bus.kill();
    await waitFor(async () => !(await busUp(A)) && !(await busUp(B)), "the nodes to notice", 10_000);
    // B alone sees presence-shared vacated and "u" gone: not so, A still holds both.
    onB.send({ event: "pusher:unsubscribe", data: { channel: "presence-shared" } });
    alone.send({ event: "pusher:unsubscribe", data: { channel: "private-alone" } });
    // B has handled both: a socket answers a ping only after the frames before it.
    for (const c of [onB, alone]) {
      c.send({ event: "pusher:ping", data: {} });
      await c.next(byEvent("pusher:pong"));
    }

    // Back (Redis empty): the nodes re-register, and private-alone, which really emptied, is announced.
    await bus.start();
    await receiver.waitFor((events) => events.some((e) => e.name === "channel_vacated"), 15_000);
    await waitFor(async () => (await busUp(A)) && (await busUp(B)), "the nodes to reconnect", 15_000);
    // Nothing else follows: a fresh channel on each node is announced after whatever that node
    // decided during the outage or the resync (nothing can be announced during the outage itself).
    await Promise.all([A, B].map((node, i) => join(node, `sentinel-${i}`)));
    const events = await receiver.waitFor((all) => [0, 1].every((i) => all.some((e) => e.channel === `sentinel-${i}`)), 15_000);
    expect(tally(events.filter((e) => !e.channel.startsWith("sentinel-")))).toEqual({
      "channel_occupied presence-shared": 1, "member_added presence-shared u": 1, "channel_occupied private-alone": 1,
      "channel_vacated private-alone": 1,
    });
    expect(receiver.received.every((r) => r.valid)).toBe(true);
  }, 60_000);
});
