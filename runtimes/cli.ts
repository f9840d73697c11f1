// What every entrypoint (node.ts, deno.ts, bun.ts) shares around its server: the command line
// (flags, environment, .env and config file; --help, --version; the apps, migrate and config
// subcommands, src/commands/), the exit codes, the signals (graceful stop on SIGTERM/SIGINT,
// reload on SIGHUP), one line instead of a stack trace when the port is taken, and the unref'd
// timers and memory figures the platform hands the core. Each runtime supplies a Host: the few
// process APIs that differ. The listeners beside the main one (metrics, the https redirect) are in
// sidecars.ts, the TLS files in tls.ts.
import type { Instance } from "../src/bootstrap.ts";
import { commandOf, helpText } from "../src/config/help.ts";
import { ConfigError, loadConfig, type Config } from "../src/config/load.ts";
import { VERSION } from "../src/config/version.ts";
import { isCommand, runCommand } from "../src/commands/index.ts";
import type { MemoryStats, Timers } from "../src/core/runtime.ts";

/** The process as runMain needs it; `argv` holds only the arguments after the script. */
export interface Host {
  argv: string[];
  env: Record<string, string | undefined>;
  readFileSync(path: string): string;
  exit(code: number): never;
  onSignal(signal: "SIGTERM" | "SIGINT" | "SIGHUP", listener: () => void): void;
  onUnhandledRejection(listener: (error: unknown) => void): void;
}

/** Exit codes: 78 is EX_CONFIG (sysexits.h), 1 any failure to start. */
export const EXIT_CONFIG = 78;
export const EXIT_START_FAILED = 1;

/** Parses flags > environment > config file; prints --help or --version, and exits 78 on a bad setting. */
export function configOrExit(host: Pick<Host, "argv" | "env" | "readFileSync" | "exit">): Config {
  switch (commandOf(host.argv)) {
    case "help":
      console.log(helpText());
      return host.exit(0);
    case "version":
      console.log(VERSION);
      return host.exit(0);
  }
  try {
    return loadConfig({ argv: host.argv, env: host.env, readFile: host.readFileSync });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`switchboard: configuration error: ${error.message}`);
      return host.exit(EXIT_CONFIG);
    }
    throw error;
  }
}

/**
 * A listen failure as one line a person can act on, or undefined for any other error. Node and
 * Bun report `code` (EADDRINUSE), Deno an error `name` (AddrInUse).
 */
export function listenProblem(error: unknown, config: Pick<Config, "port" | "bindAddress">): string | undefined {
  const { code, name } = (error ?? {}) as { code?: unknown; name?: unknown };
  const where = `port ${config.port} on ${config.bindAddress}`;
  if (code === "EADDRINUSE" || name === "AddrInUse") return `${where} is already in use (set PORT or --port)`;
  if (code === "EACCES" || name === "PermissionDenied") return `no permission to listen on ${where} (ports below 1024 need privileges; set PORT or --port)`;
  if (code === "EADDRNOTAVAIL" || name === "AddrNotAvailable") return `${config.bindAddress} is not an address of this machine (set BIND_ADDRESS or --bind-address)`;
  return undefined;
}

/**
 * Starts listening for an instance that is already running; if that fails (a port in use), the
 * instance is stopped first, so its backends let go (a cluster node deregisters) before the exit.
 */
export async function listening<T>(instance: Instance, listen: () => T | Promise<T>): Promise<T> {
  try {
    return await listen();
  } catch (error) {
    await instance.stop().catch((stopError: unknown) => instance.logger.warn("stopping after a failed listen", stopError));
    throw error;
  }
}

/**
 * Graceful stop, once. First the drain: /ready answers 503 at once while the API, the sockets and
 * the bus keep serving for the whole grace period (SHUTDOWN_GRACE_PERIOD_MS), so a balancer takes
 * the node out before anything is refused. Then the instance stops (sockets closed with 4200 over
 * SHUTDOWN_CLOSE_SPREAD_MS, webhooks flushed, the adapter last; the API answers 503 from then on)
 * and `closeListener` closes the listeners: the port stays open until nothing is answered 2xx.
 */
export function gracefulStop(config: Config, instance: Instance, closeListener: () => Promise<void>): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () =>
    (stopping ??= (async () => {
      instance.logger.info(`shutting down: not ready, still serving for ${config.shutdownGracePeriodMs} ms, then closing sockets with 4200 over ${config.shutdownCloseSpreadMs} ms`);
      instance.drain();
      await new Promise((r) => setTimeout(r, config.shutdownGracePeriodMs));
      await instance.stop();
      await closeListener();
      instance.logger.info("shutdown: listeners closed");
    })());
}

/**
 * Every entrypoint's main: configure from the host, log (never crash on) unhandled rejections,
 * stop gracefully on SIGTERM/SIGINT, and turn a failed start into one line and a non-zero exit.
 * The signal handlers are installed before the server listens: a signal that arrives before
 * them would kill the process without the graceful stop. A signal during start-up, or a second
 * one during the grace period, exits at once.
 */
export function runMain(host: Host, start: (config: Config) => Promise<{ stop(): Promise<void>; reload?(): void }>): void {
  if (isCommand(host.argv)) return void runCommandAndExit(host);
  const config = configOrExit(host);
  // A failed backend call must be logged, never take every connection down with the process.
  host.onUnhandledRejection((error) => console.error("[switchboard] error: unhandled rejection", error));
  let stop: (() => Promise<void>) | undefined;
  let stopping = false;
  const onSignal = () => {
    if (!stop || stopping) return host.exit(0);
    stopping = true;
    void stop().then(() => host.exit(0));
  };
  host.onSignal("SIGTERM", onSignal);
  host.onSignal("SIGINT", onSignal);
  // SIGHUP reloads what can be reloaded in place (the TLS certificate and key); before the server
  // runs, it is ignored rather than left to its default (ending the process).
  let reload: (() => void) | undefined;
  host.onSignal("SIGHUP", () => reload?.());
  start(config).then(
    (started) => {
      stop = started.stop;
      reload = started.reload;
    },
    (error) => {
      const problem = listenProblem(error, config);
      console.error(problem ? `switchboard: error: ${problem}` : `switchboard: failed to start: ${(error as Error).message}`);
      host.exit(EXIT_START_FAILED);
    },
  );
}

/** `switchboard apps …`, `migrate` or `config`: runs the command instead of the server, then exits. */
export function runCommandAndExit(host: Pick<Host, "argv" | "env" | "readFileSync" | "exit">): Promise<void> {
  const io = { out: (text: string) => console.log(text), err: (text: string) => console.error(text) };
  const sources = { env: host.env, readFileSync: host.readFileSync, readTextFile: async (path: string) => host.readFileSync(path) };
  return runCommand(host.argv, sources, io).then((code) => host.exit(code));
}

/** The slice of Node's and Bun's `process` their Host is built from. */
export interface NodeLikeProcess {
  argv: string[];
  env: Record<string, string | undefined>;
  exit(code: number): never;
  on(event: "unhandledRejection", listener: (error: unknown) => void): unknown;
  on(event: "SIGTERM" | "SIGINT" | "SIGHUP", listener: () => void): unknown;
  memoryUsage(): MemoryStats;
}

export function nodeLikeHost(proc: NodeLikeProcess, readFileSync: (path: string) => string): Host {
  return {
    argv: proc.argv.slice(2),
    env: proc.env,
    readFileSync,
    exit: (code) => proc.exit(code),
    onSignal: (signal, listener) => void proc.on(signal, listener),
    onUnhandledRejection: (listener) => void proc.on("unhandledRejection", listener),
  };
}

/**
 * The core's Timers over the global timer functions; `unref` makes each one not keep a stopping
 * process alive (Node and Bun: handle.unref(); Deno: Deno.unrefTimer(id)).
 */
export function unrefTimers(unref: (handle: unknown) => void): Timers {
  type Handle = Parameters<typeof clearTimeout>[0];
  return {
    setInterval(fn, ms) {
      const handle = setInterval(fn, ms);
      unref(handle);
      return handle;
    },
    clearInterval: (handle) => clearInterval(handle as Handle),
    setTimeout(fn, ms) {
      const handle = setTimeout(fn, ms);
      unref(handle);
      return handle;
    },
    clearTimeout: (handle) => clearTimeout(handle as Handle),
    now: Date.now,
  };
}

/** The /usage memory figures from a runtime's memoryUsage(), without its other fields. */
export function memoryStats(read: () => MemoryStats): () => MemoryStats {
  return () => {
    const m = read();
    return { rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed };
  };
}
