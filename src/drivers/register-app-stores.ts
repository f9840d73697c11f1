// App store drivers: where apps (id, key, secret, limits) come from.
// Each implementation is imported only when APP_STORE_DRIVER selects it (see registry.ts).
import { z } from "zod";
import { num } from "../core/coerce.ts";
import { defineKind, registerDriver, type DriverContext } from "./registry.ts";

defineKind({ kind: "app-store", default: "memory", help: "where apps come from" });

registerDriver({
  kind: "app-store",
  name: "memory",
  aliases: ["array", "local"],
  help: "apps from flags, environment or config file (APP_*, APPS, apps[])",
  load: async () => {
    const { MemoryAppStore } = await import("../app-stores/memory.ts");
    return (_, { apps }) => new MemoryAppStore(apps);
  },
});

registerDriver({
  kind: "app-store",
  name: "file",
  help: "apps from a JSON file, re-read while running",
  options: z.object({
    appStoreFile: z.string().min(1).describe("JSON file of apps (an array, or {\"apps\": [...]})"),
  }),
  load: async () => {
    const { FileAppStore } = await import("../app-stores/file.ts");
    return async (o, { readTextFile, logger, timers }) => {
      const store = new FileAppStore(o.appStoreFile, readTextFile, logger, timers.now);
      await store.load();
      return store;
    };
  },
});

// --- Databases: Soketi's layouts (docs/apps-from-a-database.md). Behind the app cache (caches.ts).

const timeout = num(z.number().int().min(50).max(60_000)).default(2000)
  .describe("ms; bound on every database and app-cache call: a lookup never waits longer");
/** Shared by the database stores and the redis app caches: one schema object. */
export const DATABASE_TIMEOUT = { databaseTimeoutMs: timeout };

/** The AWS SDK's region setting, for DynamoDB and SQS alike; each service's own setting wins. */
export const AWS = { awsRegion: z.string().min(1).optional().describe("AWS region for DynamoDB and SQS (default us-east-1)") };

const SQL = {
  databaseUrl: z.string().regex(/^(postgres|postgresql|mysql|mariadb):\/\/\S+$/, "must be a postgres://… or mysql://… URL").optional()
    .describe("postgres://user:pass@host:port/db or mysql://…; wins over the DATABASE_POSTGRES_*/DATABASE_MYSQL_* fields"),
  appManagerTable: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, "must be a plain table name (letters, digits, _)").default("apps")
    .describe("the table the apps live in (Soketi's layout)"),
  databasePoolSize: num(z.number().int().min(1).max(1000)).default(10).describe("connections in the database pool"),
  databaseTls: z.enum(["off", "require", "verify"]).default("off")
    .describe("TLS to the database: off, require (encrypt, accept any certificate) or verify (check it)"),
  ...DATABASE_TIMEOUT,
};

const POSTGRES = {
  databasePostgresHost: z.string().min(1).default("127.0.0.1").describe("PostgreSQL host (without DATABASE_URL)"),
  databasePostgresPort: num(z.number().int().min(1).max(65535)).default(5432).describe("PostgreSQL port"),
  databasePostgresUser: z.string().min(1).default("postgres").describe("PostgreSQL user"),
  databasePostgresPassword: z.string().default("").describe("PostgreSQL password"),
  databasePostgresDatabase: z.string().min(1).default("switchboard").describe("PostgreSQL database"),
};

const MYSQL = {
  databaseMysqlHost: z.string().min(1).default("127.0.0.1").describe("MySQL/MariaDB host (without DATABASE_URL)"),
  databaseMysqlPort: num(z.number().int().min(1).max(65535)).default(3306).describe("MySQL/MariaDB port"),
  databaseMysqlUser: z.string().min(1).default("root").describe("MySQL/MariaDB user"),
  databaseMysqlPassword: z.string().default("").describe("MySQL/MariaDB password"),
  databaseMysqlDatabase: z.string().min(1).default("switchboard").describe("MySQL/MariaDB database"),
};

/** A DATABASE_URL for the other database is a mistake worth stopping at. */
const urlMatches = (driver: "postgres" | "mysql") => (o: { databaseUrl?: string }, ctx: z.RefinementCtx) => {
  if (!o.databaseUrl) return;
  const scheme = /^(postgres|postgresql):/.test(o.databaseUrl) ? "postgres" : "mysql";
  if (scheme !== driver) ctx.addIssue({ code: "custom", path: ["databaseUrl"], message: `is a ${scheme} URL but the app store driver is ${driver}` });
};

type SqlOptions = { databaseUrl?: string; appManagerTable: string; databasePoolSize: number; databaseTls: "off" | "require" | "verify"; databaseTimeoutMs: number };
const sql = (o: SqlOptions, fields: { host: string; port: number; user: string; password: string; database: string }, context: DriverContext) => ({
  ...fields, url: o.databaseUrl, poolSize: o.databasePoolSize, tls: o.databaseTls, timeoutMs: o.databaseTimeoutMs, table: o.appManagerTable,
  logger: context.logger,
});

registerDriver({
  kind: "app-store",
  name: "postgres",
  aliases: ["pgsql", "postgresql"],
  help: "apps from a PostgreSQL table (drizzle-orm + postgres.js)",
  options: z.object({ ...SQL, ...POSTGRES }).superRefine(urlMatches("postgres")),
  load: async () => {
    const { openPostgresAppStore } = await import("../app-stores/postgres.ts");
    return (o, context) => openPostgresAppStore(sql(o, {
      host: o.databasePostgresHost, port: o.databasePostgresPort, user: o.databasePostgresUser,
      password: o.databasePostgresPassword, database: o.databasePostgresDatabase,
    }, context));
  },
});

registerDriver({
  kind: "app-store",
  name: "mysql",
  aliases: ["mariadb"],
  help: "apps from a MySQL/MariaDB table (drizzle-orm + mysql2)",
  options: z.object({ ...SQL, ...MYSQL }).superRefine(urlMatches("mysql")),
  load: async () => {
    const { openMysqlAppStore } = await import("../app-stores/mysql.ts");
    return (o, context) => openMysqlAppStore(sql(o, {
      host: o.databaseMysqlHost, port: o.databaseMysqlPort, user: o.databaseMysqlUser,
      password: o.databaseMysqlPassword, database: o.databaseMysqlDatabase,
    }, context));
  },
});

registerDriver({
  kind: "app-store",
  name: "dynamodb",
  help: "apps from a DynamoDB table (Soketi's layout)",
  options: z.object({
    dynamodbTable: z.string().min(3).max(255).default("apps").describe("DynamoDB table of apps"),
    dynamodbRegion: z.string().min(1).optional().describe("AWS region of the table (else AWS_REGION)"),
    ...AWS,
    dynamodbEndpoint: z.string().url().optional().describe("a local emulator (dynalite, DynamoDB Local) instead of AWS"),
    ...DATABASE_TIMEOUT,
  }),
  load: async () => {
    const { openDynamoAppStore } = await import("../app-stores/dynamodb.ts");
    return (o, { logger }) => openDynamoAppStore({
      table: o.dynamodbTable, region: o.dynamodbRegion ?? o.awsRegion ?? "us-east-1", endpoint: o.dynamodbEndpoint, timeoutMs: o.databaseTimeoutMs, logger,
    });
  },
});
