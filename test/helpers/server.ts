// Starts a real Switchboard process for integration tests. SWITCHBOARD_RUNTIME picks the runtime
// (node, node22, node24, deno, bun, binary, workers), so one suite runs unchanged against each of them.
// SWITCHBOARD_TOPOLOGY (redis, redis-cluster, upstash, nats) instead starts a 3-node cluster behind a
// round-robin TCP balancer, so the same suite checks that a cluster answers like one server.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { startBalancer } from "./balancer.ts";
import { DENO_FLAGS } from "../../runtimes/deno-flags.ts";

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
  /** Under a topology: the cluster's nodes (each with its own port), behind `port`. */
  nodes?: TestServer[];
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

const WORKERS = RUNTIME === "workers";

/**
 * What differs between runtimes. Deno's server WebSocket can neither send a ping control frame nor
 * report a pong, so liveness there rests on pusher:ping/pusher:pong; so on Workers. The rest are
 * Cloudflare Workers' platform differences (docs/cloudflare-workers.md, "What differs"); whole
 * files that need them are left out of the workers run by scripts/test-runtimes.mjs.
 */
export const runtimeFeatures = {
  wsPing: RUNTIME !== "deno" && !WORKERS,
  /** workerd removes an Upgrade header from a non-101 answer (the 426 of a plain GET keeps its body). */
  upgradeHeaderOn426: !WORKERS,
  /** A SIGTERM drains (503 on /ready, 4200 to the sockets, webhooks flushed); a deploy drops Workers' sockets. */
  gracefulDrain: !WORKERS,
  /** The process reports its memory (/usage, /accept-traffic); an isolate does not. */
  memoryFigures: !WORKERS,
  /** The socket's peer address is known; a Worker has only CF-Connecting-IP, which a local workerd does not set. */
  peerAddress: !WORKERS,
  /** The Prometheus listener (METRICS_PORT); a Worker has one listener, no prom-client. */
  prometheus: !WORKERS,
  /** Drivers beyond local/memory (redis, nats, upstash, SQL, AWS); a Worker has no TCP and bundles none of their libraries. */
  backendDrivers: !WORKERS,
  /** The runtime's own log lines are the server's format; workerd prints some of its own. */
  ownLogLinesOnly: !WORKERS,
};

export function runtimeCommand(runtime = process.env.SWITCHBOARD_RUNTIME ?? "node"): [string, string[]] {
  const bin = (name: string) => path.join(ROOT, "node_modules", ".bin", name);
  switch (runtime) {
    case "node":
      return [process.execPath, [path.join(ROOT, "dist/node.js")]];
    case "node22":
    case "node24":
      // Installed by scripts/install-node.mjs into its own folder: a root `node` dependency would
      // shadow the machine's Node in every npm script.
      return [path.join(ROOT, `test/${runtime}/node_modules/node/bin/node`), [path.join(ROOT, "dist/node.js")]];
    case "deno":
      return [bin("deno"), ["run", ...DENO_FLAGS, "-A", "--cached-only", path.join(ROOT, "runtimes/deno.ts")]];
    case "bun":
      return [bin("bun"), ["run", path.join(ROOT, "runtimes/bun.ts")]];
    case "binary":
      return [path.join(ROOT, "dist/switchboard"), []];
    case "workers":
      // The Workers build under a local workerd (npm run build:workers; runtimes/workerd.ts).
      return [process.execPath, [path.join(ROOT, "dist/workerd.js")]];
    default:
      throw new Error(`unknown SWITCHBOARD_RUNTIME ${runtime}`);
  }
}

export const TOPOLOGIES = ["redis", "redis-cluster", "upstash", "nats"] as const;
export type Topology = (typeof TOPOLOGIES)[number];

/**
 * The cluster topology under test (SWITCHBOARD_TOPOLOGY, one of TOPOLOGIES), or undefined for one
 * process. Under a topology every startServer() is CLUSTER_SIZE nodes behind a round-robin TCP
 * balancer (test/helpers/balancer.ts) whose port is the TestServer's port.
 */
export const TOPOLOGY: Topology | undefined = (() => {
  const value = process.env.SWITCHBOARD_TOPOLOGY;
  if (value === undefined || value === "") return undefined;
  if (!(TOPOLOGIES as readonly string[]).includes(value)) throw new Error(`unknown SWITCHBOARD_TOPOLOGY ${value} (use ${TOPOLOGIES.join(", ")})`);
  return value as Topology;
})();

export const CLUSTER_SIZE = 3;

/**
 * One server, or under SWITCHBOARD_TOPOLOGY a cluster that should answer like one. A caller that
 * picks its own ADAPTER_DRIVER builds its own cluster (test/adapters/cluster.ts) and always gets
 * a single process.
 */
export function startServer(options: StartOptions = {}): Promise<TestServer> {
  if (TOPOLOGY === undefined || options.env?.ADAPTER_DRIVER !== undefined) return startProcess(options);
  return startTopology(TOPOLOGY, options);
}

/** A variable the conformance runner (scripts/test-conformance.mjs) sets for a backend it started. */
function fromRunner(name: string, topology: Topology, example: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`SWITCHBOARD_TOPOLOGY=${topology} needs ${name} (e.g. ${example}); npm run test:conformance -- ${topology} sets it`);
  return value;
}

function topologyEnv(topology: Topology): Record<string, string> {
  // A prefix per startServer() call: test files (and servers within one) never share cluster state.
  // NATS gets one without colons, which subjects allow but JetStream bucket and stream names do not.
  const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const prefix = topology === "nats" ? `sbconf_${id}_` : `sbconf:${id}:`;
  const env: Record<string, string> = { ADAPTER_DRIVER: topology, REDIS_PREFIX: prefix, CLUSTER_NODE_TIMEOUT: "5" };
  switch (topology) {
    case "redis":
      env.REDIS_URL = process.env.SWITCHBOARD_REDIS_URL ?? "redis://127.0.0.1:6379";
      break;
    case "redis-cluster":
      env.REDIS_CLUSTER_NODES = fromRunner("SWITCHBOARD_REDIS_CLUSTER_NODES", topology, "127.0.0.1:7100,127.0.0.1:7101,127.0.0.1:7102");
      break;
    case "upstash":
      env.UPSTASH_REDIS_REST_URL = fromRunner("SWITCHBOARD_UPSTASH_URL", topology, "http://127.0.0.1:8079");
      env.UPSTASH_REDIS_REST_TOKEN = fromRunner("SWITCHBOARD_UPSTASH_TOKEN", topology, "the bridge's token");
      break;
    case "nats":
      env.NATS_SERVERS = fromRunner("SWITCHBOARD_NATS_SERVERS", topology, "ws://127.0.0.1:4223");
      break;
  }
  return env;
}

async function startTopology(topology: Topology, options: StartOptions): Promise<TestServer> {
  const nodeOptions: StartOptions = { ...options, env: { ...topologyEnv(topology), ...options.env } };
  const started = await Promise.allSettled(Array.from({ length: CLUSTER_SIZE }, () => startProcess(nodeOptions)));
  const nodes = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failure = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failure) {
    await Promise.all(nodes.map((n) => n.kill()));
    throw failure.reason;
  }
  const balancer = await startBalancer(nodes.map((n) => n.port));
  const first = nodes[0]!;
  return {
    port: balancer.port,
    host: "127.0.0.1",
    appId: first.appId,
    key: first.key,
    secret: first.secret,
    output: () => nodes.map((n) => n.output()).join(""),
    process: first.process,
    nodes,
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
      await balancer.close();
    },
    kill: async (signal) => {
      await Promise.all(nodes.map((n) => n.kill(signal)));
      await balancer.close();
    },
  };
}

async function startProcess(options: StartOptions = {}): Promise<TestServer> {
  const [cmd, baseArgs] = runtimeCommand(options.runtime);
  const app: Record<string, string> = options.defaultApp === false ? {} : { APP_ID: "app-id", APP_KEY: "app-key", APP_SECRET: "app-secret" };
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "/tmp",
    BIND_ADDRESS: "127.0.0.1",
    PORT: "0",
    // Metrics are on by default (9601): a free port each, as test servers run side by side.
    METRICS_PORT: "0",
    LOG_LEVEL: "info",
    // The drain after SIGTERM before the 4200 closes (default 3000 ms): short enough that stopping
    // a server does not dominate a test file.
    SHUTDOWN_GRACE_PERIOD_MS: "500",
    // The window the 4200 closes are spread over (default 1000 ms), short for the same reason.
    SHUTDOWN_CLOSE_SPREAD_MS: "100",
    // A developer's ./.env in the checkout must not configure the servers under test.
    ENV_FILE: "",
    // Node's start-up warm-up (runtimes/node-warmup.ts) costs up to ~1 s of CPU per server, on a
    // machine that starts hundreds: off unless a test asks for it (test/runtimes/node-warmup.test.ts)
    // or SWITCHBOARD_WARMUP_HANDSHAKES runs the whole suite with it.
    WARMUP_HANDSHAKES: process.env.SWITCHBOARD_WARMUP_HANDSHAKES ?? "0",
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
