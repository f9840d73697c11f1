// APP_MANAGER_DRIVER=mysql: Soketi's apps table in MySQL or MariaDB, through drizzle-orm and mysql2.
import type { AppDatabase } from "../core/app-store.ts";
import { describeTarget, tlsOptions, type SqlConnectionSettings } from "./sql/connection.ts";
import { SqlAppStore, type SqlDialect } from "./sql/store.ts";

export async function openMysqlAppStore(settings: SqlConnectionSettings): Promise<AppDatabase> {
  // Loaded here, not at the top: a server on another store never loads the client library.
  const mysql = await import("mysql2/promise");
  const { drizzle } = await import("drizzle-orm/mysql2");
  const { sql } = await import("drizzle-orm");
  const { logger } = settings;

  const ssl = tlsOptions(settings.tls);
  const common = {
    connectionLimit: settings.poolSize,
    connectTimeout: settings.timeoutMs,
    enableKeepAlive: true,
    ...(ssl ? { ssl } : {}),
  };
  const open = () =>
    settings.url
      ? mysql.createPool({ uri: settings.url, ...common })
      : mysql.createPool({ ...common, host: settings.host, port: settings.port, user: settings.user, password: settings.password, database: settings.database });
  let pool = open();
  let db = drizzle({ client: pool });
  logger.debug(`mysql: apps from table ${settings.table} at ${describeTarget(settings)} (pool ${settings.poolSize})`);

  const dialect: SqlDialect = {
    sql,
    name: "mysql",
    rows: async (query) => {
      const [rows] = (await db.execute(query)) as unknown as [Record<string, unknown>[]];
      return rows;
    },
    run: async (query) => {
      const [result] = (await db.execute(query)) as unknown as [{ affectedRows: number }];
      return result.affectedRows;
    },
    schema: sql`database()`,
    // integer, not Soketi's tinyint(1), for the limit columns: tinyint stops at 127.
    types: { text: "varchar(255)", int: "integer", bool: "tinyint(1)", json: "json" },
    isDuplicate: (error) => (error as { code?: string } | undefined)?.code === "ER_DUP_ENTRY",
    reset() {
      const old = pool;
      pool = open();
      db = drizzle({ client: pool });
      old.end().catch((error: unknown) => logger.debug("mysql: closing the old pool failed", error));
    },
    close: () => pool.end(),
  };
  return new SqlAppStore(dialect, settings);
}
