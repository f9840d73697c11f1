// APP_MANAGER_DRIVER and its aliases (Soketi's, Sockudo's, Socket Rush's), the database settings.
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/load.ts";

// No ./.env in these tests: only the config file exists.
const noDotenv = (path: string) => {
  if (path.endsWith(".env")) throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
  return "{}";
};
const load = (env: Record<string, string>, argv: string[] = []) => loadConfig({ argv, env, readFile: noDotenv });

describe("app store settings", () => {
  it("accepts APP_MANAGER_DRIVER, APP_MANAGER and APP_STORE_DRIVER, with the array and pgsql aliases", () => {
    expect(load({ APP_MANAGER_DRIVER: "pgsql" }).drivers["app-store"].name).toBe("postgres");
    expect(load({ APP_MANAGER: "mysql" }).drivers["app-store"].name).toBe("mysql");
    expect(load({ APP_STORE_DRIVER: "array" }).drivers["app-store"].name).toBe("memory");
    expect(load({}, ["--app-manager-driver", "dynamodb"]).drivers["app-store"].name).toBe("dynamodb");
    expect(load({}, ["--app-manager", "postgres"]).drivers["app-store"].name).toBe("postgres");
  });

  it("reads Sockudo's DATABASE_POSTGRES_* names and AWS_REGION", () => {
    const config = load({ APP_MANAGER: "postgres", DATABASE_POSTGRES_HOST: "db", DATABASE_POSTGRES_PORT: "6543", AWS_REGION: "eu-west-1" });
    expect(config.drivers["app-store"].options).toMatchObject({ databasePostgresHost: "db", databasePostgresPort: 6543 });
    expect(load({ APP_MANAGER: "dynamodb", AWS_REGION: "eu-west-1" }).drivers["app-store"].options).toMatchObject({ awsRegion: "eu-west-1" });
  });

  it("names the bad setting", () => {
    expect(() => load({ APP_MANAGER_DRIVER: "oracle" })).toThrow(/APP_MANAGER_DRIVER/);
    expect(() => load({ APP_MANAGER_TABLE: "apps; drop table x" })).toThrow(/APP_MANAGER_TABLE/);
    expect(() => load({ APP_MANAGER: "mysql", DATABASE_URL: "postgres://u@h/db" })).toThrow(ConfigError);
    expect(() => load({ CACHE_DRIVER: "redis-cluster" })).toThrow(/REDIS_CLUSTER_NODES/);
  });
});
