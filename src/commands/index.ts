// Subcommands on the server's own entry point (`switchboard apps …`, `migrate`, `config`), so
// npm run apps, node dist/node.js apps and the binary all work on the store the server is
// configured with: the same flags, environment and config file.
import { APP_SETTING_KEYS } from "../core/app.ts";
import { ConfigError, loadConfig } from "../config/load.ts";
import { isDatabaseDriver, openAppDatabase, storeChoice, type StoreContext } from "../drivers/open-app-store.ts";
import { messageOf } from "../app-stores/timeout.ts";
import { APPS_USAGE, runApps, UsageError, type AppsArgs, type CommandOutput } from "./apps.ts";
import { CONFIG_USAGE, printConfig } from "./config.ts";
import type { Logger } from "../core/runtime.ts";

export interface CommandSources {
  env: Record<string, string | undefined>;
  readFileSync(path: string): string;
  readTextFile(path: string): Promise<string>;
}

const COMMANDS = new Set(["apps", "migrate", "config"]);

const USAGE: Record<string, string> = {
  apps: APPS_USAGE,
  migrate: "Usage: switchboard migrate [--option value ...]\n  Creates the apps table (or DynamoDB table and index) when missing; never alters one.",
  config: CONFIG_USAGE,
};

export function isCommand(argv: string[]): boolean {
  return argv[0] !== undefined && COMMANDS.has(argv[0]);
}

const camel = (kebab: string) => kebab.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const APP_FLAGS = new Set<string>(APP_SETTING_KEYS);

/** Splits the apps command's own words and flags from the server settings passed to loadConfig. */
function parseAppsArgv(argv: string[]): { args: AppsArgs; rest: string[] } {
  const args: AppsArgs = { action: "", json: false, settings: {} };
  const rest: string[] = [];
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = camel(eq < 0 ? arg.slice(2) : arg.slice(2, eq));
    const hasNext = argv[i + 1] !== undefined && !argv[i + 1]!.startsWith("--");
    if (name === "json") args.json = true;
    else if (APP_FLAGS.has(name)) {
      if (eq >= 0) args.settings[name] = arg.slice(eq + 1);
      else if (hasNext) args.settings[name] = argv[++i]!;
      else if (name.startsWith("enable")) args.settings[name] = "true";
      else throw new UsageError(`--${arg.slice(2)} needs a value`);
    } else {
      rest.push(arg);
      if (eq < 0 && hasNext) rest.push(argv[++i]!);
    }
  }
  [args.action = "", args.id] = positional;
  if (positional.length > 2) throw new UsageError(`unexpected argument "${positional[2]}"`);
  return { args, rest };
}

/** Command logs go to stderr, so --json output on stdout stays parseable; info and up unless LOG_LEVEL=debug. */
function stderrLogger(debug: boolean): Logger {
  const write = (level: string) => (message: string, extra?: unknown) =>
    console.error(`[switchboard] ${level}: ${message}${extra === undefined ? "" : ` ${messageOf(extra)}`}`);
  return { debug: debug ? write("debug") : () => {}, info: write("info"), warn: write("warn"), error: write("error") };
}

/** Runs `apps …`, `migrate` or `config`; resolves with the exit code (64 usage, 78 configuration, 1 failure). */
export async function runCommand(argv: string[], sources: CommandSources, io: CommandOutput): Promise<number> {
  const [command, ...words] = argv;
  if (words.includes("--help") || (command === "apps" && words.length === 0)) {
    io.out(USAGE[command!] ?? "");
    return 0;
  }
  try {
    if (command === "config") {
      const json = words.includes("--json");
      printConfig(loadConfig({ argv: words.filter((w) => w !== "--json"), env: sources.env, readFile: sources.readFileSync }), json, io);
      return 0;
    }
    const { args, rest } = command === "apps" ? parseAppsArgv(words) : { args: undefined, rest: words };
    const config = loadConfig({ argv: rest, env: sources.env, readFile: sources.readFileSync });
    const logger = stderrLogger(config.logLevel === "debug");
    const ctx = { config, logger, readTextFile: sources.readTextFile, now: Date.now };
    if (args) await runApps(args, ctx, io);
    else await migrate(ctx, io);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`switchboard ${command}: ${error.message}\n\n${command === "apps" ? APPS_USAGE : ""}`);
      return 64;
    }
    if (error instanceof ConfigError) {
      io.err(`switchboard ${command}: configuration error: ${error.message}`);
      return 78;
    }
    io.err(`switchboard ${command}: ${messageOf(error)}`);
    return 1;
  }
}

async function migrate(ctx: StoreContext, io: CommandOutput): Promise<void> {
  const { name: driver, options } = storeChoice(ctx.config);
  if (!isDatabaseDriver(driver)) throw new UsageError(`nothing to migrate: APP_MANAGER_DRIVER is ${driver} (migrate is for postgres, mysql and dynamodb)`);
  const db = await openAppDatabase(ctx);
  try {
    const table = String(driver === "dynamodb" ? options.dynamodbTable : options.appManagerTable);
    const result = await db.migrate();
    io.out(result === "created" ? `created ${driver} table ${table}` : `${driver} table ${table} exists: left unchanged`);
  } finally {
    await db.close?.();
  }
}
