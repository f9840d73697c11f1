// Opens what the server and the apps command look apps up in, through the driver registry
// (register-app-stores.ts, register-caches.ts beside this file): memory or file, or a database
// behind the app cache (src/app-stores/cached.ts). A driver that is not selected never loads its
// client library.
import type { AppDatabase, AppStore } from "../core/app-store.ts";
import { webCryptoProvider } from "../core/crypto.ts";
import type { Logger } from "../core/runtime.ts";
import type { App } from "../core/app.ts";
import type { AppCache } from "../app-stores/cache/cache.ts";
import { CachedAppStore } from "../app-stores/cached.ts";
import { createDriver, type DriverChoice, type DriverContext } from "./index.ts";

/** The part of the server's configuration (src/config/load.ts) that chooses and fills the app store. */
export interface StoreConfig {
  drivers: { "app-store": DriverChoice; cache?: DriverChoice };
  apps: App[];
}

export interface StoreContext {
  config: StoreConfig;
  logger: Logger;
  readTextFile(path: string): Promise<string>;
  now(): number;
}

/** The stores the apps and migrate commands can change. */
const DATABASES = new Set(["postgres", "mysql", "dynamodb"]);

/** True for the drivers the apps command and migrate can change. */
export function isDatabaseDriver(driver: string): boolean {
  return DATABASES.has(driver);
}

export function storeChoice(config: StoreConfig): DriverChoice {
  return config.drivers["app-store"];
}

/** The cache driver and its settings (memory when none was loaded, e.g. in older configs). */
export function cacheChoice(config: StoreConfig): DriverChoice {
  return config.drivers.cache ?? { kind: "cache", name: "memory", options: { appCacheTtlSeconds: 60, appCacheMissTtlSeconds: 5 } };
}

function driverContext(ctx: StoreContext): DriverContext {
  const timers = {
    now: ctx.now,
    setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
    clearTimeout: (h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>),
    setInterval: (fn: () => void, ms: number) => setInterval(fn, ms),
    clearInterval: (h: unknown) => clearInterval(h as ReturnType<typeof setInterval>),
  };
  return { apps: ctx.config.apps, timers, logger: ctx.logger, crypto: webCryptoProvider(), readTextFile: ctx.readTextFile };
}

/** The configured database store, uncached (for the apps and migrate commands). */
export async function openAppDatabase(ctx: StoreContext, context = driverContext(ctx)): Promise<AppDatabase> {
  const choice = storeChoice(ctx.config);
  if (!isDatabaseDriver(choice.name)) throw new Error(`APP_STORE_DRIVER ${choice.name} is not a database (use postgres, mysql or dynamodb)`);
  return (await createDriver("app-store", choice, context)) as AppDatabase;
}

export function openAppCache(ctx: StoreContext, context = driverContext(ctx)): Promise<AppCache | undefined> {
  return createDriver("cache", cacheChoice(ctx.config), context);
}

/** What the server looks apps up in: memory or file, or a database behind the cache. */
export async function createAppStore(
  ctx: StoreContext, onStatus?: (up: boolean, detail?: string) => void, context = driverContext(ctx),
): Promise<AppStore> {
  const choice = storeChoice(ctx.config);
  if (!isDatabaseDriver(choice.name)) return createDriver("app-store", choice, context);
  const cache = cacheChoice(ctx.config);
  const [db, appCache] = await Promise.all([openAppDatabase(ctx, context), openAppCache(ctx, context)]);
  const ttl = Number(cache.options.appCacheTtlSeconds);
  ctx.logger.debug(`apps: ${choice.name} store behind the ${appCache?.name ?? "(no)"} cache, ttl ${ttl} s`);
  return new CachedAppStore(db, appCache, {
    ttlMs: ttl * 1000,
    missTtlMs: Number(cache.options.appCacheMissTtlSeconds) * 1000,
    timeoutMs: Number(choice.options.databaseTimeoutMs),
    logger: ctx.logger,
    onStatus,
  });
}
