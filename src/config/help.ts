// --help and --version. The options come from reference.ts (generated from the schemas, as
// docs/configuration.md is), so nothing goes undescribed.
import { settingsReference, type SettingEntry } from "./reference.ts";
import { VERSION } from "./version.ts";

/** What to do with the command line: run the server, or print help or the version and exit. */
export function commandOf(argv: string[]): "help" | "version" | "run" {
  if (argv.includes("--help") || argv.includes("-h")) return "help";
  if (argv.includes("--version")) return "version";
  return "run";
}

/** Flag, variable and default on one line; then what it means, the drivers and the other servers' names. */
function option(setting: SettingEntry): string {
  if (!setting.flag && !setting.env) return `  ${setting.aliases.join("; ")}\n      here: ${setting.meaning}`;
  const head = [setting.flag, setting.env].filter(Boolean).join(", ");
  const lines = [`  ${head}${setting.fallback === undefined ? "" : `  (default ${setting.fallback})`}`, `      ${setting.meaning}`];
  for (const detail of setting.details) lines.push(`      ${detail}`);
  if (setting.aliases.length) lines.push(`      also: ${setting.aliases.join("; ")}`);
  return lines.join("\n");
}

/** Text as lines of at most ~100 characters. */
function wrap(text: string): string[] {
  const lines: string[] = [];
  for (const word of text.split(" ").filter(Boolean)) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last]!.length + word.length < 100) lines[last] += ` ${word}`;
    else lines.push(word);
  }
  return lines;
}

/** --help: every flag with its environment variable, default and meaning, from the schemas. */
export function helpText(): string {
  const out = [
    `Switchboard ${VERSION}: a Pusher Channels compatible server.`,
    "",
    "Usage: switchboard [--option value ...]",
    "       switchboard apps <list|show|create|update|rotate-secret|delete> ...   (switchboard apps --help)",
    "       switchboard migrate | switchboard config [--json]",
    "",
    "Every option is also an environment variable and a camelCase config-file key (--port: PORT, port;",
    "--app-enable-client-messages: APP_ENABLE_CLIENT_MESSAGES, app.enableClientMessages).",
    "Precedence: flags > environment > config file (--prefer-config-file: flags > file > environment).",
    "Booleans take true/false, 1/0, yes/no or on/off; a boolean flag given alone means true.",
    "Soketi's SOKETI_*, Sockudo's and Socket Rush's names work too (listed under each option as \"also\");",
    "`switchboard config` shows the effective value of every setting and where it came from.",
    "The same reference, as a page: docs/configuration.md.",
  ];
  for (const section of settingsReference()) {
    out.push("", `${section.title}:`, ...wrap(section.about));
    for (const setting of section.entries) out.push(option(setting));
  }
  return out.join("\n") + "\n";
}
