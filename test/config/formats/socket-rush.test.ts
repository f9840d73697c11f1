// Socket Rush's configuration as its README writes it (poseidonphp/pusher2): the JSON file shape,
// the flag table's flags and variables, its precedence, and its settings' meanings.
import { describe, expect, it } from "vitest";
import { configError, fixture, load } from "./load-fixture.ts";

const APP = ["--app-id", "123", "--app-key", "my-key", "--app-secret", "my-secret"];

describe("Socket Rush's JSON file", () => {
  it("reads the README's example: server settings, both applications, and the redis drivers", () => {
    const config = load(["--config", fixture("socket-rush/config.json")]);
    expect(config).toMatchObject({ port: 6001, bindAddress: "0.0.0.0", logLevel: "info", activityTimeout: 60 });
    expect(config.drivers.adapter).toMatchObject({ name: "redis", options: { redisUrl: "redis://localhost:6379", redisPrefix: "pusher" } });
    expect(config.drivers.queue?.name).toBe("redis");
    expect(config.drivers.cache?.name).toBe("redis");
    expect(config.drivers["app-store"].name).toBe("memory");
    expect(config.apps.map((a) => [a.id, a.key, a.secret, a.enableClientMessages, a.enableUserAuthentication])).toEqual([
      ["123", "app1key", "app1secret", true, false],
      ["456", "app2key", "app2secret", false, false],
    ]);
    expect(config.apps[0]).toMatchObject({ maxPresenceMembersPerChannel: 100, maxPresenceMemberSizeInKb: 10, webhooksEnabled: false });
    // app_env has no counterpart: named in a warning, not dropped silently.
    expect(config.warnings).toEqual([expect.stringMatching(/server\.app_env in .*config\.json \(Socket Rush\) accepted but not acted on/)]);
  });

  it("flags > environment > file, and --prefer-config-file puts the file above the environment", () => {
    const file = ["--config-file", fixture("socket-rush/config.json")];
    expect(load(file, { PORT: "7000" }).port).toBe(7000);
    expect(load([...file, "--port", "7100"], { PORT: "7000" }).port).toBe(7100);
    expect(load([...file, "--prefer-config-file"], { PORT: "7000" }).port).toBe(6001);
  });

  it("reads applications[] with Socket Rush's meanings", () => {
    const file = JSON.stringify({
      applications: [{
        app_id: "1", app_key: "k", app_secret: "s",
        app_require_channel_authorization: true, app_authorization_timeout_seconds: 7, app_activity_timeout: 45,
        app_max_connections: 0, app_max_client_events_per_second: 0, app_max_channel_name_length: 0, app_max_presence_users: 5,
        app_webhook_batching_enabled: true, app_has_member_added_webhooks: true, app_webhook_url: "http://hooks.test/in",
        app_webhook_filter_prefix: "presence-", app_webhook_sns_region: "us-east-1",
      }],
    });
    const config = load(["--config", "/cfg.json"], {}, { "/cfg.json": file });
    // Per app there, server-wide here.
    expect(config).toMatchObject({ userAuthenticationTimeout: 7, activityTimeout: 45 });
    expect(config.apps[0]).toMatchObject({
      enableUserAuthentication: true,
      maxConnections: -1, // its 0 is unlimited
      maxClientEventsPerSecond: -1,
      maxChannelNameLength: 200, // its 0 is "the default"
      maxPresenceMembersPerChannel: 5,
      hasWebhookBatchingEnabled: true,
      webhooks: [{ url: "http://hooks.test/in", event_types: ["member_added"], filter: { channel_name_starts_with: "presence-" } }],
    });
    expect(config.warnings.join("\n")).toContain("accepted but not acted on: applications[0].app_webhook_sns_region");
  });

  it("two applications with different activity timeouts: a warning, the first one wins", () => {
    const file = JSON.stringify({ applications: [
      { app_id: "1", app_key: "a", app_secret: "s", app_activity_timeout: 30 },
      { app_id: "2", app_key: "b", app_secret: "s", app_activity_timeout: 90 },
    ] });
    const config = load(["--config", "/c.json"], {}, { "/c.json": file });
    expect(config.activityTimeout).toBe(30);
    expect(config.warnings.join("\n")).toMatch(/applications\[1\]\.app_activity_timeout .* \(90\) not acted on: activityTimeout is one value for the whole server/);
  });

  it("a value of the wrong type is still an error naming the key", () => {
    const bad = JSON.stringify({ server: { port: "many" }, applications: [{ app_id: "1", app_key: "k", app_secret: "s", app_max_connections: "lots" }] });
    expect(configError(() => load(["--config", "/bad.json"], {}, { "/bad.json": bad }))).toMatch(/server\.port in \/bad\.json/);
    const badApp = JSON.stringify({ applications: [{ app_id: "1", app_key: "k", app_secret: "s", app_max_connections: "lots" }] });
    expect(configError(() => load(["--config", "/b.json"], {}, { "/b.json": badApp }))).toMatch(/applications\[0\].*maxConnections/);
  });
});

describe("Socket Rush's flags and variables", () => {
  it("the README's command lines", () => {
    const redis = load(["--port", "8080", "--adapter-driver", "redis", "--redis-url", "redis://my-redis:6379"]);
    expect(redis.port).toBe(8080);
    expect(redis.drivers.adapter).toMatchObject({ name: "redis", options: { redisUrl: "redis://my-redis:6379" } });
    const app = load(APP);
    expect(app.apps).toEqual([expect.objectContaining({ id: "123", key: "my-key", secret: "my-secret" })]);
    expect(app.devApp).toBe(false);
  });

  it("--app-require-channel-authorization is user authentication within --app-authorization-timeout-seconds", () => {
    for (const flag of ["--app-require-channel-authorization", "--app-require-authorization"]) {
      const config = load([...APP, flag, "--app-authorization-timeout-seconds", "3"]);
      expect(config.apps[0]!.enableUserAuthentication).toBe(true);
      expect(config.userAuthenticationTimeout).toBe(3);
    }
    const env = load([], { APP_ID: "1", APP_KEY: "k", APP_SECRET: "s", APP_REQUIRE_CHANNEL_AUTHORIZATION: "true", APP_AUTHORIZATION_TIMEOUT_SECONDS: "4" });
    expect(env.apps[0]!.enableUserAuthentication).toBe(true);
    expect(env.userAuthenticationTimeout).toBe(4);
  });

  it("every --app-* of the table", () => {
    const config = load([
      ...APP, "--app-activity-timeout", "50", "--app-max-presence-users", "7", "--app-webhook-enabled", "--app-enable-client-messages",
      "--app-max-connections", "9", "--app-max-backend-events-per-second", "11", "--app-max-client-events-per-second", "12",
      "--app-max-read-requests-per-second", "13", "--app-max-presence-member-size-in-kb", "3", "--app-max-channel-name-length", "150",
      "--app-max-event-channels-at-once", "20", "--app-max-event-name-length", "120", "--app-max-event-payload-in-kb", "30",
      "--app-max-event-batch-size", "5", "--app-has-client-event-webhooks", "--app-has-channel-occupied-webhooks=false",
      "--app-has-channel-vacated-webhooks", "--app-has-member-added-webhooks", "--app-has-member-removed-webhooks",
      "--app-has-cache-miss-webhooks", "--app-has-webhook-batching-enabled", "--app-webhooks-enabled", "--app-webhook-batching-enabled",
    ]);
    expect(config.activityTimeout).toBe(50);
    expect(config.apps[0]).toMatchObject({
      maxPresenceMembersPerChannel: 7, webhookEnabled: true, enableClientMessages: true, maxConnections: 9, maxBackendEventsPerSecond: 11,
      maxClientEventsPerSecond: 12, maxReadRequestsPerSecond: 13, maxPresenceMemberSizeInKb: 3, maxChannelNameLength: 150,
      maxEventChannelsAtOnce: 20, maxEventNameLength: 120, maxEventPayloadInKb: 30, maxEventBatchSize: 5,
      hasClientEventWebhooks: true, hasChannelOccupiedWebhooks: false, hasChannelVacatedWebhooks: true, hasMemberAddedWebhooks: true,
      hasMemberRemovedWebhooks: true, hasCacheMissWebhooks: true, hasWebhookBatchingEnabled: true, webhooksEnabled: true,
    });
  });

  it("drivers as Socket Rush names them: local and array are our memory drivers, the local queue sends at once", () => {
    const config = load([...APP, "--cache-driver", "local", "--queue-driver", "local", "--adapter-driver", "local", "--app-manager", "array"]);
    expect(Object.values(config.drivers).map((d) => `${d!.kind}=${d!.name}`).sort()).toEqual(["adapter=local", "app-store=memory", "cache=memory", "queue=sync", "rate-limiter=memory"]);
  });

  it("--redis-url without a scheme, --redis-tls and --redis-cluster", () => {
    const base = [...APP, "--adapter-driver", "redis", "--queue-driver", "redis", "--redis-url", "localhost:6379"];
    expect(load(base).drivers.adapter.options.redisUrl).toBe("redis://localhost:6379");
    expect(load([...base, "--redis-tls"]).drivers.adapter.options.redisUrl).toBe("rediss://localhost:6379");
    const cluster = load([...base, "--redis-cluster"]);
    expect(cluster.drivers.adapter).toMatchObject({ name: "redis-cluster", options: { redisClusterNodes: "localhost:6379" } });
    expect(cluster.drivers.queue?.name).toBe("redis-cluster");
    expect(load(base, { REDIS_CLUSTER: "true", REDIS_TLS: "false" }).drivers.adapter.name).toBe("redis-cluster");
  });

  it("--log-level trace is debug; --ignore-logger-middleware turns request logs off; --app-env is named in a warning", () => {
    const config = load([...APP, "--log-level", "trace", "--app-env", "development", "--ignore-logger-middleware"]);
    expect(config.logLevel).toBe("debug");
    expect(config.ignoreLoggerMiddleware).toBe(true);
    expect(config.warnings.join("\n")).toMatch(/--app-env \(Socket Rush\) accepted but not acted on/);
  });
});

describe(".env files", () => {
  it("reads ./.env when it exists; the real environment wins over it", () => {
    const dotenv = "APP_ID=1\nAPP_KEY=k\nAPP_SECRET=s\nPORT=7001 # a comment\nexport LOG_LEVEL='debug'\n";
    const config = load([], { PORT: "7002" }, { "./.env": dotenv });
    expect(config).toMatchObject({ port: 7002, logLevel: "debug" });
    expect(config.apps[0]!.id).toBe("1");
    expect(config.origins.logLevel).toBe("LOG_LEVEL in ./.env");
  });

  it("--env-file names another; a named file that is missing is an error; \"\" reads none", () => {
    const extra = { "/etc/sb.env": "PORT=7003", "./.env": "PORT=7004" };
    expect(load(["--env-file", "/etc/sb.env"], {}, extra).port).toBe(7003);
    expect(load([], { ENV_FILE: "/etc/sb.env" }, extra).port).toBe(7003);
    expect(load(["--env-file="], {}, extra).port).toBe(6001);
    expect(configError(() => load(["--env-file", "../.env"]))).toMatch(/cannot read --env-file \.\.\/\.env/);
  });

  it("a malformed line is an error naming the file and line", () => {
    expect(configError(() => load([], {}, { "./.env": "PORT=1\nthis is not a setting\n" }))).toBe('./.env:2: expected NAME=value, got "this is not a setting"');
  });

  it("a half default app names where its parts came from", () => {
    expect(configError(() => load([], {}, { "./.env": "APP_KEY=base64:abc\n" }))).toMatch(/APP_ID \(--app-id\) is missing: APP_KEY in \.\/\.env start a default app/);
  });
});
