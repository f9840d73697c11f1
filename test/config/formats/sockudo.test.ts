// Sockudo's configuration as its README and repository write it: config/config.json (recognised by
// its shape) and its environment names, with driver names as Sockudo spells them.
import { describe, expect, it } from "vitest";
import { effectiveLevel } from "../../../src/logging/logger.ts";
import { configError, envFixture, fixture, load } from "./load-fixture.ts";

describe("Sockudo's config.json", () => {
  it("reads the repository's config/config.json: server settings, drivers, apps and global limits", () => {
    const config = load(["--config-file", fixture("sockudo/config.json")]);
    expect(config).toMatchObject({
      bindAddress: "127.0.0.1", port: 6001, pathPrefix: "", shutdownGracePeriodMs: 10_000, maxWebSocketMessageKb: 64,
      userAuthenticationTimeout: 3600, cacheTtlSeconds: 3600, httpMaxBodyKb: 10 * 1024, webhookBatching: false, webhookBatchingDurationMs: 50,
      logLevel: "info",
    });
    expect(Object.values(config.drivers).map((d) => `${d!.kind}=${d!.name}`).sort()).toEqual(["adapter=local", "app-store=memory", "cache=none", "queue=memory", "rate-limiter=redis"]);
    expect(config.apps).toEqual([expect.objectContaining({
      id: "app-id", key: "app-key", secret: "app-secret", maxConnections: 1000, enableClientMessages: true, enabled: true,
      maxClientEventsPerSecond: 100,
      // event_limits, presence and channel_limits fill in what the app leaves unset
      maxEventChannelsAtOnce: 1000, maxEventNameLength: 2000, maxEventPayloadInKb: 1000, maxEventBatchSize: 100,
      maxPresenceMembersPerChannel: 100, maxPresenceMemberSizeInKb: 2, maxChannelNameLength: 200,
    })]);
  });

  it("names each key it does not act on, in one warning; unselected drivers' sections are not warned about", () => {
    const [warning, ...rest] = load(["--config-file", fixture("sockudo/config.json")]).warnings;
    expect(rest).toEqual([]);
    expect(warning).toMatch(/config\.json \(Sockudo format\): accepted but not acted on: /);
    for (const key of ["mode", "instance.process_id", "cleanup.worker_threads", "database_pooling.max", "logging.colors_enabled"]) {
      expect(warning).toContain(key);
    }
    // adapter.nats.servers (nats://, a TCP URL) belongs to a driver the file does not pick.
    expect(warning).not.toContain("adapter.nats");
    expect(warning).not.toContain("database.mysql");
  });

  it("reads a driver's section when the file picks that driver", () => {
    const file = JSON.stringify({
      adapter: { driver: "redis-cluster", cluster: { nodes: ["redis://10.0.0.1:7000", "redis://10.0.0.2:7001"], prefix: "sk:" } },
      app_manager: { driver: "pgsql" },
      database: { postgres: { host: "pg", port: 5433, username: "u", password: "p", database: "d", table_name: "applications", connection_pool_size: 4 } },
      queue: { driver: "sqs", sqs: { region: "eu-west-1", visibility_timeout: 45, wait_time_seconds: 5, concurrency: 3 } },
    });
    const config = load(["--config-file", "/s.json"], { SQS_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/1/q" }, { "/s.json": file });
    expect(config.drivers.adapter).toMatchObject({ name: "redis-cluster", options: { redisClusterNodes: "10.0.0.1:7000,10.0.0.2:7001", redisPrefix: "sk:" } });
    expect(config.drivers["app-store"]).toMatchObject({
      name: "postgres",
      options: { databasePostgresHost: "pg", databasePostgresPort: 5433, databasePostgresUser: "u", appManagerTable: "applications", databasePoolSize: 4 },
    });
    expect(config.drivers.queue).toMatchObject({ name: "sqs", options: { sqsRegion: "eu-west-1", sqsWaitTimeSeconds: 5, webhookVisibilityTimeoutMs: 45_000 } });
    expect(config.webhookConcurrency).toBe(3);
  });

  it("a value of the wrong type is an error naming the key; an app's unknown key is a warning", () => {
    const bad = JSON.stringify({ adapter: { driver: "local" }, port: "six" });
    expect(configError(() => load(["--config-file", "/b.json"], {}, { "/b.json": bad }))).toMatch(/invalid value for port in \/b\.json/);
    const unknownDriver = JSON.stringify({ adapter: { driver: "carrier-pigeon" } });
    expect(configError(() => load(["--config-file", "/d.json"], {}, { "/d.json": unknownDriver }))).toMatch(/adapter\.driver in \/d\.json.*unknown adapter driver/);
    const app = JSON.stringify({ app_manager: { array: { apps: [{ id: "1", key: "k", secret: "s", decay_seconds: 5 }] } } });
    expect(load(["--config-file", "/a.json"], {}, { "/a.json": app }).warnings.join("\n")).toContain("app_manager.array.apps[0].decay_seconds");
  });
});

describe("Sockudo's environment", () => {
  it("the README's .env, read with --env-file: default app, drivers and Redis", () => {
    const config = load(["--env-file", fixture("sockudo/.env")]);
    expect(config).toMatchObject({ bindAddress: "0.0.0.0", port: 6001, logLevel: "info" });
    expect(config.apps).toEqual([expect.objectContaining({ id: "demo-app", key: "demo-key", secret: "demo-secret", enableClientMessages: true })]);
    expect(config.drivers.adapter).toMatchObject({ name: "redis", options: { redisUrl: "redis://redis:6379/0" } });
    expect(config.drivers.cache?.name).toBe("redis");
    expect(config.drivers.queue?.name).toBe("redis");
    expect(config.origins.bindAddress).toMatch(/^HOST in .*sockudo\/\.env \(Sockudo\)$/);
  });

  it("HOST, DEBUG, REDIS_PASSWORD, DATABASE_MYSQL_*, SSL_* and the SOCKUDO_DEFAULT_APP_* limits", () => {
    const config = load([], {
      ...envFixture("sockudo/.env"),
      DEBUG: "true", REDIS_URL: "redis://cache.internal:6380/2", REDIS_PASSWORD: "s3cret",
      APP_MANAGER_DRIVER: "mysql", DATABASE_MYSQL_HOST: "db", DATABASE_MYSQL_USERNAME: "sockudo", DATABASE_MYSQL_PASSWORD: "pw",
      DATABASE_MYSQL_DATABASE: "sockudo", DATABASE_MYSQL_TABLE_NAME: "applications",
      SSL_CERT_PATH: "/c.pem", SOCKUDO_DEFAULT_APP_MAX_CONNECTIONS: "50", SHUTDOWN_GRACE_PERIOD: "2",
    });
    expect(effectiveLevel(config)).toBe("debug");
    expect(config.shutdownGracePeriodMs).toBe(2000);
    expect(config.drivers.adapter.options.redisUrl).toBe("redis://:s3cret@cache.internal:6380/2");
    expect(config.drivers["app-store"]).toMatchObject({
      name: "mysql", options: { databaseMysqlHost: "db", databaseMysqlUser: "sockudo", databaseMysqlPassword: "pw", appManagerTable: "applications" },
    });
    expect(config.apps[0]!.maxConnections).toBe(50);
    // SSL_* are Sockudo's names and ours: they take effect, with no "not acted on" warning.
    expect(config.sslCertPath).toBe("/c.pem");
    expect(config.warnings.join("\n")).not.toMatch(/SSL_CERT_PATH/);
  });

  it("reads Sockudo's WebSocket rate limit (connection attempts per address) as ours", () => {
    const fromEnv = load([], { RATE_LIMITER_ENABLED: "true", RATE_LIMITER_WS_MAX_REQUESTS: "5" });
    expect(fromEnv.drivers["rate-limiter"]!.options.rateLimiterWsMaxConnections).toBe(5);
    expect(fromEnv.warnings.join("\n")).not.toMatch(/RATE_LIMITER_WS_MAX_REQUESTS/);
    const file = JSON.stringify({ rate_limiter: { enabled: true, driver: "memory", websocket_rate_limit: { max_requests: 7, window_seconds: 30 } } });
    const fromFile = load(["--config-file", "/sockudo.json"], {}, { "/sockudo.json": file });
    expect(fromFile.drivers["rate-limiter"]!.options).toMatchObject({ rateLimiterWsMaxConnections: 7, rateLimiterWsWindowSeconds: 30 });
    expect(fromFile.warnings.join("\n")).not.toMatch(/max_requests/);
  });

  it("our own name wins over Sockudo's when both are given", () => {
    expect(load([], { BIND_ADDRESS: "127.0.0.1", HOST: "0.0.0.0" }).bindAddress).toBe("127.0.0.1");
    // DEBUG=true is a setting of ours too (issue: Sockudo's name means debug level): it wins.
    expect(effectiveLevel(load([], { LOG_LEVEL: "warn", DEBUG: "true" }))).toBe("debug");
  });

  it("driver names as Sockudo spells them", () => {
    const env = { APP_ID: "1", APP_KEY: "k", APP_SECRET: "s" };
    expect(load([], { ...env, CACHE_DRIVER: "none", QUEUE_DRIVER: "none" }).drivers).toMatchObject({ cache: { name: "none" }, queue: { name: "none" } });
    expect(load([], { ...env, QUEUE_DRIVER: "redis-cluster", REDIS_CLUSTER_NODES: "redis://a:7000,redis://b:7001" }).drivers.queue)
      .toMatchObject({ name: "redis-cluster", options: { redisClusterNodes: "a:7000,b:7001" } });
    expect(load([], { ...env, APP_MANAGER_DRIVER: "pgsql" }).drivers["app-store"].name).toBe("postgres");
    expect(load([], { ...env, APP_MANAGER_DRIVER: "memory", CACHE_DRIVER: "memory" }).drivers.cache?.name).toBe("memory");
  });
});
