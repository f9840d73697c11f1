// The apps table of Soketi's SQL app managers (its docs' CREATE TABLE for MySQL and PostgreSQL),
// read as it is, plus optional snake_case columns for the settings Soketi does not have. Reads are
// `SELECT *`, so any column set works; writes touch only the columns the table has.
import { appSchema, parseApp, type App } from "../../core/app.ts";

type ColumnType = "text" | "int" | "bool" | "json";

export interface Column {
  name: string;
  field: keyof App;
  type: ColumnType;
  /** Part of Soketi's layout (the others are ours and optional). */
  soketi: boolean;
}

const col = (name: string, field: keyof App, type: ColumnType, soketi = true): Column => ({ name, field, type, soketi });

export const COLUMNS: readonly Column[] = [
  col("id", "id", "text"),
  col("key", "key", "text"),
  col("secret", "secret", "text"),
  col("max_connections", "maxConnections", "int"),
  col("enable_client_messages", "enableClientMessages", "bool"),
  col("enabled", "enabled", "bool"),
  col("max_backend_events_per_sec", "maxBackendEventsPerSecond", "int"),
  col("max_client_events_per_sec", "maxClientEventsPerSecond", "int"),
  col("max_read_req_per_sec", "maxReadRequestsPerSecond", "int"),
  col("max_presence_members_per_channel", "maxPresenceMembersPerChannel", "int"),
  col("max_presence_member_size_in_kb", "maxPresenceMemberSizeInKb", "int"),
  col("max_channel_name_length", "maxChannelNameLength", "int"),
  col("max_event_channels_at_once", "maxEventChannelsAtOnce", "int"),
  col("max_event_name_length", "maxEventNameLength", "int"),
  col("max_event_payload_in_kb", "maxEventPayloadInKb", "int"),
  col("max_event_batch_size", "maxEventBatchSize", "int"),
  col("webhooks", "webhooks", "json"),
  col("enable_user_authentication", "enableUserAuthentication", "bool"),
  col("enable_watchlist_events", "enableWatchlistEvents", "bool", false),
  col("enable_subscription_count", "enableSubscriptionCount", "bool", false),
  col("allowed_origins", "allowedOrigins", "json", false),
];

/** What the table has, from information_schema. */
export interface TableColumn {
  name: string;
  /** information_schema data_type, lower case ("smallint", "boolean", "json", ...). */
  type: string;
  nullable: boolean;
}

/**
 * One row to an app, validated like a config app. NULL and '' mean "the default" (Soketi ignores
 * both); booleans arrive as 0/1 and webhooks as JSON text or already parsed, which parseApp folds.
 */
export function appFromRow(row: unknown, where: string): App {
  if (typeof row !== "object" || row === null || Array.isArray(row)) throw new Error(`${where} is not a row object`);
  const values: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(row)) {
    if (value === null || value === "") continue;
    // MariaDB's JSON is LONGTEXT and may come back as a Buffer; text either way for parseApp.
    values[name] = value instanceof Uint8Array ? new TextDecoder().decode(value) : value;
  }
  return parseApp(values, where);
}

const DEFAULTS = appSchema.parse({ id: "-", key: "-", secret: "-" });

/**
 * The values to write for `app`, for the columns the table has. A nullable column gets NULL when
 * the app uses the default (NULL = default, and Soketi's tinyint(1) limit columns could not hold
 * 200 anyway). A setting that differs from the default but has no column is an error, not a loss.
 */
export function rowFromApp(app: App, table: readonly TableColumn[]): Record<string, unknown> {
  const present = new Map(table.map((c) => [c.name, c]));
  const row: Record<string, unknown> = {};
  for (const column of COLUMNS) {
    const value = app[column.field];
    const isDefault = JSON.stringify(value) === JSON.stringify(DEFAULTS[column.field]) && !["id", "key", "secret"].includes(column.field);
    const target = present.get(column.name);
    if (!target) {
      if (!isDefault) throw new Error(`the apps table has no ${column.name} column, so ${column.field} must keep its default`);
      continue;
    }
    if (isDefault && target.nullable) row[column.name] = null;
    else if (column.type === "bool") row[column.name] = target.type === "boolean" ? value : value ? 1 : 0;
    else if (column.type === "json") row[column.name] = JSON.stringify(value);
    else row[column.name] = value;
  }
  return row;
}
