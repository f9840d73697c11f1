// App records come from env vars, JSON files and (later) SQL/Redis stores written for Soketi or
// Sockudo, so parseApp must fold snake_case keys and string-typed values into one shape (§8.1).
import { describe, expect, it } from "vitest";
import { normalizeAppInput, parseApp } from "../../src/core/app.ts";

const ids = { id: "1", key: "app-key", secret: "app-secret" };

describe("parseApp defaults (§8.1)", () => {
  it("fills every setting with the spec's default", () => {
    expect(parseApp(ids)).toEqual({
      ...ids,
      enabled: true,
      maxConnections: -1,
      enableClientMessages: false,
      maxBackendEventsPerSecond: -1,
      maxClientEventsPerSecond: 10,
      maxReadRequestsPerSecond: -1,
      maxPresenceMembersPerChannel: 100,
      maxPresenceMemberSizeInKb: 2,
      maxChannelNameLength: 200,
      maxEventChannelsAtOnce: 100,
      maxEventNameLength: 200,
      maxEventPayloadInKb: 10,
      maxEventBatchSize: 10,
      enableUserAuthentication: false,
      enableWatchlistEvents: false,
      enableSubscriptionCount: false,
      allowedOrigins: ["*"],
      webhooks: [],
    });
  });

  it("treats null values as absent (SQL NULL columns get the default)", () => {
    const app = parseApp({ ...ids, max_connections: null, enabled: null, webhooks: null });
    expect(app.maxConnections).toBe(-1);
    expect(app.enabled).toBe(true);
    expect(app.webhooks).toEqual([]);
  });
});

describe("parseApp snake_case aliases (Soketi SQL drivers, Sockudo)", () => {
  it("maps every documented snake_case key", () => {
    const app = parseApp({
      app_id: "7", app_key: "k", app_secret: "s",
      max_connections: 5,
      enable_client_messages: true,
      max_backend_events_per_sec: 11,
      max_client_events_per_sec: 12,
      max_read_req_per_sec: 13,
      max_presence_members_per_channel: 14,
      max_presence_member_size_in_kb: 3,
      max_channel_name_length: 164,
      max_event_channels_at_once: 15,
      max_event_name_length: 16,
      max_event_payload_in_kb: 100,
      max_event_batch_size: 17,
      enable_user_authentication: true,
      enable_watchlist_events: true,
      enable_subscription_count: true,
      allowed_origins: ["https://a.example"],
    });
    expect(app).toMatchObject({
      id: "7", key: "k", secret: "s",
      maxConnections: 5,
      enableClientMessages: true,
      maxBackendEventsPerSecond: 11,
      maxClientEventsPerSecond: 12,
      maxReadRequestsPerSecond: 13,
      maxPresenceMembersPerChannel: 14,
      maxPresenceMemberSizeInKb: 3,
      maxChannelNameLength: 164,
      maxEventChannelsAtOnce: 15,
      maxEventNameLength: 16,
      maxEventPayloadInKb: 100,
      maxEventBatchSize: 17,
      enableUserAuthentication: true,
      enableWatchlistEvents: true,
      enableSubscriptionCount: true,
      allowedOrigins: ["https://a.example"],
    });
  });

  it("lets the camelCase key win over its snake_case alias in either order", () => {
    expect(parseApp({ ...ids, maxConnections: 5, max_connections: 7 }).maxConnections).toBe(5);
    expect(parseApp({ ...ids, max_connections: 7, maxConnections: 5 }).maxConnections).toBe(5);
    expect(normalizeAppInput({ max_read_req_per_sec: 1, maxReadRequestsPerSecond: 2 })).toEqual({ maxReadRequestsPerSecond: 2 });
  });
});

describe("parseApp value coercion", () => {
  it("accepts numbers as strings, including -1 for unlimited", () => {
    const app = parseApp({ ...ids, maxConnections: "25", maxBackendEventsPerSecond: "-1", maxEventPayloadInKb: "0.5", maxPresenceMemberSizeInKb: " 4 " });
    expect(app.maxConnections).toBe(25);
    expect(app.maxBackendEventsPerSecond).toBe(-1);
    expect(app.maxEventPayloadInKb).toBe(0.5);
    expect(app.maxPresenceMemberSizeInKb).toBe(4);
  });

  it("turns a numeric id into a string", () => {
    expect(parseApp({ id: 42, key: "k", secret: "s" }).id).toBe("42");
  });

  it.each([["true", true], ["1", true], ["yes", true], ["on", true], [" TRUE ", true], [1, true],
    ["false", false], ["0", false], ["no", false], ["off", false], ["", false], [0, false]])(
    "reads the boolean %j as %s", (value, expected) => {
      expect(parseApp({ ...ids, enabled: value }).enabled).toBe(expected);
      expect(parseApp({ ...ids, enable_client_messages: value }).enableClientMessages).toBe(expected);
    });

  it("splits allowed origins given as a comma list or a JSON array string", () => {
    expect(parseApp({ ...ids, allowedOrigins: "https://a.example, https://b.example" }).allowedOrigins).toEqual(["https://a.example", "https://b.example"]);
    expect(parseApp({ ...ids, allowed_origins: '["https://c.example"]' }).allowedOrigins).toEqual(["https://c.example"]);
  });

  it("parses webhooks given as a JSON string", () => {
    const hooks = JSON.stringify([{ url: "https://hooks.example/p", event_types: ["channel_occupied"] }]);
    expect(parseApp({ ...ids, webhooks: hooks }).webhooks).toEqual([{ url: "https://hooks.example/p", event_types: ["channel_occupied"] }]);
  });
});

describe("parseApp rejects invalid records with the offending key in the message", () => {
  it.each<[Record<string, unknown>, RegExp]>([
    [{ key: "k", secret: "s" }, /id/],
    [{ id: "1", secret: "s" }, /key/],
    [{ id: "1", key: "k" }, /secret/],
    [{ ...ids, secret: "" }, /secret/],
    [{ ...ids, maxConnections: "many" }, /maxConnections/],
    [{ ...ids, max_connections: "many" }, /maxConnections/],
    [{ ...ids, maxConnections: -2 }, /maxConnections/],
    [{ ...ids, maxConnections: 1.5 }, /maxConnections/],
    [{ ...ids, enabled: "maybe" }, /enabled/],
    [{ ...ids, maxChannelNameLength: 0 }, /maxChannelNameLength/],
    [{ ...ids, webhooks: [{ url: "not a url" }] }, /webhooks/],
  ])("%j", (raw, pattern) => {
    expect(() => parseApp(raw, "apps[0]")).toThrow(pattern);
    expect(() => parseApp(raw, "apps[0]")).toThrow(/apps\[0\]/);
  });
});
