// Starts a real Switchboard process for integration tests. SWITCHBOARD_RUNTIME picks the runtime
// (node, node24, deno, bun, binary), so one suite runs unchanged against each of them.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface TestServer {
  port: number;
  host: string;
  appId: string;
  key: string;
  secret: string;
  /** All output the process printed so far. */
  output(): string;
  process: ChildProcess;
  /** SIGTERM (graceful) and wait for exit. */
  stop(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string>;
  args?: string[];
  /** Defaults: app-id / app-key / app-secret. Set false to configure apps yourself. */
  defaultApp?: boolean;
  runtime?: string;
}

/** The runtime under test (SWITCHBOARD_RUNTIME, default node). */
export const RUNTIME = process.env.SWITCHBOARD_RUNTIME ?? "node";

/**
 * What differs between runtimes at the WebSocket level. Deno's server WebSocket can neither send
 * a ping control frame nor report a pong, so liveness there rests on pusher:ping/pusher:pong.
 */
export const runtimeFeatures = {
  wsPing: RUNTIME !== "deno",
};

export function runtimeCommand(runtime = process.env.SWITCHBOARD_RUNTIME ?? "node"): [string, string[]] {
  const bin = (name: string) => path.join(ROOT, "node_modules", ".bin", name);
  switch (runtime) {
    case "node":
      return [process.execPath, [path.join(ROOT, "dist/node.js")]];
    case "node24":
      // Installed by the root postinstall into its own folder: a root `node` dependency would
      // shadow Node 20 in every npm script.
      return [path.join(ROOT, "test/node24/node_modules/node/bin/node"), [path.join(ROOT, "dist/node.js")]];
    case "deno":
      return [bin("deno"), ["run", "-A", "--cached-only", path.join(ROOT, "runtimes/deno.ts")]];
    case "bun":
      return [bin("bun"), ["run", path.join(ROOT, "runtimes/bun.ts")]];
    case "binary":
      return [path.join(ROOT, "dist/switchboard"), []];
    default:
      throw new Error(`unknown SWITCHBOARD_RUNTIME ${runtime}`);
  }
}

export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const [cmd, baseArgs] = runtimeCommand(options.runtime);
  const app: Record<string, string> = options.defaultApp === false ? {} : { APP_ID: "app-id", APP_KEY: "app-key", APP_SECRET: "app-secret" };
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "/tmp",
    BIND_ADDRESS: "127.0.0.1",
    PORT: "0",
    LOG_LEVEL: "info",
    ...app,
    ...options.env,
  };
  const child = spawn(cmd, [...baseArgs, ...(options.args ?? [])], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 20 s:\n${out}`)), 20_000);
    const check = () => {
      const m = /listening on [^\s]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on("data", check);
    child.stderr!.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${out}`));
    });
  });
  const kill = async (signal: NodeJS.Signals = "SIGKILL") => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    port,
    host: "127.0.0.1",
    appId: env.APP_ID ?? "",
    key: env.APP_KEY ?? "",
    secret: env.APP_SECRET ?? "",
    output: () => out,
    process: child,
    stop: async () => {
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await kill("SIGTERM");
      clearTimeout(timer);
    },
    kill,
  };
}
