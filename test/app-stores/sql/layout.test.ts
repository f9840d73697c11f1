// Rows of Soketi's apps table as MySQL and PostgreSQL hand them over, and what the apps command writes back.
import { describe, expect, it } from "vitest";
import { appFromRow, rowFromApp, type TableColumn } from "../../../src/app-stores/sql/layout.ts";
import { parseApp } from "../../../src/core/app.ts";

const soketiRow = {
  id: "app-id", key: "app-key", secret: "app-secret", max_connections: 200, enable_client_messages: 1, enabled: 1,
  max_backend_events_per_sec: -1, max_client_events_per_sec: -1, max_read_req_per_sec: -1, webhooks: "[]",
  max_presence_members_per_channel: null, max_presence_member_size_in_kb: null, max_channel_name_length: null,
  max_event_channels_at_once: null, max_event_name_length: null, max_event_payload_in_kb: "", max_event_batch_size: null,
  enable_user_authentication: 0,
};

const column = (name: string, type = "integer", nullable = true): TableColumn => ({ name, type, nullable });

describe("appFromRow", () => {
  it("reads Soketi's row: 0/1 booleans, NULL and '' as defaults, webhooks as JSON text", () => {
    const app = appFromRow(soketiRow, "row");
    expect(app).toMatchObject({ id: "app-id", maxConnections: 200, enableClientMessages: true, enabled: true, maxClientEventsPerSecond: -1, maxChannelNameLength: 200, maxEventPayloadInKb: 10, webhooks: [] });
  });

  it("reads our extra columns when present, and ignores unknown ones", () => {
    const app = appFromRow({ ...soketiRow, allowed_origins: '["a.test"]', enable_watchlist_events: 1, created_at: new Date() }, "row");
    expect(app.allowedOrigins).toEqual(["a.test"]);
    expect(app.enableWatchlistEvents).toBe(true);
  });

  it("rejects a row that is not an object, or has a bad value, naming where", () => {
    expect(() => appFromRow(null, "row 3")).toThrow(/row 3 is not a row object/);
    expect(() => appFromRow({ ...soketiRow, max_connections: "lots" }, "row 3")).toThrow(/row 3.*maxConnections/);
  });
});

describe("rowFromApp", () => {
  const soketiTable = Object.keys(soketiRow).map((n) => column(n, n === "webhooks" ? "json" : "integer", !["id", "key", "secret", "max_connections"].includes(n)));

  it("writes NULL for defaults in nullable columns and 0/1 for booleans", () => {
    const row = rowFromApp(parseApp({ id: "1", key: "k", secret: "s", enableClientMessages: true }), soketiTable);
    expect(row).toMatchObject({ id: "1", max_connections: -1, enable_client_messages: 1, max_channel_name_length: null, webhooks: null });
    expect(row).not.toHaveProperty("allowed_origins");
  });

  it("writes true/false into boolean columns", () => {
    const row = rowFromApp(parseApp({ id: "1", key: "k", secret: "s", enabled: false }), [column("id"), column("key"), column("secret"), column("enabled", "boolean", false)]);
    expect(row.enabled).toBe(false);
  });

  it("refuses a non-default setting the table has no column for", () => {
    expect(() => rowFromApp(parseApp({ id: "1", key: "k", secret: "s", allowedOrigins: ["a.test"] }), soketiTable)).toThrow(/no allowed_origins column/);
  });
});
