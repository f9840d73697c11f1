// The real PostgreSQL and MariaDB on loopback for the app store tests: reachability (skip locally,
// fail in CI), Soketi's apps table created by hand exactly as its docs give it, and app rows.
import postgres from "postgres";
import mysql from "mysql2/promise";
import { reachable, requireService } from "../adapters/cluster.ts";
import { randomBytes } from "node:crypto";

export const POSTGRES_URL = process.env.SWITCHBOARD_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const MYSQL_URL = process.env.SWITCHBOARD_MYSQL_URL ?? "mysql://root@127.0.0.1:3306/test";

export type SqlKind = "postgres" | "mysql";

export function uniqueTable(label: string): string {
  return `sbtest_${label}_${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
}

export function serviceUp(kind: SqlKind): Promise<boolean> {
  const port = Number(new URL(kind === "postgres" ? POSTGRES_URL : MYSQL_URL).port);
  return requireService(reachable(port), kind === "postgres" ? `PostgreSQL on 127.0.0.1:${port}` : `MariaDB/MySQL on 127.0.0.1:${port}`);
}

/** Soketi's docs, "SQL Drivers → PostgreSQL": the table as its users have it. */
const SOKETI_POSTGRES = (table: string) => `CREATE TABLE IF NOT EXISTS ${table} (
    id varchar(255) PRIMARY KEY,
    "key" varchar(255) NOT NULL,
    secret varchar(255) NOT NULL,
    max_connections integer NOT NULL,
    enable_client_messages smallint NOT NULL,
    "enabled" smallint NOT NULL,
    max_backend_events_per_sec integer NOT NULL,
    max_client_events_per_sec integer NOT NULL,
    max_read_req_per_sec integer NOT NULL,
    max_presence_members_per_channel integer DEFAULT NULL,
    max_presence_member_size_in_kb integer DEFAULT NULL,
    max_channel_name_length integer DEFAULT NULL,
    max_event_channels_at_once integer DEFAULT NULL,
    max_event_name_length integer DEFAULT NULL,
    max_event_payload_in_kb integer DEFAULT NULL,
    max_event_batch_size integer DEFAULT NULL,
    webhooks json,
    enable_user_authentication smallint NOT NULL
)`;

/** Soketi's docs, "SQL Drivers → MySQL". */
const SOKETI_MYSQL = (table: string) => `CREATE TABLE IF NOT EXISTS \`${table}\` (
    \`id\` varchar(255) NOT NULL,
    \`key\` varchar(255) NOT NULL,
    \`secret\` varchar(255) NOT NULL,
    \`max_connections\` integer(10) NOT NULL,
    \`enable_client_messages\` tinyint(1) NOT NULL,
    \`enabled\` tinyint(1) NOT NULL,
    \`max_backend_events_per_sec\` integer(10) NOT NULL,
    \`max_client_events_per_sec\` integer(10) NOT NULL,
    \`max_read_req_per_sec\` integer(10) NOT NULL,
    \`webhooks\` json,
    \`max_presence_members_per_channel\` tinyint(1) NULL,
    \`max_presence_member_size_in_kb\` tinyint(1) NULL,
    \`max_channel_name_length\` tinyint(1) NULL,
    \`max_event_channels_at_once\` tinyint(1) NULL,
    \`max_event_name_length\` tinyint(1) NULL,
    \`max_event_payload_in_kb\` tinyint(1) NULL,
    \`max_event_batch_size\` tinyint(1) NULL,
    \`enable_user_authentication\` tinyint(1) NOT NULL,
    PRIMARY KEY (\`id\`)
)`;

export interface TestApp {
  id: string;
  key: string;
  secret: string;
}

export function randomApp(): TestApp {
  return { id: String(100000 + randomBytes(3).readUIntBE(0, 3) % 900000), key: randomBytes(10).toString("hex"), secret: randomBytes(20).toString("hex") };
}

/** One connection to the test database, speaking plain SQL (not the code under test). */
export interface SqlAdmin {
  kind: SqlKind;
  url: string;
  createSoketiTable(table: string): Promise<void>;
  /** Inserts a row the way a Soketi user would: 0/1 booleans, NULL limits, webhooks JSON. */
  insertApp(table: string, app: TestApp, overrides?: { enableClientMessages?: 0 | 1; maxConnections?: number }): Promise<void>;
  query(text: string): Promise<unknown[]>;
  dropTable(table: string): Promise<void>;
  close(): Promise<void>;
}

export async function sqlAdmin(kind: SqlKind): Promise<SqlAdmin> {
  if (kind === "postgres") {
    const sql = postgres(POSTGRES_URL, { max: 1, onnotice: () => {} });
    return {
      kind,
      url: POSTGRES_URL,
      createSoketiTable: async (table) => void (await sql.unsafe(SOKETI_POSTGRES(table))),
      insertApp: async (table, app, o = {}) =>
        void (await sql.unsafe(
          `INSERT INTO ${table} (id, "key", secret, max_connections, "enabled", enable_client_messages, max_backend_events_per_sec, max_client_events_per_sec, max_read_req_per_sec, webhooks, enable_user_authentication)
           VALUES ($1, $2, $3, $4, 1, $5, -1, -1, -1, '[]', 0)`,
          [app.id, app.key, app.secret, o.maxConnections ?? -1, o.enableClientMessages ?? 1],
        )),
      query: async (text) => [...(await sql.unsafe(text))],
      dropTable: async (table) => void (await sql.unsafe(`DROP TABLE IF EXISTS ${table}`)),
      close: () => sql.end({ timeout: 1 }),
    };
  }
  const conn = await mysql.createConnection(MYSQL_URL);
  return {
    kind,
    url: MYSQL_URL,
    createSoketiTable: async (table) => void (await conn.query(SOKETI_MYSQL(table))),
    insertApp: async (table, app, o = {}) =>
      void (await conn.execute(
        `INSERT INTO \`${table}\` (id, \`key\`, secret, max_connections, \`enabled\`, enable_client_messages, max_backend_events_per_sec, max_client_events_per_sec, max_read_req_per_sec, webhooks, enable_user_authentication)
         VALUES (?, ?, ?, ?, 1, ?, -1, -1, -1, '[]', 0)`,
        [app.id, app.key, app.secret, o.maxConnections ?? -1, o.enableClientMessages ?? 1],
      )),
    query: async (text) => (await conn.query(text))[0] as unknown[],
    dropTable: async (table) => void (await conn.query(`DROP TABLE IF EXISTS \`${table}\``)),
    close: () => conn.end(),
  };
}
