// --help and --version: every flag with its environment variable, default and meaning, generated
// from the schemas (server settings, each driver's options, app settings), so nothing goes
// undescribed.
import type { z } from "zod";
import { APP_SETTING_HELP, APP_SETTING_KEYS, appSchema } from "../core/app.ts";
import { driverKinds, driverNames, driverSettings, driversOf, selectorKey } from "../drivers/index.ts";
import { kebab, upperSnake } from "./names.ts";
import { SERVER_SETTING_KEYS, serverSettingsSchema } from "./schema.ts";
import { VERSION } from "./version.ts";

/** What to do with the command line: run the server, or print help or the version and exit. */
export function commandOf(argv: string[]): "help" | "version" | "run" {
  if (argv.includes("--help") || argv.includes("-h")) return "help";
  if (argv.includes("--version")) return "version";
  return "run";
}

/** A setting's default as --help shows it, or undefined when it has none. */
function defaultOf(schema: z.ZodType): string | undefined {
  const result = schema.safeParse(undefined);
  if (!result.success || result.data === undefined) return undefined;
  const value = result.data;
  if (Array.isArray(value)) return value.length ? value.join(",") : "[]";
  return value === "" ? '""' : String(value);
}

/** Two lines per option: flag, variable and default; then what it means. */
function option(flag: string, env: string | undefined, fallback: string | undefined, meaning: string): string {
  const head = [flag, env].filter(Boolean).join(", ");
  return `  ${head}${fallback === undefined ? "" : `  (default ${fallback})`}\n      ${meaning}`;
}

/** --help: every flag with its environment variable, default and meaning, from the schemas. */
export function helpText(): string {
  const out = [
    `Switchboard ${VERSION}: a Pusher Channels compatible server.`,
    "",
    "Usage: switchboard [--option value ...]",
    "",
    "Every option is also an environment variable and a camelCase config-file key (--port: PORT, port;",
    "--app-enable-client-messages: APP_ENABLE_CLIENT_MESSAGES, app.enableClientMessages).",
    "Precedence: flags > environment > config file (--prefer-config-file: flags > file > environment).",
    "Booleans take true/false, 1/0, yes/no or on/off; a boolean flag given alone means true.",
    "",
    option("-h, --help", undefined, undefined, "print this help and exit"),
    option("--version", undefined, undefined, "print the version and exit"),
    option("--config-file, --config", "CONFIG_FILE", undefined, "JSON config file (see config/switchboard.example.json); Socket Rush's and Sockudo's files are read too"),
    option("--prefer-config-file", undefined, undefined, "let the config file override the environment"),
    option("--env-file", "ENV_FILE", "./.env if it exists", "NAME=value file filling what the environment leaves unset (\"\": none)"),
    "",
    "Soketi's SOKETI_*, Sockudo's and Socket Rush's names work too (README \"Coming from Soketi, Sockudo or",
    "Socket Rush\"); `switchboard config` shows the effective value of every setting and where it came from.",
    "",
    "Server:",
  ];
  for (const key of SERVER_SETTING_KEYS) {
    const schema = serverSettingsSchema[key];
    out.push(option(`--${kebab(key)}`, upperSnake(key), defaultOf(schema), schema.description ?? ""));
  }
  for (const { kind, default: fallback, help } of driverKinds()) {
    const selector = selectorKey(kind);
    out.push("", `${kind[0]!.toUpperCase()}${kind.slice(1)} drivers (${help}):`);
    out.push(option(`--${kebab(selector)}`, upperSnake(selector), fallback, `one of: ${driverNames(kind)}`));
    for (const driver of driversOf(kind)) out.push(`      ${driver.name}: ${driver.help}`);
    for (const [key, { schema, drivers }] of driverSettings()) {
      if (drivers[0]!.kind !== kind) continue;
      const users = drivers.map((d) => d.name).join(", ");
      out.push(option(`--${kebab(key)}`, upperSnake(key), defaultOf(schema), `${schema.description ?? ""} [${users}]`));
    }
  }
  out.push(
    "",
    "Apps: the default app takes --app-id, --app-key, --app-secret and the settings below; more apps come",
    "from APPS (a JSON array) or the config file's apps[], whose entries use the camelCase names",
    "(app.enableClientMessages: enableClientMessages) or Soketi's snake_case ones (enable_client_messages).",
    option("--apps", "APPS", undefined, "JSON array of apps (environment or config file only)").replace("--apps, ", ""),
  );
  for (const key of APP_SETTING_KEYS) {
    out.push(option(`--app-${kebab(key)}`, `APP_${upperSnake(key)}`, defaultOf(appSchema.shape[key]), APP_SETTING_HELP[key]));
  }
  return out.join("\n") + "\n";
}
