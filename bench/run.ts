// Switchboard benchmark harness: spawns the server under a chosen runtime, runs the selected
// load scenarios against it on 127.0.0.1, prints a table and writes the results as JSON.
// Run with Bun (its WebSocket client keeps the load generator cheap): bun bench/run.ts --help
import { prepareStore } from "./lib/store.ts";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { sleep, webSocketImpl } from "./lib/client.ts";
import { HELP, parseOptions, type Options } from "./lib/options.ts";
import { openFileLimit } from "./lib/proc.ts";
import { buildNode, externalServer, ROOT, spawnServer, type BenchServer } from "./lib/server.ts";
import { clientEventsScenario } from "./scenarios/client-events.ts";
import { fmt, type Scenario, type ScenarioResult } from "./scenarios/common.ts";
import { connectScenario } from "./scenarios/connect.ts";
import { fanoutMaxScenario, fanoutScenario } from "./scenarios/fanout.ts";
import { presenceScenario } from "./scenarios/presence.ts";
import { stormScenario } from "./scenarios/storm.ts";
import { clusterNatsScenario, clusterRedisScenario } from "./scenarios/cluster.ts";
import { otherAppScenario } from "./scenarios/other-app.ts";
import { webhooksBatchedScenario, webhooksRedisScenario, webhooksScenario } from "./scenarios/webhooks.ts";

const SCENARIOS: Record<string, Scenario> = {
  connect: connectScenario,
  fanout: fanoutScenario,
  "fanout-max": fanoutMaxScenario,
  "client-events": clientEventsScenario,
  presence: presenceScenario,
  webhooks: webhooksScenario,
  "webhooks-batched": webhooksBatchedScenario,
  "webhooks-redis": webhooksRedisScenario,
  storm: stormScenario,
  "cluster-redis": clusterRedisScenario,
  "cluster-nats": clusterNatsScenario,
  "cluster-redis-other-app": otherAppScenario,
};

const log = (message: string) => console.error(`[bench] ${message}`);

/** Settings that would otherwise throttle or refuse the load (defaults are production-minded). */
function serverEnv(o: Options): Record<string, string> {
  return {
    APP_ENABLE_CLIENT_MESSAGES: "true",
    APP_MAX_CLIENT_EVENTS_PER_SECOND: "100000",
    APP_MAX_PRESENCE_MEMBERS_PER_CHANNEL: String(Math.max(1000, o.members)),
    APP_MAX_CONNECTIONS: "-1",
    APP_MAX_BACKEND_EVENTS_PER_SECOND: "-1",
    APP_MAX_READ_REQUESTS_PER_SECOND: "-1",
    APP_MAX_EVENT_PAYLOAD_IN_KB: String(Math.max(10, Math.ceil(o.payload / 1024) + 1)),
    ...o.serverEnv,
  };
}

/** The most sockets one scenario holds open at once (each is a descriptor here and on the server). */
function peakSockets(o: Options): number {
  const need: Record<string, number> = {
    connect: o.connections, fanout: o.subscribers, "fanout-max": o.subscribers, "client-events": o.pairs * 2, presence: o.members,
    webhooks: 20, "webhooks-batched": 20, "webhooks-redis": 20,
    // The dropped sockets may still be closing while their replacements open.
    storm: o.stormConnections * 2,
    "cluster-redis": o.subscribers, "cluster-nats": o.subscribers, "cluster-redis-other-app": 10,
  };
  return Math.max(...o.scenarios.map((s) => need[s] ?? 0));
}

function git(args: string[]): string {
  try {
    return execFileSync("git", args, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "";
  }
}

function table(results: ScenarioResult[]): string {
  const rows = [["scenario", "result", "server CPU", "client CPU", "other CPU", "time"]];
  for (const r of results) {
    rows.push([(r.ok ? "" : "! ") + r.name, r.summary, `${fmt(r.serverCpuPct, 0)} %`, `${fmt(r.clientCpuPct, 0)} %`, `${fmt(r.otherCpuPct, 0)} %`, `${fmt(r.seconds, 1)} s`]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c]!)).join(" | ")} |`;
  return [line(rows[0]!), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.slice(1).map(line)].join("\n");
}

async function main(): Promise<number> {
  const parsed = parseOptions(process.argv.slice(2));
  if (parsed === "help") {
    console.log(HELP);
    return 0;
  }
  const o = parsed;
  // Each scenario is bounded on its own; this is the backstop for the whole run.
  const hardLimitMs = (o.scenarios.length * (o.scenarioTimeout + 30) + 120) * 1000;
  setTimeout(() => {
    log(`run exceeded ${hardLimitMs / 1000} s, giving up`);
    process.exit(3);
  }, hardLimitMs).unref();
  const client = await webSocketImpl();
  const clientRuntime = process.versions.bun ? `bun ${process.versions.bun}` : `node ${process.version}`;
  const limit = openFileLimit();
  if (peakSockets(o) + 200 > limit) {
    log(`warning: open-file limit ${limit} is below the ${peakSockets(o)} sockets needed; raise it with ulimit -n`);
  }

  let server: BenchServer;
  let storeCleanup: Awaited<ReturnType<typeof prepareStore>> | undefined;
  let spawnOne: (() => Promise<BenchServer>) | undefined;
  if (o.external) {
    server = externalServer(o.external, o.pid, { id: o.appId, key: o.appKey, secret: o.appSecret });
  } else {
    if (o.runtime === "node" && o.build) {
      log("building dist/node.js (npm run build)");
      buildNode(o.serverRoot);
    }
    let runtimeArgs: string[] | undefined;
    if (o.profile) {
      // Node and Bun both write a V8-format .cpuprofile on exit; Deno has no such flag.
      if (o.runtime === "deno") throw new Error("--profile supports --runtime node and bun");
      runtimeArgs = ["--cpu-prof", "--cpu-prof-dir", path.join(ROOT, "bench/profiles")];
    }
    let env = serverEnv(o);
    if (o.store) {
      log(`apps from ${o.store}: a fresh table with the bench app`);
      storeCleanup = await prepareStore(o.store, env);
      env = { ...env, ...storeCleanup.env };
    }
    const spawnArgs = { runtime: o.runtime, nodeBin: o.nodeBin, env, runtimeArgs, root: o.serverRoot && path.resolve(o.serverRoot) };
    spawnOne = () => spawnServer(spawnArgs);
    server = await spawnOne();
  }
  log(`server: ${server.command} on ${server.host}:${server.port} (pid ${server.pid ?? "unknown"}); client: ${clientRuntime}, ${client.name}`);

  const results: ScenarioResult[] = [];
  const failed: Record<string, string> = {};
  try {
    for (const [i, name] of o.scenarios.entries()) {
      // --fresh: every scenario meets a process that has served nothing, as after a deploy.
      if (o.fresh && i > 0 && spawnOne) {
        await server.stop();
        server = await spawnOne();
        log(`fresh server for ${name}: pid ${server.pid ?? "unknown"}`);
      }
      try {
        const result = await SCENARIOS[name]!({ server, options: o, log });
        if (result.clientCpuPct > 90) result.notes.push("client CPU above 90 % of a core: the client may be the bottleneck");
        if (result.otherCpuPct > 25) result.notes.push(`other processes used ${result.otherCpuPct} % of a core meanwhile: results are noisy`);
        results.push(result);
        log(`${name}: ${result.summary}`);
      } catch (error) {
        failed[name] = (error as Error).message;
        log(`${name} failed: ${(error as Error).message}\n${server.output().slice(-2000)}`);
      }
      // Give the server time to finish closing the previous scenario's sockets.
      await sleep(1000);
    }
  } finally {
    await server.stop();
    await storeCleanup?.drop();
  }

  const report = {
    date: new Date().toISOString(),
    runtime: o.external ? `external ${o.external}` : o.runtime,
    store: o.store ?? "memory",
    server: server.command,
    client: `${clientRuntime} (${client.name})`,
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? "", memoryMb: Math.round(os.totalmem() / 2 ** 20), kernel: os.release() },
    git: { commit: git(["rev-parse", "--short", "HEAD"]), dirty: git(["status", "--porcelain"]) !== "" },
    options: o,
    results: Object.fromEntries(results.map((r) => [r.name, r])),
    errors: failed,
  };
  const stamp = report.date.replace(/:/g, "-").replace(/\..*$/, "");
  const out = o.out ?? path.join(ROOT, "bench/results", `${o.runtime}-${stamp}${o.store ? `-${o.store}` : ""}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2) + "\n");

  console.log(`\nSwitchboard on ${report.runtime} — client ${report.client}, ${report.machine.cpus} CPUs\n`);
  console.log(table(results));
  for (const r of results) for (const note of r.notes) console.log(`  ${r.name}: ${note}`);
  for (const [name, message] of Object.entries(failed)) console.log(`  ${name}: FAILED: ${message}`);
  console.log(`\nJSON: ${path.relative(process.cwd(), out)}`);
  return Object.keys(failed).length ? 1 : 0;
}

for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));
main().then((code) => process.exit(code), (error) => {
  console.error(`bench: ${(error as Error).message}`);
  process.exit(2);
});
