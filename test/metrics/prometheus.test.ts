// The metrics consumer in-process: a broadcast counts once with its recipients, gauges are read
// from the registry at scrape time, and the webhook and backend figures come from their sources.
import { afterEach, describe, expect, it } from "vitest";
import { createMetrics, type Metrics } from "../../src/metrics/prometheus.ts";
import { WebhookStats } from "../../src/webhooks/stats.ts";
import { Harness } from "../helpers/harness.ts";

let h: Harness;
let metrics: Metrics;
afterEach(async () => {
  metrics?.stop();
  await h?.stop();
});

async function setUp(): Promise<WebhookStats> {
  h = await new Harness().start();
  const stats = new WebhookStats(async () => 7);
  metrics = await createMetrics({
    server: h.server, webhooks: { stats }, port: 6001, prefix: "t_", appIds: ["app-id"],
    backends: new Map([["apps", { driver: "postgres", up: false }]]),
  });
  return stats;
}

const value = (text: string, series: string) => {
  const line = text.split("\n").find((l) => l.startsWith(series));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
};

describe("createMetrics", () => {
  it("counts a broadcast once, by its recipients and their bytes", async () => {
    await setUp();
    const clients = [await h.connect(), await h.connect(), await h.connect()];
    for (const c of clients) await c.subscribe("news");
    await h.server.publish(h.app, "news", "e", "{}");
    const text = await metrics.render();
    const frame = clients[0]!.socket.sent.at(-1)!;
    expect(value(text, 't_ws_messages_sent_total{app_id="app-id",port="6001"}')).toBe(3);
    expect(value(text, 't_socket_transmitted_bytes{app_id="app-id",port="6001"}')).toBe(3 * frame.length);
    expect(value(text, 't_connected{app_id="app-id",port="6001"}')).toBe(3);
    expect(value(text, 't_occupied_channels{app_id="app-id",port="6001"}')).toBe(1);
    expect(value(text, 't_new_connections_total{app_id="app-id",port="6001"}')).toBe(3);
  });

  it("counts presence members once per user and channel", async () => {
    await setUp();
    const a = await h.connect();
    const b = await h.connect();
    await a.subscribe("presence-room", { user_id: "u1" });
    await b.subscribe("presence-room", { user_id: "u1" });
    expect(value(await metrics.render(), 't_presence_members{app_id="app-id",port="6001"}')).toBe(1);
  });

  it("reads webhook counters, queue depth and backend health when scraped", async () => {
    const stats = await setUp();
    stats.sent = 4;
    stats.deadLetters = 1;
    const text = await metrics.render();
    expect(value(text, 't_webhook_sent_total{port="6001"}')).toBe(4);
    expect(value(text, 't_webhook_dead_letters_total{port="6001"}')).toBe(1);
    expect(value(text, 't_webhook_queue_depth{port="6001"}')).toBe(7);
    expect(value(text, 't_backend_up{driver="postgres",role="apps",port="6001"}')).toBe(0);
  });

  it("stops counting once stopped", async () => {
    await setUp();
    metrics.stop();
    await h.connect();
    expect(value(await metrics.render(), 't_new_connections_total{app_id="app-id",port="6001"}')).toBe(0);
  });
});
