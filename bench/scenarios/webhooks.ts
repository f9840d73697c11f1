// webhooks, webhooks-batched, webhooks-redis: client events → client_event webhooks delivered to a
// local HTTP receiver, through the memory queue (one event per body, then batched) and the Redis
// queue. Each spawns its own server (the webhook settings differ from the shared one's). Reported:
// events/s delivered (all events / time from the first send to the last delivery), lag after the
// last send, lost, server CPU.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Socket } from "node:net";
import { closeAll, nowMs, type BenchSocket } from "../lib/client.ts";
import { spawnServer, type BenchServer } from "../lib/server.ts";
import { channelAuth } from "../lib/sign.ts";
import { atRate, until } from "../lib/stats.ts";
import { connectMany, fmt, PhaseMeters, type Scenario, type ScenarioContext, type ScenarioResult } from "./common.ts";

const REDIS_URL = "redis://127.0.0.1:6379";

function redisReachable(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once("error", () => done(false));
    s.connect(6379, "127.0.0.1", () => done(true));
  });
}

async function startReceiver(): Promise<{ url: string; events: () => number; bodies: () => number; lastAt: () => number; close(): Promise<void> }> {
  let events = 0;
  let bodies = 0;
  let lastAt = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      try {
        events += (JSON.parse(Buffer.concat(chunks).toString()) as { events: unknown[] }).events.length;
        bodies++;
        lastAt = nowMs();
      } catch {
        // counted as lost: the run compares delivered with sent
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    events: () => events,
    bodies: () => bodies,
    lastAt: () => lastAt,
    close: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

function webhookScenario(name: string, env: (ctx: ScenarioContext) => Promise<Record<string, string> | string>): Scenario {
  return async (ctx) => {
    const o = ctx.options;
    if (o.external) throw new Error(`${name} spawns its own server; it can't run with --external`);
    const queueEnv = await env(ctx);
    if (typeof queueEnv === "string") throw new Error(queueEnv);
    const receiver = await startReceiver();
    let server: BenchServer | undefined;
    try {
      server = await spawnServer({
        runtime: o.runtime, nodeBin: o.nodeBin, root: o.serverRoot,
        env: {
          APP_ENABLE_CLIENT_MESSAGES: "true",
          APP_MAX_CLIENT_EVENTS_PER_SECOND: "100000",
          APP_WEBHOOKS: JSON.stringify([{ url: receiver.url, event_types: ["client_event"] }]),
          WEBHOOK_MEMORY_QUEUE_SIZE: String(o.webhookEvents + 1000),
          ...queueEnv,
        },
      });
      return await measure(name, { ...ctx, server }, receiver);
    } finally {
      await server?.stop();
      await receiver.close();
    }
  };
}

async function measure(name: string, ctx: ScenarioContext, receiver: Awaited<ReturnType<typeof startReceiver>>): Promise<ScenarioResult> {
  const { webhookEvents, webhookRate, scenarioTimeout } = ctx.options;
  const deadline = performance.now() + scenarioTimeout * 1000;
  const senders = 20;
  ctx.log(`${name}: ${webhookEvents} client events at ${webhookRate}/s from ${senders} sockets`);
  const { sockets, errors } = await connectMany(ctx, senders, senders, deadline);
  const channels: { s: BenchSocket; channel: string }[] = [];
  for (const [i, s] of sockets.entries()) {
    const channel = `private-hooks-${i}`;
    await s.subscribe(channel, channelAuth(ctx.server.app, s.socketId, channel));
    s.onFrame = () => {};
    channels.push({ s, channel });
  }
  const meters = new PhaseMeters(ctx.server.pid);
  const start = nowMs();
  const sent = await atRate(webhookEvents, webhookRate, (i) => {
    const { s, channel } = channels[i % channels.length]!;
    s.send(JSON.stringify({ event: "client-hook", channel, data: `{"i":${i}}` }));
  }, deadline);
  const sentAt = nowMs();
  await until(() => receiver.events() >= sent, Math.max(1000, deadline - performance.now()));
  const cpu = meters.read();
  await closeAll(sockets);
  const delivered = receiver.events();
  const seconds = (receiver.lastAt() - start) / 1000;
  const perSecond = delivered / seconds;
  const lagMs = receiver.lastAt() - sentAt;
  return {
    name,
    ok: delivered === sent,
    summary: `${fmt(perSecond, 0)} events/s delivered in ${receiver.bodies()} bodies; lag after last send ${fmt(lagMs, 0)} ms; ${sent - delivered} lost`,
    ...cpu,
    metrics: { sent, delivered, bodies: receiver.bodies(), eventsPerSecond: Math.round(perSecond), lagMs: Math.round(lagMs), rate: webhookRate },
    notes: errors,
  };
}

export const webhooksScenario = webhookScenario("webhooks", async () => ({ QUEUE_DRIVER: "memory" }));
export const webhooksBatchedScenario = webhookScenario("webhooks-batched", async () => ({ QUEUE_DRIVER: "memory", WEBHOOK_BATCHING: "true" }));
export const webhooksRedisScenario = webhookScenario("webhooks-redis", async () => {
  if (!(await redisReachable())) return "Redis on 127.0.0.1:6379 is not reachable";
  return { QUEUE_DRIVER: "redis", REDIS_URL, REDIS_PREFIX: `bench:${Date.now().toString(36)}:` };
});
