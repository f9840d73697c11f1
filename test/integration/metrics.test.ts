// Prometheus metrics (docs/operating.md, Metrics): every named series is served with the prefix, labelled
// by app and port, and moves with traffic.
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reachable, requireService, uniquePrefix } from "../adapters/cluster.ts";
import { byEvent, connected, once, pusherClient, rawClient, sdk } from "../helpers/clients.ts";
import { has, scrape, total, waitFor } from "../helpers/observe.ts";
import { ROOT, startServer, type TestServer } from "../helpers/server.ts";

/** The series the issue names (Soketi's and Sockudo's names), then ours. */
const NAMED = [
  "connected", "new_connections_total", "new_disconnections_total", "ws_messages_sent_total", "ws_messages_received_total",
  "socket_transmitted_bytes", "socket_received_bytes", "http_calls_received_total", "http_transmitted_bytes", "http_received_bytes",
  "horizontal_adapter_resolve_time_bucket", "horizontal_adapter_resolved_promises", "horizontal_adapter_sent_requests",
  "horizontal_adapter_received_requests", "horizontal_adapter_received_responses",
];
const OURS = [
  "occupied_channels", "presence_members", "webhook_sent_total", "webhook_failures_total", "webhook_retries_total",
  "webhook_dead_letters_total", "webhook_queue_depth", "app_cache_hits_total", "app_cache_misses_total", "backend_up",
  "process_cpu_user_seconds_total", "process_resident_memory_bytes",
];

const redisUp = await requireService(reachable(6379), "Redis on 127.0.0.1:6379");

let server: TestServer;
beforeAll(async () => {
  // One process (a topology's balancer would spread the traffic over nodes we don't scrape).
  server = await startServer({ env: { METRICS_PREFIX: "sbtest_", ADAPTER_DRIVER: "local" } });
});
afterAll(() => server?.stop());

const app = 'app_id="app-id"';

describe("metrics", () => {
  it("serves every named series with the prefix, labelled by app and port, before any traffic", async () => {
    const samples = await scrape(server);
    for (const name of [...NAMED, ...OURS]) expect(has(samples, `sbtest_${name}`), name).toBe(true);
    expect(has(samples, "switchboard_connected")).toBe(false);
    const port = `port="${server.port}"`;
    expect([...samples.keys()].some((k) => k.startsWith("sbtest_new_connections_total{") && k.includes(app) && k.includes(port))).toBe(true);
  });

  it("moves with traffic: connections, broadcasts, messages, HTTP calls", async () => {
    const before = await scrape(server);
    const client = pusherClient(server, { presence: { user_id: "u1" } });
    await connected(client);
    const channel = client.subscribe("presence-room");
    await once(channel, "pusher:subscription_succeeded");
    const raw = await rawClient(server);
    raw.send({ event: "pusher:subscribe", data: { channel: "news" } });
    await raw.next(byEvent("pusher_internal:subscription_succeeded", "news"));

    await waitFor(async () => {
      const s = await scrape(server);
      return total(s, "sbtest_connected", app) >= 2 && total(s, "sbtest_occupied_channels", app) >= 2 && total(s, "sbtest_presence_members", app) >= 1;
    }, "gauges to show 2 sockets, 2 channels, 1 presence member");

    const got = raw.next(byEvent("hello", "news"));
    expect((await sdk(server).trigger("news", "hello", { n: 1 })).status).toBe(200);
    await got;
    raw.close();
    client.disconnect();
    await raw.closed;

    await waitFor(async () => total(await scrape(server), "sbtest_new_disconnections_total", app) >= total(before, "sbtest_new_disconnections_total", app) + 2, "2 disconnections");
    const after = await scrape(server);
    const grew = (name: string, by = 1) => expect(total(after, `sbtest_${name}`, app) - total(before, `sbtest_${name}`, app), name).toBeGreaterThanOrEqual(by);
    grew("new_connections_total", 2);
    grew("ws_messages_sent_total");
    grew("socket_transmitted_bytes", 30);
    grew("ws_messages_received_total", 2);
    grew("socket_received_bytes", 50);
    grew("http_calls_received_total");
    grew("http_received_bytes", 10);
    grew("http_transmitted_bytes", 2);
  });

  it("serves every series the shipped Grafana dashboard reads", async () => {
    const dashboard = JSON.parse(readFileSync(path.join(ROOT, "config/grafana-dashboard.json"), "utf8")) as { panels: { targets?: { expr: string }[] }[] };
    const names = new Set(dashboard.panels.flatMap((p) => p.targets ?? []).flatMap((t) => [...t.expr.matchAll(/\$\{prefix\}([a-z0-9_]+)/g)].map((m) => m[1]!)));
    expect(names.size).toBeGreaterThan(20);
    const samples = await scrape(server);
    // The runtime's own process metrics differ a little (runtime notes, prom-client): those are checked
    // loosely. Series labelled by a reason (code, type, scope) appear with their first event.
    const byReason = new Set(["connection_refusals_total", "subscription_refusals_total", "rate_limited_total"]);
    for (const name of names) if (!/^(process|nodejs)_/.test(name) && !byReason.has(name)) expect(has(samples, `sbtest_${name}`), name).toBe(true);
    expect(has(samples, "sbtest_process_resident_memory_bytes")).toBe(true);
  });

  it("answers 404 elsewhere on the metrics port, and the main port has no /metrics", async () => {
    const port = Number(/metrics at http:\/\/[^\s:]+:(\d+)/.exec(server.output())![1]);
    expect((await fetch(`http://127.0.0.1:${port}/nope`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${server.port}/metrics`)).status).toBe(404);
  });

  it("also answers the health routes on the metrics port, as Soketi does (/, /ready, /usage)", async () => {
    const port = Number(/metrics at http:\/\/[^\s:]+:(\d+)/.exec(server.output())![1]);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("OK");
    expect(await (await fetch(`http://127.0.0.1:${port}/ready`)).json()).toEqual({ ready: true });
    const usage = await (await fetch(`http://127.0.0.1:${port}/usage`)).json();
    expect(usage).toEqual({ memory: expect.objectContaining({ rss: expect.any(Number) }), connections: expect.any(Number) });
  });
});

describe("metrics port taken", () => {
  it("stops the start with one line naming the setting", async () => {
    const taken = Number(/metrics at http:\/\/[^\s:]+:(\d+)/.exec(server.output())![1]);
    await expect(startServer({ env: { METRICS_PORT: String(taken), ADAPTER_DRIVER: "local" } }))
      .rejects.toThrow(/metrics \(METRICS_HOST\/METRICS_PORT\) listener: port already in use/);
  });
});

describe("metrics off", () => {
  it("METRICS_ENABLED=false opens no metrics listener", async () => {
    const off = await startServer({ env: { METRICS_ENABLED: "false" } });
    try {
      expect(off.output()).not.toMatch(/metrics at/);
    } finally {
      await off.stop();
    }
  });
});

describe.skipIf(!redisUp)("horizontal adapter metrics (redis adapter)", () => {
  it("counts each cluster-wide query as a request sent, answered and timed", async () => {
    const node = await startServer({ env: { ADAPTER_DRIVER: "redis", REDIS_URL: "redis://127.0.0.1:6379", REDIS_PREFIX: uniquePrefix("metrics") } });
    try {
      const before = await scrape(node);
      for (let i = 0; i < 3; i++) expect((await sdk(node).get({ path: "/channels" })).status).toBe(200);
      const after = await scrape(node);
      const grew = (name: string) => total(after, `switchboard_${name}`, app) - total(before, `switchboard_${name}`, app);
      expect(grew("horizontal_adapter_sent_requests")).toBeGreaterThanOrEqual(3);
      expect(grew("horizontal_adapter_received_responses")).toBeGreaterThanOrEqual(3);
      expect(grew("horizontal_adapter_resolved_promises")).toBeGreaterThanOrEqual(3);
      expect(grew("horizontal_adapter_resolve_time_count")).toBeGreaterThanOrEqual(3);
      expect(grew("horizontal_adapter_received_requests")).toBe(0);
    } finally {
      await node.stop();
    }
  });
});
