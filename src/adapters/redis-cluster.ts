// The "redis-cluster" adapter driver: ioredis in cluster mode. Scripts are routed by their first
// key, whose hash tag keeps each app's (and the node registry's) keys in one slot. The bus uses
// sharded pub/sub (SPUBLISH/SSUBSCRIBE, Redis 7+): a message travels only within the shard that
// owns the bus channel's slot instead of being broadcast over the whole cluster bus.
import { Cluster, type ClusterNode } from "ioredis";
import { ClusterAdapter } from "./cluster/adapter.ts";
import { DEFAULT_REQUEST_TIMEOUT_MS, type ClusterOptions } from "./cluster/lifecycle.ts";
import { IoredisBackend, reconnectDelay, type IoredisConnections } from "./ioredis-backend.ts";

/** "host:port,host:port" (format checked by the config schema) → startup nodes; any reachable one finds the rest. */
export function parseClusterNodes(list: string): ClusterNode[] {
  return list.split(",").map((hostPort) => {
    const colon = hostPort.trim().lastIndexOf(":");
    return { host: hostPort.trim().slice(0, colon), port: Number(hostPort.trim().slice(colon + 1)) };
  });
}

export class RedisClusterBackend extends IoredisBackend<Cluster> {
  constructor(private readonly nodes: ClusterNode[], private readonly requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS) {
    super();
  }

  /** Every master: one that still hangs would fail the next command for its slots, and take the node down again. */
  protected override ping(cmd: Cluster): Promise<unknown> {
    return Promise.all(cmd.nodes("master").map((node) => node.ping()));
  }

  protected connect(): IoredisConnections<Cluster> {
    // Same outage semantics as the single-Redis driver: no offline queue and no resending, so a
    // command fails at once while the cluster is away and the adapter falls back to local state;
    // a master that stopped answering fails its commands at the deadline (ioredis-backend.ts).
    const clusterRetryStrategy = (attempt: number) => reconnectDelay(attempt);
    const cmd = new Cluster(this.nodes, {
      clusterRetryStrategy,
      enableOfflineQueue: false,
      redisOptions: { connectTimeout: 5000, maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false, commandTimeout: this.requestTimeoutMs },
    });
    // The subscriber keeps one connection per master and re-subscribes after topology changes.
    const sub = new Cluster(this.nodes, { clusterRetryStrategy, shardedSubscribers: true, redisOptions: { connectTimeout: 5000 } });
    return {
      cmd, sub, messageEvent: "smessage",
      subscribe: (channel) => sub.ssubscribe(channel),
      publish: (channel, payload) => cmd.spublish(channel, payload),
    };
  }
}

export type RedisClusterAdapterOptions = ClusterOptions & { nodes: string };

export function createRedisClusterAdapter(options: RedisClusterAdapterOptions): ClusterAdapter {
  return new ClusterAdapter("redis-cluster", new RedisClusterBackend(parseClusterNodes(options.nodes), options.requestTimeoutMs), options);
}
