import { z } from "zod";

// Server-wide settings. Each key is reachable as --kebab-case flag, UPPER_SNAKE environment
// variable and camelCase config-file key; per-app settings use the app prefix (see load.ts).

const num = (schema: z.ZodNumber) => z.preprocess((v) => (typeof v === "string" && v.trim() !== "" ? Number(v) : v), schema);
const bool = z.preprocess((v) => {
  if (typeof v === "string") {
    const s = v.trim().toLowerCase();
    if (["true", "1", "yes", "on", ""].includes(s)) return true;
    if (["false", "0", "no", "off"].includes(s)) return false;
  }
  return v;
}, z.boolean());

export const serverSettingsSchema = {
  port: num(z.number().int().min(0).max(65535)).default(6001),
  bindAddress: z.string().min(1).default("0.0.0.0"),
  pathPrefix: z.string().regex(/^(\/[A-Za-z0-9_\-.~/]*)?$/, "must be empty or start with /").default(""),
  activityTimeout: num(z.number().int().min(1)).default(120),
  pongTimeout: num(z.number().positive()).default(30),
  requireProtocolParam: bool.default(false),
  userAuthenticationTimeout: num(z.number().positive()).default(30),
  cacheTtlSeconds: num(z.number().int().min(1)).default(1800),
  maxWebSocketMessageKb: num(z.number().positive()).default(64),
  httpMaxBodyKb: num(z.number().positive()).default(10240),
  maxSocketBufferKb: num(z.number().min(0)).default(4096),
  maxNodeConnections: num(z.number().int().min(-1)).default(-1),
  shutdownGracePeriodMs: num(z.number().int().min(0)).default(3000),
  adapterDriver: z.enum(["local", "redis", "redis-cluster", "upstash", "nats"]).default("local"),
  // Cluster adapters. Nodes sharing a prefix form one cluster; other prefixes on the same Redis are separate.
  redisUrl: z.string().min(1).default("redis://127.0.0.1:6379"),
  /** redis-cluster driver: startup nodes "host:port,host:port"; any reachable one discovers the rest. */
  redisClusterNodes: z.string().regex(/^\s*[^\s,:]+:\d{1,5}\s*(,\s*[^\s,:]+:\d{1,5}\s*)*$/, "must be host:port[,host:port...]").optional(),
  /** upstash driver: REST URL and token of an Upstash (or Upstash-compatible) Redis. */
  upstashRedisRestUrl: z.string().url().optional(),
  upstashRedisRestToken: z.string().min(1).optional(),
  /** nats driver: NATS WebSocket listener URLs "ws://host:port[,ws://host:port...]" (JetStream enabled). */
  natsServers: z.string().regex(/^\s*wss?:\/\/[^\s,]+\s*(,\s*wss?:\/\/[^\s,]+\s*)*$/, "must be ws://host:port[,ws://host:port...] (the servers' websocket listeners)").default("ws://127.0.0.1:8222"),
  redisPrefix: z.string().regex(/^[^{}]*$/, "must not contain { or } (keys use hash tags)").default("switchboard:"),
  /** Seconds without a heartbeat after which a node counts as dead and its sockets are removed. */
  clusterNodeTimeout: num(z.number().min(0.5).max(3600)).default(20),
  appStoreDriver: z.enum(["memory", "file"]).default("memory"),
  appStoreFile: z.string().optional(),
  logLevel: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
} as const;

export type ServerSettingKey = keyof typeof serverSettingsSchema;
export type ServerSettings = { [K in ServerSettingKey]: z.infer<(typeof serverSettingsSchema)[K]> };
export const SERVER_SETTING_KEYS = Object.keys(serverSettingsSchema) as ServerSettingKey[];
