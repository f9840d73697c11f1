// Other servers' names for our settings, keyed by our setting name, so a person moving from Socket
// Rush, Sockudo or Soketi can keep their flags, environment and files (docs/migrating-from-*.md;
// docs/configuration.md lists them). Our own name always wins over an alias in the same layer.
//
// - A camelCase name is reachable the way ours are: --kebab-case flag, UPPER_SNAKE variable and
//   camelCase or snake_case file key (Socket Rush's names follow that rule: --app-manager,
//   APP_MANAGER, app_manager). An UPPER_SNAKE name is an environment variable only.
// - `map` turns the foreign value into ours (seconds into ms, DEBUG_MODE=true into LOG_LEVEL=debug).
// - A key that is none of our settings (a foreign option with no counterpart here yet) makes the
//   foreign name a warning "accepted but not acted on"; once the setting lands, the alias just works.
// - Keys in PSEUDO_KEYS are parts that derive.ts folds into a real setting (REDIS_PASSWORD into
//   REDIS_URL).

export type Origin = "Socket Rush" | "Sockudo" | "Soketi";

export interface Alias {
  name: string;
  from: Origin;
  map?: (value: unknown) => unknown;
}

const rush = (name: string, map?: Alias["map"]): Alias => ({ name, from: "Socket Rush", map });
const sockudo = (name: string, map?: Alias["map"]): Alias => ({ name, from: "Sockudo", map });
const soketi = (name: string, map?: Alias["map"]): Alias => ({ name, from: "Soketi", map });

/** "true"/"1"/"yes"/"on" (any case) or true. */
export const truthy = (v: unknown) => v === true || v === 1 || (typeof v === "string" && ["true", "1", "yes", "on"].includes(v.trim().toLowerCase()));
/** DEBUG=true means LOG_LEVEL=debug; DEBUG=false leaves the level alone. */
const debugLevel = (v: unknown) => (truthy(v) ? "debug" : undefined);
/** Seconds (Sockudo's unit) into our milliseconds; a non-number is passed on for the schema to reject. */
export const secondsToMs = (v: unknown) => {
  const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
  return typeof n === "number" && Number.isFinite(n) ? n * 1000 : v;
};
/** Soketi's milliseconds into our seconds. */
const msToSeconds = (v: unknown) => {
  const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
  return typeof n === "number" && Number.isFinite(n) ? n / 1000 : v;
};
/** Soketi's JSON list of cluster nodes (or a comma list) as our host:port[,host:port]. */
const nodeList = (v: unknown) => {
  let list = v;
  if (typeof v === "string" && v.trim().startsWith("[")) {
    try { list = JSON.parse(v); } catch { return v; }
  }
  return Array.isArray(list) ? list.map((n) => (typeof n === "object" && n ? `${(n as { host?: string }).host}:${(n as { port?: number }).port}` : String(n))).join(",") : list;
};

/** Parts that derive.ts turns into real settings; never warned about, never validated alone. */
export const PSEUDO_KEYS = new Set([
  "envFile", "redisTls", "redisCluster", "redisPassword", "redisUsername", "redisHost", "redisPort", "redisDb", "appManagerCacheEnabled",
]);

export const ALIASES: Record<string, Alias[]> = {
  // --- Server
  configFile: [rush("config")],
  bindAddress: [sockudo("HOST"), soketi("SOKETI_HOST")],
  port: [soketi("SOKETI_PORT")],
  pathPrefix: [soketi("SOKETI_PATH_PREFIX")],
  // DEBUG itself is our own setting (debug), which Sockudo's DEBUG=true lands on directly.
  logLevel: [sockudo("DEBUG_MODE", debugLevel), soketi("SOKETI_DEBUG", debugLevel)],
  // Socket Rush's activity and authorization timeouts are per app; ours are the server's (see socket-rush.ts).
  activityTimeout: [rush("appActivityTimeout")],
  userAuthenticationTimeout: [rush("appAuthorizationTimeoutSeconds"), soketi("SOKETI_USER_AUTHENTICATION_TIMEOUT", msToSeconds)],
  shutdownGracePeriodMs: [sockudo("SHUTDOWN_GRACE_PERIOD", secondsToMs), soketi("SOKETI_SHUTDOWN_GRACE_PERIOD")],
  maxWebSocketMessageKb: [sockudo("WEBSOCKET_MAX_PAYLOAD_KB")],
  httpMaxBodyKb: [soketi("SOKETI_HTTP_MAX_REQUEST_SIZE")],
  cacheTtlSeconds: [soketi("SOKETI_CHANNEL_CACHE_TTL")],
  webhookBatching: [sockudo("WEBHOOK_BATCHING_ENABLED"), soketi("SOKETI_WEBHOOKS_BATCHING")],
  webhookBatchingDurationMs: [sockudo("WEBHOOK_BATCHING_DURATION"), soketi("SOKETI_WEBHOOKS_BATCHING_DURATION")],
  webhookConcurrency: [sockudo("QUEUE_REDIS_CONCURRENCY"), soketi("SOKETI_QUEUE_REDIS_CONCURRENCY")],
  // --- Logs, metrics, TLS, CORS, rate limits (docs/operating.md).
  ignoreLoggerMiddleware: [rush("ignoreLoggerMiddleware")],
  metricsEnabled: [sockudo("METRICS_ENABLED"), soketi("SOKETI_METRICS_ENABLED")],
  metricsHost: [sockudo("METRICS_HOST")],
  metricsPort: [sockudo("METRICS_PORT"), soketi("SOKETI_METRICS_SERVER_PORT")],
  metricsPrefix: [sockudo("METRICS_PROMETHEUS_PREFIX"), soketi("SOKETI_METRICS_PROMETHEUS_PREFIX")],
  sslEnabled: [sockudo("SSL_ENABLED")],
  sslCertPath: [sockudo("SSL_CERT_PATH"), soketi("SOKETI_SSL_CERT")],
  sslKeyPath: [sockudo("SSL_KEY_PATH"), soketi("SOKETI_SSL_KEY")],
  sslPassphrase: [soketi("SOKETI_SSL_PASS")],
  sslCaPath: [soketi("SOKETI_SSL_CA")],
  sslHttpPort: [sockudo("SSL_HTTP_PORT")],
  corsOrigins: [sockudo("CORS_ORIGINS")],
  corsMethods: [sockudo("CORS_METHODS")],
  corsHeaders: [sockudo("CORS_HEADERS")],
  corsCredentials: [sockudo("CORS_CREDENTIALS")],
  rateLimiterEnabled: [sockudo("RATE_LIMITER_ENABLED")],
  rateLimiterDriver: [sockudo("RATE_LIMITER_DRIVER"), soketi("SOKETI_RATE_LIMITER_DRIVER")],
  rateLimiterApiMaxRequests: [sockudo("RATE_LIMITER_API_MAX_REQUESTS")],
  rateLimiterApiWindowSeconds: [sockudo("RATE_LIMITER_API_WINDOW_SECONDS")],
  // Sockudo counts WebSocket connection attempts per address and window, as ours does.
  rateLimiterWsMaxConnections: [sockudo("RATE_LIMITER_WS_MAX_REQUESTS")],
  rateLimiterWsWindowSeconds: [sockudo("RATE_LIMITER_WS_WINDOW_SECONDS")],
  httpAcceptTrafficMemoryThreshold: [soketi("SOKETI_HTTP_ACCEPT_TRAFFIC_MEMORY_THRESHOLD")],
  // --- Drivers and their settings
  adapterDriver: [soketi("SOKETI_ADAPTER_DRIVER")],
  appStoreDriver: [rush("appManager"), sockudo("appManagerDriver"), soketi("SOKETI_APP_MANAGER_DRIVER")],
  cacheDriver: [soketi("SOKETI_CACHE_DRIVER")],
  queueDriver: [soketi("SOKETI_QUEUE_DRIVER")],
  redisPrefix: [soketi("SOKETI_ADAPTER_REDIS_PREFIX")],
  redisClusterNodes: [soketi("SOKETI_DB_REDIS_CLUSTER_NODES", nodeList)],
  natsServers: [soketi("SOKETI_ADAPTER_NATS_SERVERS", nodeList)],
  redisTls: [rush("redisTls"), rush("redisUseTls")],
  redisCluster: [rush("redisCluster"), rush("redisClusterMode"), soketi("SOKETI_ADAPTER_REDIS_CLUSTER_MODE")],
  redisPassword: [sockudo("REDIS_PASSWORD"), sockudo("DATABASE_REDIS_PASSWORD"), soketi("SOKETI_DB_REDIS_PASSWORD")],
  redisUsername: [soketi("SOKETI_DB_REDIS_USERNAME")],
  redisHost: [sockudo("DATABASE_REDIS_HOST"), soketi("SOKETI_DB_REDIS_HOST")],
  redisPort: [sockudo("DATABASE_REDIS_PORT"), soketi("SOKETI_DB_REDIS_PORT")],
  redisDb: [sockudo("DATABASE_REDIS_DB"), soketi("SOKETI_DB_REDIS_DB")],
  appManagerCacheEnabled: [soketi("SOKETI_APP_MANAGER_CACHE_ENABLED")],
  appCacheTtlSeconds: [soketi("SOKETI_APP_MANAGER_CACHE_TTL")],
  appManagerTable: [sockudo("DATABASE_MYSQL_TABLE_NAME"), soketi("SOKETI_APP_MANAGER_MYSQL_TABLE"), soketi("SOKETI_APP_MANAGER_POSTGRES_TABLE")],
  databasePoolSize: [sockudo("DATABASE_CONNECTION_POOL_SIZE"), soketi("SOKETI_DB_POOLING_MAX")],
  databaseMysqlHost: [soketi("SOKETI_DB_MYSQL_HOST")],
  databaseMysqlPort: [soketi("SOKETI_DB_MYSQL_PORT")],
  databaseMysqlUser: [sockudo("DATABASE_MYSQL_USERNAME"), soketi("SOKETI_DB_MYSQL_USERNAME")],
  databaseMysqlPassword: [soketi("SOKETI_DB_MYSQL_PASSWORD")],
  databaseMysqlDatabase: [soketi("SOKETI_DB_MYSQL_DATABASE")],
  databasePostgresHost: [soketi("SOKETI_DB_POSTGRES_HOST")],
  databasePostgresPort: [soketi("SOKETI_DB_POSTGRES_PORT")],
  databasePostgresUser: [sockudo("DATABASE_POSTGRES_USERNAME"), soketi("SOKETI_DB_POSTGRES_USERNAME")],
  databasePostgresPassword: [soketi("SOKETI_DB_POSTGRES_PASSWORD")],
  databasePostgresDatabase: [soketi("SOKETI_DB_POSTGRES_DATABASE")],
  dynamodbTable: [sockudo("DATABASE_DYNAMODB_TABLE_NAME"), soketi("SOKETI_APP_MANAGER_DYNAMODB_TABLE")],
  dynamodbRegion: [sockudo("DATABASE_DYNAMODB_REGION"), soketi("SOKETI_APP_MANAGER_DYNAMODB_REGION")],
  dynamodbEndpoint: [sockudo("DATABASE_DYNAMODB_ENDPOINT_URL"), soketi("SOKETI_APP_MANAGER_DYNAMODB_ENDPOINT")],
  sqsRegion: [sockudo("QUEUE_SQS_REGION"), soketi("SOKETI_QUEUE_SQS_REGION")],
  sqsQueueUrl: [soketi("SOKETI_QUEUE_SQS_URL")],
  sqsEndpoint: [sockudo("QUEUE_SQS_ENDPOINT_URL"), soketi("SOKETI_QUEUE_SQS_ENDPOINT")],
  sqsWaitTimeSeconds: [sockudo("QUEUE_SQS_WAIT_TIME_SECONDS")],
  webhookVisibilityTimeoutMs: [sockudo("QUEUE_SQS_VISIBILITY_TIMEOUT", secondsToMs)],
  // --- The default app (APP_* / --app-*)
  "app.id": [sockudo("SOCKUDO_DEFAULT_APP_ID"), soketi("SOKETI_DEFAULT_APP_ID")],
  "app.key": [sockudo("SOCKUDO_DEFAULT_APP_KEY"), soketi("SOKETI_DEFAULT_APP_KEY")],
  "app.secret": [sockudo("SOCKUDO_DEFAULT_APP_SECRET"), soketi("SOKETI_DEFAULT_APP_SECRET")],
  "app.enabled": [sockudo("SOCKUDO_DEFAULT_APP_ENABLED"), soketi("SOKETI_DEFAULT_APP_ENABLED")],
  "app.enableClientMessages": [
    sockudo("SOCKUDO_DEFAULT_APP_ENABLE_CLIENT_MESSAGES"), sockudo("SOCKUDO_ENABLE_CLIENT_MESSAGES"), soketi("SOKETI_DEFAULT_APP_ENABLE_CLIENT_MESSAGES"),
  ],
  "app.enableUserAuthentication": [
    // Socket Rush's "require channel authorization": a socket must authenticate within the timeout
    // after connecting, whatever it subscribes to (poseidonphp/pusher2 internal/apps/app.go).
    rush("appRequireChannelAuthorization"), rush("appRequireAuthorization"),
    sockudo("SOCKUDO_DEFAULT_APP_ENABLE_USER_AUTHENTICATION"),
    soketi("SOKETI_DEFAULT_APP_ENABLE_USER_AUTHENTICATION"), soketi("SOKETI_DEFAULT_APP_USER_AUTHENTICATION"),
  ],
  "app.enableWatchlistEvents": [sockudo("SOCKUDO_DEFAULT_APP_ENABLE_WATCHLIST_EVENTS")],
  "app.allowedOrigins": [sockudo("SOCKUDO_DEFAULT_APP_ALLOWED_ORIGINS")],
  "app.webhooks": [soketi("SOKETI_DEFAULT_APP_WEBHOOKS")],
  "app.maxConnections": [sockudo("SOCKUDO_DEFAULT_APP_MAX_CONNECTIONS"), soketi("SOKETI_DEFAULT_APP_MAX_CONNS"), soketi("SOKETI_DEFAULT_APP_MAX_CONNECTIONS")],
  "app.maxBackendEventsPerSecond": [sockudo("SOCKUDO_DEFAULT_APP_MAX_BACKEND_EVENTS_PER_SECOND"), soketi("SOKETI_DEFAULT_APP_MAX_BACKEND_EVENTS_PER_SEC")],
  "app.maxClientEventsPerSecond": [sockudo("SOCKUDO_DEFAULT_APP_MAX_CLIENT_EVENTS_PER_SECOND"), soketi("SOKETI_DEFAULT_APP_MAX_CLIENT_EVENTS_PER_SEC")],
  "app.maxReadRequestsPerSecond": [sockudo("SOCKUDO_DEFAULT_APP_MAX_READ_REQUESTS_PER_SECOND"), soketi("SOKETI_DEFAULT_APP_MAX_READ_REQ_PER_SEC")],
  "app.maxPresenceMembersPerChannel": [
    rush("appMaxPresenceUsers"), sockudo("SOCKUDO_DEFAULT_APP_MAX_PRESENCE_MEMBERS_PER_CHANNEL"), soketi("SOKETI_PRESENCE_MAX_MEMBERS"),
  ],
  "app.maxPresenceMemberSizeInKb": [sockudo("SOCKUDO_DEFAULT_APP_MAX_PRESENCE_MEMBER_SIZE_IN_KB"), soketi("SOKETI_PRESENCE_MAX_MEMBER_SIZE")],
  "app.maxChannelNameLength": [sockudo("SOCKUDO_DEFAULT_APP_MAX_CHANNEL_NAME_LENGTH"), soketi("SOKETI_CHANNEL_LIMITS_MAX_NAME_LENGTH")],
  "app.maxEventChannelsAtOnce": [sockudo("SOCKUDO_DEFAULT_APP_MAX_EVENT_CHANNELS_AT_ONCE"), soketi("SOKETI_EVENT_MAX_CHANNELS_AT_ONCE")],
  "app.maxEventNameLength": [sockudo("SOCKUDO_DEFAULT_APP_MAX_EVENT_NAME_LENGTH"), soketi("SOKETI_EVENT_MAX_NAME_LENGTH")],
  "app.maxEventPayloadInKb": [sockudo("SOCKUDO_DEFAULT_APP_MAX_EVENT_PAYLOAD_IN_KB"), soketi("SOKETI_EVENT_MAX_SIZE_IN_KB")],
  "app.maxEventBatchSize": [sockudo("SOCKUDO_DEFAULT_APP_MAX_EVENT_BATCH_SIZE"), soketi("SOKETI_EVENT_MAX_BATCH_SIZE")],
  "app.hasWebhookBatchingEnabled": [rush("appWebhookBatchingEnabled")],
};

/** Foreign names with no counterpart here: read, then named in a warning. */
export const NOT_ACTED_ON: Alias[] = [
  rush("appEnv"),
  sockudo("INSTANCE_PROCESS_ID"), sockudo("UNIX_SOCKET_ENABLED"), sockudo("SSL_REDIRECT_HTTP"),
  sockudo("METRICS_DRIVER"), sockudo("RATE_LIMITER_API_TRUST_HOPS"), sockudo("DATABASE_REDIS_KEY_PREFIX"),
  soketi("SOKETI_MODE"), soketi("SOKETI_METRICS_DRIVER"), soketi("SOKETI_DB_REDIS_KEY_PREFIX"), soketi("SOKETI_DB_POOLING_ENABLED"),
  soketi("SOKETI_DB_POOLING_MIN"), soketi("SOKETI_APP_MANAGER_MYSQL_VERSION"), soketi("SOKETI_APP_MANAGER_POSTGRES_VERSION"),
  soketi("SOKETI_APP_MANAGER_MYSQL_USE_V2"), soketi("SOKETI_ADAPTER_REDIS_REQUESTS_TIMEOUT"), soketi("SOKETI_ADAPTER_NATS_PREFIX"),
];

/** Foreign spellings of a value of ours: Socket Rush's log level trace is our debug. */
export const VALUE_ALIASES: Record<string, Record<string, string>> = {
  logLevel: { trace: "debug", warning: "warn" },
};

/** An UPPER_SNAKE alias is an environment variable only. */
export const isEnvOnly = (alias: Alias) => /^[A-Z0-9_]+$/.test(alias.name);
