import type { WebhookEventType } from "../core/app.ts";
import { classifyChannel } from "../core/channels.ts";
import type { ServerEvent } from "../core/events.ts";

// Server events → the events of a webhook body (spec §7.2), and the body itself (§7.1).

/** One entry of a webhook body's `events`: its wire form, field names as Pusher sends them. */
export interface WebhookEvent {
  name: WebhookEventType;
  channel: string;
  user_id?: string;
  event?: string;
  data?: string;
  socket_id?: string;
  subscription_count?: number;
}

/** The stream kinds that become webhooks, which is also the webhook event name. */
export const WEBHOOK_KINDS = [
  "channel_occupied", "channel_vacated", "member_added", "member_removed", "client_event", "cache_miss", "subscription_count",
] as const satisfies readonly (WebhookEventType & ServerEvent["kind"])[];

/** The webhook event for a server event, or undefined when the kind has none. */
export function toWebhookEvent(e: ServerEvent): WebhookEvent | undefined {
  switch (e.kind) {
    case "channel_occupied":
    case "channel_vacated":
    case "cache_miss":
      return { name: e.kind, channel: e.channel };
    case "member_added":
    case "member_removed":
      return { name: e.kind, channel: e.channel, user_id: e.userId };
    case "client_event": {
      // data is always a string (the Go SDK fails on an object); user_id only on presence channels.
      const out: WebhookEvent = { name: "client_event", channel: e.channel, event: e.event, data: e.data, socket_id: e.socketId };
      if (e.userId !== undefined && classifyChannel(e.channel).presence) out.user_id = e.userId;
      return out;
    }
    case "subscription_count":
      return { name: "subscription_count", channel: e.channel, subscription_count: e.count };
    default:
      return undefined;
  }
}

/** The exact bytes that are signed and sent: compact JSON, time_ms when the batch was made. */
export function webhookBody(timeMs: number, events: readonly WebhookEvent[]): string {
  return JSON.stringify({ time_ms: timeMs, events });
}
