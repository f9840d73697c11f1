// Settings on Cloudflare Workers: the Worker's string bindings (vars and secrets) are the
// environment, with the same names as on every other runtime (APP_ID, APP_KEY, APP_SECRET,
// APP_WEBHOOKS, ACTIVITY_TIMEOUT, …). The local launcher (runtimes/workerd.ts) also hands over
// its command line and the config files it read, so `npm run start:workers -- --config x.json`
// configures the Worker exactly as `npm start -- --config x.json` configures Node.
import { ConfigError, loadConfig, type Config } from "../../src/config/load.ts";
import { upperSnake } from "../../src/config/names.ts";
import { selectorKey, type DriverKind } from "../../src/drivers/index.ts";

/** Bindings the local launcher adds beside the environment: argv (a JSON array) and files (path → text). */
export const ARGV_BINDING = "SWITCHBOARD_ARGV";
export const FILES_BINDING = "SWITCHBOARD_FILES";

/**
 * The drivers a Worker can run: the rest need TCP (redis, postgres, mysql), Node's AWS SDK
 * (dynamodb, sqs, lambda) or keep the object awake (a cluster adapter's bus), and are left out of
 * the bundle. One Durable Object per app holds the app's whole state, so the adapter is local.
 */
const AVAILABLE: Record<DriverKind, readonly string[]> = {
  adapter: ["local"],
  "app-store": ["memory", "file"],
  cache: ["memory", "none"],
  queue: ["sync", "memory", "none"],
  "rate-limiter": ["memory"],
};

const WHY: Record<string, string> = {
  redis: "it needs a TCP connection, which a Worker does not have",
  "redis-cluster": "it needs TCP connections, which a Worker does not have",
  postgres: "it needs a TCP connection, which a Worker does not have",
  mysql: "it needs a TCP connection, which a Worker does not have",
};

/** A ConfigError naming the setting when a chosen driver cannot run in a Worker. */
export function checkWorkerDrivers(config: Config): void {
  for (const choice of Object.values(config.drivers)) {
    if (!choice || AVAILABLE[choice.kind].includes(choice.name)) continue;
    // The IP limiter's and the cache's drivers are only used when their feature is on.
    if (choice.kind === "rate-limiter" && !config.rateLimiterEnabled) continue;
    if (choice.kind === "cache" && ["memory", "file"].includes(config.drivers["app-store"].name)) continue;
    const why = WHY[choice.name] ?? "its client library is not in the Workers bundle";
    throw new ConfigError(
      `${upperSnake(selectorKey(choice.kind))}=${choice.name} is not available on Cloudflare Workers: ${why} (available: ${AVAILABLE[choice.kind].join(", ")})`,
    );
  }
}

/** The string bindings, i.e. the Worker's environment variables and secrets. */
export function bindingEnv(bindings: Record<string, unknown>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(bindings)) if (typeof value === "string") env[name] = value;
  return env;
}

const parsed = new WeakMap<object, Config>();

/**
 * The configuration from a Worker's bindings, parsed once per isolate. A bad value throws a
 * ConfigError naming the key (the first request answers 500 with it and logs it).
 */
export function workerConfig(bindings: Record<string, unknown>): Config {
  const cached = parsed.get(bindings);
  if (cached) return cached;
  const env = bindingEnv(bindings);
  const argv = json<string[]>(env, ARGV_BINDING) ?? [];
  delete env[ARGV_BINDING];
  delete env[FILES_BINDING];
  // No .env in a Worker: its variables are the bindings.
  const config = loadConfig({ argv, env: { ENV_FILE: "", ...env }, readFile: (path) => workerFile(bindings, path) });
  // Random development credentials would differ in every isolate and object.
  if (config.devApp) throw new ConfigError("no app configured: set APP_ID, APP_KEY and APP_SECRET (vars, or `wrangler secret put APP_SECRET`), or APPS");
  checkWorkerDrivers(config);
  parsed.set(bindings, config);
  return config;
}

/**
 * A file the local launcher read for the Worker (a config file, an apps file); a Worker has no file
 * system, so any other path is missing.
 */
export function workerFile(bindings: Record<string, unknown>, path: string): string {
  const files = json<Record<string, string>>(bindingEnv(bindings), FILES_BINDING) ?? {};
  const text = files[path];
  if (text === undefined) throw Object.assign(new Error(`${path}: no such file (a Worker has no file system; give settings as bindings)`), { code: "ENOENT" });
  return text;
}

function json<T>(env: Record<string, string>, name: string): T | undefined {
  const text = env[name];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ConfigError(`${name} is not valid JSON`);
  }
}
