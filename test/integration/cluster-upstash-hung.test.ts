// The backend hangs (test/adapters/hung-backend-suite.ts) on the upstash driver: the REST bridge
// in front of a private redis-server stopped with SIGSTOP, so every REST request is accepted and
// never answered.
import { freePort, ownRedis, requireService, startCluster } from "../adapters/cluster.ts";
import { describeHungBackend } from "../adapters/hung-backend-suite.ts";
import { startUpstashBridge } from "../helpers/upstash-bridge.ts";

const redisBinary = await requireService(
  import("node:child_process").then(({ spawnSync }) => spawnSync("redis-server", ["--version"]).status === 0),
  "the redis-server binary (for a private Redis behind the Upstash bridge)",
);

describeHungBackend({
  label: "upstash",
  available: redisBinary,
  start: startCluster,
  async bus() {
    const redis = ownRedis(await freePort());
    await redis.start();
    const bridge = await startUpstashBridge({ redisUrl: redis.url });
    return {
      env: {
        ADAPTER_DRIVER: "upstash",
        UPSTASH_REDIS_REST_URL: bridge.url,
        UPSTASH_REDIS_REST_TOKEN: bridge.token,
        // Nothing may reach Redis over TCP: the driver only uses REST.
        REDIS_URL: "redis://127.0.0.1:1",
      },
      signal: redis.signal,
      async destroy() {
        await bridge.close();
        await redis.kill();
      },
    };
  },
});
