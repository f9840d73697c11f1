import type { z } from "zod";
import { APP_SETTING_KEYS, DEFAULT_HTTP_MAX_BODY_KB, appSchema, normalizeAppInput, parseApp, requestBodyLimitKb, type App } from "../core/app.ts";
import { randomHex } from "../core/crypto.ts";
import { driverKinds, driverNames, driverSettings, findDriver, selectorKey, type DriverChoice, type DriverKind } from "../drivers/index.ts";
import { SERVER_SETTING_KEYS, serverSettingsSchema, type ServerSettingKey, type ServerSettings } from "./schema.ts";
import { parseDotenv } from "./dotenv.ts";
import { camelFromKebab, kebab, suggestion, upperSnake } from "./names.ts";
import { ALIASES, NOT_ACTED_ON, PSEUDO_KEYS, VALUE_ALIASES, isEnvOnly, type Alias } from "./formats/aliases.ts";
import { deriveSettings } from "./formats/derive.ts";
import { isSocketRushFile, translateSocketRush } from "./formats/socket-rush.ts";
import { isSockudoFile, translateSockudo } from "./formats/sockudo.ts";
import { soketiSslEnabled, unknownSoketiNames } from "./formats/soketi.ts";
import { ignoredWarning, type Translation } from "./formats/translation.ts";

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

export class ConfigError extends Error {}

type Entry = { value: unknown; label: string };
type Layer = Map<string, Entry>;


const FLAG_ONLY = new Set(["configFile", "preferConfigFile", "envFile"]);
const BOOLEAN_FLAGS = new Set(["preferConfigFile", "requireProtocolParam"]);

/** Settings that are neither server nor app settings: the driver selectors and the drivers' own. */
function backendKeys(): Set<string> {
  return new Set([...driverKinds().map((k) => selectorKey(k.kind)), ...driverSettings().keys()]);
}

/** Every flag's camelCase name (appEnableClientMessages for the default app's settings), for suggestions. */
function knownKeys(): string[] {
  const app = APP_SETTING_KEYS.map((k) => `app${k[0]!.toUpperCase()}${k.slice(1)}`);
  return [...SERVER_SETTING_KEYS, ...backendKeys(), ...FLAG_ONLY, ...app];
}

/** Maps one of our camelCase setting names to its flat key ("port", "app.enableClientMessages") or undefined. */
function ownKey(camel: string): string | undefined {
  if ((SERVER_SETTING_KEYS as string[]).includes(camel) || backendKeys().has(camel) || FLAG_ONLY.has(camel) || camel === "apps") return camel;
  if (camel.startsWith("app") && camel.length > 3) {
    const setting = camel[3]!.toLowerCase() + camel.slice(4);
    if ((APP_SETTING_KEYS as string[]).includes(setting)) return `app.${setting}`;
  }
  return undefined;
}

/** A flat key this version acts on (a foreign name may point at a setting that does not exist yet). */
function isKnownKey(key: string): boolean {
  if (PSEUDO_KEYS.has(key)) return true;
  if (key.startsWith("app.")) return (APP_SETTING_KEYS as string[]).includes(key.slice(4));
  return ownKey(key) === key;
}

/** The schema a flat key is validated with, if any. */
function schemaOf(key: string): z.ZodType | undefined {
  if (key.startsWith("app.")) return appSchema.shape[key.slice(4) as keyof App];
  return serverSettingsSchema[key as ServerSettingKey] ?? driverSettings().get(key)?.schema;
}

/** A flag given alone means true for a boolean setting, and for a foreign switch we only note. */
function flagAloneIsTrue(key: string): boolean {
  if (BOOLEAN_FLAGS.has(key) || PSEUDO_KEYS.has(key) || !isKnownKey(key)) return true;
  const schema = schemaOf(key);
  return schema?.safeParse("true").data === true && schema.safeParse("false").data === false;
}

/** Other servers' flag and file names (camelCase), and their environment names. */
const EVERYWHERE = new Map<string, { key: string; alias: Alias }>();
const ENV_ALIASES: { env: string; key: string; alias: Alias }[] = [];
for (const [key, aliases] of [...Object.entries(ALIASES), ["", NOT_ACTED_ON] as const]) {
  for (const alias of aliases) {
    if (!isEnvOnly(alias)) EVERYWHERE.set(alias.name, { key, alias });
    ENV_ALIASES.push({ env: isEnvOnly(alias) ? alias.name : upperSnake(alias.name), key, alias });
  }
}

/**
 * One layer (flags, environment or a file) being built: our own names first, then other servers'
 * names for what is still unset (our name wins when both are given). A foreign name whose setting
 * does not exist here is a warning, never an error: those files carry many options.
 */
class LayerBuilder {
  readonly layer: Layer = new Map();
  private readonly foreign: { key: string; alias?: Alias; entry: Entry }[] = [];
  constructor(private readonly warnings: string[]) {}

  own(key: string, value: unknown, label: string): void {
    this.layer.set(key, { value, label });
  }

  /** A foreign name; `alias` undefined when a translated file already used our key. */
  other(key: string, alias: Alias | undefined, value: unknown, label: string): void {
    this.foreign.push({ key, alias, entry: { value, label: alias ? `${label} (${alias.from})` : label } });
  }

  build(): Layer {
    const taken = new Map<string, Entry>();
    for (const { key, alias, entry } of this.foreign) {
      if (!key || !isKnownKey(key)) {
        this.warnings.push(`${entry.label} accepted but not acted on: no such setting in this version`);
        continue;
      }
      const value = alias?.map ? alias.map(entry.value) : entry.value;
      if (value === undefined) continue;
      const earlier = taken.get(key);
      if (earlier && JSON.stringify(earlier.value) !== JSON.stringify(value)) {
        this.warnings.push(`${entry.label} (${JSON.stringify(value)}) not acted on: ${upperSnake(key)} is one setting here, taken from ${earlier.label}`);
      }
      if (this.layer.has(key)) continue;
      const own = { value, label: entry.label };
      this.layer.set(key, own);
      taken.set(key, own);
    }
    return this.layer;
  }
}

function parseArgv(argv: string[], warnings: string[]): Layer {
  const builder = new LayerBuilder(warnings);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) throw new ConfigError(`unexpected argument "${arg}" (options look like --port 6001)`);
    const eq = arg.indexOf("=");
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const camel = camelFromKebab(name);
    const own = ownKey(camel);
    const foreign = own ? undefined : EVERYWHERE.get(camel);
    const key = own ?? foreign?.key;
    if (key === undefined || key === "apps") throw new ConfigError(`unknown option --${name}${suggestion(`--${name}`, knownKeys().map((k) => `--${kebab(k)}`))}`);
    let value: unknown;
    if (eq >= 0) value = arg.slice(eq + 1);
    else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith("--")) value = argv[++i];
    else if (flagAloneIsTrue(key) || /^app\.(enable|has[A-Z]|webhooks?Enabled$)/.test(key)) value = "true";
    else throw new ConfigError(`option --${name} needs a value`);
    if (own) builder.own(own, value, `--${name}`);
    else builder.other(key, foreign!.alias, value, `--${name}`);
  }
  return builder.build();
}

/** `dotenv` names the .env file each variable came from when the real environment lacks it. */
function parseEnv(env: Record<string, string | undefined>, fromFile: Record<string, string>, warnings: string[]): Layer {
  const builder = new LayerBuilder(warnings);
  const labelOf = (name: string) => (name in fromFile ? `${name} in ${fromFile[name]}` : name);
  const ownNames = new Set<string>();
  const take = (name: string, key: string) => {
    ownNames.add(name);
    const value = env[name];
    if (value !== undefined) builder.own(key, value, labelOf(name));
  };
  for (const key of [...SERVER_SETTING_KEYS, ...backendKeys()]) take(upperSnake(key), key);
  for (const setting of APP_SETTING_KEYS) take(`APP_${upperSnake(setting)}`, `app.${setting}`);
  take("APPS", "apps");
  take("CONFIG_FILE", "configFile");
  for (const { env: name, key, alias } of ENV_ALIASES) {
    if (env[name] !== undefined && !ownNames.has(name)) builder.other(key, alias, env[name], labelOf(name));
  }
  for (const name of unknownSoketiNames(env)) warnings.push(`${labelOf(name)} accepted but not acted on: not a Soketi option Switchboard knows`);
  return builder.build();
}

/**
 * The .env file: --env-file or ENV_FILE names one (missing: an error; "" reads none), else ./.env
 * when it exists, as Socket Rush, Sockudo and Soketi do. Its variables fill what the real
 * environment leaves unset.
 */
function readDotenv(flags: Layer, env: Record<string, string | undefined>, read: (path: string) => string): { vars: Record<string, string>; file?: string } {
  const named = flags.get("envFile") ?? (env.ENV_FILE !== undefined ? { value: env.ENV_FILE, label: "ENV_FILE" } : undefined);
  const path = named ? String(named.value) : "./.env";
  if (path === "") return { vars: {} };
  let text: string;
  try {
    text = read(path);
  } catch (error) {
    const { code, name } = error as { code?: unknown; name?: unknown };
    const missing = code === "ENOENT" || name === "NotFound" || /ENOENT|no such file/i.test((error as Error).message);
    if (!named && missing) return { vars: {} };
    throw new ConfigError(`cannot read ${named ? `${named.label} ` : ""}${path}: ${(error as Error).message}`);
  }
  if (typeof text !== "string") {
    if (!named) return { vars: {} };
    throw new ConfigError(`cannot read ${named.label} ${path}`);
  }
  try {
    return { vars: parseDotenv(text, path), file: path };
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

function parseFile(path: string, read: (path: string) => string, warnings: string[]): Layer {
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
  const record = json as Record<string, unknown>;
  if (isSocketRushFile(record)) return foreignFile(translateOrThrow(() => translateSocketRush(record, path)), path, warnings);
  if (isSockudoFile(record)) return foreignFile(translateOrThrow(() => translateSockudo(record, path)), path, warnings);
  const builder = new LayerBuilder(warnings);
  for (const [name, value] of Object.entries(record)) {
    if (name.startsWith("$") || name === "comment") continue; // "$schema", notes
    if (name === "app") {
      if (typeof value !== "object" || value === null) throw new ConfigError(`config file key "app" must be an object`);
      for (const [setting, v] of Object.entries(value)) builder.own(`app.${setting}`, v, `app.${setting} in ${path}`);
      continue;
    }
    const key = ownKey(name);
    const foreign = key ? undefined : EVERYWHERE.get(name);
    if ((!key && !foreign) || FLAG_ONLY.has(key ?? foreign!.key)) {
      throw new ConfigError(`unknown key "${name}" in config file ${path}${suggestion(name, [...knownKeys(), "app", "apps"])}`);
    }
    if (key) builder.own(key, value, `${name} in ${path}`);
    else builder.other(foreign!.key, foreign!.alias, value, `${name} in ${path}`);
  }
  return builder.build();
}

function translateOrThrow(translate: () => Translation): Translation {
  try {
    return translate();
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

/** A translated Socket Rush or Sockudo file as a layer; its keys with no counterpart become one warning. */
function foreignFile(t: Translation, path: string, warnings: string[]): Layer {
  const builder = new LayerBuilder(warnings);
  for (const { name, value, label } of t.entries) {
    const own = name.includes(".") || name === "apps" || PSEUDO_KEYS.has(name) ? name : ownKey(name);
    const foreign = own ? undefined : EVERYWHERE.get(name);
    if (own && !FLAG_ONLY.has(own)) builder.other(own, undefined, value, label);
    else if (foreign) builder.other(foreign.key, foreign.alias, value, label.replace(/ in .*$/, ` in ${path}`));
    else t.ignored.push(label.replace(/ in .*$/, ""));
  }
  const layer = builder.build();
  warnings.push(...t.warnings, ...ignoredWarning(t, path));
  return layer;
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
