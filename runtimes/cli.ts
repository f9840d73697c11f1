// Command-line plumbing shared by the Deno and Bun entrypoints (Node's lives in node.ts): the same
// flags, environment and config file, the same exit codes, the same graceful stop.
import type { Instance } from "../src/bootstrap.ts";
import { ConfigError, HELP, loadConfig, type Config } from "../src/config/load.ts";
import { isCommand, runCommand } from "../src/commands/index.ts";

export interface ProcessLike {
  argv: string[];
  env: Record<string, string | undefined>;
  readFileSync(path: string): string;
  exit(code: number): never;
}

/** Parses flags > environment > config file; prints --help, and exits 78 on a bad setting. */
export function configOrExit(proc: ProcessLike): Config {
  if (proc.argv.includes("--help")) {
    console.log(HELP);
    return proc.exit(0);
  }
  try {
    return loadConfig({ argv: proc.argv, env: proc.env, readFile: proc.readFileSync });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`switchboard: configuration error: ${error.message}`);
      return proc.exit(78);
    }
    throw error;
  }
}

/**
 * Graceful stop, once: 4200 to every socket and state cleanup, a short pause so those close
 * frames reach the clients, then `closeListener` force-closes whatever is left.
 */
export function gracefulStop(config: Config, instance: Instance, closeListener: () => Promise<void>): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () =>
    (stopping ??= (async () => {
      instance.logger.info("shutting down: closing sockets with 4200");
      await instance.stop();
      await new Promise((r) => setTimeout(r, Math.min(config.shutdownGracePeriodMs, 500)));
      await closeListener();
    })());
}

/** The slice of Node's and Bun's `process` that runMain needs. */
export interface NodeLikeProcess {
  argv: string[];
  env: Record<string, string | undefined>;
  exit(code: number): never;
  on(event: "unhandledRejection", listener: (error: unknown) => void): unknown;
  once(event: "SIGTERM" | "SIGINT", listener: () => void): unknown;
}

/**
 * Node and Bun entrypoints: configure from the process, log (never crash on) unhandled
 * rejections, and stop gracefully on SIGTERM/SIGINT.
 */
export function runMain(
  proc: NodeLikeProcess,
  readFileSync: (path: string) => string,
  start: (config: Config) => Promise<{ stop(): Promise<void> }>,
): void {
  const args = proc.argv.slice(2);
  if (isCommand(args)) return void runCommandAndExit(args, proc.env, readFileSync, (code) => proc.exit(code));
  const config = configOrExit({ argv: proc.argv.slice(2), env: proc.env, readFileSync, exit: (code) => proc.exit(code) });
  // A failed backend call must be logged, never take every connection down with the process.
  proc.on("unhandledRejection", (error) => console.error("[switchboard] error: unhandled rejection", error));
  start(config).then(
    ({ stop }) => {
      const onSignal = () => void stop().then(() => proc.exit(0));
      proc.once("SIGTERM", onSignal);
      proc.once("SIGINT", onSignal);
    },
    (error) => {
      console.error(`switchboard: failed to start: ${(error as Error).message}`);
      proc.exit(1);
    },
  );
}

/** `switchboard apps …` / `switchboard migrate`: run the command instead of the server, then exit. */
export function runCommandAndExit(
  args: string[],
  env: Record<string, string | undefined>,
  readFileSync: (path: string) => string,
  exit: (code: number) => void,
): Promise<void> {
  const io = { out: (text: string) => console.log(text), err: (text: string) => console.error(text) };
  const sources = { env, readFileSync, readTextFile: async (path: string) => readFileSync(path) };
  return runCommand(args, sources, io).then(exit);
}
