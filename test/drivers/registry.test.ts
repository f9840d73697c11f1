// The driver registry is how every backend is chosen: names and aliases, each driver's own
// settings checked and named like any other setting, and one registerDriver call enough to add one.
import { z } from "zod";
import { describe, expect, it } from "vitest";
import { helpText } from "../../src/config/help.ts";
import { ConfigError, loadConfig, type Config } from "../../src/config/load.ts";
import type { Adapter } from "../../src/core/adapter.ts";
import {
  createDriver, defineKind, driverKinds, driverNames, driverSettings, findDriver, registerDriver, selectorKey, type DriverContext,
} from "../../src/drivers/index.ts";
import { LocalAdapter } from "../../src/adapters/local.ts";
import { SERVER_SETTING_KEYS } from "../../src/config/schema.ts";
import { APP_SETTING_KEYS } from "../../src/core/app.ts";
import { MemoryAppStore } from "../../src/app-stores/memory.ts";

const APP_ENV = { APP_ID: "app-id", APP_KEY: "app-key", APP_SECRET: "app-secret" };
const load = (argv: string[], env: Record<string, string> = {}, files: Record<string, unknown> = {}): Config =>
  loadConfig({ argv, env: { ...APP_ENV, ...env }, readFile: (p) => JSON.stringify(files[p]) });

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("no ConfigError");
}

const context: DriverContext = {
  apps: [],
  timers: { setInterval: () => 0, clearInterval: () => {}, setTimeout: () => 0, clearTimeout: () => {}, now: () => 0 },
  logger: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  crypto: { hmacSha256Hex: async () => "", md5Hex: () => "" },
  readTextFile: async () => "[]",
};

describe("choosing a driver", () => {
  it("defaults to the local adapter and the memory app store", () => {
    expect(load([]).drivers).toMatchObject({ adapter: { name: "local" }, "app-store": { name: "memory" } });
  });

  it("resolves aliases to the registered name", () => {
    for (const alias of ["array", "local"]) expect(load([], { APP_STORE_DRIVER: alias }).drivers["app-store"].name).toBe("memory");
    expect(findDriver("app-store", "array")?.name).toBe("memory");
  });

  it("rejects an unknown name, naming the key and listing the valid names with their aliases", () => {
    const message = configError(() => load([], { ADAPTER_DRIVER: "postgres" }));
    expect(message).toBe('invalid value for ADAPTER_DRIVER ("postgres"): unknown adapter driver; valid: local, redis, redis-cluster, upstash, nats');
    expect(configError(() => load(["--app-store-driver", "sql"]))).toContain("--app-store-driver");
    expect(configError(() => load(["--config-file", "/c.json"], {}, { "/c.json": { appStoreDriver: "sql" } }))).toContain("appStoreDriver in /c.json");
    expect(driverNames("app-store")).toBe("memory (alias: array, local), file, postgres (alias: pgsql, postgresql), mysql (alias: mariadb), dynamodb");
  });

  it("requires the chosen driver's required settings, naming variable, flag and selector", () => {
    expect(configError(() => load([], { ADAPTER_DRIVER: "redis-cluster" }))).toBe(
      "REDIS_CLUSTER_NODES (--redis-cluster-nodes) is required when ADAPTER_DRIVER is redis-cluster",
    );
    expect(configError(() => load(["--adapter-driver", "upstash", "--upstash-redis-rest-url", "http://127.0.0.1:8079"]))).toBe(
      "UPSTASH_REDIS_REST_TOKEN (--upstash-redis-rest-token) is required when --adapter-driver is upstash",
    );
    expect(configError(() => load([], { APP_STORE_DRIVER: "file" }))).toContain("APP_STORE_FILE (--app-store-file) is required");
  });

  it("checks a driver's cross-setting rules only when it is chosen", () => {
    const upstash = { ADAPTER_DRIVER: "upstash", UPSTASH_REDIS_REST_URL: "http://127.0.0.1:8079", UPSTASH_REDIS_REST_TOKEN: "t" };
    expect(configError(() => load([], { ...upstash, REDIS_PREFIX: "a,b" }))).toBe('invalid value for REDIS_PREFIX ("a,b"): must not contain a comma with the upstash driver');
    expect(load([], { ADAPTER_DRIVER: "redis", REDIS_PREFIX: "a,b" }).drivers.adapter.options.redisPrefix).toBe("a,b");
  });

  it("checks a value given for a driver that is not chosen, naming its key", () => {
    expect(configError(() => load([], { REDIS_CLUSTER_NODES: "nope" }))).toContain("REDIS_CLUSTER_NODES");
    expect(configError(() => load(["--cluster-node-timeout", "0"]))).toContain("--cluster-node-timeout");
  });

  it("hands the chosen driver its parsed options, defaults included", () => {
    const config = load(["--adapter-driver", "redis", "--cluster-node-timeout", "5"], { REDIS_URL: "redis://10.0.0.1:6380" });
    expect(config.drivers.adapter).toEqual({
      kind: "adapter", name: "redis", options: {
        redisUrl: "redis://10.0.0.1:6380", redisPrefix: "switchboard:", clusterNodeTimeout: 5, clusterRequestTimeoutMs: 2000, clusterBusLingerMs: 5000,
      },
    });
  });
});

describe("the registered drivers", () => {
  it("use no setting name a server setting or a default-app flag (--app-<setting>) already has", () => {
    const taken = new Set<string>([...SERVER_SETTING_KEYS, ...APP_SETTING_KEYS.map((k) => `app${k[0]!.toUpperCase()}${k.slice(1)}`)]);
    const backend = [...driverKinds().map((k) => selectorKey(k.kind)), ...driverSettings().keys()];
    expect(backend.filter((key) => taken.has(key))).toEqual([]);
  });
});

describe("createDriver", () => {
  it("loads and builds the chosen driver", async () => {
    expect(await createDriver("adapter", load([]).drivers.adapter, context)).toBeInstanceOf(LocalAdapter);
    const store = await createDriver("app-store", { kind: "app-store", name: "memory", options: {} }, { ...context, apps: load([]).apps });
    expect(store).toBeInstanceOf(MemoryAppStore);
    expect((await store.findByKey("app-key"))?.id).toBe("app-id");
  });

  it("refuses a name nothing registered", async () => {
    await expect(createDriver("adapter", { kind: "adapter", name: "carrier-pigeon", options: {} }, context)).rejects.toThrow(/carrier-pigeon.*valid: local/);
  });
});

describe("registering", () => {
  it("one registerDriver call adds a driver: its name, alias, settings, --help lines and factory", async () => {
    let loaded = 0;
    registerDriver({
      kind: "adapter",
      name: "test-echo",
      aliases: ["echo"],
      help: "a driver registered by this test",
      options: z.object({ echoDelayMs: z.coerce.number().int().min(0).default(5).describe("how long the echo takes") }),
      load: async () => {
        loaded++;
        return (options, { timers }): Adapter => Object.assign(new LocalAdapter(timers.now), { echoDelayMs: options.echoDelayMs });
      },
    });
    const config = load(["--adapter-driver", "echo", "--echo-delay-ms", "7"]);
    expect(config.drivers.adapter).toEqual({ kind: "adapter", name: "test-echo", options: { echoDelayMs: 7 } });
    expect(load([], { ADAPTER_DRIVER: "test-echo", ECHO_DELAY_MS: "9" }).drivers.adapter.options.echoDelayMs).toBe(9);
    expect(configError(() => load([], { ADAPTER_DRIVER: "echo", ECHO_DELAY_MS: "-1" }))).toContain("ECHO_DELAY_MS");
    expect(helpText()).toContain("test-echo: a driver registered by this test");
    expect(helpText()).toMatch(/--echo-delay-ms, ECHO_DELAY_MS {2}\(default 5\)\n {6}how long the echo takes \[test-echo\]/);
    expect(loaded).toBe(0); // configuration never loads a driver
    const adapter = await createDriver("adapter", config.drivers.adapter, context);
    expect(loaded).toBe(1);
    expect((adapter as unknown as { echoDelayMs: number }).echoDelayMs).toBe(7);
  });

  it("refuses a name or alias twice, an unknown kind, a kind twice, and one setting with two schemas", () => {
    const load = async () => () => new LocalAdapter(Date.now);
    expect(() => registerDriver({ kind: "adapter", name: "redis", help: "", load })).toThrow(/redis is registered twice/);
    expect(() => registerDriver({ kind: "adapter", name: "another", aliases: ["echo"], help: "", load })).toThrow(/echo is registered twice/);
    expect(() => registerDriver({ kind: "carrier" as "adapter", name: "pigeon", help: "", load })).toThrow(/kind carrier is not defined/);
    expect(() => defineKind({ kind: "adapter", default: "local", help: "" })).toThrow(/defined twice/);
    expect(() =>
      registerDriver({ kind: "adapter", name: "prefix-clash", help: "", options: z.object({ redisPrefix: z.string() }), load }),
    ).toThrow(/setting redisPrefix .* share one schema object/);
  });
});
