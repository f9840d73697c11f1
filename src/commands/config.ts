// `switchboard config`: the effective configuration, each value with where it came from (a flag,
// a variable, which .env or config file, or the default), secrets masked, so a person can see why
// a value won, and which of their settings (a Soketi or Sockudo file's) are not acted on.
import type { Config } from "../config/load.ts";
import { APP_SETTING_KEYS, appSchema, type App } from "../core/app.ts";
import { SERVER_SETTING_KEYS } from "../config/schema.ts";
import { table } from "./output.ts";
import type { CommandOutput } from "./apps.ts";

export const CONFIG_USAGE = [
  "Usage: switchboard config [--json] [--option value ...]",
  "  Prints the effective configuration from the same flags, environment, .env and config file the",
  "  server would read: every setting's value and its source; secrets masked.",
].join("\n");

const SECRET = /secret|password|passphrase|token/i;

/** A secret as ****, and a URL's password likewise (redis://:****@host). */
export function mask(key: string, value: unknown): unknown {
  if (SECRET.test(key) && value !== "" && value !== undefined) return "****";
  if (typeof value === "string") return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, "$1****@");
  return value;
}

const show = (value: unknown) => (value === undefined ? "" : typeof value === "string" ? value : JSON.stringify(value));

interface Described {
  settings: Record<string, { value: unknown; source: string }>;
  drivers: Record<string, { name: string; source: string; options: Record<string, { value: unknown; source: string }> }>;
  apps: { source: string; settings: Record<string, unknown> }[];
  warnings: string[];
}

function describeConfig(config: Config): Described {
  const source = (key: string) => config.origins[key] ?? "default";
  const settings: Described["settings"] = {};
  for (const key of SERVER_SETTING_KEYS) settings[key] = { value: mask(key, config[key]), source: source(key) };
  const drivers: Described["drivers"] = {};
  for (const choice of Object.values(config.drivers)) {
    if (!choice) continue;
    const selector = `${choice.kind.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())}Driver`;
    const options: Record<string, { value: unknown; source: string }> = {};
    for (const [key, value] of Object.entries(choice.options)) options[key] = { value: mask(key, value), source: source(key) };
    drivers[choice.kind] = { name: choice.name, source: source(selector), options };
  }
  const defaultApp = config.origins["app.id"];
  const apps = config.apps.map((app, i) => ({
    source: config.devApp ? "development app (random credentials)" : i === 0 && defaultApp ? defaultApp : source("apps"),
    settings: changedSettings(app),
  }));
  return { settings, drivers, apps, warnings: config.warnings };
}

/** id, key, masked secret, and the settings that differ from the defaults. */
function changedSettings(app: App): Record<string, unknown> {
  const defaults = appSchema.parse({ id: "-", key: "-", secret: "-" });
  const out: Record<string, unknown> = { id: app.id, key: app.key, secret: mask("secret", app.secret) };
  for (const key of APP_SETTING_KEYS) {
    if (["id", "key", "secret"].includes(key)) continue;
    if (JSON.stringify(app[key]) !== JSON.stringify(defaults[key])) out[key] = key === "webhooks" ? `${app.webhooks.length} webhook(s)` : app[key];
  }
  return out;
}

export function printConfig(config: Config, json: boolean, io: CommandOutput): void {
  const d = describeConfig(config);
  if (json) return io.out(JSON.stringify(d, null, 2));
  const rows = (entries: [string, { value: unknown; source: string }][]) => entries.map(([k, e]) => [k, show(e.value), e.source]);
  const out = ["Server:", indent(table([["SETTING", "VALUE", "SOURCE"], ...rows(Object.entries(d.settings))]))];
  for (const [kind, driver] of Object.entries(d.drivers)) {
    out.push("", `${kind} driver: ${driver.name} (${driver.source})`);
    if (Object.keys(driver.options).length > 0) out.push(indent(table([["SETTING", "VALUE", "SOURCE"], ...rows(Object.entries(driver.options))])));
  }
  out.push("", `Apps (${d.apps.length}${config.drivers["app-store"].name === "memory" ? "" : `; more from the ${config.drivers["app-store"].name} app store`}):`);
  for (const app of d.apps) out.push(`  ${Object.entries(app.settings).map(([k, v]) => `${k}=${show(v)}`).join(" ")}  (${app.source})`);
  if (d.warnings.length > 0) out.push("", "Warnings:", ...d.warnings.map((w) => `  ${w}`));
  io.out(out.join("\n"));
}

const indent = (text: string) => text.split("\n").map((l) => `  ${l}`).join("\n");
