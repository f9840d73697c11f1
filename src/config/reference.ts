// The settings reference as data: every flag with its environment variable, config-file key,
// default, meaning and the other servers' names for it, built from the schemas (server settings,
// each driver's options, app settings) and formats/aliases.ts. `--help` (help.ts) and
// docs/configuration.md (reference-markdown.ts, `npm run docs:config`) both render it, so neither
// can describe a setting the loader does not have, or miss one it does.
import type { z } from "zod";
import { APP_SETTING_HELP, APP_SETTING_KEYS, appSchema } from "../core/app.ts";
import { driverKinds, driverNames, driverSettings, driversOf, selectorKey, type RegisteredDriver } from "../drivers/index.ts";
import { ALIASES, NOT_ACTED_ON, isEnvOnly, type Alias } from "./formats/aliases.ts";
import { kebab, upperSnake } from "./names.ts";
import { SERVER_SETTING_KEYS, serverSettingsSchema } from "./schema.ts";

export interface SettingEntry {
  /** "--port", or "-h, --help"; empty for a setting with no flag (APPS). */
  flag: string;
  env?: string;
  /** The config file's key ("port", "app.enableClientMessages"), when the file takes it. */
  fileKey?: string;
  /** The default as a person reads it, or undefined when there is none. */
  fallback?: string;
  meaning: string;
  /** Lines that belong under the entry (a driver selector's drivers). */
  details: string[];
  /** Other servers' names for this setting: "SOKETI_PORT (Soketi)". */
  aliases: string[];
}

export interface ReferenceSection {
  title: string;
  /** What the section is about, one line; empty for none. */
  about: string;
  entries: SettingEntry[];
}

/** A setting's default as shown, or undefined when it has none. */
function defaultOf(schema: z.ZodType): string | undefined {
  const result = schema.safeParse(undefined);
  if (!result.success || result.data === undefined) return undefined;
  const value = result.data;
  if (Array.isArray(value)) return value.length ? value.join(",") : "[]";
  return value === "" ? '""' : String(value);
}

/** How a foreign name is written where it works: a camelCase one as flag, variable and file key. */
function aliasLabel(alias: Alias): string {
  if (isEnvOnly(alias)) return `${alias.name} (${alias.from})`;
  return `--${kebab(alias.name)}, ${upperSnake(alias.name)}, ${alias.name} (${alias.from})`;
}

const aliasesOf = (key: string): string[] => (ALIASES[key] ?? []).map(aliasLabel);

function entry(flag: string, env: string | undefined, fallback: string | undefined, meaning: string, extra: Partial<SettingEntry> = {}): SettingEntry {
  return { flag, env, fallback, meaning, details: [], aliases: [], ...extra };
}

function commandLine(): ReferenceSection {
  return {
    title: "Command line",
    about: "",
    entries: [
      entry("-h, --help", undefined, undefined, "print this help and exit"),
      entry("--version", undefined, undefined, "print the version and exit"),
      entry("--config-file", "CONFIG_FILE", undefined,
        "JSON config file (see config/switchboard.example.json); Socket Rush's and Sockudo's files are read too", { aliases: aliasesOf("configFile") }),
      entry("--prefer-config-file", undefined, undefined, "let the config file override the environment"),
      entry("--env-file", "ENV_FILE", "./.env if it exists", "NAME=value file filling what the environment leaves unset (\"\": none)"),
    ],
  };
}

function server(): ReferenceSection {
  return {
    title: "Server",
    about: "",
    entries: SERVER_SETTING_KEYS.map((key) => {
      const schema = serverSettingsSchema[key];
      return entry(`--${kebab(key)}`, upperSnake(key), defaultOf(schema), schema.description ?? "", { fileKey: key, aliases: aliasesOf(key) });
    }),
  };
}

/** The drivers that read a setting: "redis, redis-cluster", or by kind when several kinds share it. */
function readBy(drivers: readonly RegisteredDriver[]): string {
  const byKind = new Map<string, string[]>();
  for (const { kind, name } of drivers) {
    const names = byKind.get(kind) ?? [];
    if (!names.includes(name)) names.push(name);
    byKind.set(kind, names);
  }
  if (byKind.size === 1) return [...byKind.values()][0]!.join(", ");
  return [...byKind].map(([kind, names]) => `${kind}: ${names.join(", ")}`).join("; ");
}

function driverSections(): ReferenceSection[] {
  return driverKinds().map(({ kind, default: fallback, help }) => {
    const selector = selectorKey(kind);
    const entries = [
      entry(`--${kebab(selector)}`, upperSnake(selector), fallback, `one of: ${driverNames(kind)}`, {
        fileKey: selector,
        details: driversOf(kind).map((driver) => `${driver.name}: ${driver.help}`),
        aliases: aliasesOf(selector),
      }),
    ];
    for (const [key, { schema, drivers }] of driverSettings()) {
      if (drivers[0]!.kind !== kind) continue;
      entries.push(entry(`--${kebab(key)}`, upperSnake(key), defaultOf(schema), `${schema.description ?? ""} [${readBy(drivers)}]`, { fileKey: key, aliases: aliasesOf(key) }));
    }
    return { title: `${kind[0]!.toUpperCase()}${kind.slice(1)} drivers`, about: help, entries };
  });
}

function apps(): ReferenceSection {
  return {
    title: "Apps",
    about: "The default app takes --app-id, --app-key, --app-secret and the settings below; more apps come from APPS " +
      "(a JSON array) or the config file's apps[], whose entries use the camelCase names (app.enableClientMessages: " +
      "enableClientMessages) or Soketi's snake_case ones (enable_client_messages).",
    entries: [
      entry("", "APPS", undefined, "JSON array of apps (environment or config file only)", { fileKey: "apps" }),
      ...APP_SETTING_KEYS.map((key) =>
        entry(`--app-${kebab(key)}`, `APP_${upperSnake(key)}`, defaultOf(appSchema.shape[key]), APP_SETTING_HELP[key], {
          fileKey: `app.${key}`,
          aliases: aliasesOf(`app.${key}`),
        })),
    ],
  };
}

/** What each of the other servers' split settings becomes here (formats/derive.ts folds them in). */
const FOLDED: Record<string, string> = {
  redisHost: "the host of REDIS_URL",
  redisPort: "the port of REDIS_URL",
  redisDb: "the database number of REDIS_URL",
  redisUsername: "the user of REDIS_URL",
  redisPassword: "the password of REDIS_URL",
  redisTls: "true: REDIS_URL uses rediss://",
  redisCluster: "true: the redis drivers become redis-cluster ones, REDIS_URL's host:port the start-up node",
  appManagerCacheEnabled: "false: CACHE_DRIVER=none",
};

function folded(): ReferenceSection {
  return {
    title: "Other servers' split settings",
    about: "other servers' names for parts of what is one setting here; they are folded into it at start-up",
    entries: Object.entries(FOLDED).map(([key, meaning]) => entry("", undefined, undefined, meaning, { aliases: aliasesOf(key) })),
  };
}

/** Every setting, in the order --help prints them. */
export function settingsReference(): ReferenceSection[] {
  return [commandLine(), server(), ...driverSections(), apps(), folded()];
}

/**
 * Other servers' names that are read and named in a start-up warning, because nothing here acts
 * on them: the listed ones, and aliases of a setting this version does not have.
 */
export function notActedOn(): string[] {
  const documented = new Set(settingsReference().flatMap((s) => s.entries.flatMap((e) => e.aliases)));
  const dangling = Object.values(ALIASES).flat().map(aliasLabel).filter((label) => !documented.has(label));
  return [...NOT_ACTED_ON.map(aliasLabel), ...dangling];
}
