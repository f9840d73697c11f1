import { describe, expect, it } from "vitest";
import { appWants, webhookMatches } from "../../src/webhooks/filter.ts";
import { app } from "./harness.ts";

const hook = (extra: Record<string, unknown> = {}) => app({ webhooks: [{ url: "https://h.example", event_types: ["member_added", "client_event"], ...extra }] }).webhooks[0]!;

describe("webhookMatches (spec §7.3)", () => {
  it("needs the event type", () => {
    expect(webhookMatches(hook(), { name: "member_added", channel: "presence-a", user_id: "1" })).toBe(true);
    expect(webhookMatches(hook(), { name: "channel_occupied", channel: "presence-a" })).toBe(false);
  });

  it("needs both filter conditions when both are given", () => {
    const h = hook({ filter: { channel_name_starts_with: "presence-", channel_name_ends_with: "-admin" } });
    expect(webhookMatches(h, { name: "member_added", channel: "presence-x-admin" })).toBe(true);
    expect(webhookMatches(h, { name: "member_added", channel: "presence-x" })).toBe(false);
    expect(webhookMatches(h, { name: "member_added", channel: "private-x-admin" })).toBe(false);
  });
});

describe("appWants: the app's switches", () => {
  it("follows event_types when no switch is set", () => {
    expect(appWants(app(), "channel_occupied")).toBe(true);
    expect(appWants(app(), "member_added")).toBe(false);
  });

  it("turns a type off with its has_*_webhooks switch, and everything off with webhooks_enabled / webhook_enabled", () => {
    expect(appWants(app({ has_channel_occupied_webhooks: "false" }), "channel_occupied")).toBe(false);
    expect(appWants(app({ webhooksEnabled: false }), "channel_occupied")).toBe(false);
    expect(appWants(app({ webhook_enabled: "0" }), "channel_occupied")).toBe(false);
    expect(appWants(app({ webhooks: [] }), "channel_occupied")).toBe(false);
  });
});
