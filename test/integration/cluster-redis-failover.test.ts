// Node and bus failures (test/adapters/failover-suite.ts) on the redis driver: the Redis on 6379
// for SIGKILL/SIGTERM, and a private redis-server for the restart test.
import { freePort, ownRedis, reachable, redisTraces, requireService, startCluster } from "../adapters/cluster.ts";
import { describeFailover } from "../adapters/failover-suite.ts";

const redisUp = await requireService(reachable(6379), "Redis on 127.0.0.1:6379");
const redisBinary = await requireService(
  import("node:child_process").then(({ spawnSync }) => spawnSync("redis-server", ["--version"]).status === 0),
  "the redis-server binary (for the Redis restart test)",
);

describeFailover({
  label: "redis",
  busName: "Redis",
  available: redisUp,
  start: startCluster,
  traces: (prefix, nodeId) => redisTraces("redis://127.0.0.1:6379", prefix, nodeId),
  ownBus: redisBinary
    ? async () => {
        const redis = ownRedis(await freePort());
        return { env: { REDIS_URL: redis.url }, start: redis.start, kill: redis.kill, destroy: redis.kill };
      }
    : undefined,
});
