// The configuration: flags > environment (and .env) > config file, merged from the layers
// layers.ts reads, then validated against the schemas; the drivers chosen and the apps parsed.
import { APP_SETTING_KEYS, DEFAULT_HTTP_MAX_BODY_KB, appSchema, normalizeAppInput, parseApp, requestBodyLimitKb, type App } from "../core/app.ts";
import { randomHex } from "../core/crypto.ts";
import { driverKinds, driverNames, driverSettings, findDriver, selectorKey, type DriverChoice, type DriverKind } from "../drivers/index.ts";
import { SERVER_SETTING_KEYS, serverSettingsSchema, type ServerSettingKey, type ServerSettings } from "./schema.ts";
import { kebab, suggestion, upperSnake } from "./names.ts";
import { PSEUDO_KEYS, VALUE_ALIASES } from "./formats/aliases.ts";
import { deriveSettings } from "./formats/derive.ts";
import { soketiSslEnabled } from "./formats/soketi.ts";
import { ConfigError, isKnownKey, parseArgv, parseEnv, parseFile, readDotenv, type Layer } from "./layers.ts";

export { ConfigError };

export interface Config extends ServerSettings {
  /** The driver chosen for each backend kind, with its parsed options (src/drivers/). */
  drivers: { adapter: DriverChoice; "app-store": DriverChoice } & Partial<Record<DriverKind, DriverChoice>>;
  apps: App[];
  /** True when no app was configured and one with random credentials was made. */
  devApp: boolean;
  /** Settings that were given but have no effect, for the start-up log. */
  warnings: string[];
  /** Where each given setting came from ("--port", "PORT", "port in config.json"), for `switchboard config`. */
  origins: Record<string, string>;
}

export interface ConfigSources {
  argv: string[];
  env: Record<string, string | undefined>;
  readFile(path: string): string;
}


/** Flags > environment (and .env) > config file; --prefer-config-file puts the file above the environment. */
export function loadConfig(sources: ConfigSources): Config {
  const warnings: string[] = [];
  const flags = parseArgv(sources.argv, warnings);
  const dotenv = readDotenv(flags, sources.env, sources.readFile);
  const fromFile = Object.fromEntries(Object.keys(dotenv.vars).filter((n) => sources.env[n] === undefined).map((n) => [n, dotenv.file!]));
  const envVars = { ...dotenv.vars, ...sources.env };
  const env = parseEnv(envVars, fromFile, warnings);
  const fileName = (flags.get("configFile") ?? env.get("configFile"))?.value as string | undefined;
  const file: Layer = fileName ? parseFile(fileName, sources.readFile, warnings) : new Map();
  const preferFile = flags.has("preferConfigFile") && flags.get("preferConfigFile")!.value !== "false";
  const layers = preferFile ? [env, file, flags] : [file, env, flags];
  const merged: Layer = new Map();
  for (const layer of layers) for (const [key, entry] of layer) merged.set(key, entry);
  for (const [key, values] of Object.entries(VALUE_ALIASES)) {
    const entry = merged.get(key);
    if (typeof entry?.value === "string" && entry.value.trim().toLowerCase() in values) merged.set(key, { ...entry, value: values[entry.value.trim().toLowerCase()] });
  }
  deriveSettings(merged, warnings);
  if (soketiSslEnabled(envVars) && !merged.has("sslEnabled") && isKnownKey("sslEnabled")) {
    merged.set("sslEnabled", { value: true, label: "SOKETI_SSL_CERT + SOKETI_SSL_KEY" });
  }
  for (const key of [...PSEUDO_KEYS, "envFile"]) merged.delete(key);

  const settings: Record<string, unknown> = {};
  for (const key of SERVER_SETTING_KEYS) {
    const entry = merged.get(key);
    const result = serverSettingsSchema[key as ServerSettingKey].safeParse(entry?.value);
    if (!result.success) {
      throw new ConfigError(`invalid value for ${entry?.label ?? key} (${JSON.stringify(entry?.value)}): ${result.error.issues[0]?.message}`);
    }
    settings[key] = result.data;
  }
  const drivers = chooseDrivers(merged);

  checkAcrossDrivers(settings as ServerSettings, drivers);

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
    const source = appsEntry.label.replace(/^[\w.]+ in /, "");
    const where = appsEntry.label.replace(/ in .*$/, "");
    list.forEach((raw, i) => apps.push(parseAppOrThrow(raw, `${where === "APPS" ? "apps" : where}[${i}]`, source)));
  }

  // Default-app settings keyed by their camelCase name, remembering where each came from so an
  // invalid value is reported as APP_MAX_CONNECTIONS / --app-max-connections / "app.x in file".
  const defaults: Record<string, unknown> = {};
  const labels = new Map<string, string>();
  for (const [key, entry] of merged) {
    if (!key.startsWith("app.")) continue;
    const setting = Object.keys(normalizeAppInput({ [key.slice(4)]: 0 }))[0]!;
    if (!(APP_SETTING_KEYS as string[]).includes(setting)) throw new ConfigError(`unknown key ${entry.label}${suggestion(setting, APP_SETTING_KEYS)}`);
    defaults[setting] = entry.value;
    labels.set(setting, entry.label);
  }
  let devApp = false;
  if ("id" in defaults || "key" in defaults || "secret" in defaults) {
    for (const part of ["id", "key", "secret"]) {
      if (!(part in defaults)) {
        const given = ["id", "key", "secret"].filter((p) => p in defaults).map((p) => labels.get(p)).join(" and ");
        throw new ConfigError(`APP_${part.toUpperCase()} (--app-${part}) is missing: ${given} start a default app, which needs an id, a key and a secret`);
      }
    }
    apps.unshift(parseDefaultApp(defaults, labels));
  } else if (apps.length === 0 && drivers["app-store"].name === "memory") {
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
  // Unset, the body limit follows the largest request an app given here may send (a store's apps
  // are not known yet: one with larger limits needs HTTP_MAX_BODY_KB).
  if (!merged.has("httpMaxBodyKb")) settings.httpMaxBodyKb = Math.max(DEFAULT_HTTP_MAX_BODY_KB, ...apps.map((a) => requestBodyLimitKb(a) ?? 0));
  const origins = Object.fromEntries([...merged].map(([key, entry]) => [key, entry.label]));
  return { ...(settings as ServerSettings), drivers, apps, devApp, warnings, origins };
}

/** Settings of different parts that must agree. */
function checkAcrossDrivers(settings: ServerSettings, drivers: Config["drivers"]): void {
  // A job still being sent must not be taken by a second node: the lease outlives one attempt.
  const lease = drivers.queue?.options.webhookVisibilityTimeoutMs;
  if (typeof lease === "number" && lease <= settings.webhookTimeoutMs) {
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

/** An entry of apps[] (config file) or APPS: like an app-store row, but a misspelt key is an error. */
function parseAppOrThrow(raw: unknown, where: string, source: string): App {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new ConfigError(`${where} (${source}) must be an object`);
  for (const name of Object.keys(raw)) {
    const setting = Object.keys(normalizeAppInput({ [name]: 0 }))[0]!;
    if (!(APP_SETTING_KEYS as string[]).includes(setting)) {
      throw new ConfigError(`unknown key ${where}.${name} in ${source}${suggestion(setting, APP_SETTING_KEYS)}`);
    }
  }
  try {
    return parseApp(raw as Record<string, unknown>, `${where} (${source})`);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

/** Picks each backend kind's driver and parses its options, naming the key of any bad value. */
function chooseDrivers(merged: Layer): Config["drivers"] {
  const describe = (key: string) => merged.get(key)?.label ?? upperSnake(key);
  const invalid = (key: string, message: string) =>
    new ConfigError(`invalid value for ${describe(key)} (${JSON.stringify(merged.get(key)?.value)}): ${message}`);
  // A value given for any driver is checked, chosen or not: a typo shows up before it matters.
  for (const [key, { schema }] of driverSettings()) {
    const entry = merged.get(key);
    if (!entry) continue;
    const result = schema.safeParse(entry.value);
    if (!result.success) throw invalid(key, result.error.issues[0]?.message ?? "invalid");
  }
  const chosen: Partial<Record<DriverKind, DriverChoice>> = {};
  for (const { kind, default: fallback } of driverKinds()) {
    const selector = selectorKey(kind);
    const given = merged.get(selector)?.value ?? fallback;
    const driver = typeof given === "string" ? findDriver(kind, given.trim()) : undefined;
    if (!driver) throw invalid(selector, `unknown ${kind} driver; valid: ${driverNames(kind)}`);
    const raw: Record<string, unknown> = {};
    for (const key of Object.keys(driver.options?.shape ?? {})) if (merged.has(key)) raw[key] = merged.get(key)!.value;
    const result = (driver.options ?? null)?.safeParse(raw);
    if (result && !result.success) {
      const issue = result.error.issues[0]!;
      const key = String(issue.path[0] ?? "");
      if (!merged.has(key)) throw new ConfigError(`${upperSnake(key)} (--${kebab(key)}) is required when ${describe(selector)} is ${driver.name}`);
      throw invalid(key, issue.message);
    }
    chosen[kind] = { kind, name: driver.name, options: (result?.data ?? {}) as Record<string, unknown> };
  }
  return chosen as Config["drivers"];
}
