// One shard of a Redis Cluster restarts (the others stay up): the shard that holds an app's bus
// comes back empty, and the nodes' sharded subscribers must hear that app's bus again before a
// publish is answered 2xx, or a node's sockets miss what was accepted.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedRequest } from "../helpers/rest.ts";
import type { TestServer } from "../helpers/server.ts";
import { eventually, marker, received, startCluster, subscribed, uniquePrefix } from "../adapters/cluster.ts";
import { redisClusterTestable, startRedisCluster, type OwnRedisCluster } from "../adapters/redis-cluster.ts";

const installed = redisClusterTestable();

describe.skipIf(!installed)("redis-cluster adapter: one shard restarts", () => {
  let redis: OwnRedisCluster | undefined;
  let nodes: TestServer[] = [];
  const prefix = uniquePrefix("rc-shard");
  beforeAll(async () => {
    redis = await startRedisCluster();
    nodes = await startCluster(2, { prefix, env: { ADAPTER_DRIVER: "redis-cluster", REDIS_CLUSTER_NODES: redis.nodes } });
  }, 60_000);
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    if (process.env.DEBUG_CLUSTER) for (const n of nodes) console.log(n.output());
    await redis?.stop();
  });

  it("delivers every publish answered 200 to the other node's subscribers after the app bus's shard restarted", async () => {
    const [A, B] = nodes as [TestServer, TestServer];
    const a = await subscribed(A, "kept");
    let n = 0;
    const publish = () => signedRequest(B, "POST", "/events", JSON.stringify({ name: "ev", channel: "kept", data: JSON.stringify({ n: n++ }) }));
    expect((await publish()).status).toBe(200);
    await eventually(() => received(a, "ev").length === 1, 10_000, "the first event");
    // Publishing all along: while the shard is away, while it is back but empty, and after.
    const accepted: number[] = [];
    let restarted = false;
    let afterRestart = 0;
    let refused = 0;
    const publishing = (async () => {
      const deadline = Date.now() + 90_000;
      while (afterRestart < 5 && Date.now() < deadline) {
        const k = n;
        const r = await publish();
        if (process.env.DEBUG_CLUSTER) console.log("publish", k, r.status, restarted);
        if (r.status === 200) {
          accepted.push(k);
          if (restarted) afterRestart++;
        } else {
          expect(r.status).toBe(503);
          refused++;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    // Down for a few seconds, under the cluster's node timeout: the other shards never fail it over.
    await redis!.restartShardOf(`${prefix}{app-id}:bus`, async () => {
      await new Promise((r) => setTimeout(r, 3000));
    });
    restarted = true;
    await publishing;
    expect(afterRestart).toBe(5);
    expect(refused).toBeGreaterThan(0); // the outage was seen, not slept through
    await marker(B, "kept", [a]);
    const got = new Set(received(a, "ev").map((f) => (JSON.parse(f.data as string) as { n: number }).n));
    expect(accepted.filter((k) => !got.has(k))).toEqual([]);
    a.close();
  }, 180_000);
});
