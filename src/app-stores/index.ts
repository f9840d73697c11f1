// Store selection, in one place: a name → lazy import per driver, so a driver that is not selected
// never loads its client library (postgres, mysql2, the AWS SDK, ioredis for the cache).
import type { AppDatabase, AppStore } from "../core/app-store.ts";
import type { Logger } from "../core/runtime.ts";
import type { Config } from "../config/load.ts";
import type { AppCache } from "./cache/cache.ts";
import { MemoryAppCache } from "./cache/memory.ts";
import { CachedAppStore } from "./cached.ts";
import { FileAppStore } from "./file.ts";
import { MemoryAppStore } from "./memory.ts";
import type { SqlConnectionSettings } from "./sql/connection.ts";

export interface StoreContext {
  config: Config;
  logger: Logger;
  readTextFile(path: string): Promise<string>;
  now(): number;
}

function sqlSettings(ctx: StoreContext, kind: "postgres" | "mysql"): SqlConnectionSettings {
  const c = ctx.config;
  const fields = kind === "postgres"
    ? { host: c.databasePostgresHost, port: c.databasePostgresPort, user: c.databasePostgresUser, password: c.databasePostgresPassword, database: c.databasePostgresDatabase }
    : { host: c.databaseMysqlHost, port: c.databaseMysqlPort, user: c.databaseMysqlUser, password: c.databaseMysqlPassword, database: c.databaseMysqlDatabase };
  return { ...fields, url: c.databaseUrl, poolSize: c.databasePoolSize, tls: c.databaseTls, timeoutMs: c.databaseTimeoutMs, table: c.appManagerTable, logger: ctx.logger };
}

const DATABASES: Record<string, (ctx: StoreContext) => Promise<AppDatabase>> = {
  postgres: async (ctx) => (await import("./postgres.ts")).openPostgresAppStore(sqlSettings(ctx, "postgres")),
  mysql: async (ctx) => (await import("./mysql.ts")).openMysqlAppStore(sqlSettings(ctx, "mysql")),
  dynamodb: async (ctx) =>
    (await import("./dynamodb.ts")).openDynamoAppStore({
      table: ctx.config.dynamodbTable,
      region: ctx.config.dynamodbRegion,
      endpoint: ctx.config.dynamodbEndpoint,
      timeoutMs: ctx.config.databaseTimeoutMs,
      logger: ctx.logger,
    }),
};

const CACHES: Record<Config["cacheDriver"], (ctx: StoreContext) => Promise<AppCache | undefined>> = {
  memory: async (ctx) => new MemoryAppCache(ctx.now),
  redis: (ctx) => redisCache(ctx, false),
  "redis-cluster": (ctx) => redisCache(ctx, true),
  none: async () => undefined,
};

async function redisCache(ctx: StoreContext, cluster: boolean): Promise<AppCache> {
  const c = ctx.config;
  const { openRedisAppCache } = await import("./cache/redis.ts");
  return openRedisAppCache({ cluster, url: c.redisUrl, nodes: c.redisClusterNodes, prefix: c.redisPrefix, timeoutMs: c.databaseTimeoutMs, logger: ctx.logger });
}

/** True for the drivers the apps command and migrate can change. */
export function isDatabaseDriver(driver: string): boolean {
  return driver in DATABASES;
}

/** The configured database store, uncached (for the apps and migrate commands). */
export function openAppDatabase(ctx: StoreContext): Promise<AppDatabase> {
  const open = DATABASES[ctx.config.appStoreDriver];
  if (!open) throw new Error(`APP_MANAGER_DRIVER ${ctx.config.appStoreDriver} is not a database (use postgres, mysql or dynamodb)`);
  return open(ctx);
}

export function openAppCache(ctx: StoreContext): Promise<AppCache | undefined> {
  return CACHES[ctx.config.cacheDriver](ctx);
}

/** What the server looks apps up in: memory or file, or a database behind the cache. */
export async function createAppStore(ctx: StoreContext, onStatus?: (up: boolean, detail?: string) => void): Promise<AppStore> {
  const { config } = ctx;
  if (config.appStoreDriver === "file") {
    const store = new FileAppStore(config.appStoreFile!, ctx.readTextFile, ctx.logger, ctx.now);
    await store.load();
    return store;
  }
  if (config.appStoreDriver === "memory") return new MemoryAppStore(config.apps);
  const [db, cache] = await Promise.all([openAppDatabase(ctx), openAppCache(ctx)]);
  ctx.logger.debug(`apps: ${config.appStoreDriver} store behind the ${cache?.name ?? "(no)"} cache, ttl ${config.appCacheTtlSeconds} s`);
  return new CachedAppStore(db, cache, {
    ttlMs: config.appCacheTtlSeconds * 1000,
    missTtlMs: config.appCacheMissTtlSeconds * 1000,
    timeoutMs: config.databaseTimeoutMs,
    logger: ctx.logger,
    onStatus,
  });
}
