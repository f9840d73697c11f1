// Starts the Switchboard server under test as a child process (or attaches to one already
// running), the same way test/helpers/server.ts does: PORT=0 and the port read from the
// "listening on host:PORT" log line.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DENO_FLAGS } from "../../runtimes/deno-flags.ts";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface AppCredentials {
  id: string;
  key: string;
  secret: string;
}

export interface BenchServer {
  host: string;
  port: number;
  /** The measured process (RSS and CPU come from /proc/<pid>); undefined when unknown. */
  pid?: number;
  command: string;
  app: AppCredentials;
  /** Last lines the server printed (for error reports). */
  output(): string;
  stop(): Promise<void>;
}

export const BENCH_APP: AppCredentials = { id: "bench-app", key: "bench-key", secret: "bench-secret" };

export function runtimeCommand(runtime: string, nodeBin: string, root = ROOT): [string, string[]] {
  const bin = (name: string) => path.join(root, "node_modules", ".bin", name);
  switch (runtime) {
    case "node":
      return [nodeBin, [path.join(root, "dist/node.js")]];
    case "deno":
      // --cached-only: like the test harness, never fetch anything while benchmarking.
      return [bin("deno"), ["run", ...DENO_FLAGS, "-A", "--cached-only", path.join(root, "runtimes/deno.ts")]];
    case "bun":
      return [bin("bun"), ["run", path.join(root, "runtimes/bun.ts")]];
    case "binary":
      // `npm run build:binary`; takes no runtime arguments (Bun reads BUN_OPTIONS instead).
      return [path.join(root, "dist/switchboard"), []];
    default:
      throw new Error(`unknown runtime ${runtime} (use node, deno, bun or binary)`);
  }
}

/** The entry file a runtime needs; missing means that runtime is not implemented yet. */
export function runtimeEntry(runtime: string, root = ROOT): string {
  if (runtime === "binary") return path.join(root, "dist/switchboard");
  return path.join(root, runtime === "node" ? "runtimes/node.ts" : `runtimes/${runtime}.ts`);
}

/** `npm run build` produces dist/node.js, which the node runtime runs. */
export function buildNode(root = ROOT): void {
  execFileSync("npm", ["run", "build", "--silent"], { cwd: root, stdio: "inherit" });
}

export interface SpawnOptions {
  runtime: string;
  nodeBin: string;
  env: Record<string, string>;
  /** Extra arguments for the runtime itself, before the entry file (e.g. --cpu-prof). */
  runtimeArgs?: string[];
  /** Checkout to run (default: this one), e.g. a copy with an optimization to compare. */
  root?: string;
  /** Also append everything the server prints to this file (the kept output is only its tail). */
  logFile?: string;
}

export async function spawnServer(options: SpawnOptions): Promise<BenchServer> {
  const root = options.root ?? ROOT;
  if (!existsSync(runtimeEntry(options.runtime, root))) {
    throw new Error(`runtime ${options.runtime} is not available: ${runtimeEntry(options.runtime, root)} does not exist`);
  }
  const [cmd, args] = runtimeCommand(options.runtime, options.nodeBin, root);
  const fullArgs = options.runtime === "node" || args.length === 0
    ? [...(options.runtimeArgs ?? []), ...args]
    : [args[0]!, ...(options.runtimeArgs ?? []), ...args.slice(1)];
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "/tmp",
    BIND_ADDRESS: "127.0.0.1",
    PORT: "0",
    // A free port: several bench servers may run at once (the webhook scenarios spawn their own).
    METRICS_PORT: "0",
    LOG_LEVEL: "info",
    SHUTDOWN_GRACE_PERIOD_MS: "500",
    APP_ID: BENCH_APP.id,
    APP_KEY: BENCH_APP.key,
    APP_SECRET: BENCH_APP.secret,
    ...options.env,
  };
  if (process.env.DENO_DIR) env.DENO_DIR = process.env.DENO_DIR;
  // Raise the server's open-file limit to the hard limit (one descriptor per connection);
  // `exec` keeps the pid, so /proc/<pid> is the server itself, not the shell.
  const script = 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"';
  const child = spawn("/bin/sh", ["-c", script, cmd, ...fullArgs], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const log = options.logFile ? createWriteStream(options.logFile, { flags: "a" }) : undefined;
  // Always drain the pipes: a full pipe would block the server's logging and skew results.
  const keep = (d: Buffer) => {
    log?.write(d);
    out += d.toString();
    if (out.length > 64_000) out = out.slice(-32_000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  void exited.then(() => log?.end());
  // Never leave a server behind, whatever way this process ends.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  void exited.then(() => process.off("exit", killOnExit));
  const port = await waitForPort(child, () => out);
  return {
    host: "127.0.0.1",
    port,
    pid: child.pid,
    command: [cmd, ...fullArgs].map((a) => (a.startsWith(root) ? path.relative(root, a) : a)).join(" ") + (root === ROOT ? "" : ` (in ${root})`),
    app: BENCH_APP,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      child.kill("SIGTERM");
      await exited;
      clearTimeout(timer);
    },
  };
}

function waitForPort(child: ChildProcess, output: () => string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`server did not start in 30 s:\n${output()}`));
    }, 30_000);
    const check = () => {
      const m = /listening on [^\s]+:(\d+)/.exec(output());
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on("data", check);
    child.stderr!.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${output()}`));
    });
  });
}

/** A server someone else started (e.g. Soketi for comparison): only host, port and pid. */
export function externalServer(address: string, pid: number | undefined, app: AppCredentials): BenchServer {
  const [host, port] = address.split(":");
  if (!host || !port) throw new Error(`--external expects host:port, got ${address}`);
  if (host !== "127.0.0.1" && host !== "localhost") throw new Error("load tests only target 127.0.0.1");
  return { host: "127.0.0.1", port: Number(port), pid, command: `external ${address}`, app, output: () => "", stop: async () => {} };
}
