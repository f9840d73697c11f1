import type { App, WebhookConfig, WebhookEventType } from "../core/app.ts";
import type { WebhookEvent } from "./payload.ts";

// Which webhooks receive an event (spec §7.3): the app's switches, each webhook's event_types and
// filter. Checked before any work is done for the event.

/** The app's per-type switch (Socket Rush's APP_HAS_*_WEBHOOKS); undefined follows event_types. */
const SWITCHES: Partial<Record<WebhookEventType, keyof App>> = {
  client_event: "hasClientEventWebhooks",
  channel_occupied: "hasChannelOccupiedWebhooks",
  channel_vacated: "hasChannelVacatedWebhooks",
  member_added: "hasMemberAddedWebhooks",
  member_removed: "hasMemberRemovedWebhooks",
  cache_miss: "hasCacheMissWebhooks",
};

export function webhooksEnabled(app: App): boolean {
  return (app.webhooksEnabled ?? app.webhookEnabled ?? true) && app.webhooks.length > 0;
}

/** True when some webhook of the app may want events of this type. */
export function appWants(app: App, type: WebhookEventType): boolean {
  if (!webhooksEnabled(app)) return false;
  const key = SWITCHES[type];
  if (key && app[key] === false) return false;
  return app.webhooks.some((w) => w.event_types.includes(type));
}

export function webhookMatches(webhook: WebhookConfig, event: WebhookEvent): boolean {
  if (!webhook.event_types.includes(event.name)) return false;
  const f = webhook.filter;
  if (f?.channel_name_starts_with !== undefined && !event.channel.startsWith(f.channel_name_starts_with)) return false;
  if (f?.channel_name_ends_with !== undefined && !event.channel.endsWith(f.channel_name_ends_with)) return false;
  return true;
}
