import { describe, expect, it } from "vitest";
import type { ServerEvent } from "../../src/core/events.ts";
import { toWebhookEvent, webhookBody } from "../../src/webhooks/payload.ts";

const base = { appId: "1", time: 0 };

describe("toWebhookEvent (spec §7.2)", () => {
  it.each<[Record<string, unknown>, unknown]>([
    [{ kind: "channel_occupied", channel: "c" }, { name: "channel_occupied", channel: "c" }],
    [{ kind: "channel_vacated", channel: "c" }, { name: "channel_vacated", channel: "c" }],
    [{ kind: "member_added", channel: "presence-c", userId: "42" }, { name: "member_added", channel: "presence-c", user_id: "42" }],
    [{ kind: "member_removed", channel: "presence-c", userId: "42" }, { name: "member_removed", channel: "presence-c", user_id: "42" }],
    [{ kind: "cache_miss", channel: "cache-c" }, { name: "cache_miss", channel: "cache-c" }],
    [{ kind: "subscription_count", channel: "c", count: 3 }, { name: "subscription_count", channel: "c", subscription_count: 3 }],
    [
      { kind: "client_event", channel: "presence-room", event: "client-typing", data: '{"typing":true}', socketId: "123.456", userId: "42" },
      { name: "client_event", channel: "presence-room", event: "client-typing", data: '{"typing":true}', socket_id: "123.456", user_id: "42" },
    ],
    // user_id only on presence channels
    [
      { kind: "client_event", channel: "private-room", event: "client-x", data: "d", socketId: "1.2", userId: "42" },
      { name: "client_event", channel: "private-room", event: "client-x", data: "d", socket_id: "1.2" },
    ],
    [{ kind: "connection_opened", socketId: "1.2" }, undefined],
  ])("%j", (input, expected) => {
    expect(toWebhookEvent({ ...base, ...input } as ServerEvent)).toEqual(expected);
  });

  it("builds vector B11's body byte for byte", () => {
    const e = toWebhookEvent({ ...base, kind: "client_event", channel: "presence-room", event: "client-typing", data: '{"typing":true}', socketId: "123.456", userId: "42" });
    expect(webhookBody(1700000000000, [e!])).toBe(
      '{"time_ms":1700000000000,"events":[{"name":"client_event","channel":"presence-room","event":"client-typing","data":"{\\"typing\\":true}","socket_id":"123.456","user_id":"42"}]}',
    );
  });
});
