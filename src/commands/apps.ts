// `switchboard apps list|show|create|update|delete|rotate-secret`: the configured store's apps,
// as a table or --json. Changes clear the app's entries in a shared (redis) cache at once.
import type { Config } from "../config/load.ts";
import { APP_SETTING_KEYS, parseApp, type App } from "../core/app.ts";
import type { AppDatabase, AppStore } from "../core/app-store.ts";
import { randomHex } from "../core/crypto.ts";
import { entriesOf } from "../app-stores/cache/cache.ts";
import {
  cacheChoice, createAppStore, isDatabaseDriver, openAppCache, openAppDatabase, storeChoice, type StoreContext,
} from "../drivers/open-app-store.ts";
import { messageOf, withTimeout } from "../app-stores/timeout.ts";
import { appListTable, appTable } from "./output.ts";

export class UsageError extends Error {}

export interface CommandOutput {
  out(text: string): void;
  err(text: string): void;
}

export interface AppsArgs {
  action: string;
  id?: string;
  json: boolean;
  /** App settings from --<setting> flags (camelCase), and --id/--key/--secret for create. */
  settings: Record<string, string>;
}

export const APPS_USAGE = `Usage: switchboard apps <command> [options]

  list                           every app (id, key, limits)
  show <id>                      one app with all its settings
  create [--id ID] [--key KEY] [--secret SECRET] [--<setting> VALUE ...]
                                 a new app; id, key and secret are generated when not given
  update <id> --<setting> VALUE ...
  delete <id>
  rotate-secret <id>             a new random secret; the old one stops working

  --json                         print JSON instead of a table
  Settings: ${APP_SETTING_KEYS.filter((k) => !["id", "key", "secret"].includes(k)).map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(", ")}
  The store is the server's: APP_MANAGER_DRIVER, DATABASE_URL, ... (environment, flags or --config-file).`;

const ACTIONS = new Set(["list", "show", "create", "update", "delete", "rotate-secret"]);

/** A 7-digit numeric id, as Pusher's are; create retries when it is taken. */
const randomId = () => String(1_000_000 + (Number.parseInt(randomHex(4), 16) % 9_000_000));

export async function runApps(args: AppsArgs, ctx: StoreContext & { config: Config }, io: CommandOutput): Promise<void> {
  if (!ACTIONS.has(args.action)) throw new UsageError(`unknown apps command "${args.action}"`);
  const needsId = !["list", "create"].includes(args.action);
  if (needsId && !args.id) throw new UsageError(`apps ${args.action} needs an app id`);
  const driver = storeChoice(ctx.config).name;
  if (!isDatabaseDriver(driver)) {
    if (args.action !== "list" && args.action !== "show") {
      throw new UsageError(`apps ${args.action} needs a database store (APP_MANAGER_DRIVER=postgres, mysql or dynamodb); ${driver} apps are edited in their configuration`);
    }
    const store = await createAppStore(ctx);
    return report(args, ctx.config.devApp ? [] : store, io);
  }
  const db = await openAppDatabase(ctx);
  try {
    if (args.action === "list" || args.action === "show") return await report(args, db, io);
    const app = await change(args, db);
    await invalidate(ctx, app, io);
    if (args.action === "delete") io.out(args.json ? JSON.stringify({ deleted: app.id }) : `deleted app ${app.id}`);
    else io.out(args.json ? JSON.stringify(app, null, 2) : appTable(app));
  } finally {
    await db.close?.();
  }
}

async function report(args: AppsArgs, store: AppStore | App[], io: CommandOutput): Promise<void> {
  if (args.action === "list") {
    const apps = Array.isArray(store) ? store : await store.all();
    return io.out(args.json ? JSON.stringify(apps, null, 2) : appListTable(apps));
  }
  const app = Array.isArray(store) ? store.find((a) => a.id === args.id) : await store.findById(args.id!);
  if (!app) throw new Error(`no app with id ${args.id}`);
  io.out(args.json ? JSON.stringify(app, null, 2) : appTable(app));
}

/** Applies the change and returns the app as stored (for delete: as it was). */
async function change(args: AppsArgs, db: AppDatabase): Promise<App> {
  const { settings } = args;
  if (args.action === "create") {
    const given = settings.id ?? args.id;
    for (let attempt = 0; ; attempt++) {
      const app = parseApp({ key: randomHex(10), secret: randomHex(20), ...settings, id: given ?? randomId() }, "the new app");
      if (!given && attempt < 5 && (await db.findById(app.id))) continue;
      await db.create(app);
      return app;
    }
  }
  const current = await db.findById(args.id!);
  if (!current) throw new Error(`no app with id ${args.id}`);
  if (args.action === "delete") {
    await db.delete(current.id);
    return current;
  }
  if (settings.id !== undefined || settings.key !== undefined) {
    throw new UsageError("an app's id and key cannot change (clients and servers know it by them): create a new app instead");
  }
  if (args.action === "update" && Object.keys(settings).length === 0) throw new UsageError("apps update needs at least one --<setting> VALUE");
  const next = args.action === "rotate-secret"
    ? { ...current, secret: randomHex(20) }
    : parseApp({ ...current, ...settings }, `app ${current.id}`);
  if (!(await db.update(next))) throw new Error(`no app with id ${current.id} (deleted meanwhile?)`);
  return next;
}

/** Drops the app from a shared cache so every node sees the change on its next lookup. */
async function invalidate(ctx: StoreContext, app: App, io: CommandOutput): Promise<void> {
  const cache = cacheChoice(ctx.config);
  const cacheDriver = cache.name;
  const appCacheTtlSeconds = Number(cache.options.appCacheTtlSeconds);
  const databaseTimeoutMs = Number(storeChoice(ctx.config).options.databaseTimeoutMs);
  if (cacheDriver === "none") return;
  if (cacheDriver === "memory") {
    io.err(`note: servers with CACHE_DRIVER=memory see this change within APP_CACHE_TTL_SECONDS (${appCacheTtlSeconds} s); CACHE_DRIVER=redis applies it at once`);
    return;
  }
  const shared = await openAppCache(ctx);
  try {
    await withTimeout(shared!.delete(entriesOf(app)), databaseTimeoutMs, `app cache (${cacheDriver}) delete`);
    ctx.logger.debug(`apps: cleared ${entriesOf(app).join(", ")} in the ${cacheDriver} cache`);
  } catch (error) {
    io.err(`warning: could not clear the app in the ${cacheDriver} cache (${messageOf(error)}); servers see the change within ${appCacheTtlSeconds} s`);
  } finally {
    await shared?.close?.();
  }
}
