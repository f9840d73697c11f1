// The backend hangs (test/adapters/hung-backend-suite.ts) on the redis-cluster driver: a private
// Redis Cluster of three masters, every one stopped with SIGSTOP.
import { startCluster } from "../adapters/cluster.ts";
import { describeHungBackend } from "../adapters/hung-backend-suite.ts";
import { redisClusterTestable, startRedisCluster } from "../adapters/redis-cluster.ts";

const installed = redisClusterTestable();

describeHungBackend({
  label: "redis-cluster",
  available: installed,
  start: startCluster,
  async bus() {
    const redis = await startRedisCluster();
    return {
      env: { ADAPTER_DRIVER: "redis-cluster", REDIS_CLUSTER_NODES: redis.nodes, APP_ENABLE_USER_AUTHENTICATION: "false" },
      signal: redis.signal,
      destroy: redis.stop,
    };
  },
});
