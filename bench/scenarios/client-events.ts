// client-events: pairs of sockets on their own private channel. One side sends client-ping
// carrying its send time; the other echoes it back as client-pong; the round trip crosses the
// server twice.
import { closeAll, nowMs, type BenchSocket } from "../lib/client.ts";
import { channelAuth } from "../lib/sign.ts";
import { atRate, round, Samples, until } from "../lib/stats.ts";
import { connectMany, fmt, PhaseMeters, type ScenarioContext, type ScenarioResult } from "./common.ts";
import { sendTime } from "./fanout.ts";

export async function clientEventsScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { pairs, pairRate, pairDuration, inFlight, scenarioTimeout } = ctx.options;
  const deadline = performance.now() + scenarioTimeout * 1000;
  ctx.log(`client-events: ${pairs} pairs, ${pairRate} round trips/s for ${pairDuration} s`);
  const { sockets, failures, errors } = await connectMany(ctx, pairs * 2, inFlight, deadline);
  const notes = [...errors];
  const ready: { a: BenchSocket; b: BenchSocket; channel: string }[] = [];
  let setupFailures = failures;
  for (let i = 0; i + 1 < sockets.length; i += 2) {
    const channel = `private-bench-pair-${i / 2}`;
    const [a, b] = [sockets[i]!, sockets[i + 1]!];
    try {
      await Promise.all([a, b].map((s) => s.subscribe(channel, channelAuth(ctx.server.app, s.socketId, channel))));
      ready.push({ a, b, channel });
    } catch (error) {
      setupFailures++;
      if (notes.length < 5) notes.push((error as Error).message.slice(0, 200));
    }
  }
  if (ready.length === 0) throw new Error(`no pair could subscribe: ${notes.join("; ")}`);

  const samples = new Samples(Math.ceil(pairRate * pairDuration) + 10);
  let errorsReceived = 0;
  for (const { a, b, channel } of ready) {
    // The echo reuses the received data string unchanged (it is forwarded as a string).
    b.onFrame = (text) => {
      if (!text.includes('"client-ping"')) {
        if (text.includes("pusher:error")) errorsReceived++;
        return;
      }
      const data = (JSON.parse(text) as { data: string }).data;
      b.send(JSON.stringify({ event: "client-pong", channel, data }));
    };
    a.onFrame = (text) => {
      const t = sendTime(text);
      if (t === t) samples.add(nowMs() - t);
      else if (text.includes("pusher:error")) errorsReceived++;
    };
  }
  const meters = new PhaseMeters(ctx.server.pid);
  const total = Math.ceil(pairRate * pairDuration);
  const sent = await atRate(total, pairRate, (i) => {
    const { a, channel } = ready[i % ready.length]!;
    a.send(JSON.stringify({ event: "client-ping", channel, data: `{"t":${nowMs().toFixed(3)},"s":${i}}` }));
  }, deadline);
  await until(() => samples.count >= sent, 5_000);
  const cpu = meters.read();
  const dropped = sockets.filter((s) => s.closed).length;
  await closeAll(sockets);

  const lat = samples.summary();
  const lost = sent - samples.count;
  return {
    name: "client-events",
    ok: lost === 0 && errorsReceived === 0 && setupFailures === 0 && dropped === 0,
    summary: `round trip p50 ${fmt(lat.p50, 2)} / p99 ${fmt(lat.p99, 2)} / max ${fmt(lat.max, 1)} ms; ${lost} lost`,
    ...cpu,
    metrics: {
      pairs: ready.length, setupFailures, roundTripsPerSecond: pairRate, sent, received: samples.count, lost,
      errorsReceived, socketsDropped: dropped, roundTripMs: lat,
    },
    notes,
  };
}
