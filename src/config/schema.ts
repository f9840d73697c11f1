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
  // --- Webhooks (spec §7; README "Webhooks") ---------------------------------------------------
  /** Where webhook jobs wait: sync (no queue), memory (lost on a crash), redis, redis-cluster, sqs, none. */
  queueDriver: z.enum(["sync", "memory", "redis", "redis-cluster", "sqs", "none"]).default("memory"),
  /** Several events per body for the same (app, webhook) within the window; apps may override. */
  webhookBatching: bool.default(false),
  webhookBatchingDurationMs: num(z.number().int().min(1).max(60_000)).default(50),
  /** Hold channel_vacated/member_removed this long; a re-add within it cancels both (page reloads). */
  webhookVacateDelayMs: num(z.number().int().min(0).max(600_000)).default(0),
  /** Deliveries in flight at once on this node. */
  webhookConcurrency: num(z.number().int().min(1).max(1000)).default(10),
  /** Per attempt (spec §7.1: 10 s). */
  webhookTimeoutMs: num(z.number().int().min(1).max(120_000)).default(10_000),
  /** Retries stop this long after the first attempt and the batch is dead-lettered (Pusher: 5 min). */
  webhookRetryWindowMs: num(z.number().int().min(0).max(86_400_000)).default(300_000),
  /** redis/sqs: a job taken by a node that then dies is taken again after this. Above the timeout. */
  webhookVisibilityTimeoutMs: num(z.number().int().min(1000).max(43_200_000)).default(30_000),
  /** memory queue: jobs waiting at most; beyond it new jobs are dead-lettered at once. */
  webhookMemoryQueueSize: num(z.number().int().min(1)).default(10_000),
  /** Dead letters kept (memory ring, Redis list). */
  webhookDeadLetterLimit: num(z.number().int().min(0)).default(1000),
  sqsQueueUrl: z.string().url().optional(),
  /** Optional: where sqs dead letters go; without it they are only logged. */
  sqsDeadLetterQueueUrl: z.string().url().optional(),
  sqsRegion: z.string().min(1).optional(),
  awsRegion: z.string().min(1).optional(),
  /** An SQS-compatible endpoint (an emulator such as local-aws-sqs). */
  sqsEndpoint: z.string().url().optional(),
  /** Long-poll length of each receive (SQS allows 0-20); a stop cancels a poll under way. */
  sqsWaitTimeSeconds: num(z.number().int().min(0).max(20)).default(20),
  // --- end webhooks ------------------------------------------------------------------------------
  appStoreDriver: z.enum(["memory", "file"]).default("memory"),
  appStoreFile: z.string().optional(),
  logLevel: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
} as const;

export type ServerSettingKey = keyof typeof serverSettingsSchema;
export type ServerSettings = { [K in ServerSettingKey]: z.infer<(typeof serverSettingsSchema)[K]> };
export const SERVER_SETTING_KEYS = Object.keys(serverSettingsSchema) as ServerSettingKey[];
