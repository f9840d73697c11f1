import { z } from "zod";

// Per-app settings (spec §8.1). Keys are camelCase; stores may hand us Soketi/Sockudo snake_case
// rows and numbers or booleans as strings, which normalizeAppInput folds in before validation.

const bool = z.preprocess((v) => {
  if (typeof v === "string") {
    const s = v.trim().toLowerCase();
    if (["true", "1", "yes", "on"].includes(s)) return true;
    if (["false", "0", "no", "off", ""].includes(s)) return false;
  }
  if (v === 1) return true;
  if (v === 0) return false;
  return v;
}, z.boolean());

const int = z.preprocess((v) => (typeof v === "string" && v.trim() !== "" ? Number(v) : v), z.number().int());
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

export const webhookSchema = z.object({
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
  maxPresenceMemberSizeInKb: z.preprocess((v) => (typeof v === "string" ? Number(v) : v), z.number().min(-1)).default(2),
  maxChannelNameLength: int.pipe(z.number().int().min(1)).default(200),
  maxEventChannelsAtOnce: limit.default(100),
  maxEventNameLength: int.pipe(z.number().int().min(1)).default(200),
  maxEventPayloadInKb: z.preprocess((v) => (typeof v === "string" ? Number(v) : v), z.number().min(-1)).default(10),
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

export function formatZodIssues(error: z.ZodError, prefix = ""): string {
  return error.issues
    .map((issue) => `${prefix}${issue.path.join(".") || "(root)"}: ${issue.message}`)
    .join("; ");
}

export function parseApp(raw: Record<string, unknown>, where = "app"): App {
  const result = appSchema.safeParse(normalizeAppInput(raw));
  if (!result.success) throw new Error(`invalid ${where}: ${formatZodIssues(result.error)}`);
  return result.data;
}
