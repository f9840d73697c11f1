// cluster-redis and cluster-nats: fan-out across 3 nodes sharing a bus. Subscribers on one public
// channel are spread evenly over the nodes and events are published through every node in turn:
// first at --rate for latency, then as fast as --publishers loops go for --cluster-duration s for
// throughput. Reports deliveries/s, latency, server CPU per delivery summed over the nodes, the
// broker's CPU, and the bus messages per publish counted by a subscriber of the bus itself
// (one per publish is the design: never one per node or per subscriber). Every subscriber must
// get every accepted event exactly once.
import { BenchSocket, closeAll, nowMs, wsUrl } from "../lib/client.ts";
import { natsBus, redisBus, type BusCounter } from "../lib/brokers.ts";
import { CpuMeter, SystemCpuMeter, writeSyscalls } from "../lib/proc.ts";
import path from "node:path";
import { ROOT, spawnServer, type BenchServer } from "../lib/server.ts";
import { Publisher } from "../lib/sign.ts";
import { atRate, pool, round, Samples, until } from "../lib/stats.ts";
import { cpuUsPerDelivery, eventData, sendTime } from "./fanout.ts";
import { fmt, type Scenario, type ScenarioContext, type ScenarioResult } from "./common.ts";

const NODES = 3;
const CHANNEL = "bench-cluster";
const EVENT = "bench-cluster-event";
/** Events a subscriber's once-only check covers (later ones are counted, not checked). */
const CHECKED = 20_000;
const SEQ_MARK = '\\"s\\":';

/** Every node's CPU, the broker's, the client's and the rest of the machine's over one phase. */
class ClusterMeters {
  private readonly nodes: CpuMeter[];
  private readonly broker?: CpuMeter;
  private readonly client = new CpuMeter(process.pid);
  private readonly system = new SystemCpuMeter();
  private readonly start = performance.now();
  private readonly writesAtStart: number;
  constructor(private readonly pids: number[], brokerPid?: number) {
    this.nodes = pids.map((pid) => new CpuMeter(pid));
    this.writesAtStart = this.writes();
    if (brokerPid) this.broker = new CpuMeter(brokerPid);
  }
  /** write/writev syscalls of all nodes so far (VFS writes only: NaN-ish ~0 on Bun). */
  private writes(): number {
    return this.pids.reduce((sum, pid) => sum + writeSyscalls(pid), 0);
  }
  read() {
    const writes = this.writes() - this.writesAtStart;
    const perNode = this.nodes.map((m) => m.percent());
    const serverCpuPct = round(perNode.reduce((a, b) => a + b, 0), 1);
    const brokerCpuPct = this.broker ? this.broker.percent() : NaN;
    const clientCpuPct = this.client.percent();
    const other = this.system.percent() - clientCpuPct - serverCpuPct - (Number.isFinite(brokerCpuPct) ? brokerCpuPct : 0);
    return { writes, serverCpuPct, perNode, brokerCpuPct, clientCpuPct, otherCpuPct: Math.max(0, Math.round(other)), seconds: round((performance.now() - this.start) / 1000, 3) };
  }
}

/** Per subscriber and event: seen once (1) or more (2+). Index = subscriber * CHECKED + seq. */
class Ledger {
  readonly seen: Uint8Array;
  delivered = 0;
  twice = 0;
  lastAt = 0;
  constructor(readonly subscribers: number) {
    this.seen = new Uint8Array(subscribers * CHECKED);
  }
  listen(sockets: BenchSocket[], samples: Samples): void {
    sockets.forEach((s, k) => {
      s.onFrame = (text) => {
        const t = sendTime(text);
        if (t !== t) return;
        const now = nowMs();
        samples.add(now - t);
        this.delivered++;
        this.lastAt = now;
        const i = text.indexOf(SEQ_MARK);
        const seq = i < 0 ? -1 : parseInt(text.slice(i + SEQ_MARK.length, i + SEQ_MARK.length + 12), 10);
        if (seq >= 0 && seq < CHECKED) {
          const at = k * CHECKED + seq;
          if (this.seen[at]! > 0) this.twice++;
          this.seen[at] = Math.min(255, this.seen[at]! + 1);
        }
      };
    });
  }
  /** Accepted events (checked range) some subscriber never got. */
  missing(accepted: number[]): number {
    let lost = 0;
    for (let k = 0; k < this.subscribers; k++) for (const seq of accepted) if (seq < CHECKED && this.seen[k * CHECKED + seq] === 0) lost++;
    return lost;
  }
}

function clusterScenario(name: string, bus: (prefix: string, marker: string) => Promise<BusCounter>): Scenario {
  return async (ctx) => {
    const o = ctx.options;
    if (o.external) throw new Error(`${name} spawns its own nodes; it can't run with --external`);
    const prefix = `bench:${name}:${Date.now().toString(36)}:`;
    const counter = await bus(prefix, EVENT);
    const nodes: BenchServer[] = [];
    try {
      // --profile: each node writes its own profile into bench/profiles/ (as the main server does).
      const runtimeArgs = o.profile && o.runtime !== "deno" ? ["--cpu-prof", "--cpu-prof-dir", path.join(ROOT, "bench/profiles")] : undefined;
      nodes.push(...(await Promise.all(Array.from({ length: NODES }, () => spawnServer({
        runtime: o.runtime, nodeBin: o.nodeBin, root: o.serverRoot, runtimeArgs,
        env: { APP_MAX_CONNECTIONS: "-1", APP_MAX_BACKEND_EVENTS_PER_SECOND: "-1", ...counter.env },
      })))));
      return await measure(name, ctx, nodes, counter);
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
      await counter.close();
    }
  };
}

async function measure(name: string, ctx: ScenarioContext, nodes: BenchServer[], counter: BusCounter): Promise<ScenarioResult> {
  const { subscribers, publishers, rate, payload, clusterEvents, clusterDuration, inFlight, scenarioTimeout } = ctx.options;
  const deadline = performance.now() + scenarioTimeout * 1000;
  const urls = nodes.map((n) => wsUrl(n.host, n.port, n.app.key));
  ctx.log(`${name}: ${subscribers} subscribers over ${NODES} nodes; ${clusterEvents} events at ${rate}/s, then ${publishers} publishers for ${clusterDuration} s`);
  const setup = await pool(subscribers, inFlight, async (i) => {
    const s = await BenchSocket.connect(urls[i % NODES]!);
    await s.subscribe(CHANNEL, undefined, undefined, 20_000);
    return s;
  }, deadline);
  if (setup.failures) throw new Error(`${setup.failures} subscribers failed: ${setup.errors.join("; ")}`);
  const sockets = setup.results as BenchSocket[];
  const ledger = new Ledger(sockets.length);
  const publishersByNode = nodes.map((n) => new Publisher(n.host, n.port, n.app));
  const accepted: number[] = [];
  let rejected = 0;
  let seq = 0;
  const publish = async (p: number) => {
    const s = seq++;
    if ((await publishersByNode[p % NODES]!.trigger(CHANNEL, EVENT, eventData(s, payload))) === 200) accepted.push(s);
    else rejected++;
  };
  const settle = (expected: () => number) => until(() => ledger.delivered >= expected(), Math.min(15_000, Math.max(0, deadline - performance.now())));
  const pids = nodes.map((n) => n.pid!);

  // Paced: latency with the nodes mostly idle.
  const paced = new Samples(sockets.length * clusterEvents);
  ledger.listen(sockets, paced);
  const busAtStart = counter.matching;
  const pacedMeters = new ClusterMeters(pids, counter.brokerPid);
  const pending: Promise<void>[] = [];
  await atRate(clusterEvents, rate, (i) => pending.push(publish(i)), deadline);
  await Promise.all(pending);
  await settle(() => accepted.length * sockets.length);
  const pacedCpu = pacedMeters.read();
  const pacedAccepted = accepted.length;
  const pacedDelivered = ledger.delivered;

  // Saturated: deliveries/s and CPU per delivery.
  const max = new Samples(2_000_000);
  ledger.listen(sockets, max);
  const meters = new ClusterMeters(pids, counter.brokerPid);
  const start = nowMs();
  const end = Math.min(start + clusterDuration * 1000, deadline);
  await Promise.all(Array.from({ length: publishers }, async (_, p) => {
    while (nowMs() < end) await publish(p);
  }));
  const windowSeconds = (nowMs() - start) / 1000;
  await settle(() => accepted.length * sockets.length);
  const cpu = meters.read();
  const maxDelivered = ledger.delivered - pacedDelivered;
  const throughput = maxDelivered / Math.max(windowSeconds, (ledger.lastAt - start) / 1000);
  // A bus message still on its way would be counted late: give the counter a moment.
  await new Promise((r) => setTimeout(r, 300));
  const busMessages = counter.matching - busAtStart;

  const dropped = sockets.filter((s) => s.closed).length;
  await closeAll(sockets);
  const checkedLost = ledger.missing(accepted);
  const expectedTotal = accepted.length * sockets.length;
  const totalLost = expectedTotal - (ledger.delivered - ledger.twice);
  const maxAccepted = accepted.length - pacedAccepted;
  const usPerDelivery = cpuUsPerDelivery(cpu, maxDelivered);
  const brokerUsPerPublish = (cpu.brokerCpuPct / 100) * cpu.seconds * 1e6 / Math.max(1, maxAccepted);
  const busPerPublish = busMessages / Math.max(1, accepted.length);
  const pacedLat = paced.summary();
  const maxLat = max.summary();
  const ok = rejected === 0 && checkedLost === 0 && totalLost === 0 && ledger.twice === 0 && dropped === 0 && busPerPublish === 1;
  return {
    name,
    ok,
    summary: `${fmt(throughput, 0)} deliveries/s (${fmt(maxAccepted / windowSeconds, 0)} publishes/s), ${fmt(usPerDelivery, 2)} µs server CPU/delivery; ` +
      `broker ${fmt(cpu.brokerCpuPct, 0)} %; paced p50/p99 ${fmt(pacedLat.p50, 1)}/${fmt(pacedLat.p99, 1)} ms; ${fmt(busPerPublish, 2)} bus msgs/publish; ${checkedLost} lost, ${ledger.twice} twice`,
    serverCpuPct: cpu.serverCpuPct,
    clientCpuPct: cpu.clientCpuPct,
    otherCpuPct: cpu.otherCpuPct,
    seconds: cpu.seconds,
    metrics: {
      nodes: NODES, subscribers: sockets.length, publishers, payloadBytes: payload,
      paced: { events: clusterEvents, ratePerSecond: rate, accepted: pacedAccepted, latencyMs: pacedLat, serverCpuPct: pacedCpu.serverCpuPct, brokerCpuPct: pacedCpu.brokerCpuPct },
      saturated: {
        windowSeconds: round(windowSeconds, 3), accepted: maxAccepted, publishesPerSecond: round(maxAccepted / windowSeconds, 1),
        delivered: maxDelivered, deliveriesPerSecond: round(throughput, 0), latencyMs: maxLat,
        serverCpuPctPerNode: cpu.perNode, serverCpuPctSum: cpu.serverCpuPct, serverCpuUsPerDelivery: round(usPerDelivery, 3),
        serverWriteSyscallsPerDelivery: maxDelivered && cpu.writes >= maxDelivered * 0.001 ? round(cpu.writes / maxDelivered, 3) : NaN,
        brokerCpuPct: cpu.brokerCpuPct, brokerCpuUsPerPublish: round(brokerUsPerPublish, 1), clientCpuPct: cpu.clientCpuPct,
      },
      published: accepted.length, rejected, expected: expectedTotal, delivered: ledger.delivered,
      lostInCheckedRange: checkedLost, deliveredTwice: ledger.twice, socketsDropped: dropped,
      busMessagesForPublishes: busMessages, busMessagesPerPublish: round(busPerPublish, 3), busMessagesTotal: counter.total,
    },
    notes: [
      ...(rejected ? [`${rejected} publishes failed`] : []),
      ...(busPerPublish !== 1 ? [`bus carried ${busMessages} messages for ${accepted.length} publishes`] : []),
    ],
  };
}

export const clusterRedisScenario = clusterScenario("cluster-redis", redisBus);
export const clusterNatsScenario = clusterScenario("cluster-nats", natsBus);
