// The "redis" adapter driver: ioredis over TCP (works on Node, Deno and Bun). One connection runs
// the state scripts and publishes; a second one is subscribed to the node channel and to the
// channel of each app this node serves.
import { Redis, type RedisOptions } from "ioredis";
import { ClusterAdapter } from "./cluster/adapter.ts";
import { DEFAULT_REQUEST_TIMEOUT_MS, type ClusterOptions } from "./cluster/transport.ts";
import { reconnectDelay } from "../core/backoff.ts";
import { IoredisBackend, type IoredisConnections } from "./ioredis-backend.ts";

export class RedisBackend extends IoredisBackend<Redis> {
  constructor(private readonly url: string, private readonly requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS) {
    super();
  }

  protected connect(): IoredisConnections<Redis> {
    // No offline queue and no resending: while Redis is away a command fails at once and the
    // adapter answers from local state, then resynchronises, instead of piling up stale writes.
    // The command deadline turns a server that stopped answering (the socket stays open) into
    // the same outage (ioredis-backend.ts); the subscriber only waits, so it has none.
    const common: RedisOptions = { retryStrategy: reconnectDelay, connectTimeout: 5000 };
    const cmd = new Redis(this.url, {
      ...common, enableOfflineQueue: false, maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false, commandTimeout: this.requestTimeoutMs,
    });
    // The subscriber queues its SUBSCRIBE until connected and re-subscribes after reconnects.
    const sub = new Redis(this.url, { ...common, maxRetriesPerRequest: null });
    return {
      cmd, sub, messageEvent: "message",
      // One SUBSCRIBE for many channels: resolves once Redis confirmed each of them.
      subscribe: (channels) => sub.subscribe(...channels),
      unsubscribe: (channels) => sub.unsubscribe(...channels),
      publish: (channel, payload) => cmd.publish(channel, payload),
    };
  }
}

export type RedisAdapterOptions = ClusterOptions & { url: string };

export function createRedisAdapter(options: RedisAdapterOptions): ClusterAdapter {
  return new ClusterAdapter("redis", new RedisBackend(options.url, options.requestTimeoutMs), options);
}
