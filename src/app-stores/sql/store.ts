// The apps table through drizzle-orm, the same for PostgreSQL and MySQL/MariaDB: the driver files
// (postgres.ts, mysql.ts) supply the connection and the few dialect differences.
import type { SQL, sql as SqlTag } from "drizzle-orm";
import type { App } from "../../core/app.ts";
import { AppStoreError, type AppDatabase } from "../../core/app-store.ts";
import type { Logger } from "../../core/runtime.ts";
import { messageOf, withTimeout } from "../timeout.ts";
import { appFromRow, COLUMNS, rowFromApp, type TableColumn } from "./layout.ts";

export interface SqlDialect {
  /** drizzle's sql tag, handed in by the driver so drizzle-orm loads only with a SQL store. */
  sql: typeof SqlTag;
  /** "postgres" or "mysql", for messages. */
  name: string;
  rows(query: SQL): Promise<Record<string, unknown>[]>;
  /** Runs a statement; resolves with the number of rows it changed. */
  run(query: SQL): Promise<number>;
  /** The schema the table lives in: current_schema() or database(). */
  schema: SQL;
  /** Column types for `switchboard migrate`. */
  types: { text: string; int: string; bool: string; json: string };
  isDuplicate(error: unknown): boolean;
  /** Drops every connection and starts a fresh pool (after a timeout: the old ones may be stuck). */
  reset(): void;
  close(): Promise<void>;
}

export interface SqlStoreOptions {
  table: string;
  timeoutMs: number;
  logger: Logger;
}

/** Soketi's NOT NULL columns; the rest of its layout is nullable (NULL = default). */
const REQUIRED = new Set(["id", "key", "secret", "max_connections", "enable_client_messages", "enabled", "max_backend_events_per_sec", "max_client_events_per_sec", "max_read_req_per_sec", "enable_user_authentication"]);

/** The innermost cause: the driver's error under drizzle's DrizzleQueryError. */
function driverError(error: unknown): unknown {
  let current = error;
  while (current instanceof Error && current.cause !== undefined) current = current.cause;
  return current;
}

export class SqlAppStore implements AppDatabase {
  private readonly table: ReturnType<typeof SqlTag.identifier>;
  private lastReset = -Infinity;

  constructor(private readonly db: SqlDialect, private readonly options: SqlStoreOptions) {
    this.table = db.sql.identifier(options.table);
  }

  /** Every database call: bounded by the timeout, failures as AppStoreError naming the driver. */
  private async call<T>(what: string, work: () => Promise<T>): Promise<T> {
    const label = `${this.db.name} ${what}`;
    try {
      return await withTimeout(work(), this.options.timeoutMs, label);
    } catch (error) {
      if (error instanceof AppStoreError && /timed out/.test(error.message)) this.resetAfterTimeout();
      if (error instanceof AppStoreError) throw error;
      // drizzle's own message repeats the query and its parameters (secrets): the driver's says why.
      const cause = driverError(error);
      this.options.logger.debug(`${label} failed: ${messageOf(cause)}`);
      throw new AppStoreError(`${label} failed: ${messageOf(cause)}`, { cause });
    }
  }

  /** A timed-out query may sit on a dead connection forever: start over, at most every 5 s. */
  private resetAfterTimeout(): void {
    const now = Date.now();
    if (now - this.lastReset < Math.max(5000, this.options.timeoutMs * 2)) return;
    this.lastReset = now;
    this.options.logger.warn(`${this.db.name}: a query timed out; reconnecting the pool`);
    this.db.reset();
  }

  private async one(column: "id" | "key", value: string): Promise<App | undefined> {
    const { sql } = this.db;
    const rows = await this.call(`lookup by ${column}`, () =>
      this.db.rows(sql`select * from ${this.table} where ${sql.identifier(column)} = ${value} limit 1`));
    return rows[0] === undefined ? undefined : this.parse(rows[0]);
  }

  private parse(row: unknown): App {
    try {
      return appFromRow(row, `app row in ${this.options.table}`);
    } catch (error) {
      // A broken row must not look like an unknown app (that would be cached as a miss).
      throw new AppStoreError(messageOf(error), { cause: error });
    }
  }

  findById(id: string): Promise<App | undefined> {
    return this.one("id", id);
  }

  findByKey(key: string): Promise<App | undefined> {
    return this.one("key", key);
  }

  async all(): Promise<App[]> {
    const { sql } = this.db;
    const rows = await this.call("list", () => this.db.rows(sql`select * from ${this.table} order by ${sql.identifier("id")}`));
    return rows.map((row) => this.parse(row));
  }

  private async columns(): Promise<TableColumn[]> {
    const { sql } = this.db;
    const rows = await this.call("reading the table's columns", () =>
      this.db.rows(sql`select column_name as name, data_type as type, is_nullable as nullable from information_schema.columns
        where table_schema = ${this.db.schema} and table_name = ${this.options.table}`));
    return rows.map((r) => ({ name: String(r.name), type: String(r.type).toLowerCase(), nullable: String(r.nullable).toUpperCase() === "YES" }));
  }

  private async writable(app: App): Promise<Record<string, unknown>> {
    const columns = await this.columns();
    if (columns.length === 0) throw new AppStoreError(`table ${this.options.table} does not exist; run \`switchboard migrate\` first`);
    return rowFromApp(app, columns);
  }

  async create(app: App): Promise<void> {
    const { sql } = this.db;
    const row = await this.writable(app);
    if (await this.findByKey(app.key)) throw new AppStoreError(`an app with key ${app.key} already exists`);
    const names = Object.keys(row);
    try {
      await this.call("insert", () =>
        this.db.run(sql`insert into ${this.table} (${sql.join(names.map((n) => sql.identifier(n)), sql`, `)})
          values (${sql.join(names.map((n) => sql`${row[n]}`), sql`, `)})`));
    } catch (error) {
      if (this.db.isDuplicate(error instanceof Error ? error.cause : undefined)) throw new AppStoreError(`an app with id ${app.id} already exists`);
      throw error;
    }
  }

  async update(app: App): Promise<boolean> {
    const { sql } = this.db;
    const row = await this.writable(app);
    const sets = Object.keys(row).filter((n) => n !== "id").map((n) => sql`${sql.identifier(n)} = ${row[n]}`);
    const changed = await this.call("update", () =>
      this.db.run(sql`update ${this.table} set ${sql.join(sets, sql`, `)} where ${sql.identifier("id")} = ${app.id}`));
    return changed > 0;
  }

  async delete(id: string): Promise<boolean> {
    const { sql } = this.db;
    return (await this.call("delete", () => this.db.run(sql`delete from ${this.table} where ${sql.identifier("id")} = ${id}`))) > 0;
  }

  async migrate(): Promise<"created" | "exists"> {
    const { sql } = this.db;
    if ((await this.columns()).length > 0) return "exists";
    const t = this.db.types;
    const definitions = COLUMNS.map((c) => {
      const type = sql.raw(t[c.type]);
      const constraint = c.name === "id" ? sql.raw(" PRIMARY KEY") : REQUIRED.has(c.name) ? sql.raw(" NOT NULL") : sql.raw(" NULL");
      return sql`${sql.identifier(c.name)} ${type}${constraint}`;
    });
    // Soketi's layout has no index on key, but every handshake looks an app up by it.
    const unique = sql`unique (${sql.identifier("key")})`;
    await this.call("create table", () => this.db.run(sql`create table ${this.table} (${sql.join([...definitions, unique], sql`, `)})`));
    this.options.logger.debug(`${this.db.name}: created table ${this.options.table}`);
    return "created";
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
