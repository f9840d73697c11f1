import { APP_SETTING_KEYS, appSchema, normalizeAppInput, parseApp, type App } from "../core/app.ts";
import { randomHex } from "../core/crypto.ts";
import { SERVER_SETTING_KEYS, serverSettingsSchema, type ServerSettingKey, type ServerSettings } from "./schema.ts";

export interface Config extends ServerSettings {
  apps: App[];
  /** True when no app was configured and one with random credentials was made. */
  devApp: boolean;
  /** Settings that were given but have no effect, for the start-up log. */
  warnings: string[];
}

export interface ConfigSources {
  argv: string[];
  env: Record<string, string | undefined>;
  readFile(path: string): string;
}

export class ConfigError extends Error {}

type Layer = Map<string, { value: unknown; label: string }>;

const kebab = (camel: string) => camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const upperSnake = (camel: string) => camel.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
const camelFromKebab = (s: string) => s.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

const FLAG_ONLY = new Set(["configFile", "preferConfigFile", "help"]);
const BOOLEAN_FLAGS = new Set(["preferConfigFile", "help", "requireProtocolParam"]);

/** Maps a camelCase setting name to its flat key ("port", "app.enableClientMessages") or undefined. */
function flatKey(camel: string): string | undefined {
  if ((SERVER_SETTING_KEYS as string[]).includes(camel) || FLAG_ONLY.has(camel) || camel === "apps") return camel;
  if (camel.startsWith("app") && camel.length > 3) {
    const setting = camel[3]!.toLowerCase() + camel.slice(4);
    if ((APP_SETTING_KEYS as string[]).includes(setting)) return `app.${setting}`;
  }
  return undefined;
}

function parseArgv(argv: string[]): Layer {
  const layer: Layer = new Map();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) throw new ConfigError(`unexpected argument "${arg}" (options look like --port 6001)`);
    const eq = arg.indexOf("=");
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const key = flatKey(camelFromKebab(name));
    if (!key || key === "apps") throw new ConfigError(`unknown option --${name}`);
    let value: unknown;
    if (eq >= 0) value = arg.slice(eq + 1);
    else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith("--")) value = argv[++i];
    else if (BOOLEAN_FLAGS.has(key) || key.startsWith("app.enable") || key === "app.enabled") value = "true";
    else throw new ConfigError(`option --${name} needs a value`);
    layer.set(key, { value, label: `--${name}` });
  }
  return layer;
}

function parseEnv(env: Record<string, string | undefined>): Layer {
  const layer: Layer = new Map();
  const take = (name: string, key: string) => {
    const value = env[name];
    if (value !== undefined) layer.set(key, { value, label: name });
  };
  for (const key of SERVER_SETTING_KEYS) take(upperSnake(key), key);
  for (const setting of APP_SETTING_KEYS) take(`APP_${upperSnake(setting)}`, `app.${setting}`);
  take("APPS", "apps");
  take("CONFIG_FILE", "configFile");
  return layer;
}

function parseFile(path: string, read: (path: string) => string): Layer {
  let text: string;
  try {
    text = read(path);
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new ConfigError(`config file ${path} must hold a JSON object`);
  const layer: Layer = new Map();
  for (const [name, value] of Object.entries(json)) {
    if (name.startsWith("$") || name === "comment") continue; // "$schema", notes
    if (name === "app") {
      if (typeof value !== "object" || value === null) throw new ConfigError(`config file key "app" must be an object`);
      for (const [setting, v] of Object.entries(value)) layer.set(`app.${setting}`, { value: v, label: `app.${setting} in ${path}` });
      continue;
    }
    const key = flatKey(name);
    if (!key || FLAG_ONLY.has(key)) throw new ConfigError(`unknown key "${name}" in config file ${path}`);
    layer.set(key, { value, label: `${name} in ${path}` });
  }
  return layer;
}

/** Flags > environment > config file; --prefer-config-file puts the file above the environment. */
export function loadConfig(sources: ConfigSources): Config {
  const flags = parseArgv(sources.argv);
  const env = parseEnv(sources.env);
  const fileName = (flags.get("configFile") ?? env.get("configFile"))?.value as string | undefined;
  const file: Layer = fileName ? parseFile(fileName, sources.readFile) : new Map();
  const preferFile = flags.has("preferConfigFile") && flags.get("preferConfigFile")!.value !== "false";
  const layers = preferFile ? [env, file, flags] : [file, env, flags];
  const merged: Layer = new Map();
  for (const layer of layers) for (const [key, entry] of layer) merged.set(key, entry);

  const settings: Record<string, unknown> = {};
  for (const key of SERVER_SETTING_KEYS) {
    const entry = merged.get(key);
    const result = serverSettingsSchema[key as ServerSettingKey].safeParse(entry?.value);
    if (!result.success) {
      throw new ConfigError(`invalid value for ${entry?.label ?? key} (${JSON.stringify(entry?.value)}): ${result.error.issues[0]?.message}`);
    }
    settings[key] = result.data;
  }
  if (settings.appStoreDriver === "file" && !settings.appStoreFile) {
    throw new ConfigError("APP_STORE_FILE (--app-store-file) is required when APP_STORE_DRIVER is file");
  }
  if (settings.adapterDriver === "upstash") {
    if (!settings.upstashRedisRestUrl) throw new ConfigError("UPSTASH_REDIS_REST_URL (--upstash-redis-rest-url) is required when ADAPTER_DRIVER is upstash");
    if (!settings.upstashRedisRestToken) throw new ConfigError("UPSTASH_REDIS_REST_TOKEN (--upstash-redis-rest-token) is required when ADAPTER_DRIVER is upstash");
    // The bus is the SSE channel "<prefix>bus", and the client's SSE framing splits at commas.
    if (String(settings.redisPrefix).includes(",")) throw new ConfigError("REDIS_PREFIX must not contain a comma when ADAPTER_DRIVER is upstash");
  }
  if (settings.adapterDriver === "redis-cluster" && !settings.redisClusterNodes) {
    throw new ConfigError("REDIS_CLUSTER_NODES (--redis-cluster-nodes) is required when ADAPTER_DRIVER is redis-cluster");
  }

  checkWebhookSettings(settings as ServerSettings);

  const apps: App[] = [];
  const appsEntry = merged.get("apps");
  if (appsEntry) {
    let list = appsEntry.value;
    if (typeof list === "string") {
      try {
        list = JSON.parse(list);
      } catch {
        throw new ConfigError(`${appsEntry.label} must be a JSON array of apps`);
      }
    }
    if (!Array.isArray(list)) throw new ConfigError(`${appsEntry.label} must be an array of apps`);
    list.forEach((raw, i) => apps.push(parseAppOrThrow(raw, `apps[${i}] (${appsEntry.label})`)));
  }

  // Default-app settings keyed by their camelCase name, remembering where each came from so an
  // invalid value is reported as APP_MAX_CONNECTIONS / --app-max-connections / "app.x in file".
  const defaults: Record<string, unknown> = {};
  const labels = new Map<string, string>();
  for (const [key, entry] of merged) {
    if (!key.startsWith("app.")) continue;
    const setting = Object.keys(normalizeAppInput({ [key.slice(4)]: 0 }))[0]!;
    if (!(APP_SETTING_KEYS as string[]).includes(setting)) throw new ConfigError(`unknown key ${entry.label}`);
    defaults[setting] = entry.value;
    labels.set(setting, entry.label);
  }
  let devApp = false;
  const warnings: string[] = [];
  if ("id" in defaults || "key" in defaults || "secret" in defaults) {
    for (const part of ["id", "key", "secret"]) {
      if (!(part in defaults)) throw new ConfigError(`APP_${part.toUpperCase()} (--app-${part}) is missing: the default app needs an id, a key and a secret`);
    }
    apps.unshift(parseDefaultApp(defaults, labels));
  } else if (apps.length === 0 && settings.appStoreDriver === "memory") {
    // Development mode: never ship a fixed demo secret.
    apps.push(parseDefaultApp({ id: String(Math.floor(Math.random() * 900000) + 100000), key: randomHex(10), secret: randomHex(16), ...defaults }, labels));
    devApp = true;
  } else if (labels.size > 0) {
    warnings.push(`${[...labels.values()].join(", ")} ignored: APP_*/--app-* settings configure the default app, which needs APP_ID, APP_KEY and APP_SECRET`);
  }
  const seen = new Map<string, string>();
  for (const app of apps) {
    for (const ident of [`id ${app.id}`, `key ${app.key}`]) {
      if (seen.has(ident)) throw new ConfigError(`two apps share the ${ident}`);
      seen.set(ident, app.id);
    }
  }
  return { ...(settings as ServerSettings), apps, devApp, warnings };
}

/** The queue drivers' required settings, named as a user sets them. */
function checkWebhookSettings(s: ServerSettings): void {
  if (s.queueDriver === "sqs" && !s.sqsQueueUrl) throw new ConfigError("SQS_QUEUE_URL (--sqs-queue-url) is required when QUEUE_DRIVER is sqs");
  if (s.queueDriver === "redis-cluster" && !s.redisClusterNodes) {
    throw new ConfigError("REDIS_CLUSTER_NODES (--redis-cluster-nodes) is required when QUEUE_DRIVER is redis-cluster");
  }
  // A job still being sent must not be taken by a second node: the lease outlives one attempt.
  if ((s.queueDriver === "redis" || s.queueDriver === "redis-cluster" || s.queueDriver === "sqs") && s.webhookVisibilityTimeoutMs <= s.webhookTimeoutMs) {
    throw new ConfigError("WEBHOOK_VISIBILITY_TIMEOUT_MS must be larger than WEBHOOK_TIMEOUT_MS");
  }
}

function parseDefaultApp(settings: Record<string, unknown>, labels: Map<string, string>): App {
  const result = appSchema.safeParse(normalizeAppInput(settings));
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const key = String(issue.path[0] ?? "");
  const inner = issue.path.length > 1 ? `${issue.path.join(".")}: ` : "";
  throw new ConfigError(`invalid value for ${labels.get(key) ?? `APP_* setting ${key}`} (${JSON.stringify(settings[key])}): ${inner}${issue.message}`);
}

function parseAppOrThrow(raw: unknown, where: string): App {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new ConfigError(`${where} must be an object`);
  try {
    return parseApp(raw as Record<string, unknown>, where);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

export const HELP = `Switchboard: a Pusher Channels compatible server.

Usage: switchboard [--option value ...]

Every option is also an environment variable (--port → PORT, --app-enable-client-messages →
APP_ENABLE_CLIENT_MESSAGES) and a config-file key (port, app.enableClientMessages, apps[]).
Precedence: flags > environment > config file (--prefer-config-file: flags > file > environment).

  --config-file PATH          JSON config file (see config/switchboard.example.json)
  --prefer-config-file        let the config file override the environment
${SERVER_SETTING_KEYS.map((k) => `  --${kebab(k)}`).join("\n")}
  --app-id, --app-key, --app-secret and --app-<setting> for the default app:
${APP_SETTING_KEYS.filter((k) => !["id", "key", "secret"].includes(k)).map((k) => `  --app-${kebab(k)}`).join("\n")}
`;
