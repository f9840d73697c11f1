// Soketi's SOKETI_* environment as a migration aid: the names with a counterpart work, the rest are
// named in a warning.
import { describe, expect, it } from "vitest";
import { envFixture, load } from "./load-fixture.ts";

describe("Soketi's environment", () => {
  it("a Soketi docker-compose environment: default app, limits, user authentication, webhooks batching", () => {
    const config = load([], envFixture("soketi/soketi.env"));
    expect(config).toMatchObject({ port: 6001, logLevel: "debug", userAuthenticationTimeout: 2, webhookBatching: true, webhookBatchingDurationMs: 100 });
    expect(Object.values(config.drivers).map((d) => `${d!.kind}=${d!.name}`).sort()).toEqual(["adapter=local", "app-store=memory", "cache=memory", "queue=sync", "rate-limiter=memory"]);
    expect(config.apps).toEqual([expect.objectContaining({
      id: "app-id", key: "app-key", secret: "app-secret", enableClientMessages: true, enableUserAuthentication: true, maxConnections: 3,
      maxClientEventsPerSecond: 50, maxPresenceMembersPerChannel: 2, maxEventPayloadInKb: 40,
      webhooks: [expect.objectContaining({ url: "http://127.0.0.1:1/hooks", event_types: ["channel_occupied", "channel_vacated"] })],
    })]);
    expect(config.warnings.join("\n")).toMatch(/SOKETI_MODE \(Soketi\) accepted but not acted on/);
  });

  it("Redis from its parts, the app manager and databases, and an unknown SOKETI_* name", () => {
    const config = load([], {
      SOKETI_DEFAULT_APP_ID: "1", SOKETI_DEFAULT_APP_KEY: "k", SOKETI_DEFAULT_APP_SECRET: "s",
      SOKETI_ADAPTER_DRIVER: "redis", SOKETI_DB_REDIS_HOST: "redis", SOKETI_DB_REDIS_PORT: "6380", SOKETI_DB_REDIS_PASSWORD: "pw",
      SOKETI_ADAPTER_REDIS_PREFIX: "soketi:", SOKETI_APP_MANAGER_DRIVER: "postgres", SOKETI_DB_POSTGRES_HOST: "pg",
      SOKETI_DB_POSTGRES_USERNAME: "soketi", SOKETI_APP_MANAGER_POSTGRES_TABLE: "apps2", SOKETI_APP_MANAGER_CACHE_ENABLED: "false",
      SOKETI_SHUTDOWN_GRACE_PERIOD: "1500", SOKETI_TYPO_SETTING: "1",
    });
    expect(config.drivers.adapter.options).toMatchObject({ redisUrl: "redis://:pw@redis:6380", redisPrefix: "soketi:" });
    expect(config.drivers["app-store"]).toMatchObject({ name: "postgres", options: { databasePostgresHost: "pg", databasePostgresUser: "soketi", appManagerTable: "apps2" } });
    expect(config.drivers.cache?.name).toBe("none");
    expect(config.shutdownGracePeriodMs).toBe(1500);
    expect(config.warnings.join("\n")).toMatch(/SOKETI_TYPO_SETTING accepted but not acted on: not a Soketi option Switchboard knows/);
  });

  it("a value of the wrong type is an error naming the variable", () => {
    expect(() => load([], { SOKETI_DEFAULT_APP_ID: "1", SOKETI_DEFAULT_APP_KEY: "k", SOKETI_DEFAULT_APP_SECRET: "s", SOKETI_DEFAULT_APP_MAX_CONNS: "many" }))
      .toThrow(/SOKETI_DEFAULT_APP_MAX_CONNS \(Soketi\)/);
  });
});
