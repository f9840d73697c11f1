// The layers a configuration is merged from: the command line, the environment (with a .env
// file under it) and a config file (ours, Socket Rush's or Sockudo's), each read into a map of
// flat keys ("port", "app.enableClientMessages") with the label of where each value came from.
// Other servers' names are resolved here (formats/aliases.ts); load.ts merges and validates.
import type { z } from "zod";
import { APP_SETTING_KEYS, appSchema, type App } from "../core/app.ts";
import { driverKinds, driverSettings, selectorKey } from "../drivers/index.ts";
import { SERVER_SETTING_KEYS, serverSettingsSchema, type ServerSettingKey } from "./schema.ts";
import { parseDotenv } from "./dotenv.ts";
import { camelFromKebab, kebab, suggestion, upperSnake } from "./names.ts";
import { ALIASES, NOT_ACTED_ON, PSEUDO_KEYS, isEnvOnly, type Alias } from "./formats/aliases.ts";
import { isSocketRushFile, translateSocketRush } from "./formats/socket-rush.ts";
import { isSockudoFile, translateSockudo } from "./formats/sockudo.ts";
import { unknownSoketiNames } from "./formats/soketi.ts";
import { ignoredWarning, type Translation } from "./formats/translation.ts";

export class ConfigError extends Error {}

export type Entry = { value: unknown; label: string };
export type Layer = Map<string, Entry>;


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
export function isKnownKey(key: string): boolean {
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

export function parseArgv(argv: string[], warnings: string[]): Layer {
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
export function parseEnv(env: Record<string, string | undefined>, fromFile: Record<string, string>, warnings: string[]): Layer {
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
export function readDotenv(flags: Layer, env: Record<string, string | undefined>, read: (path: string) => string): { vars: Record<string, string>; file?: string } {
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

export function parseFile(path: string, read: (path: string) => string, warnings: string[]): Layer {
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
