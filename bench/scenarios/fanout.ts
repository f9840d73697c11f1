// fanout and fanout-max: S subscribers on one public channel, events published through the
// signed REST API. Each event's data carries its send time, so every delivery yields an
// end-to-end latency (REST request → server → WebSocket → client callback).
import { closeAll, nowMs, type BenchSocket } from "../lib/client.ts";
import { Publisher } from "../lib/sign.ts";
import { atRate, round, Samples, until } from "../lib/stats.ts";
import { connectMany, fmt, PhaseMeters, subscribeAll, type ScenarioContext, type ScenarioResult } from "./common.ts";

const CHANNEL = "bench-fanout";
const EVENT = "bench-event";
// The send time as it appears inside the frame's JSON-encoded data string: {\"t\":123.456
const MARK = '{\\"t\\":';

/**
 * write/writev syscalls per delivery. /proc/<pid>/io counts only VFS writes: a server that
 * uses send()/sendmsg() (Bun's uWS) shows ~0, reported as NaN rather than a false 0.
 */
function writesPerDelivery(writes: number, delivered: number): number {
  if (!(delivered > 0) || !(writes >= delivered * 0.001)) return NaN;
  return round(writes / delivered, 3);
}

/**
 * Server CPU µs per delivered message: stays meaningful when the client, not the server, sets the
 * pace (as it does on 2 cores), unlike deliveries/s.
 */
export function cpuUsPerDelivery(cpu: { serverCpuPct: number; seconds: number }, delivered: number): number {
  return delivered > 0 ? round((cpu.serverCpuPct / 100) * cpu.seconds * 1e6 / delivered, 3) : NaN;
}

/** Event data of exactly `size` bytes (when size allows): {"t":<ms>,"s":<seq>,"p":"xxx…"}. */
export function eventData(seq: number, size: number): string {
  const head = `{"t":${nowMs().toFixed(3)},"s":${seq},"p":"`;
  return head + "x".repeat(Math.max(0, size - head.length - 2)) + '"}';
}

/** Reads the send time from a raw frame without parsing it; NaN for frames without one. */
export function sendTime(text: string): number {
  const i = text.indexOf(MARK);
  return i < 0 ? NaN : parseFloat(text.slice(i + MARK.length, i + MARK.length + 24));
}

interface Receivers {
  sockets: BenchSocket[];
  setupFailures: number;
  notes: string[];
}

async function setup(ctx: ScenarioContext, deadline: number): Promise<Receivers> {
  const { subscribers, inFlight } = ctx.options;
  const { sockets, failures, errors } = await connectMany(ctx, subscribers, inFlight, deadline);
  const subFailures = await subscribeAll(sockets, CHANNEL, 20_000);
  return { sockets, setupFailures: failures + subFailures, notes: errors };
}

/** Attaches the delivery counter to every subscriber. */
function listen(sockets: BenchSocket[], samples: Samples) {
  const state = { delivered: 0, lastAt: 0 };
  const onFrame = (text: string) => {
    const t = sendTime(text);
    if (t !== t) return; // NaN: not a benchmark event
    const now = nowMs();
    samples.add(now - t);
    state.delivered++;
    state.lastAt = now;
  };
  for (const s of sockets) s.onFrame = onFrame;
  return state;
}

export async function fanoutScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { events, rate, payload, scenarioTimeout } = ctx.options;
  const deadline = performance.now() + scenarioTimeout * 1000;
  ctx.log(`fanout: ${ctx.options.subscribers} subscribers, ${events} events at ${rate}/s, ${payload} B`);
  const rx = await setup(ctx, deadline);
  const samples = new Samples(rx.sockets.length * events);
  const state = listen(rx.sockets, samples);
  const publisher = new Publisher(ctx.server.host, ctx.server.port, ctx.server.app);
  const statuses: Promise<number>[] = [];
  const meters = new PhaseMeters(ctx.server.pid);
  const sent = await atRate(events, rate, (i) => statuses.push(publisher.trigger(CHANNEL, EVENT, eventData(i, payload))), deadline);
  const codes = await Promise.all(statuses);
  const accepted = codes.filter((c) => c === 200).length;
  const expected = accepted * rx.sockets.length;
  await until(() => state.delivered >= expected, Math.min(10_000, Math.max(0, deadline - performance.now())));
  const cpu = meters.read();
  const writes = meters.serverWrites();
  const dropped = rx.sockets.filter((s) => s.closed).length;
  await closeAll(rx.sockets);

  const lat = samples.summary();
  const lost = expected - state.delivered;
  const notes = [...rx.notes];
  if (accepted < sent) notes.push(`${sent - accepted} publishes failed: ${[...new Set(codes.filter((c) => c !== 200))].join(",")} ${publisher.lastError}`);
  return {
    name: "fanout",
    ok: lost === 0 && rx.setupFailures === 0 && accepted === events && dropped === 0,
    summary: `p50 ${fmt(lat.p50, 2)} / p95 ${fmt(lat.p95, 2)} / p99 ${fmt(lat.p99, 2)} / max ${fmt(lat.max, 1)} ms; ` +
      `${fmt(cpuUsPerDelivery(cpu, state.delivered), 2)} µs server CPU/delivery; ${fmt(lost, 0)} lost of ${fmt(expected, 0)}`,
    ...cpu,
    metrics: {
      subscribers: rx.sockets.length, setupFailures: rx.setupFailures, events, ratePerSecond: rate, payloadBytes: payload,
      published: accepted, expected, delivered: state.delivered, lost, socketsDropped: dropped, latencyMs: lat,
      serverCpuUsPerDelivery: cpuUsPerDelivery(cpu, state.delivered),
      serverWriteSyscallsPerDelivery: writesPerDelivery(writes, state.delivered),
    },
    notes,
  };
}

export async function fanoutMaxScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { publishers, duration, payload, scenarioTimeout } = ctx.options;
  const deadline = performance.now() + scenarioTimeout * 1000;
  ctx.log(`fanout-max: ${ctx.options.subscribers} subscribers, ${publishers} publishers for ${duration} s`);
  const rx = await setup(ctx, deadline);
  const samples = new Samples(2_000_000);
  const state = listen(rx.sockets, samples);
  const publisher = new Publisher(ctx.server.host, ctx.server.port, ctx.server.app);
  let accepted = 0;
  let rejected = 0;
  let seq = 0;
  const meters = new PhaseMeters(ctx.server.pid);
  const start = nowMs();
  const end = Math.min(start + duration * 1000, deadline);
  // Each publisher waits for its response before the next request: the server's own speed
  // sets the pace, as with a real backend calling trigger() in a loop.
  const loop = async () => {
    while (nowMs() < end) {
      if ((await publisher.trigger(CHANNEL, EVENT, eventData(seq++, payload))) === 200) accepted++;
      else rejected++;
    }
  };
  await Promise.all(Array.from({ length: publishers }, loop));
  const windowSeconds = (nowMs() - start) / 1000;
  const deliveredInWindow = state.delivered;
  const expected = accepted * rx.sockets.length;
  await until(() => state.delivered >= expected, Math.min(15_000, Math.max(0, deadline - performance.now())));
  const cpu = meters.read();
  const writes = meters.serverWrites();
  const drainSeconds = Math.max(0, (state.lastAt - start) / 1000 - windowSeconds);
  const dropped = rx.sockets.filter((s) => s.closed).length;
  await closeAll(rx.sockets);

  const throughput = state.delivered / Math.max(windowSeconds, (state.lastAt - start) / 1000);
  const lost = expected - state.delivered;
  const lat = samples.summary();
  return {
    name: "fanout-max",
    ok: lost === 0 && rejected === 0 && dropped === 0 && rx.setupFailures === 0,
    summary: `${fmt(throughput, 0)} deliveries/s (${fmt(accepted / windowSeconds, 1)} publishes/s); p50 ${fmt(lat.p50, 1)} ms; ` +
      `${fmt(cpuUsPerDelivery(cpu, state.delivered), 2)} µs server CPU/delivery; ${fmt(writesPerDelivery(writes, state.delivered), 2)} writes/delivery; ${fmt(lost, 0)} lost`,
    ...cpu,
    metrics: {
      subscribers: rx.sockets.length, setupFailures: rx.setupFailures, publishers, payloadBytes: payload,
      windowSeconds: round(windowSeconds, 3), drainSeconds: round(drainSeconds, 3),
      published: accepted, rejected, publishesPerSecond: round(accepted / windowSeconds, 1),
      expected, delivered: state.delivered, deliveredInWindow, lost, socketsDropped: dropped,
      deliveriesPerSecond: round(throughput, 0), latencyMs: lat, serverCpuUsPerDelivery: cpuUsPerDelivery(cpu, state.delivered),
      // ~1 means one syscall per message per socket; batching (corking) brings it down.
      serverWriteSyscallsPerDelivery: writesPerDelivery(writes, state.delivered),
    },
    notes: rx.notes,
  };
}
