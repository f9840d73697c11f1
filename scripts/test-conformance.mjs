// Cluster conformance: the black-box integration suite (test/integration, minus the cluster-*
// files that build their own clusters) run against 3 nodes behind a round-robin TCP balancer,
// once per cluster adapter. SWITCHBOARD_TOPOLOGY makes test/helpers/server.ts start that cluster
// for every startServer(); passing means the cluster answers like one server.
//   npm run test:conformance                  # all: redis, redis-cluster, upstash, then nats (npm test runs this)
//   npm run test:conformance -- upstash       # just these (any of ALL)
//   npm run test:conformance -- --no-build    # reuse dist/node.js
// redis needs Redis on 127.0.0.1:6379 (SWITCHBOARD_REDIS_URL overrides); redis-cluster starts its
// own Redis Cluster (three redis-server masters on spare ports) and upstash its own Upstash REST
// bridge over that Redis, both through test/helpers/conformance-backend.ts under tsx; nats starts
// its own nats-server (websocket listener, JetStream in a temp dir). Each backend is stopped at the
// end of its topology. Measured on the 2-core CI machine kind: about 130 s for redis-cluster and
// 165-185 s for upstash. upstash, whose bus is the slowest, is what showed that subscription counts
// need an order across nodes (core/count-order.ts); it runs by default since they have one.
// A missing service skips its topology locally and fails it under CI=true. Exits non-zero if any
// topology had a failing test or could not run.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** Every topology; all run when none is named (npm test, so .ci/run). */
const ALL = ["redis", "redis-cluster", "upstash", "nats"];
const args = process.argv.slice(2);
/**
 * Files that build their own topology (cluster-*, webhooks-redis*) or check what one node does with
 * a backend of its own, which a balanced cluster answers differently by design: the memory app cache
 * and the memory webhook queue are per node (docs/webhooks.md: a reload through another node, webhooks of one
 * channel from several nodes). Their cluster behaviour has its own tests (webhooks-redis*.test.ts).
 */
const SINGLE_NODE = [
  "test/integration/cluster-*.test.ts",
  "test/integration/webhooks*.test.ts",
  "test/integration/app-store-outage.test.ts",
];

const build = !args.includes("--no-build");
const topologies = args.filter((a) => !a.startsWith("--"));
for (const t of topologies) if (!ALL.includes(t)) fail(`unknown topology "${t}" (use ${ALL.join(", ")})`);
const selected = topologies.length ? topologies : ALL;
const CI = process.env.CI === "true";

function fail(message) {
  console.error(`test:conformance: ${message}`);
  process.exit(2);
}

function run(cmd, cmdArgs, env = {}) {
  return spawnSync(cmd, cmdArgs, { cwd: ROOT, stdio: "inherit", env: { ...process.env, ...env } }).status;
}

function reachable(port, host = "127.0.0.1") {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("error", () => done(false));
    socket.connect(port, host, () => done(true));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A nats-server of our own with a websocket listener and JetStream in a temp dir. */
async function startNats() {
  const dir = mkdtempSync(path.join(tmpdir(), "switchboard-nats-"));
  const [port, wsPort] = [await freePort(), await freePort()];
  const conf = path.join(dir, "nats.conf");
  writeFileSync(conf, [
    `listen: 127.0.0.1:${port}`,
    `websocket { listen: "127.0.0.1:${wsPort}", no_tls: true }`,
    `jetstream { store_dir: ${JSON.stringify(path.join(dir, "js"))} }`,
    "",
  ].join("\n"));
  const child = spawn("nats-server", ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr.on("data", (d) => (log += d));
  const spawnError = new Promise((resolve) => child.once("error", resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100; i++) {
    const error = await Promise.race([spawnError, new Promise((r) => setTimeout(() => r(undefined), 50))]);
    if (error || child.exitCode !== null) {
      await stop();
      throw new Error(`nats-server did not start: ${error?.message ?? log}`);
    }
    if ((await reachable(port)) && (await reachable(wsPort))) return { servers: `ws://127.0.0.1:${wsPort}`, stop };
  }
  await stop();
  throw new Error(`nats-server did not listen on ${port}/${wsPort}:\n${log}`);
}

/**
 * The backend of redis-cluster (a private Redis Cluster) or upstash (the Upstash REST bridge over
 * the local Redis): test/helpers/conformance-backend.ts, TypeScript shared with the adapter tests,
 * run under tsx in a child process that lives for the topology's run. Resolves with the env that
 * test/helpers/server.ts reads; rejects with `unavailable` set when the service it needs is missing.
 */
function startBackend(topology) {
  const script = path.join(ROOT, "test/helpers/conformance-backend.ts");
  const child = spawn(process.execPath, ["--import", "tsx", script, topology], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let log = "";
  child.stderr.on("data", (d) => (log += d));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`the ${topology} backend did not start in 60 s:\n${log}`)), 60_000);
    let settled = false;
    const finish = (error, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) stop().finally(() => reject(error));
      else resolve(value);
    };
    child.once("error", (error) => finish(error));
    child.once("exit", (code) => finish(new Error(`the ${topology} backend exited with ${code} before it was ready:\n${log}`)));
    child.stdout.on("data", (d) => {
      out += d;
      const line = /^(ready|unavailable) (.*)$/m.exec(out);
      if (!line) return;
      if (line[1] === "ready") return finish(undefined, { env: JSON.parse(line[2]), stop });
      finish(Object.assign(new Error(line[2]), { unavailable: true }));
    });
  });
}

/**
 * Whether the built server has the NATS adapter driver: a node started with ADAPTER_DRIVER=nats
 * either listens (yes) or exits rejecting that value of ADAPTER_DRIVER (not yet).
 * Any other outcome counts as present, so the suite runs and shows what is wrong.
 */
function natsDriverPresent(servers) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, "dist/node.js")], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", BIND_ADDRESS: "127.0.0.1", PORT: "0", METRICS_PORT: "0", LOG_LEVEL: "info",
        APP_ID: "probe", APP_KEY: "probe-key", APP_SECRET: "probe-secret",
        ADAPTER_DRIVER: "nats", NATS_SERVERS: servers, REDIS_PREFIX: `sbconf_probe_${process.pid}_`,
      },
    });
    let out = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const onData = (d) => {
      out += d;
      if (/listening on /.test(out)) child.kill("SIGTERM");
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(/listening on /.test(out) || !/invalid value for ADAPTER_DRIVER \("nats"\)/.test(out));
    });
  });
}

const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ["npm"];
if (build && run(npm[0], [...npm.slice(1), "run", "build", "--silent"]) !== 0) fail("npm run build failed");
if (!existsSync(path.join(ROOT, "dist/node.js"))) fail("dist/node.js is missing: run npm run build (or drop --no-build)");

const vitest = path.join(ROOT, "node_modules/vitest/vitest.mjs");
const scratch = mkdtempSync(path.join(tmpdir(), "switchboard-conformance-"));
const results = [];
/** The running topology's own backend (nats-server, Redis Cluster, Upstash bridge), if any. */
let backend;
const cleanup = async () => {
  await backend?.stop();
  backend = undefined;
  rmSync(scratch, { recursive: true, force: true });
};
for (const signal of ["SIGINT", "SIGTERM"]) process.once(signal, () => cleanup().finally(() => process.exit(130)));

/** Records a topology that could not run: a skip locally, a failure in CI. */
function unavailable(topology, why) {
  const ok = !CI;
  console.warn(`\n=== ${topology}: ${ok ? "skipping" : "FAILING"}: ${why}${CI ? " (CI must provide it)" : ""} ===`);
  results.push({ topology, ok, note: why, passed: 0, failed: ok ? 0 : 1, skipped: 0 });
}

for (const topology of selected) {
  const env = { SWITCHBOARD_TOPOLOGY: topology };
  if (topology === "redis") {
    const url = new URL(process.env.SWITCHBOARD_REDIS_URL ?? "redis://127.0.0.1:6379");
    if (!(await reachable(Number(url.port || 6379), url.hostname))) {
      unavailable(topology, `Redis at ${url.host} is not reachable`);
      continue;
    }
  } else if (topology === "nats") {
    try {
      backend = await startNats();
    } catch (error) {
      unavailable(topology, error.message.split("\n")[0]);
      continue;
    }
    if (!(await natsDriverPresent(backend.servers))) {
      // Not a CI failure: the server does not have the driver yet.
      console.warn(`\n=== nats: skipping: the server does not accept ADAPTER_DRIVER=nats yet ===`);
      results.push({ topology, ok: true, note: "no NATS driver yet", passed: 0, failed: 0, skipped: 0 });
      await backend.stop();
      backend = undefined;
      continue;
    }
    env.SWITCHBOARD_NATS_SERVERS = backend.servers;
  } else {
    try {
      backend = await startBackend(topology);
    } catch (error) {
      if (error.unavailable) unavailable(topology, error.message);
      else {
        console.error(`\n=== ${topology}: FAILING: ${error.message} ===`);
        results.push({ topology, ok: false, note: "backend did not start", passed: 0, failed: 1, skipped: 0 });
      }
      continue;
    }
    Object.assign(env, backend.env);
  }
  console.log(`\n=== integration tests on 3 ${topology} nodes behind a round-robin balancer ===`);
  const report = path.join(scratch, `${topology}.json`);
  const started = Date.now();
  const status = run(process.execPath, [
    // One file at a time: each startServer() here is 3 processes plus Redis or NATS, so a second
    // worker would only make the files contend for the same 2 cores.
    vitest, "run", "test/integration", ...SINGLE_NODE.flatMap((f) => ["--exclude", f]), "--maxWorkers=1",
    "--reporter=default", "--reporter=json", `--outputFile.json=${report}`,
  ], env);
  const seconds = Math.round((Date.now() - started) / 1000);
  await backend?.stop();
  backend = undefined;
  let counts = { passed: 0, failed: 0, skipped: 0 };
  if (existsSync(report)) {
    const json = JSON.parse(readFileSync(report, "utf8"));
    counts = { passed: json.numPassedTests, failed: json.numFailedTests, skipped: json.numPendingTests + (json.numTodoTests ?? 0) };
  }
  // A crash before any test ran still counts as a failure of that topology.
  results.push({ topology, ok: status === 0, note: `${seconds} s`, ...counts, failed: status === 0 ? counts.failed : Math.max(1, counts.failed) });
}
await cleanup();

console.log("\nCluster conformance (test/integration through a round-robin balancer over 3 nodes):");
for (const r of results) {
  console.log(`  ${r.ok ? "ok  " : "FAIL"} ${r.topology.padEnd(13)} ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped${r.note ? ` (${r.note})` : ""}`);
}
const total = results.reduce((t, r) => ({ passed: t.passed + r.passed, failed: t.failed + r.failed }), { passed: 0, failed: 0 });
console.log(`conformance: ${total.passed} passed, ${total.failed} failed`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
