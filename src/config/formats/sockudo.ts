// Sockudo's config/config.json (RustNSparks/sockudo src/options.rs ServerOptions): nested sections
// per backend (adapter, app_manager, cache, queue, rate_limiter, metrics, ssl, ...), apps under
// app_manager.array.apps. Recognised by that shape. A backend's own section (adapter.redis,
// queue.sqs, database.mysql) is read only when the file selects that driver, as Sockudo does: the
// file may carry every section with its defaults.
import { APP_SETTING_KEYS, normalizeAppInput } from "../../core/app.ts";
import { secondsToMs, truthy } from "./aliases.ts";
import { isEmpty, isObject, leaves, type Translation } from "./translation.ts";

const SECTIONS = ["adapter", "app_manager", "cache", "queue", "rate_limiter", "metrics", "ssl", "database"];

export function isSockudoFile(json: Record<string, unknown>): boolean {
  return SECTIONS.some((s) => isObject(json[s]));
}

type Target = string | [string, (v: unknown) => unknown];

const list = (v: unknown) => (Array.isArray(v) ? v.map(String).join(",") : v);
/** Sockudo's cluster nodes are "redis://host:port" or {host, port}; ours are host:port. */
const nodes = (v: unknown) => (Array.isArray(v)
  ? v.map((n) => (isObject(n) ? `${n.host}:${n.port}` : String(n).replace(/^rediss?:\/\//, ""))).join(",")
  : v);
const times = (factor: number) => (v: unknown) => (typeof v === "number" ? v * factor : v);

/** Every Sockudo key with a counterpart here, by dotted path. */
const PATHS: Record<string, Target> = {
  debug: ["logLevel", (v) => (truthy(v) ? "debug" : undefined)],
  host: "bindAddress",
  port: "port",
  path_prefix: ["pathPrefix", (v) => (v === "/" ? "" : v)],
  activity_timeout: "activityTimeout",
  shutdown_grace_period: ["shutdownGracePeriodMs", secondsToMs],
  user_authentication_timeout: "userAuthenticationTimeout",
  websocket_max_payload_kb: "maxWebSocketMessageKb",
  "adapter.driver": "adapterDriver",
  "adapter.redis.prefix": "redisPrefix",
  "adapter.redis.cluster_mode": "redisCluster",
  "adapter.cluster.nodes": ["redisClusterNodes", nodes],
  "adapter.cluster.prefix": "redisPrefix",
  "adapter.nats.servers": ["natsServers", list],
  "adapter.nats.prefix": "redisPrefix",
  "app_manager.driver": "appStoreDriver",
  "app_manager.cache.enabled": "appManagerCacheEnabled",
  "app_manager.cache.ttl": "appCacheTtlSeconds",
  "cache.driver": "cacheDriver",
  "cache.redis.prefix": "redisPrefix",
  "database.redis.host": "redisHost",
  "database.redis.port": "redisPort",
  "database.redis.db": "redisDb",
  "database.redis.username": "redisUsername",
  "database.redis.password": "redisPassword",
  "database.redis.cluster_nodes": ["redisClusterNodes", nodes],
  "database.mysql.host": "databaseMysqlHost",
  "database.mysql.port": "databaseMysqlPort",
  "database.mysql.username": "databaseMysqlUser",
  "database.mysql.password": "databaseMysqlPassword",
  "database.mysql.database": "databaseMysqlDatabase",
  "database.mysql.table_name": "appManagerTable",
  "database.mysql.connection_pool_size": "databasePoolSize",
  "database.postgres.host": "databasePostgresHost",
  "database.postgres.port": "databasePostgresPort",
  "database.postgres.username": "databasePostgresUser",
  "database.postgres.password": "databasePostgresPassword",
  "database.postgres.database": "databasePostgresDatabase",
  "database.postgres.table_name": "appManagerTable",
  "database.postgres.connection_pool_size": "databasePoolSize",
  "database.dynamodb.region": "dynamodbRegion",
  "database.dynamodb.table_name": "dynamodbTable",
  "database.dynamodb.endpoint_url": "dynamodbEndpoint",
  "queue.driver": "queueDriver",
  "queue.redis.concurrency": "webhookConcurrency",
  "queue.redis.prefix": "redisPrefix",
  "queue.redis_cluster.concurrency": "webhookConcurrency",
  "queue.redis_cluster.nodes": ["redisClusterNodes", nodes],
  "queue.redis_cluster.prefix": "redisPrefix",
  "queue.sqs.region": "sqsRegion",
  "queue.sqs.endpoint_url": "sqsEndpoint",
  "queue.sqs.wait_time_seconds": "sqsWaitTimeSeconds",
  "queue.sqs.visibility_timeout": ["webhookVisibilityTimeoutMs", secondsToMs],
  "queue.sqs.concurrency": "webhookConcurrency",
  "rate_limiter.enabled": "rateLimiterEnabled",
  "rate_limiter.driver": "rateLimiterDriver",
  "rate_limiter.api_rate_limit.max_requests": "rateLimiterApiMaxRequests",
  "rate_limiter.api_rate_limit.window_seconds": "rateLimiterApiWindowSeconds",
  "rate_limiter.websocket_rate_limit.max_requests": "rateLimiterWsMaxConnections",
  "rate_limiter.websocket_rate_limit.window_seconds": "rateLimiterWsWindowSeconds",
  "metrics.enabled": "metricsEnabled",
  "metrics.host": "metricsHost",
  "metrics.port": "metricsPort",
  "metrics.prometheus.prefix": "metricsPrefix",
  "ssl.enabled": "sslEnabled",
  "ssl.cert_path": "sslCertPath",
  "ssl.key_path": "sslKeyPath",
  "ssl.passphrase": "sslPassphrase",
  "ssl.ca_path": "sslCaPath",
  "cors.origin": ["corsOrigins", list],
  "cors.methods": ["corsMethods", list],
  "cors.allowed_headers": ["corsHeaders", list],
  "cors.credentials": "corsCredentials",
  "channel_limits.cache_ttl": "cacheTtlSeconds",
  "http_api.request_limit_in_mb": ["httpMaxBodyKb", times(1024)],
  "http_api.accept_traffic.memory_threshold": ["httpAcceptTrafficMemoryThreshold", times(100)],
  "webhooks.batching.enabled": "webhookBatching",
  "webhooks.batching.duration": "webhookBatchingDurationMs",
};

/** Sockudo's global limits, which apply to every app that does not set its own. */
const APP_DEFAULTS: Record<string, string> = {
  "channel_limits.max_name_length": "maxChannelNameLength",
  "event_limits.max_channels_at_once": "maxEventChannelsAtOnce",
  "event_limits.max_name_length": "maxEventNameLength",
  "event_limits.max_payload_in_kb": "maxEventPayloadInKb",
  "event_limits.max_batch_size": "maxEventBatchSize",
  "presence.max_members_per_channel": "maxPresenceMembersPerChannel",
  "presence.max_member_size_in_kb": "maxPresenceMemberSizeInKb",
};

/** Values that mean what Switchboard does anyway: no warning. */
const SAME: Record<string, unknown> = { "metrics.driver": "prometheus", "ssl.redirect_http": false, "adapter.redis.cluster_mode": false };

/** A driver's own section, read only when the file picks that driver. */
const DRIVER_SECTIONS: [prefix: string, selector: string, drivers: string[]][] = [
  ["adapter.redis.", "adapter.driver", ["redis"]],
  ["adapter.cluster.", "adapter.driver", ["redis-cluster"]],
  ["adapter.nats.", "adapter.driver", ["nats"]],
  ["cache.redis.", "cache.driver", ["redis", "redis-cluster"]],
  ["cache.memory.", "cache.driver", ["memory"]],
  ["queue.redis.", "queue.driver", ["redis"]],
  ["queue.redis_cluster.", "queue.driver", ["redis-cluster"]],
  ["queue.sqs.", "queue.driver", ["sqs"]],
  ["database.mysql.", "app_manager.driver", ["mysql"]],
  ["database.postgres.", "app_manager.driver", ["pgsql", "postgres", "postgresql"]],
  ["database.dynamodb.", "app_manager.driver", ["dynamodb"]],
  ["rate_limiter.redis.", "rate_limiter.driver", ["redis", "redis-cluster"]],
];

export function translateSockudo(json: Record<string, unknown>, file: string): Translation {
  const t: Translation = { format: "Sockudo", entries: [], ignored: [], warnings: [] };
  const at = (path: string) => path.split(".").reduce<unknown>((o, k) => (isObject(o) ? o[k] : undefined), json);
  const selected = (path: string) => {
    const section = DRIVER_SECTIONS.find(([prefix]) => path.startsWith(prefix));
    return !section || section[2].includes(String(at(section[1]) ?? "").toLowerCase());
  };
  const defaults: Record<string, unknown> = {};
  for (const [path, value] of leaves(json)) {
    if (path.startsWith("$") || path === "app_manager.array.apps") continue;
    // An empty list or object configures nothing (cluster_nodes: []): Sockudo's default, and ours.
    if (!selected(path) || isEmpty(value)) continue;
    if (path === "ssl.redirect_http" && truthy(value)) {
      t.entries.push({ name: "sslHttpPort", value: at("ssl.http_port") ?? 80, label: `ssl.redirect_http and ssl.http_port in ${file}` });
      continue;
    }
    if (path === "ssl.http_port") continue;
    const target = PATHS[path];
    if (target !== undefined) {
      const [name, map] = typeof target === "string" ? [target, undefined] : target;
      const mapped = map ? map(value) : value;
      if (mapped !== undefined) t.entries.push({ name, value: mapped, label: `${path} in ${file}` });
    } else if (path in APP_DEFAULTS) defaults[APP_DEFAULTS[path]!] = value;
    else if (!(path in SAME && SAME[path] === value)) t.ignored.push(path);
  }
  const apps = at("app_manager.array.apps");
  if (apps !== undefined) {
    if (!Array.isArray(apps)) throw new Error(`app_manager.array.apps in ${file} must be an array`);
    const translated = apps.map((raw, i) => translateApp(raw, `app_manager.array.apps[${i}]`, file, t));
    // Sockudo's global limits fill in what an app leaves unset.
    for (const app of translated) for (const [k, v] of Object.entries(defaults)) if (!(k in app)) app[k] = v;
    t.entries.push({ name: "apps", value: translated, label: `app_manager.array.apps in ${file}` });
  } else if (Object.keys(defaults).length > 0) {
    t.warnings.push(`${file}: channel_limits, event_limits and presence apply to the apps listed in that file; set them per app (or APP_MAX_*) for the others`);
  }
  return t;
}

function translateApp(raw: unknown, where: string, file: string, t: Translation): Record<string, unknown> {
  if (!isObject(raw)) throw new Error(`${where} in ${file} must be an object`);
  const app: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(normalizeAppInput(raw))) {
    if ((APP_SETTING_KEYS as string[]).includes(name)) app[name] = value;
    else if (!isEmpty(value)) t.ignored.push(`${where}.${Object.keys(raw).find((k) => Object.keys(normalizeAppInput({ [k]: 0 }))[0] === name) ?? name}`);
  }
  return app;
}
