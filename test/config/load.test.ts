// loadConfig is the only place flags, environment and the JSON file meet; operators depend on
// its precedence rules and on errors that point at the exact flag/variable/file key to fix.
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, type Config } from "../../src/config/load.ts";

const APP_ENV = { APP_ID: "app-id", APP_KEY: "app-key", APP_SECRET: "app-secret" };

function load(argv: string[] = [], env: Record<string, string> = {}, files: Record<string, unknown> = {}): Config {
  return loadConfig({
    argv,
    env,
    readFile: (path) => {
      if (!(path in files)) throw new Error(`ENOENT: no such file ${path}`);
      const content = files[path];
      return typeof content === "string" ? content : JSON.stringify(content);
    },
  });
}

/** Asserts a ConfigError whose message matches every pattern. */
function fails(fn: () => unknown, ...patterns: (RegExp | string)[]): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ConfigError);
  for (const p of patterns) expect((error as Error).message).toMatch(p);
}

describe("defaults", () => {
  it("uses the §8.2 server defaults", () => {
    const config = load([], APP_ENV);
    expect(config).toMatchObject({
      port: 6001, bindAddress: "0.0.0.0", pathPrefix: "", activityTimeout: 120, pongTimeout: 30,
      requireProtocolParam: false, userAuthenticationTimeout: 30, cacheTtlSeconds: 1800,
      maxWebSocketMessageKb: 64, httpMaxBodyKb: 334, shutdownGracePeriodMs: 3000, logLevel: "info", devApp: false,
    });
    expect(config.drivers).toEqual({
      adapter: { kind: "adapter", name: "local", options: {} },
      "app-store": { kind: "app-store", name: "memory", options: {} },
      cache: { kind: "cache", name: "memory", options: { appCacheTtlSeconds: 60, appCacheMissTtlSeconds: 5 } },
      queue: { kind: "queue", name: "memory", options: {} },
      "rate-limiter": {
        kind: "rate-limiter", name: "memory",
        options: { rateLimiterApiMaxRequests: 100, rateLimiterApiWindowSeconds: 60, rateLimiterWsMaxConnections: 20, rateLimiterWsWindowSeconds: 60 },
      },
    });
    expect(config.apps).toHaveLength(1);
    expect(config.apps[0]).toMatchObject({ id: "app-id", key: "app-key", secret: "app-secret", enabled: true, maxEventPayloadInKb: 10 });
  });

  it("creates a random development app when nothing is configured", () => {
    const a = load();
    const b = load();
    expect(a.devApp).toBe(true);
    expect(a.apps).toHaveLength(1);
    expect(a.apps[0]!.id).toMatch(/^\d{6}$/);
    expect(a.apps[0]!.key).toMatch(/^[0-9a-f]{20}$/);
    expect(a.apps[0]!.secret).toMatch(/^[0-9a-f]{32}$/);
    // Never a fixed demo secret.
    expect(b.apps[0]!.secret).not.toBe(a.apps[0]!.secret);
  });

  it("applies APP_* settings to the development app", () => {
    const config = load([], { APP_ENABLE_CLIENT_MESSAGES: "true" });
    expect(config.devApp).toBe(true);
    expect(config.apps[0]!.enableClientMessages).toBe(true);
  });

  it("warns, naming the setting, when APP_* settings have no default app to apply to", () => {
    const config = load(["--app-max-connections", "5"], { APPS: '[{"id":"1","key":"k","secret":"s"}]', APP_ENABLE_CLIENT_MESSAGES: "true" });
    expect(config.apps.map((a) => a.id)).toEqual(["1"]);
    expect(config.apps[0]!.enableClientMessages).toBe(false);
    expect(config.warnings).toHaveLength(1);
    expect(config.warnings[0]).toContain("APP_ENABLE_CLIENT_MESSAGES");
    expect(config.warnings[0]).toContain("--app-max-connections");
    expect(load([], { APP_ID: "1", APP_KEY: "k", APP_SECRET: "s", APP_ENABLE_CLIENT_MESSAGES: "true" }).warnings).toEqual([]);
  });

  it("makes no development app when apps come from APPS or a file store", () => {
    expect(load([], { APPS: '[{"id":"1","key":"k","secret":"s"}]' }).devApp).toBe(false);
    const fileStore = load(["--app-store-driver", "file", "--app-store-file", "/apps.json"]);
    expect(fileStore.devApp).toBe(false);
    expect(fileStore.apps).toEqual([]);
  });
});

describe("precedence: flags > environment > config file", () => {
  const file = { "/c.json": { port: 7001, activityTimeout: 50, pongTimeout: 5 } };

  it("layers the three sources key by key", () => {
    const config = load(["--config-file", "/c.json", "--port", "9001"], { ...APP_ENV, PORT: "8001", ACTIVITY_TIMEOUT: "60" }, file);
    expect(config.port).toBe(9001); // flag beats env and file
    expect(config.activityTimeout).toBe(60); // env beats file
    expect(config.pongTimeout).toBe(5); // file beats the default
  });

  it("--prefer-config-file puts the file above the environment but still below flags", () => {
    const config = load(["--config-file", "/c.json", "--prefer-config-file", "--pong-timeout", "7"],
      { ...APP_ENV, PORT: "8001", ACTIVITY_TIMEOUT: "60" }, file);
    expect(config.port).toBe(7001);
    expect(config.activityTimeout).toBe(50);
    expect(config.pongTimeout).toBe(7);
  });

  it("reads the file named by CONFIG_FILE", () => {
    expect(load([], { ...APP_ENV, CONFIG_FILE: "/c.json" }, file).port).toBe(7001);
  });

  it("accepts --flag=value as well as --flag value", () => {
    expect(load(["--port=7777", "--path-prefix", "/ws"], APP_ENV)).toMatchObject({ port: 7777, pathPrefix: "/ws" });
  });

  it("maps camelCase keys to UPPER_SNAKE environment names", () => {
    const config = load([], { ...APP_ENV, MAX_WEB_SOCKET_MESSAGE_KB: "32", HTTP_MAX_BODY_KB: "100", BIND_ADDRESS: "127.0.0.1", LOG_LEVEL: "warn" });
    expect(config).toMatchObject({ maxWebSocketMessageKb: 32, httpMaxBodyKb: 100, bindAddress: "127.0.0.1", logLevel: "warn" });
  });
});

describe("METRICS_HOST", () => {
  it("follows BIND_ADDRESS when only that is given, so metrics are not exposed wider than the server", () => {
    expect(load([], APP_ENV).metricsHost).toBe("0.0.0.0");
    const bound = load(["--bind-address", "127.0.0.1"], APP_ENV);
    expect(bound.metricsHost).toBe("127.0.0.1");
    expect(bound.origins.metricsHost).toBe("--bind-address");
    expect(load([], { ...APP_ENV, BIND_ADDRESS: "127.0.0.1", METRICS_HOST: "0.0.0.0" }).metricsHost).toBe("0.0.0.0");
  });
});

describe("boolean flags", () => {
  it("take no value when given alone", () => {
    const config = load(["--require-protocol-param", "--app-enable-client-messages", "--app-id", "1", "--app-key", "k", "--app-secret", "s"]);
    expect(config.requireProtocolParam).toBe(true);
    expect(config.apps[0]!.enableClientMessages).toBe(true);
  });

  it("accept an explicit false", () => {
    const config = load(["--require-protocol-param=false", "--app-enabled", "false"], APP_ENV);
    expect(config.requireProtocolParam).toBe(false);
    expect(config.apps[0]!.enabled).toBe(false);
  });

  it("accept 1/0/yes/no from the environment", () => {
    expect(load([], { ...APP_ENV, REQUIRE_PROTOCOL_PARAM: "1" }).requireProtocolParam).toBe(true);
    expect(load([], { ...APP_ENV, REQUIRE_PROTOCOL_PARAM: "no" }).requireProtocolParam).toBe(false);
  });
});

describe("booleans", () => {
  it("read an empty value as false, for server and app settings alike", () => {
    const config = load(["--require-protocol-param="], { ...APP_ENV, APP_ENABLE_CLIENT_MESSAGES: "", APP_ENABLED: "" });
    expect(config.requireProtocolParam).toBe(false);
    expect(config.apps[0]).toMatchObject({ enableClientMessages: false, enabled: false });
  });
});

describe("per-app settings: APP_* and --app-*", () => {
  it("map onto the default app", () => {
    const config = load(["--app-max-read-requests-per-second", "4"], {
      ...APP_ENV,
      APP_MAX_BACKEND_EVENTS_PER_SECOND: "5",
      APP_MAX_EVENT_PAYLOAD_IN_KB: "20",
      APP_ENABLED: "false",
      APP_ALLOWED_ORIGINS: "https://a.example,https://b.example",
    });
    expect(config.apps[0]).toMatchObject({
      maxBackendEventsPerSecond: 5, maxReadRequestsPerSecond: 4, maxEventPayloadInKb: 20, enabled: false,
      allowedOrigins: ["https://a.example", "https://b.example"],
    });
  });

  it("flags override APP_* variables", () => {
    expect(load(["--app-max-connections", "3"], { ...APP_ENV, APP_MAX_CONNECTIONS: "9" }).apps[0]!.maxConnections).toBe(3);
  });

  it("come from the config file's app object (camelCase or snake_case)", () => {
    const config = load(["--config-file", "/c.json"], {}, {
      "/c.json": { app: { id: "f", key: "fk", secret: "fs", max_connections: "12", enableClientMessages: true } },
    });
    expect(config.apps[0]).toMatchObject({ id: "f", key: "fk", secret: "fs", maxConnections: 12, enableClientMessages: true });
  });

  it("require a secret once an id or key is given", () => {
    fails(() => load([], { APP_ID: "1", APP_KEY: "k" }), "APP_SECRET");
    fails(() => load(["--app-id", "1", "--app-secret", "s"]), "APP_KEY");
  });
});

describe("several apps", () => {
  it("come from the config file's apps array", () => {
    const config = load(["--config-file", "/apps.json"], {}, {
      "/apps.json": { apps: [{ id: "a", key: "ka", secret: "sa" }, { id: "b", key: "kb", secret: "sb", enabled: false, max_connections: 2 }] },
    });
    expect(config.apps.map((a) => [a.id, a.enabled, a.maxConnections])).toEqual([["a", true, -1], ["b", false, 2]]);
    expect(config.devApp).toBe(false);
  });

  it("come from the APPS variable, after the default app", () => {
    const config = load([], { ...APP_ENV, APPS: '[{"id":"two","key":"k2","secret":"s2"}]' });
    expect(config.apps.map((a) => a.id)).toEqual(["app-id", "two"]);
  });

  it("must not share an id or a key", () => {
    fails(() => load([], { ...APP_ENV, APPS: '[{"id":"app-id","key":"other","secret":"s"}]' }), "id app-id");
    fails(() => load([], { ...APP_ENV, APPS: '[{"id":"other","key":"app-key","secret":"s"}]' }), "key app-key");
  });

  it("reject an APPS value that is not a JSON array, naming APPS and the bad item", () => {
    fails(() => load([], { APPS: "nope" }), "APPS");
    fails(() => load([], { APPS: '{"id":"1"}' }), "APPS");
    fails(() => load([], { APPS: '[{"id":"1","key":"k","secret":"s"},{"id":"2","key":"k2"}]' }), "apps[1]", "APPS", "secret");
  });
});

describe("invalid values name the key to fix", () => {
  it("server settings: environment, flag and file", () => {
    fails(() => load([], { ...APP_ENV, PORT: "abc" }), /\bPORT\b/, "abc");
    fails(() => load(["--port", "abc"], APP_ENV), "--port");
    fails(() => load(["--config-file", "/c.json"], APP_ENV, { "/c.json": { port: "x" } }), "port in /c.json");
    fails(() => load([], { ...APP_ENV, PORT: "70000" }), /\bPORT\b/);
    fails(() => load([], { ...APP_ENV, LOG_LEVEL: "loud" }), "LOG_LEVEL");
    fails(() => load([], { ...APP_ENV, TRUST_PROXY: "10.0.0.0/40" }), "TRUST_PROXY", "prefix length outside 0-32");
    fails(() => load(["--config-file", "/c.json"], APP_ENV, { "/c.json": { trustProxy: "maybe" } }), "trustProxy in /c.json", "number of proxy hops");
    fails(() => load([], { ...APP_ENV, ACTIVITY_TIMEOUT: "0" }), "ACTIVITY_TIMEOUT");
    fails(() => load([], { ...APP_ENV, PATH_PREFIX: "ws" }), "PATH_PREFIX");
  });

  it("per-app settings: APP_* variable, --app-* flag and the file's app object", () => {
    fails(() => load([], { ...APP_ENV, APP_MAX_CONNECTIONS: "many" }), "APP_MAX_CONNECTIONS", "many");
    fails(() => load(["--app-max-backend-events-per-second", "x"], APP_ENV), "--app-max-backend-events-per-second");
    fails(() => load(["--config-file", "/c.json"], APP_ENV, { "/c.json": { app: { enabled: "maybe" } } }), "app.enabled in /c.json");
    fails(() => load([], { APP_ENABLE_CLIENT_MESSAGES: "perhaps" }), "APP_ENABLE_CLIENT_MESSAGES");
  });

  it("nats driver: NATS_SERVERS must list websocket URLs (flag, variable and file key)", () => {
    const ok = load(["--adapter-driver", "nats", "--nats-servers", "ws://127.0.0.1:8222, ws://127.0.0.1:8223"], APP_ENV);
    expect(ok.drivers.adapter).toMatchObject({ name: "nats", options: { natsServers: "ws://127.0.0.1:8222, ws://127.0.0.1:8223" } });
    expect(load([], { ...APP_ENV, ADAPTER_DRIVER: "nats" }).drivers.adapter.options.natsServers).toBe("ws://127.0.0.1:8222");
    fails(() => load([], { ...APP_ENV, ADAPTER_DRIVER: "nats", NATS_SERVERS: "nats://127.0.0.1:4222" }), "NATS_SERVERS", "ws://");
    fails(() => load(["--config-file", "/c.json"], APP_ENV, { "/c.json": { natsServers: "127.0.0.1:8222" } }), "natsServers in /c.json");
  });

  it("the file store driver needs a file", () => {
    fails(() => load(["--app-store-driver", "file"]), "APP_STORE_FILE");
  });
});

describe("unknown or malformed input", () => {
  it("rejects unknown flags, positional arguments and flags missing their value", () => {
    fails(() => load(["--nope"], APP_ENV), "--nope");
    fails(() => load(["--apps", "[]"], APP_ENV), "--apps");
    fails(() => load(["6001"], APP_ENV), "6001");
    fails(() => load(["--port"], APP_ENV), "--port", "value");
    fails(() => load(["--port", "--log-level", "info"], APP_ENV), "--port");
  });

  it("rejects unknown config-file keys, top level and inside app", () => {
    fails(() => load(["--config-file", "/c.json"], APP_ENV, { "/c.json": { prot: 1 } }), '"prot"', "/c.json");
    fails(() => load(["--config-file", "/c.json"], APP_ENV, { "/c.json": { configFile: "/x.json" } }), "configFile");
    fails(() => load(["--config-file", "/c.json"], APP_ENV, { "/c.json": { app: { enableClientMesages: true } } }), "enableClientMesages", "/c.json");
  });

  it("rejects unknown keys inside apps[] entries (file and APPS), naming the entry and the key", () => {
    const typo = { id: "1", key: "k", secret: "s", enableClientMesages: true };
    fails(() => load(["--config-file", "/c.json"], {}, { "/c.json": { apps: [typo] } }), "apps[0].enableClientMesages", "/c.json", "did you mean enableClientMessages");
    fails(() => load([], { APPS: JSON.stringify([{ id: "1", key: "k", secret: "s" }, typo]) }), "apps[1].enableClientMesages", "APPS");
    fails(() => load([], { APPS: JSON.stringify([{ id: "1", key: "k", secret: "s", colour: "red" }]) }), "apps[0].colour");
  });

  it("accepts camelCase, snake_case and Soketi's short names inside apps[] entries", () => {
    const config = load([], {
      APPS: JSON.stringify([
        { id: "1", key: "k1", secret: "s1", enableClientMessages: true, maxConnections: 5, maxBackendEventsPerSecond: 7 },
        { app_id: "2", app_key: "k2", app_secret: "s2", enable_client_messages: true, max_connections: 5, max_backend_events_per_sec: 7,
          max_client_events_per_sec: 3, max_read_req_per_sec: 4, enable_user_authentication: true, allowed_origins: ["https://a.example"] },
      ]),
    });
    const [camel, snake] = config.apps;
    expect(camel).toMatchObject({ id: "1", enableClientMessages: true, maxConnections: 5, maxBackendEventsPerSecond: 7 });
    expect(snake).toMatchObject({
      id: "2", key: "k2", secret: "s2", enableClientMessages: true, maxConnections: 5, maxBackendEventsPerSecond: 7,
      maxClientEventsPerSecond: 3, maxReadRequestsPerSecond: 4, enableUserAuthentication: true, allowedOrigins: ["https://a.example"],
    });
  });

  it("suggests the closest flag or file key for a near miss", () => {
    fails(() => load(["--prot", "1"], APP_ENV), "--prot", "did you mean --port");
    fails(() => load(["--config-file", "/c.json"], APP_ENV, { "/c.json": { activityTimout: 5 } }), "did you mean activityTimeout");
  });

  it("ignores $schema and comment keys in the file", () => {
    expect(load(["--config-file", "/c.json"], APP_ENV, { "/c.json": { $schema: "x", $comment: "y", comment: "z", port: 1234 } }).port).toBe(1234);
  });

  it("reports unreadable, non-JSON and non-object config files by path", () => {
    fails(() => load(["--config-file", "/missing.json"], APP_ENV), "/missing.json");
    fails(() => load(["--config-file", "/bad.json"], APP_ENV, { "/bad.json": "{port:" }), "/bad.json", "JSON");
    fails(() => load(["--config-file", "/arr.json"], APP_ENV, { "/arr.json": [] }), "/arr.json");
  });

  it("ignores unrelated environment variables", () => {
    expect(load([], { ...APP_ENV, HOME: "/root", NODE_ENV: "test", APP_UNKNOWN_THING: "1" }).port).toBe(6001);
  });
});
