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
  // --- App stores: where apps come from, the database connection and the cache in front of it.
  // Kept as one block (with APP_STORE_ALIASES below) for the driver registry to take over.
  /** memory (alias array), file, postgres (alias pgsql), mysql (alias mariadb), dynamodb. */
  appStoreDriver: z.preprocess(
    (v) => (typeof v === "string" ? ({ array: "memory", pgsql: "postgres", postgresql: "postgres", mariadb: "mysql" } as Record<string, string>)[v.trim().toLowerCase()] ?? v.trim().toLowerCase() : v),
    z.enum(["memory", "file", "postgres", "mysql", "dynamodb"]),
  ).default("memory"),
  appStoreFile: z.string().optional(),
  /** Soketi's names: the table (SQL) the apps live in. */
  appManagerTable: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, "must be a plain table name (letters, digits, _)").default("apps"),
  /** postgres://user:pass@host:port/db or mysql://…; wins over the DATABASE_POSTGRES_* / DATABASE_MYSQL_* fields. */
  databaseUrl: z.string().regex(/^(postgres|postgresql|mysql|mariadb):\/\/\S+$/, "must be a postgres://… or mysql://… URL").optional(),
  databasePostgresHost: z.string().min(1).default("127.0.0.1"),
  databasePostgresPort: num(z.number().int().min(1).max(65535)).default(5432),
  databasePostgresUser: z.string().min(1).default("postgres"),
  databasePostgresPassword: z.string().default(""),
  databasePostgresDatabase: z.string().min(1).default("switchboard"),
  databaseMysqlHost: z.string().min(1).default("127.0.0.1"),
  databaseMysqlPort: num(z.number().int().min(1).max(65535)).default(3306),
  databaseMysqlUser: z.string().min(1).default("root"),
  databaseMysqlPassword: z.string().default(""),
  databaseMysqlDatabase: z.string().min(1).default("switchboard"),
  databasePoolSize: num(z.number().int().min(1).max(1000)).default(10),
  /** TLS to the database: off, require (encrypt, accept any certificate) or verify (check it). */
  databaseTls: z.enum(["off", "require", "verify"]).default("off"),
  /** Bound on every database and app-cache call; a lookup never waits longer. */
  databaseTimeoutMs: num(z.number().int().min(50).max(60_000)).default(2000),
  dynamodbTable: z.string().min(3).max(255).default("apps"),
  dynamodbRegion: z.string().min(1).default("us-east-1"),
  /** A local emulator (dynalite, DynamoDB Local) instead of AWS. */
  dynamodbEndpoint: z.string().url().optional(),
  /** How long a found app is kept in the cache. */
  appCacheTtlSeconds: num(z.number().min(0)).default(60),
  /** How long an unknown id or key is remembered as unknown. */
  appCacheMissTtlSeconds: num(z.number().min(0)).default(5),
  /** memory: per node; redis / redis-cluster: shared (REDIS_URL / REDIS_CLUSTER_NODES), cleared by the apps command; none. */
  cacheDriver: z.enum(["memory", "redis", "redis-cluster", "none"]).default("memory"),
  // --- end of app stores
  logLevel: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
} as const;

export type ServerSettingKey = keyof typeof serverSettingsSchema;
export type ServerSettings = { [K in ServerSettingKey]: z.infer<(typeof serverSettingsSchema)[K]> };
export const SERVER_SETTING_KEYS = Object.keys(serverSettingsSchema) as ServerSettingKey[];

/** Other names for settings (camelCase; flags and environment follow): Soketi's, Sockudo's and AWS's. */
export const APP_STORE_ALIASES: Record<string, ServerSettingKey> = {
  appManagerDriver: "appStoreDriver",
  appManager: "appStoreDriver",
  awsRegion: "dynamodbRegion",
};
