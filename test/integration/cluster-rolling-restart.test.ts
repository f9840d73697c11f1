// A rolling deploy of a 3-node cluster under a keep-alive publisher (issue 21), on every adapter
// driver, on the runtime under test (SWITCHBOARD_RUNTIME). See rolling-restart-suite.ts.
import { afterAll, beforeAll } from "vitest";
import { reachable, requireService } from "../adapters/cluster.ts";
import { natsForFile } from "../adapters/nats.ts";
import { redisServerInstalled, startRedisCluster, type OwnRedisCluster } from "../adapters/redis-cluster.ts";
import { describeRollingRestart } from "../adapters/rolling-restart-suite.ts";
import { startUpstashBridge, type UpstashBridge } from "../helpers/upstash-bridge.ts";

const redisUp = await requireService(reachable(6379), "Redis on 127.0.0.1:6379");
const nats = await natsForFile();
const clusterInstalled = await requireService(redisServerInstalled(), "redis-server and redis-cli (for a private Redis Cluster)");

let bridge: UpstashBridge | undefined;
let redisCluster: OwnRedisCluster | undefined;
beforeAll(async () => {
  if (redisUp) bridge = await startUpstashBridge({ redisUrl: "redis://127.0.0.1:6379" });
  if (clusterInstalled) redisCluster = await startRedisCluster();
}, 60_000);
afterAll(async () => {
  await bridge?.close();
  await redisCluster?.stop();
});

describeRollingRestart({ label: "redis", available: redisUp, env: () => ({ ADAPTER_DRIVER: "redis", REDIS_URL: "redis://127.0.0.1:6379" }) });
describeRollingRestart({ label: "nats", available: nats.available, env: () => ({ ADAPTER_DRIVER: "nats", NATS_SERVERS: nats.url() }) });
describeRollingRestart({
  label: "upstash",
  available: redisUp,
  env: () => ({ ADAPTER_DRIVER: "upstash", UPSTASH_REDIS_REST_URL: bridge!.url, UPSTASH_REDIS_REST_TOKEN: bridge!.token, REDIS_URL: "redis://127.0.0.1:1" }),
  // The REST bridge runs in this test process, beside the publisher and the subscribers: every
  // publish's HTTP round trips to it share one event loop, which holds the rate near 150/s.
  minAnswered: 200,
});
describeRollingRestart({
  label: "redis-cluster",
  available: clusterInstalled,
  env: () => ({ ADAPTER_DRIVER: "redis-cluster", REDIS_CLUSTER_NODES: redisCluster!.nodes }),
});
