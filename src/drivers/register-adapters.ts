// Adapter drivers: where cluster state and the message bus live (docs/clustering.md).
// Each implementation is imported only when ADAPTER_DRIVER selects it (see registry.ts).
import { z } from "zod";
import { num } from "../core/coerce.ts";
import { parseClusterNodes } from "../redis/cluster-nodes.ts";
import { defineKind, registerDriver, type DriverContext } from "./registry.ts";

defineKind({ kind: "adapter", default: "local", help: "cluster state and message bus backend" });

/** Redis settings other kinds' drivers (the app cache) share: one schema object per key. */
export const REDIS = {
  redisUrl: z.string().min(1).default("redis://127.0.0.1:6379").describe("redis:// or rediss:// URL"),
  // Sockudo writes the nodes as redis://host:port; rediss:// asks for TLS (redis/cluster-nodes.ts).
  redisClusterNodes: z.preprocess((v) => (typeof v === "string" ? v.replace(/redis:\/\//g, "") : v), z.string().superRefine((v, ctx) => {
    try {
      parseClusterNodes(v);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: `must be host:port[,host:port...] (or redis:// / rediss:// URLs): ${(error as Error).message}` });
    }
  })).describe("startup nodes host:port[,host:port...] (rediss://host:port for TLS); any reachable one discovers the rest"),
  redisPrefix: z.string().regex(/^[^{}]*$/, "must not contain { or } (keys use hash tags)").default("switchboard:")
    .describe("key (or subject) prefix: nodes sharing it form one cluster"),
};

/** Settings every cluster driver reads; one schema object, so the drivers share the keys. */
const CLUSTER = {
  redisPrefix: REDIS.redisPrefix,
  clusterNodeTimeout: num(z.number().min(0.5).max(3600)).default(20)
    .describe("seconds without a heartbeat after which a node counts as dead and its sockets are removed"),
  clusterRequestTimeoutMs: num(z.number().int().min(50).max(60_000)).default(2000)
    .describe("ms every call to the cluster backend may take; a slower one counts as an outage (publishes answer 503)"),
  clusterBusLingerMs: num(z.number().int().min(0).max(3_600_000)).default(5000)
    .describe("ms a node stays subscribed to an app's bus after its last socket of the app (or console) went, so a client that reconnects at once costs no unsubscribe and subscribe"),
};

type ClusterSettings = { redisPrefix: string; clusterNodeTimeout: number; clusterRequestTimeoutMs: number; clusterBusLingerMs: number };
const cluster = (o: ClusterSettings, { timers, logger }: DriverContext) => ({
  prefix: o.redisPrefix, nodeTimeoutMs: o.clusterNodeTimeout * 1000, requestTimeoutMs: o.clusterRequestTimeoutMs,
  busLingerMs: o.clusterBusLingerMs, timers, logger,
});

registerDriver({
  kind: "adapter",
  name: "local",
  help: "one node, state in memory",
  load: async () => {
    const { LocalAdapter } = await import("../adapters/local.ts");
    return (_, { timers }) => new LocalAdapter(timers.now);
  },
});

registerDriver({
  kind: "adapter",
  name: "redis",
  help: "Redis over TCP (ioredis)",
  options: z.object({
    redisUrl: REDIS.redisUrl,
    ...CLUSTER,
  }),
  load: async () => {
    const { createRedisAdapter } = await import("../adapters/redis.ts");
    return (o, context) => createRedisAdapter({ ...cluster(o, context), url: o.redisUrl });
  },
});

registerDriver({
  kind: "adapter",
  name: "redis-cluster",
  help: "Redis Cluster, sharded pub/sub (Redis 7+)",
  options: z.object({
    redisClusterNodes: REDIS.redisClusterNodes,
    ...CLUSTER,
  }),
  load: async () => {
    const { createRedisClusterAdapter } = await import("../adapters/redis-cluster.ts");
    return (o, context) => createRedisClusterAdapter({ ...cluster(o, context), nodes: o.redisClusterNodes });
  },
});

registerDriver({
  kind: "adapter",
  name: "upstash",
  help: "Upstash (or Upstash-compatible) Redis over its REST API",
  options: z.object({
    upstashRedisRestUrl: z.string().url().describe("REST URL of the Upstash Redis"),
    upstashRedisRestToken: z.string().min(1).describe("REST token of the Upstash Redis"),
    ...CLUSTER,
  }).superRefine((o, ctx) => {
    // The bus channels start with the prefix, and the client's SSE framing splits at commas.
    if (o.redisPrefix.includes(",")) ctx.addIssue({ code: "custom", path: ["redisPrefix"], message: "must not contain a comma with the upstash driver" });
  }),
  load: async () => {
    const { createUpstashAdapter } = await import("../adapters/upstash.ts");
    return (o, context) => createUpstashAdapter({ ...cluster(o, context), url: o.upstashRedisRestUrl, token: o.upstashRedisRestToken });
  },
});

registerDriver({
  kind: "adapter",
  name: "nats",
  help: "NATS with JetStream, through its WebSocket listener (nats.ws)",
  options: z.object({
    natsServers: z.string()
      .regex(/^\s*wss?:\/\/[^\s,]+\s*(,\s*wss?:\/\/[^\s,]+\s*)*$/, "must be ws://host:port[,ws://host:port...] (the servers' websocket listeners)")
      .default("ws://127.0.0.1:8222")
      .describe("NATS websocket listeners ws://host:port[,ws://host:port...] (JetStream enabled)"),
    ...CLUSTER,
  }),
  load: async () => {
    const { createNatsAdapter } = await import("../adapters/nats.ts");
    return (o, context) => createNatsAdapter({ ...cluster(o, context), servers: o.natsServers.split(",").map((s) => s.trim()) });
  },
});
