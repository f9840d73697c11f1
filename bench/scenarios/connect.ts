// connect: N handshakes with a bounded number in flight; rate, failures, and the server's RSS
// growth per idle connection.
import { closeAll, sleep } from "../lib/client.ts";
import { round } from "../lib/stats.ts";
import { connectMany, fmt, PhaseMeters, serverRss, type ScenarioContext, type ScenarioResult } from "./common.ts";

export async function connectScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { connections, inFlight, scenarioTimeout } = ctx.options;
  const deadline = performance.now() + scenarioTimeout * 1000;
  await sleep(500);
  const rssBefore = serverRss(ctx);
  const heapBefore = await heapUsedKb(ctx);
  ctx.log(`connect: ${connections} sockets, ${inFlight} in flight`);
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
  const ok = failures === 0 && dropped === 0;
  return {
    name: "connect",
    ok,
    summary: `${fmt(rate, 0)} conn/s; ${fmt(cpuUsPerConn, 0)} µs server CPU/conn; ${fmt(perConn, 1)} KB RSS/idle conn; ${failures} failed`,
    ...cpu,
    metrics: {
      connections, inFlight, established: sockets.length, failures, droppedWhileIdle: dropped,
      seconds: round(elapsed, 3), connPerSecond: round(rate, 0), serverCpuUsPerConnection: round(cpuUsPerConn, 1),
      // write/writev syscalls per handshake (VFS writes only: Bun's send() shows ~0).
      serverWritesPerConnection: sockets.length ? round(writes / sockets.length, 2) : NaN,
      serverRssKbBefore: rssBefore, serverRssKbConnected: rssAfter, serverRssKbAfterClose: rssClosed,
      rssKbPerConnection: round(perConn, 2), closeSeconds: round(closeSeconds, 3),
      // JS heap share of the growth, from the server's own /usage endpoint when it has one.
      heapKbPerConnection: sockets.length ? round((heapAfter - heapBefore) / sockets.length, 2) : NaN,
    },
    notes: errors,
  };
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
