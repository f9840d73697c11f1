import { z } from "zod";
import { bool, num } from "./coerce.ts";

// Per-app settings (spec §8.1). Keys are camelCase; stores may hand us Soketi/Sockudo snake_case
// rows and numbers or booleans as strings, which normalizeAppInput folds in before validation.

const int = num(z.number().int());
const limit = int.pipe(z.number().int().min(-1));

const stringList = z.preprocess((v) => {
  if (typeof v === "string") {
    const s = v.trim();
    if (s.startsWith("[")) {
      try { return JSON.parse(s); } catch { return v; }
    }
    return s === "" ? [] : s.split(",").map((x) => x.trim());
  }
  return v;
}, z.array(z.string()));

// --- Webhooks (spec §7.3) ---------------------------------------------------------------------

export const WEBHOOK_EVENT_TYPES = [
  "channel_occupied", "channel_vacated", "member_added", "member_removed", "client_event", "cache_miss", "subscription_count",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

const httpUrl = z.string().url().refine((u) => /^https?:\/\//i.test(u), "must be an http:// or https:// URL");

const webhookSchema = z.object({
  url: httpUrl.optional(),
  /** AWS Lambda target (Soketi's shape): a function name or ARN, invoked with the signed body. */
  lambda_function: z.string().min(1).optional(),
  lambda: z.object({
    /** true: an Event (fire-and-forget) invocation; false: RequestResponse, whose function error is a failure. */
    async: bool.default(false),
    region: z.string().min(1).optional(),
    /** Passed to the LambdaClient constructor (endpoint, credentials, ...). */
    client_options: z.record(z.string(), z.unknown()).optional(),
  }).optional(),
  event_types: z.array(z.enum(WEBHOOK_EVENT_TYPES)).default([]),
  filter: z.object({
    channel_name_starts_with: z.string().optional(),
    channel_name_ends_with: z.string().optional(),
  }).optional(),
  headers: z.record(z.string(), z.string()).optional(),
}).passthrough().refine((w) => (w.url === undefined) !== (w.lambda_function === undefined), {
  message: "each webhook needs exactly one target: url or lambda_function",
});

const webhookList = z.preprocess((v) => {
  if (typeof v === "string") {
    try { return JSON.parse(v); } catch { return v; }
  }
  return v;
}, z.array(webhookSchema));

export const appSchema = z.object({
  id: z.preprocess((v) => (typeof v === "number" ? String(v) : v), z.string().min(1)),
  key: z.string().min(1),
  secret: z.string().min(1),
  enabled: bool.default(true),
  maxConnections: limit.default(-1),
  enableClientMessages: bool.default(false),
  maxBackendEventsPerSecond: limit.default(-1),
  maxClientEventsPerSecond: limit.default(10),
  maxReadRequestsPerSecond: limit.default(-1),
  maxPresenceMembersPerChannel: limit.default(100),
  maxPresenceMemberSizeInKb: num(z.number().min(-1)).default(2),
  maxChannelNameLength: int.pipe(z.number().int().min(1)).default(200),
  maxEventChannelsAtOnce: limit.default(100),
  maxEventNameLength: int.pipe(z.number().int().min(1)).default(200),
  maxEventPayloadInKb: num(z.number().min(-1)).default(10),
  maxEventBatchSize: limit.default(10),
  enableUserAuthentication: bool.default(false),
  enableWatchlistEvents: bool.default(false),
  enableSubscriptionCount: bool.default(false),
  allowedOrigins: stringList.default(["*"]),
  webhooks: webhookList.default([]),
  // Webhook switches (Socket Rush names). Unset "has" switches follow the webhooks' event_types;
  // false turns an event type off for the app even when a webhook lists it.
  webhooksEnabled: bool.optional(),
  /** Socket Rush's singular spelling of webhooksEnabled. */
  webhookEnabled: bool.optional(),
  hasClientEventWebhooks: bool.optional(),
  hasChannelOccupiedWebhooks: bool.optional(),
  hasChannelVacatedWebhooks: bool.optional(),
  hasMemberAddedWebhooks: bool.optional(),
  hasMemberRemovedWebhooks: bool.optional(),
  hasCacheMissWebhooks: bool.optional(),
  /** Unset: the server's WEBHOOK_BATCHING; true/false: batch this app's webhooks or not. */
  hasWebhookBatchingEnabled: bool.optional(),
});

export type App = z.infer<typeof appSchema>;
export type AppInput = z.input<typeof appSchema>;
export type WebhookConfig = z.infer<typeof webhookSchema>;

/** The app-level setting names, for config loaders that map APP_<SETTING> / --app-<setting>. */
export const APP_SETTING_KEYS = Object.keys(appSchema.shape) as (keyof App)[];

/** One line per app setting for --help and docs/configuration.md; typed so a new setting cannot go undescribed. */
export const APP_SETTING_HELP: Record<keyof App, string> = {
  id: "app id (the HTTP API's /apps/{id})",
  key: "app key (what clients connect with: /app/{key})",
  secret: "app secret (signs the HTTP API and channel authorizations)",
  enabled: "false: connections close with 4003, the HTTP API answers 403",
  maxConnections: "connections per app, -1 unlimited (4004 above)",
  enableClientMessages: "allow client- events on private and presence channels",
  maxBackendEventsPerSecond: "HTTP API events × channels per second, -1 unlimited (429 above)",
  maxClientEventsPerSecond: "client events per connection per second (4301 above)",
  maxReadRequestsPerSecond: "HTTP API reads per second, -1 unlimited (429 above)",
  maxPresenceMembersPerChannel: "members per presence channel",
  maxPresenceMemberSizeInKb: "size of one member's user_info",
  maxChannelNameLength: "characters in a channel name",
  maxEventChannelsAtOnce: "channels one HTTP API event may name",
  maxEventNameLength: "characters in an event name",
  maxEventPayloadInKb: "size of one event's data (413 above)",
  maxEventBatchSize: "events in one batch_events call",
  enableUserAuthentication: "sockets must sign in (or join a private/presence channel) in time, else 4009",
  enableWatchlistEvents: "watchlist online/offline events for signed-in users",
  enableSubscriptionCount: "pusher_internal:subscription_count broadcasts",
  allowedOrigins: "Origin values allowed to connect, others get 4009: https://a.com (scheme, host and port must match), a.com (any scheme) or *.a.com; comma list or JSON array; * any",
  webhooks: "JSON array of webhooks: {url | lambda_function, event_types, filter, headers} (docs/webhooks.md)",
  webhooksEnabled: "false: no webhooks for this app, whatever it lists",
  webhookEnabled: "Socket Rush's spelling of webhooks-enabled",
  hasClientEventWebhooks: "false: no client_event webhooks for this app (unset: as its webhooks' event_types say)",
  hasChannelOccupiedWebhooks: "false: no channel_occupied webhooks for this app (unset: as its webhooks' event_types say)",
  hasChannelVacatedWebhooks: "false: no channel_vacated webhooks for this app (unset: as its webhooks' event_types say)",
  hasMemberAddedWebhooks: "false: no member_added webhooks for this app (unset: as its webhooks' event_types say)",
  hasMemberRemovedWebhooks: "false: no member_removed webhooks for this app (unset: as its webhooks' event_types say)",
  hasCacheMissWebhooks: "false: no cache_miss webhooks for this app (unset: as its webhooks' event_types say)",
  hasWebhookBatchingEnabled: "batch this app's webhooks or not (unset: the server's WEBHOOK_BATCHING)",
};

const SNAKE_ALIASES: Record<string, string> = {
  max_backend_events_per_sec: "maxBackendEventsPerSecond",
  max_client_events_per_sec: "maxClientEventsPerSecond",
  max_read_req_per_sec: "maxReadRequestsPerSecond",
  app_id: "id",
  app_key: "key",
  app_secret: "secret",
};

export function snakeToCamel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Accepts camelCase or snake_case keys; later keys do not override camelCase ones already set. */
export function normalizeAppInput(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value === null || value === undefined) continue;
    const camel = SNAKE_ALIASES[key] ?? (key.includes("_") ? snakeToCamel(key) : key);
    if (!(camel in out) || camel === key) out[camel] = value;
  }
  return out;
}

function formatZodIssues(error: z.ZodError, prefix = ""): string {
  return error.issues
    .map((issue) => `${prefix}${issue.path.join(".") || "(root)"}: ${issue.message}`)
    .join("; ");
}

export function parseApp(raw: Record<string, unknown>, where = "app"): App {
  const result = appSchema.safeParse(normalizeAppInput(raw));
  if (!result.success) throw new Error(`invalid ${where}: ${formatZodIssues(result.error)}`);
  return result.data;
}

/** The app limits a REST request body is bounded by. */
export type BodyLimits = Pick<App, "maxEventPayloadInKb" | "maxEventBatchSize" | "maxEventChannelsAtOnce" | "maxEventNameLength" | "maxChannelNameLength">;

/**
 * The largest /events or /batch_events body an app's limits admit, in bytes; undefined when one of
 * them is off (-1). A larger body cannot hold a valid request, so it is refused before it is read.
 * An event's data travels as a JSON string: escaping (quotes and backslashes as two bytes, PHP's
 * \uXXXX for non-ASCII) makes it up to about three times its size. 1 KB per event covers its
 * socket_id, info, idempotency key and punctuation; one event may name maxEventChannelsAtOnce
 * channels. With the default limits: 334 KB.
 */
export function requestBodyLimitBytes(app: BodyLimits): number | undefined {
  const { maxEventPayloadInKb: payloadKb, maxEventBatchSize: batch, maxEventChannelsAtOnce: channels } = app;
  if (payloadKb < 0 || batch < 0 || channels < 0) return undefined;
  const event = 3 * payloadKb * 1024 + app.maxEventNameLength + app.maxChannelNameLength + 1024;
  return Math.max(batch, 1) * event + channels * (app.maxChannelNameLength + 3);
}

/** The same bound in whole KB (HTTP_MAX_BODY_KB's unit); undefined when a limit is off. */
export function requestBodyLimitKb(app: BodyLimits): number | undefined {
  const bytes = requestBodyLimitBytes(app);
  return bytes === undefined ? undefined : Math.ceil(bytes / 1024);
}

/** HTTP_MAX_BODY_KB when it is not given: what the default app limits admit. */
export const DEFAULT_HTTP_MAX_BODY_KB = requestBodyLimitKb(appSchema.parse({ id: "-", key: "-", secret: "-" }))!;
