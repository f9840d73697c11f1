// The cluster contract and the failover suite on the upstash driver: nodes reach Redis only
// through the Upstash REST API (our bridge in front of a real Redis). The restart test kills the
// Redis behind a bridge of its own, as an Upstash outage looks to the nodes.
import { afterAll, beforeAll } from "vitest";
import { startUpstashBridge, type UpstashBridge } from "../helpers/upstash-bridge.ts";
import { freePort, ownRedis, reachable, redisTraces, requireService, startCluster, type ClusterOptions } from "../adapters/cluster.ts";
import { describeCluster } from "../adapters/cluster-suite.ts";
import { describePresenceStorm } from "../adapters/presence-storm-suite.ts";
import { describeFailover } from "../adapters/failover-suite.ts";

const redisUp = await requireService(reachable(6379), "Redis on 127.0.0.1:6379 (behind the Upstash bridge)");
let bridge: UpstashBridge | undefined;
beforeAll(async () => {
  if (redisUp) bridge = await startUpstashBridge({ redisUrl: "redis://127.0.0.1:6379" });
});
afterAll(() => bridge?.close());

const upstash = (b: UpstashBridge) => ({
  ADAPTER_DRIVER: "upstash",
  UPSTASH_REDIS_REST_URL: b.url,
  UPSTASH_REDIS_REST_TOKEN: b.token,
  // Nothing may reach Redis over TCP: a wrong REDIS_URL proves the driver only uses REST.
  REDIS_URL: "redis://127.0.0.1:1",
});
const start = (size: number, options: ClusterOptions) => startCluster(size, { ...options, env: { ...upstash(bridge!), ...options.env } });

describeCluster({ label: "upstash", available: redisUp, start });
describeFailover({
  label: "upstash",
  busName: "the Redis behind the REST API",
  available: redisUp,
  start,
  traces: (prefix, nodeId) => redisTraces("redis://127.0.0.1:6379", prefix, nodeId),
  ownBus: redisUp
    ? async () => {
        const redis = ownRedis(await freePort());
        const own = await startUpstashBridge({ redisUrl: redis.url });
        return {
          env: upstash(own),
          start: redis.start,
          kill: redis.kill,
          destroy: async () => {
            await own.close();
            await redis.kill();
          },
        };
      }
    : undefined,
});
describePresenceStorm({ label: "upstash", available: redisUp, sizes: [1, 3], start });
