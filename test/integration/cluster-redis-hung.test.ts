// The backend hangs (test/adapters/hung-backend-suite.ts) on the redis driver: a private
// redis-server that the test stops with SIGSTOP (never the shared one on 6379).
import { freePort, ownRedis, requireService, startCluster } from "../adapters/cluster.ts";
import { describeHungBackend } from "../adapters/hung-backend-suite.ts";

const redisBinary = await requireService(
  import("node:child_process").then(({ spawnSync }) => spawnSync("redis-server", ["--version"]).status === 0),
  "the redis-server binary (for a private Redis to stop)",
);

describeHungBackend({
  label: "redis",
  available: redisBinary,
  start: startCluster,
  async bus() {
    const redis = ownRedis(await freePort());
    await redis.start();
    return { env: { REDIS_URL: redis.url }, signal: redis.signal, destroy: redis.kill };
  },
});
