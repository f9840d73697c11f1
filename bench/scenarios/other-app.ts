// cluster-redis-other-app: what a node pays for an app it does not serve (issue #22). Two nodes
// on the Redis adapter; the bench app's subscribers are all on node 1, node 2 serves no socket at
// all. 1,000 publishes of --payload bytes (1 KB is the issue's figure) go through node 1; node 2's
// CPU over that phase, minus its CPU over an idle phase as long (heartbeats, timers), is what
// another app's traffic costs it. With a bus per app it should be ~0: node 2 is not subscribed.
import { BenchSocket, closeAll, wsUrl } from "../lib/client.ts";
import { redisBus } from "../lib/brokers.ts";
import { cpuSeconds, SystemCpuMeter } from "../lib/proc.ts";
import { spawnServer, type BenchServer } from "../lib/server.ts";
import { Publisher } from "../lib/sign.ts";
import { pool, round, until } from "../lib/stats.ts";
import { eventData } from "./fanout.ts";
import { fmt, type ScenarioContext, type ScenarioResult } from "./common.ts";

const PUBLISHES = 1000;
const SUBSCRIBERS = 10;
const CHANNEL = "bench-other-app";
const EVENT = "bench-other-app-event";

export async function otherAppScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const o = ctx.options;
  if (o.external) throw new Error("cluster-redis-other-app spawns its own nodes; it can't run with --external");
  const counter = await redisBus(`bench:other-app:${Date.now().toString(36)}:`, EVENT);
  const nodes: BenchServer[] = [];
  const sockets: BenchSocket[] = [];
  try {
    nodes.push(...(await Promise.all([0, 1].map(() => spawnServer({
      runtime: o.runtime, nodeBin: o.nodeBin, root: o.serverRoot,
      env: { APP_MAX_CONNECTIONS: "-1", APP_MAX_BACKEND_EVENTS_PER_SECOND: "-1", ...counter.env },
    })))));
    const [one, two] = nodes as [BenchServer, BenchServer];
    ctx.log(`cluster-redis-other-app: ${SUBSCRIBERS} subscribers on node 1 only; ${PUBLISHES} publishes of ${o.payload} bytes through node 1`);
    for (let i = 0; i < SUBSCRIBERS; i++) {
      const s = await BenchSocket.connect(wsUrl(one.host, one.port, one.app.key));
      await s.subscribe(CHANNEL, undefined, undefined, 20_000);
      sockets.push(s);
    }
    let delivered = 0;
    for (const s of sockets) s.onFrame = (text) => void (text.includes(EVENT) && delivered++);

    const publisher = new Publisher(one.host, one.port, one.app);
    const system = new SystemCpuMeter();
    const cpuAtStart = cpuSeconds(two.pid!);
    const started = performance.now();
    const result = await pool(PUBLISHES, o.publishers, async (i) => {
      const status = await publisher.trigger(CHANNEL, EVENT, eventData(i, o.payload));
      if (status !== 200) throw new Error(`publish answered ${status}`);
    });
    await until(() => delivered >= PUBLISHES * SUBSCRIBERS, 15_000);
    const busyMs = (cpuSeconds(two.pid!) - cpuAtStart) * 1000;
    const wallMs = performance.now() - started;
    const otherCpuPct = Math.max(0, Math.round(system.percent() - (busyMs / wallMs) * 100));

    // The same wall time with nothing published: node 2's own background work.
    const idleAtStart = cpuSeconds(two.pid!);
    await new Promise((r) => setTimeout(r, wallMs));
    const idleMs = (cpuSeconds(two.pid!) - idleAtStart) * 1000;
    const perThousand = ((busyMs - idleMs) * 1000) / PUBLISHES;
    const ok = result.failures === 0 && delivered === PUBLISHES * SUBSCRIBERS;
    return {
      name: "cluster-redis-other-app",
      ok,
      summary: `node 2 (no socket of the app): ${fmt(perThousand, 0)} ms CPU per 1,000 publishes of ${o.payload} B ` +
        `(${fmt(busyMs, 0)} ms busy − ${fmt(idleMs, 0)} ms idle over ${fmt(wallMs / 1000, 1)} s); ${delivered}/${PUBLISHES * SUBSCRIBERS} delivered on node 1`,
      serverCpuPct: round((busyMs / wallMs) * 100, 1),
      clientCpuPct: NaN,
      otherCpuPct,
      seconds: round(wallMs / 1000, 3),
      metrics: {
        publishes: PUBLISHES, payloadBytes: o.payload, node2CpuMsBusy: round(busyMs, 1), node2CpuMsIdle: round(idleMs, 1),
        node2CpuMsPer1000Publishes: round(perThousand, 1), delivered, failures: result.failures, busMessages: counter.matching,
      },
      notes: result.failures ? result.errors.slice(0, 3) : [],
    };
  } finally {
    await closeAll(sockets);
    await Promise.all(nodes.map((n) => n.stop()));
    await counter.close();
  }
}
