// Socket Rush's JSON file (poseidonphp/pusher2 README "JSON Configuration File"):
//   {"server": {"port": 6001, "redis_url": "localhost:6379", ...},
//    "applications": [{"app_id": "123", "app_key": "...", "app_secret": "...", "app_activity_timeout": 60, ...}]}
// Server keys are our names in snake_case or its aliases (aliases.ts); application keys are ours
// with an app_ prefix, read with Socket Rush's meanings (internal/apps/app.go SetMissingDefaults).
import { APP_SETTING_KEYS, WEBHOOK_EVENT_TYPES, normalizeAppInput } from "../../core/app.ts";
import { isEmpty, isObject, type Translation } from "./translation.ts";

export function isSocketRushFile(json: Record<string, unknown>): boolean {
  return isObject(json.server) || Array.isArray(json.applications);
}

/** Limits where Socket Rush's 0 means unlimited (its README: "0 for unlimited"); ours is -1. */
const ZERO_IS_UNLIMITED = new Set(["maxConnections", "maxBackendEventsPerSecond", "maxClientEventsPerSecond", "maxReadRequestsPerSecond"]);

/** Socket Rush's application keys (after app_) that are not ours by name. */
const APP_RENAMES: Record<string, string> = {
  max_presence_users: "maxPresenceMembersPerChannel",
  require_channel_authorization: "enableUserAuthentication",
  require_authorization: "enableUserAuthentication",
  webhook_batching_enabled: "hasWebhookBatchingEnabled",
};

/** Per-app there, server-wide here. */
const SERVER_WIDE: Record<string, string> = {
  activity_timeout: "activityTimeout",
  authorization_timeout_seconds: "userAuthenticationTimeout",
};

/** app_has_<x>_webhooks switch → the webhook event type it allows. */
const HAS_SWITCHES: Record<string, string> = {
  hasClientEventWebhooks: "client_event", hasChannelOccupiedWebhooks: "channel_occupied", hasChannelVacatedWebhooks: "channel_vacated",
  hasMemberAddedWebhooks: "member_added", hasMemberRemovedWebhooks: "member_removed", hasCacheMissWebhooks: "cache_miss",
};

export function translateSocketRush(json: Record<string, unknown>, file: string): Translation {
  const t: Translation = { format: "Socket Rush", entries: [], ignored: [], warnings: [] };
  for (const key of Object.keys(json)) if (key !== "server" && key !== "applications") t.ignored.push(key);
  if (json.server !== undefined) {
    if (!isObject(json.server)) throw new Error(`"server" in ${file} must be an object`);
    for (const [name, value] of Object.entries(json.server)) {
      // Socket Rush reads env_file only from --env-file; ./.env is read anyway.
      if (name === "env_file" && (value === "./.env" || value === ".env")) continue;
      t.entries.push({ name: snakeToCamel(name), value, label: `server.${name} in ${file}` });
    }
  }
  if (json.applications !== undefined) {
    if (!Array.isArray(json.applications)) throw new Error(`"applications" in ${file} must be an array`);
    const apps = json.applications.map((raw, i) => translateApp(raw, `applications[${i}]`, file, t));
    t.entries.push({ name: "apps", value: apps, label: `applications in ${file}` });
  }
  return t;
}

function translateApp(raw: unknown, where: string, file: string, t: Translation): Record<string, unknown> {
  if (!isObject(raw)) throw new Error(`${where} in ${file} must be an object`);
  const app: Record<string, unknown> = {};
  const webhook: { url?: unknown; filter?: unknown } = {};
  for (const [name, value] of Object.entries(raw)) {
    const bare = name.replace(/^app_/, "");
    const label = `${where}.${name} in ${file}`;
    if (bare in SERVER_WIDE) {
      serverWide(t, SERVER_WIDE[bare]!, value, label);
      continue;
    }
    if (bare === "webhook_url") webhook.url = value;
    else if (bare === "webhook_filter_prefix") webhook.filter = value;
    else {
      const setting = APP_RENAMES[bare] ?? Object.keys(normalizeAppInput({ [bare]: 0 }))[0]!;
      if (!(APP_SETTING_KEYS as string[]).includes(setting) || setting === "webhooks") {
        if (!isEmpty(value)) t.ignored.push(`${where}.${name}`);
        continue;
      }
      // Socket Rush falls back to its default for a 0 (getValueOrFallback); for the rates and the
      // connection limit its default is unlimited.
      if (value === 0 || value === "0") {
        if (ZERO_IS_UNLIMITED.has(setting)) app[setting] = -1;
        continue;
      }
      app[setting] = value;
    }
  }
  if (webhook.url !== undefined && webhook.url !== "") {
    // Socket Rush sends an event type only when its app_has_*_webhooks switch is on.
    const types = Object.entries(HAS_SWITCHES).filter(([sw]) => app[sw] === true || app[sw] === "true").map(([, type]) => type);
    if (types.length === 0) t.warnings.push(`${where}.app_webhook_url in ${file}: no app_has_*_webhooks switch is on, so no webhook is sent (as in Socket Rush)`);
    app.webhooks = [{
      url: webhook.url,
      event_types: types.filter((type) => (WEBHOOK_EVENT_TYPES as readonly string[]).includes(type)),
      ...(webhook.filter ? { filter: { channel_name_starts_with: webhook.filter } } : {}),
    }];
  }
  return app;
}

/** A per-app timeout becomes the server's; apps that disagree get a warning, the first one wins. */
function serverWide(t: Translation, key: string, value: unknown, label: string): void {
  const earlier = t.entries.find((e) => e.name === key);
  if (!earlier) {
    t.entries.push({ name: key, value, label });
    return;
  }
  if (String(earlier.value) !== String(value)) {
    t.warnings.push(`${label} (${JSON.stringify(value)}) not acted on: ${key} is one value for the whole server here, taken from ${earlier.label} (${JSON.stringify(earlier.value)})`);
  }
}

const snakeToCamel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
