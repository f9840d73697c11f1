// `npm run start:workers`: serves the Workers build (dist/workers/, `npm run build:workers`)
// locally under workerd from npm, offline. It takes the same command line and environment as the
// other entrypoints, checks them the same way (exit 78 on a bad setting, 1 when a chosen driver
// cannot run in a Worker), hands them to the Worker as its bindings, prints the same start-up
// lines once workerd answers, and stops workerd on SIGTERM/SIGINT.
//   WORKERD_STORAGE_DIR  where the Durable Objects keep their SQLite storage (default: a temporary
//                        folder removed on exit; set it to keep state across restarts, as a deploy does)
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startupLines } from "../src/bootstrap.ts";
import { ConfigError } from "../src/config/load.ts";
import { isCommand } from "../src/commands/index.ts";
import { consoleLogger, effectiveLevel } from "../src/logging/logger.ts";
import { configOrExit, EXIT_START_FAILED, listenProblem, runCommandAndExit } from "./cli.ts";
import { ARGV_BINDING, FILES_BINDING, checkWorkerDrivers } from "./workers/config.ts";
import { workerdConfig } from "./workers/capnp.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BUNDLE = path.join(ROOT, "dist/workers");
const WORKERD = path.join(ROOT, "node_modules/.bin/workerd");
/** How long workerd gets to exit after SIGTERM before SIGKILL. */
const STOP_TIMEOUT_MS = 5000;
/** Names of the machine's environment that are not settings and stay out of the Worker. */
const NOT_SETTINGS = /^(PATH|HOME|PWD|OLDPWD|SHELL|USER|LOGNAME|TERM|LANG|LC_\w+|TMPDIR|HOSTNAME|SHLVL|_|npm_\w+|NODE_\w+|WORKERD_STORAGE_DIR)$/;

function fail(message: string): never {
  console.error(`switchboard: failed to start: ${message}`);
  process.exit(EXIT_START_FAILED);
}

const argv = process.argv.slice(2);
const host = { argv, env: process.env, exit: (code: number): never => process.exit(code) };
if (isCommand(argv)) {
  void runCommandAndExit({ ...host, readFileSync: (p) => readFileSync(p, "utf8") });
} else {
  // Every file the configuration reads goes to the Worker too, which has no file system.
  const files: Record<string, string> = {};
  const config = configOrExit({ ...host, readFileSync: (p) => (files[p] = readFileSync(p, "utf8")) });
  try {
    checkWorkerDrivers(config);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  if (config.sslEnabled) fail("SSL_ENABLED: TLS is Cloudflare's edge's job on Workers; run the local workerd behind a TLS proxy, or on Node, Deno or Bun");
  try {
    statSync(path.join(BUNDLE, "worker.js"));
  } catch {
    fail("dist/workers/worker.js is missing: run npm run build:workers first");
  }
  const bindings: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined && !NOT_SETTINGS.test(name)) bindings[name] = value;
  if (config.devApp) {
    // The Worker and each object would draw their own random credentials: pin the ones printed.
    const app = config.apps[0]!;
    Object.assign(bindings, { APP_ID: app.id, APP_KEY: app.key, APP_SECRET: app.secret });
    // The console is on by default for the development app only: keep it on as the banner says.
    if (config.consoleEnabled === "auto") bindings.CONSOLE_ENABLED = "true";
  }
  bindings[ARGV_BINDING] = JSON.stringify(argv);
  bindings[FILES_BINDING] = JSON.stringify(files);
  void serve(config, bindings);
}

async function serve(config: ReturnType<typeof configOrExit>, bindings: Record<string, string>): Promise<void> {
  const logger = consoleLogger(effectiveLevel(config), config.logFormat);
  const work = mkdtempSync(path.join(tmpdir(), "switchboard-workerd-"));
  const storage = process.env.WORKERD_STORAGE_DIR ? path.resolve(process.env.WORKERD_STORAGE_DIR) : path.join(work, "storage");
  mkdirSync(storage, { recursive: true });
  // capnp embeds files relative to the config: the bundle is copied beside it.
  cpSync(BUNDLE, path.join(work, "bundle"), { recursive: true });
  const modules = listModules(path.join(work, "bundle"));
  const address = `${config.bindAddress.includes(":") ? `[${config.bindAddress}]` : config.bindAddress}:${config.port}`;
  writeFileSync(path.join(work, "config.capnp"), workerdConfig({ address, modules, bindings, storage }));
  // fd 3 carries workerd's control messages: the port it listens on (PORT=0 picks a free one).
  const child = spawn(WORKERD, ["serve", path.join(work, "config.capnp"), "--control-fd=3"], { stdio: ["ignore", "inherit", "pipe", "pipe"] });
  // Passed through, and read for the one failure a person can act on: the port is taken.
  let portTaken = false;
  child.stderr!.on("data", (chunk: Buffer) => {
    const text = chunk.toString("utf8");
    if (/bind\(\): Address already in use/.test(text)) portTaken = true;
    else process.stderr.write(text);
  });
  watchdog(child.pid!, work);
  let stopping = false;
  const cleanup = () => rmSync(work, { recursive: true, force: true });
  child.once("exit", (code, signal) => {
    cleanup();
    if (stopping) process.exit(0);
    if (portTaken) console.error(`switchboard: error: ${listenProblem({ code: "EADDRINUSE" }, config)}`);
    else console.error(`switchboard: workerd exited (${signal ?? code})`);
    process.exit(EXIT_START_FAILED);
  });
  const stop = () => {
    if (stopping) return;
    stopping = true;
    logger.info("shutting down: stopping workerd (sockets drop without a close handshake, as on a deploy)");
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.on("SIGHUP", () => logger.warn("SIGHUP: nothing to reload under workerd; restart it to apply new settings"));
  const port = await listenPort(child.stdio[3] as NodeJS.ReadableStream);
  if (port === undefined) return; // exited before listening: the exit handler reports it
  const problem = await firstAnswer(config.bindAddress, port, config.pathPrefix);
  if (problem) {
    stopping = true;
    child.kill("SIGKILL");
    fail(problem);
  }
  const version = readFileSync(path.join(ROOT, "node_modules/workerd/package.json"), "utf8").match(/"version":\s*"([^"]+)"/)?.[1] ?? "";
  for (const line of startupLines(config, `workerd ${version}`.trim(), port)) logger.info(line);
}

/** The bundle's files as workerd modules, the entrypoint first. */
function listModules(dir: string): string[] {
  const out: string[] = [];
  const walk = (sub: string) => {
    for (const entry of readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(rel);
      else if (rel.endsWith(".js") && rel !== "worker.js") out.push(rel);
    }
  };
  walk("");
  return ["worker.js", ...out.sort()];
}

/** The port from workerd's first "listen" control message; undefined if the stream ends first. */
function listenPort(control: NodeJS.ReadableStream): Promise<number | undefined> {
  return new Promise((resolve) => {
    let buffered = "";
    control.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      for (const line of buffered.split("\n").slice(0, -1)) {
        const message = JSON.parse(line) as { event?: string; port?: number };
        if (message.event === "listen" && typeof message.port === "number") resolve(message.port);
      }
      buffered = buffered.slice(buffered.lastIndexOf("\n") + 1);
    });
    control.on("end", () => resolve(undefined));
  });
}

/**
 * Ends workerd when this process is gone without stopping it (SIGKILL): a detached shell that
 * polls both and exits with workerd. Node cannot exec, and workerd has no parent-death option.
 */
function watchdog(workerd: number, work: string): void {
  const script = `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${workerd} 2>/dev/null; do sleep 0.5; done; kill -9 ${workerd} 2>/dev/null; rm -rf ${JSON.stringify(work)}`;
  spawn("sh", ["-c", script], { detached: true, stdio: "ignore" }).unref();
}

/**
 * Waits until workerd answers /ready through the Worker and the app's object; a configuration
 * the Worker refuses comes back as its message. Undefined when all is well.
 */
async function firstAnswer(host: string, port: number, prefix: string): Promise<string | undefined> {
  const url = `http://${host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "127.0.0.1" : host}:${port}${prefix.replace(/\/+$/, "")}/ready`;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.status !== 500) return undefined;
      const body = (await response.json().catch(() => ({}))) as { error?: string };
      return body.error ?? "the Worker answered 500";
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return `workerd did not answer on ${host}:${port} within 20 s`;
}
