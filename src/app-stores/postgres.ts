// APP_MANAGER_DRIVER=postgres: Soketi's apps table in PostgreSQL, through drizzle-orm and postgres.js.
import type { AppDatabase } from "../core/app-store.ts";
import { describeTarget, tlsOptions, type SqlConnectionSettings } from "./sql/connection.ts";
import { SqlAppStore, type SqlDialect } from "./sql/store.ts";

export async function openPostgresAppStore(settings: SqlConnectionSettings): Promise<AppDatabase> {
  // Loaded here, not at the top: a server on another store never loads the client library.
  const { default: postgres } = await import("postgres");
  const { drizzle } = await import("drizzle-orm/postgres-js");
  const { sql } = await import("drizzle-orm");
  const { logger } = settings;

  const options = {
    max: settings.poolSize,
    // Whole seconds: a refused or silent server fails the connect within the lookup timeout.
    connect_timeout: Math.max(1, Math.ceil(settings.timeoutMs / 1000)),
    idle_timeout: 60,
    ssl: tlsOptions(settings.tls),
    onnotice: (notice: { message?: string }) => logger.debug(`postgres notice: ${notice.message}`),
  };
  const open = () =>
    settings.url
      ? postgres(settings.url, options)
      : postgres({ ...options, host: settings.host, port: settings.port, username: settings.user, password: settings.password, database: settings.database });
  let client = open();
  let db = drizzle(client);
  logger.debug(`postgres: apps from table ${settings.table} at ${describeTarget(settings)} (pool ${settings.poolSize})`);

  const dialect: SqlDialect = {
    sql,
    name: "postgres",
    rows: async (query) => [...(await db.execute(query))] as Record<string, unknown>[],
    run: async (query) => (await db.execute(query)).count,
    schema: sql`current_schema()`,
    types: { text: "varchar(255)", int: "integer", bool: "smallint", json: "json" },
    isDuplicate: (error) => (error as { code?: string } | undefined)?.code === "23505",
    reset() {
      const old = client;
      client = open();
      db = drizzle(client);
      old.end({ timeout: 0 }).catch((error: unknown) => logger.debug("postgres: closing the old pool failed", error));
    },
    close: () => client.end({ timeout: 2 }),
  };
  return new SqlAppStore(dialect, settings);
}
