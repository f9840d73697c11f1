// The "redis-cluster" adapter driver: ioredis in cluster mode. Scripts are routed by their first
// key, whose hash tag keeps each app's (and the node registry's) keys in one slot. The bus uses
// sharded pub/sub (SPUBLISH/SSUBSCRIBE, Redis 7+): a message travels only within the shard that
// owns its channel's slot instead of being broadcast over the whole cluster bus, and each app's
// channel has a hash tag of its own, so the apps' traffic spreads over the shards.
import { Cluster } from "ioredis";
import { reconnectDelay } from "../core/backoff.ts";
import { parseClusterNodes, type ClusterNodes } from "../redis/cluster-nodes.ts";
import { ClusterAdapter } from "./cluster/adapter.ts";
import { DEFAULT_REQUEST_TIMEOUT_MS, type ClusterOptions } from "./cluster/transport.ts";
import { IoredisBackend, type IoredisConnections } from "./ioredis-backend.ts";

export class RedisClusterBackend extends IoredisBackend<Cluster> {
  /** Any reachable startup node finds the rest; rediss:// nodes mean TLS to every node. */
  constructor(private readonly startup: ClusterNodes, private readonly requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS) {
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
    const tls = this.startup.tls ? { tls: {} } : {};
    const cmd = new Cluster(this.startup.nodes, {
      clusterRetryStrategy,
      enableOfflineQueue: false,
      redisOptions: { connectTimeout: 5000, maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false, commandTimeout: this.requestTimeoutMs, ...tls },
    });
    // The subscriber keeps one connection per master and re-subscribes after topology changes
    // (ioredis's ClusterSubscriberGroup routes each SSUBSCRIBE by its channel's slot).
    const sub = new Cluster(this.startup.nodes, { clusterRetryStrategy, shardedSubscribers: true, redisOptions: { connectTimeout: 5000, ...tls } });
    return {
      cmd, sub, messageEvent: "smessage",
      // One SSUBSCRIBE per channel: the channels of one command must share a slot (CROSSSLOT).
      subscribe: (channels) => Promise.all(channels.map((channel) => sub.ssubscribe(channel))),
      unsubscribe: (channels) => Promise.all(channels.map((channel) => sub.sunsubscribe(channel))),
      publish: (channel, payload) => cmd.spublish(channel, payload),
    };
  }
}

export type RedisClusterAdapterOptions = ClusterOptions & { nodes: string };

export function createRedisClusterAdapter(options: RedisClusterAdapterOptions): ClusterAdapter {
  return new ClusterAdapter("redis-cluster", new RedisClusterBackend(parseClusterNodes(options.nodes), options.requestTimeoutMs), options);
}
