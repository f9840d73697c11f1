// connect: N handshakes with a bounded number in flight; rate, failures, and the server's RSS
// growth per idle connection. --connect-rounds repeats it against the same process: with --fresh
// the first round meets a process that has served nothing (cold, as after a deploy), later ones a
// warm one.
import { readFileSync } from "node:fs";
import { closeAll, sleep } from "../lib/client.ts";
import { round } from "../lib/stats.ts";
import { connectMany, fmt, PhaseMeters, serverRss, type ScenarioContext, type ScenarioResult } from "./common.ts";

type Round = Omit<ScenarioResult, "name" | "summary"> & { rate: number; cpuUsPerConn: number; perConn: number; failures: number };

export async function connectScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const rounds: Round[] = [];
  for (let i = 0; i < ctx.options.connectRounds; i++) {
    // Only the first round can be cold; --fresh keeps it so by asking the server nothing before.
    rounds.push(await connectRound(ctx, i === 0 && ctx.options.fresh));
    if (i + 1 < ctx.options.connectRounds) await sleep(1000);
  }
  const first = rounds[0]!;
  const line = (r: Round) => `${fmt(r.rate, 0)} conn/s; ${fmt(r.cpuUsPerConn, 0)} µs server CPU/conn`;
  const summary = rounds.length === 1
    ? `${line(first)}; ${fmt(first.perConn, 1)} KB RSS/idle conn; ${first.failures} failed`
    : `${ctx.options.fresh ? "cold" : "round 1"} ${line(first)}; ${ctx.options.fresh ? "warm" : `round ${rounds.length}`} ${line(rounds.at(-1)!)}; ` +
      `${fmt(first.perConn, 1)} KB RSS/idle conn; ${rounds.reduce((n, r) => n + r.failures, 0)} failed`;
  return {
    name: "connect",
    ok: rounds.every((r) => r.ok),
    summary,
    serverCpuPct: first.serverCpuPct,
    clientCpuPct: first.clientCpuPct,
    otherCpuPct: first.otherCpuPct,
    seconds: first.seconds,
    // The first round's figures at the top level as before; every round's in `rounds`.
    metrics: { ...first.metrics, fresh: ctx.options.fresh, rounds: rounds.map((r) => r.metrics) },
    notes: rounds.flatMap((r) => r.notes),
  };
}

async function connectRound(ctx: ScenarioContext, cold: boolean): Promise<Round> {
  const { connections, inFlight, scenarioTimeout } = ctx.options;
  const deadline = performance.now() + scenarioTimeout * 1000;
  await sleep(500);
  const rssBefore = serverRss(ctx);
  // A cold round asks the server nothing first: GET /usage would warm its HTTP path.
  const heapBefore = cold ? NaN : await heapUsedKb(ctx);
  ctx.log(`connect: ${connections} sockets, ${inFlight} in flight${cold ? ", to a process that has served nothing" : ""}`);
  const meters = new PhaseMeters(ctx.server.pid);
  const started = performance.now();
  const { sockets, failures, errors } = await connectMany(ctx, connections, inFlight, deadline);
  const elapsed = (performance.now() - started) / 1000;
  const cpu = meters.read();
  const writes = meters.serverWrites();
  // Let the server settle (buffers released, lazy allocations done) before reading RSS.
  await sleep(1000);
  const rssAfter = serverRss(ctx);
  const heapAfter = await heapUsedKb(ctx);
  const dropped = sockets.filter((s) => s.closed).length;
  const closeStart = performance.now();
  await closeAll(sockets);
  const closeSeconds = (performance.now() - closeStart) / 1000;
  await sleep(500);
  const rssClosed = serverRss(ctx);

  const rate = sockets.length / elapsed;
  const perConn = sockets.length ? (rssAfter - rssBefore) / sockets.length : NaN;
  // Server CPU time per handshake: unlike conn/s it does not depend on how fast the client is.
  const cpuUsPerConn = sockets.length ? (cpu.serverCpuPct / 100) * cpu.seconds * 1e6 / sockets.length : NaN;
  return {
    ok: failures === 0 && dropped === 0,
    ...cpu,
    rate,
    cpuUsPerConn,
    perConn,
    failures,
    metrics: {
      connections, inFlight, cold, established: sockets.length, failures, droppedWhileIdle: dropped,
      seconds: round(elapsed, 3), connPerSecond: round(rate, 0), serverCpuUsPerConnection: round(cpuUsPerConn, 1),
      // write/writev syscalls per handshake (VFS writes only: Bun's send() shows ~0).
      serverWritesPerConnection: sockets.length ? round(writes / sockets.length, 2) : NaN,
      serverRssKbBefore: rssBefore, serverRssKbConnected: rssAfter, serverRssKbAfterClose: rssClosed,
      rssKbPerConnection: round(perConn, 2), closeSeconds: round(closeSeconds, 3),
      // JS heap share of the growth, from the server's own /usage endpoint when it has one (not
      // asked before a cold round).
      heapKbPerConnection: sockets.length ? round((heapAfter - heapBefore) / sockets.length, 2) : NaN,
      loadAverage: loadAverage(),
    },
    notes: errors,
  };
}

/** The machine's 1-minute load average (the bench shares it with whatever else runs). */
function loadAverage(): number {
  try {
    return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
  } catch {
    // Not Linux: the figure is informative only.
    return NaN;
  }
}

/** heapUsed from Switchboard's GET /usage (NaN for servers without it, e.g. Soketi). */
async function heapUsedKb(ctx: ScenarioContext): Promise<number> {
  try {
    const res = await fetch(`http://${ctx.server.host}:${ctx.server.port}/usage`);
    const body = (await res.json()) as { memory?: { heapUsed?: number } };
    return typeof body.memory?.heapUsed === "number" ? body.memory.heapUsed / 1024 : NaN;
  } catch {
    return NaN;
  }
}
