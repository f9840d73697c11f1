// RATE_LIMITER_DRIVER=redis-cluster against a real 3-master Redis Cluster started here: two nodes
// share each address's budget (one key per address and window, so one slot per counter).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniquePrefix } from "../adapters/cluster.ts";
import { redisClusterTestable, startRedisCluster, type OwnRedisCluster } from "../adapters/redis-cluster.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

const installed = redisClusterTestable();

describe.skipIf(!installed)("per-IP limits with RATE_LIMITER_DRIVER=redis-cluster", () => {
  let redis: OwnRedisCluster | undefined;
  let nodes: TestServer[] = [];
  beforeAll(async () => {
    redis = await startRedisCluster();
    const env = {
      ADAPTER_DRIVER: "local", RATE_LIMITER_ENABLED: "true", RATE_LIMITER_DRIVER: "redis-cluster", REDIS_CLUSTER_NODES: redis.nodes,
      REDIS_PREFIX: uniquePrefix("iplimit-rc"), RATE_LIMITER_API_MAX_REQUESTS: "3", RATE_LIMITER_TIMEOUT_MS: "2000",
    };
    nodes = await Promise.all([startServer({ env }), startServer({ env })]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await redis?.stop();
  });

  it("the API budget spans the nodes", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await fetch(`http://127.0.0.1:${nodes[i % 2]!.port}/apps/app-id/channels`)).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    for (const node of nodes) expect(node.output()).not.toMatch(/rate limiter \(redis-cluster\) unreachable/);
  });
});
