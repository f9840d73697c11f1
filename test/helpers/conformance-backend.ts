// The backend of a conformance topology that needs a process of its own for the whole run
// (scripts/test-conformance.mjs starts this with `node --import tsx`): a private Redis Cluster for
// redis-cluster, the Upstash REST bridge over the local Redis for upstash. It prints one line
// `ready {env}` with the SWITCHBOARD_* variables test/helpers/server.ts reads, or `unavailable
// <why>` when the service it needs is missing, then runs until SIGTERM/SIGINT or stdin closes (so
// a runner that dies takes it along).
import { reachable } from "../adapters/cluster.ts";
import { redisServerInstalled, startRedisCluster } from "../adapters/redis-cluster.ts";
import { startUpstashBridge } from "./upstash-bridge.ts";

interface Backend {
  env: Record<string, string>;
  stop(): Promise<void>;
}

async function start(topology: string): Promise<Backend | string> {
  if (topology === "redis-cluster") {
    if (!redisServerInstalled()) return "redis-server/redis-cli are not installed (needed to start a private Redis Cluster)";
    const cluster = await startRedisCluster();
    return { env: { SWITCHBOARD_REDIS_CLUSTER_NODES: cluster.nodes }, stop: () => cluster.stop() };
  }
  if (topology === "upstash") {
    const redisUrl = new URL(process.env.SWITCHBOARD_REDIS_URL ?? "redis://127.0.0.1:6379");
    if (!(await reachable(Number(redisUrl.port || 6379), redisUrl.hostname))) return `Redis at ${redisUrl.host} (behind the Upstash bridge) is not reachable`;
    const bridge = await startUpstashBridge({ redisUrl: redisUrl.href });
    return { env: { SWITCHBOARD_UPSTASH_URL: bridge.url, SWITCHBOARD_UPSTASH_TOKEN: bridge.token }, stop: () => bridge.close() };
  }
  throw new Error(`no conformance backend for topology ${topology}`);
}

const backend = await start(process.argv[2] ?? "");
if (typeof backend === "string") {
  console.log(`unavailable ${backend}`);
  process.exit(0);
}
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await backend.stop();
  process.exit(0);
};
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void stop());
process.stdin.on("end", () => void stop());
process.stdin.resume();
console.log(`ready ${JSON.stringify(backend.env)}`);
