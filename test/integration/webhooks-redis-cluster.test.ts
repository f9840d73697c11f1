// QUEUE_DRIVER=redis-cluster against a real 3-master Redis Cluster started here: two nodes share
// the queue (its keys in one hash slot), and a job one node leased is delivered after it dies.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawClient } from "../helpers/clients.ts";
import type { TestServer } from "../helpers/server.ts";
import { startReceiver, tally, type Receiver } from "../helpers/webhook-receiver.ts";
import { startNode, subscribe, uniquePrefix } from "../adapters/cluster.ts";
import { redisClusterTestable, startRedisCluster, type OwnRedisCluster } from "../adapters/redis-cluster.ts";

const installed = redisClusterTestable();

describe.skipIf(!installed)("webhooks with QUEUE_DRIVER=redis-cluster", () => {
  let redis: OwnRedisCluster | undefined;
  let receiver: Receiver;
  const nodes: TestServer[] = [];
  beforeAll(async () => {
    redis = await startRedisCluster();
    receiver = await startReceiver({ appId: "app-id", key: "app-key", secret: "app-secret" });
  }, 60_000);
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await receiver?.close();
    await redis?.stop();
  });

  it("delivers through the cluster queue, and another node takes over a dead node's leased job", async () => {
    let hanging = true;
    receiver.answer = () => (hanging ? undefined : 200);
    const env = {
      ADAPTER_DRIVER: "redis-cluster", REDIS_CLUSTER_NODES: redis!.nodes, QUEUE_DRIVER: "redis-cluster", LOG_LEVEL: "debug",
      WEBHOOK_TIMEOUT_MS: "4000", WEBHOOK_VISIBILITY_TIMEOUT_MS: "5000",
      APP_WEBHOOKS: JSON.stringify([{ url: receiver.url, event_types: ["channel_occupied"] }]),
    };
    const prefix = uniquePrefix("hooksrc");
    const a = await startNode({ prefix, env });
    nodes.push(a);
    const c = await rawClient(a);
    await subscribe(a, c, "rc-hook");
    const deadline = Date.now() + 5000;
    while (!/webhook queued/.test(a.output())) {
      if (Date.now() > deadline) throw new Error(`not queued:\n${a.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 300)); // a leases it; the request hangs
    const b = await startNode({ prefix, env });
    nodes.push(b);
    await a.kill("SIGKILL");
    hanging = false;
    const events = await receiver.waitFor((all) => all.some((e) => e.channel === "rc-hook"), 15_000);
    expect(tally(events)).toEqual({ "channel_occupied rc-hook": 1 });
    // The receiver records a body before answering; B logs the send once the answer is in.
    const logged = Date.now() + 5000;
    while (!/webhook sent to .* 200/.test(b.output()) && Date.now() < logged) await new Promise((r) => setTimeout(r, 50));
    expect(b.output()).toMatch(/webhook sent to .* 200/);
    c.close();
  });
});
