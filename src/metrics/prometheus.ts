// Prometheus metrics (docs/operating.md, Metrics): series named as Soketi and Sockudo name them, behind
// METRICS_PREFIX, fed by the server's event stream. Counting stays off the per-socket path: a
// broadcast arrives as one event carrying its recipient count; gauges (connected, channels,
// presence members) and the webhook and app-cache counters are read when Prometheus scrapes.
import type { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ServerEvent, ServerEventKind } from "../core/events.ts";
import type { Switchboard } from "../core/server.ts";
import type { WebhookStats } from "../webhooks/stats.ts";
import type { CachedStoreStats } from "../app-stores/cached.ts";

export interface MetricsSources {
  server: Switchboard;
  webhooks: { stats: WebhookStats };
  /** The main listener's port: the `port` label, as the peers set it. */
  port: number;
  prefix: string;
  /** Apps known at start: their series exist (at 0) before any traffic. */
  appIds: string[];
  /** Each backend's last reported health by role (Instance.backends). */
  backends: ReadonlyMap<string, { driver: string; up: boolean }>;
}

export interface Metrics {
  render(): Promise<string>;
  readonly contentType: string;
  stop(): void;
}

/** Milliseconds: a Redis or NATS round trip is ~1 ms on a LAN; past seconds something is wrong. */
const RESOLVE_BUCKETS = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];

const KINDS: ServerEventKind[] = [
  "connection_opened", "connection_closed", "connection_refused", "broadcast", "message_received",
  "http_request", "adapter_request", "rate_limited", "subscription_refused", "api_publish_refused", "api_publish_duplicate",
];

type Labels = { app_id: string; port: string };

/** Per-app series children, made once per app so an event costs a Map lookup and an add. */
interface AppSeries {
  newConnections: { inc(n?: number): void };
  disconnections: { inc(n?: number): void };
  sent: { inc(n?: number): void };
  received: { inc(n?: number): void };
  bytesOut: { inc(n?: number): void };
  bytesIn: { inc(n?: number): void };
  httpCalls: { inc(n?: number): void };
  httpOut: { inc(n?: number): void };
  httpIn: { inc(n?: number): void };
  resolveTime: { observe(ms: number): void };
  resolved: { inc(n?: number): void };
  uncomplete: { inc(n?: number): void };
  sentRequests: { inc(n?: number): void };
  responses: { inc(n?: number): void };
}

export async function createMetrics(sources: MetricsSources): Promise<Metrics> {
  const client = await import("prom-client");
  const { server, prefix } = sources;
  const port = String(sources.port);
  const registry: Registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix });
  const registers = [registry];
  const A = ["app_id", "port"] as const;
  const counter = (name: string, help: string, labelNames: readonly string[] = A) =>
    new client.Counter({ name: `${prefix}${name}`, help, labelNames, registers });
  const gauge = (name: string, help: string, labelNames: readonly string[] = A, collect?: (this: Gauge) => void) =>
    new client.Gauge({ name: `${prefix}${name}`, help, labelNames, registers, collect });

  const s = {
    newConnections: counter("new_connections_total", "WebSocket connections established (after the handshake)"),
    disconnections: counter("new_disconnections_total", "WebSocket connections closed after being established"),
    sent: counter("ws_messages_sent_total", "Messages sent to sockets by broadcasts (a broadcast counts once per recipient)"),
    received: counter("ws_messages_received_total", "Messages received from sockets"),
    bytesOut: counter("socket_transmitted_bytes", "Bytes sent to sockets by broadcasts"),
    bytesIn: counter("socket_received_bytes", "Bytes received from sockets"),
    httpCalls: counter("http_calls_received_total", "HTTP requests answered (API, health and pages)"),
    httpOut: counter("http_transmitted_bytes", "HTTP response bytes (Content-Length)"),
    httpIn: counter("http_received_bytes", "HTTP request bytes (Content-Length)"),
    resolveTime: new client.Histogram({
      name: `${prefix}horizontal_adapter_resolve_time`, help: "Milliseconds a cluster-wide query of the adapter's backend took",
      labelNames: A, buckets: RESOLVE_BUCKETS, registers,
    }),
    resolved: counter("horizontal_adapter_resolved_promises", "Cluster-wide queries that finished (answered or failed)"),
    uncomplete: counter("horizontal_adapter_uncomplete_promises", "Cluster-wide queries that failed or timed out"),
    sentRequests: counter("horizontal_adapter_sent_requests", "Cluster-wide queries sent to the adapter's backend"),
    receivedRequests: counter("horizontal_adapter_received_requests", "Queries other nodes sent this node (0: our adapters keep cluster state in the backend)"),
    responses: counter("horizontal_adapter_received_responses", "Answers received to cluster-wide queries"),
  };
  const refused = counter("connection_refusals_total", "WebSocket handshakes refused, by close code", [...A, "code"]);
  const subscriptionRefused = counter("subscription_refusals_total", "Subscriptions refused, by error type", [...A, "type"]);
  const limited = counter("rate_limited_total", "Requests or messages refused by a rate limit, by scope", [...A, "scope"]);
  const publishRefused = counter("api_publishes_refused_total",
    "API publishes not done: unavailable (cluster backend away: 503), in_progress (same idempotency key: 409) or shutting_down (node stopping: 503)", [...A, "reason"]);
  const publishDuplicates = counter("api_publish_duplicates_total", "API publishes answered as duplicates of an idempotency key delivered before");

  const gauges = () => server.registry.appGauges();
  let snapshot: ReturnType<typeof gauges> | undefined;
  // The three gauges read one walk of the registry per scrape (the first collect makes it).
  const read = () => (snapshot ??= gauges());
  const perApp = (pick: (g: { sockets: number; channels: number; presenceMembers: number }) => number) =>
    function (this: Gauge) {
      this.reset();
      for (const id of known.keys()) this.set({ app_id: id, port }, 0);
      for (const [id, g] of read()) this.set({ app_id: id, port }, pick(g));
    };
  gauge("connected", "Open WebSocket connections on this node", A, perApp((g) => g.sockets));
  gauge("occupied_channels", "Channels with a subscriber on this node", A, perApp((g) => g.channels));
  gauge("presence_members", "Distinct members of presence channels on this node (summed over channels)", A, perApp((g) => g.presenceMembers));

  const P = ["port"] as const;
  const stats = sources.webhooks.stats;
  const fromStats = (name: string, help: string, value: () => number) =>
    new client.Counter({
      name: `${prefix}${name}`, help, labelNames: P, registers,
      collect(this: Counter) {
        this.reset();
        this.inc({ port }, value());
      },
    });
  fromStats("webhook_sent_total", "Webhook bodies delivered (2xx or successful invocation)", () => stats.sent);
  fromStats("webhook_events_sent_total", "Events carried by delivered webhook bodies", () => stats.eventsSent);
  fromStats("webhook_failures_total", "Failed webhook delivery attempts", () => stats.failures);
  fromStats("webhook_retries_total", "Webhook deliveries scheduled again after a failure", () => stats.retries);
  fromStats("webhook_dead_letters_total", "Webhook bodies given up on", () => stats.deadLetters);
  fromStats("webhook_queued_total", "Webhook jobs handed to the queue", () => stats.queued);
  new client.Gauge({
    name: `${prefix}webhook_queue_depth`, help: "Webhook jobs waiting in the queue", labelNames: P, registers,
    async collect(this: Gauge) {
      this.set({ port }, await stats.depth().catch(() => -1));
    },
  });

  const cache = (server.apps as { stats?: CachedStoreStats }).stats;
  fromStats("app_cache_hits_total", "App lookups answered by the app cache", () => cache?.cacheHits ?? 0);
  fromStats("app_cache_misses_total", "App lookups the app cache could not answer", () => cache?.cacheMisses ?? 0);

  gauge("backend_up", "1 while a backend answers, 0 while it is down (as last reported)", ["driver", "role", "port"], function (this: Gauge) {
    this.reset();
    for (const [role, b] of sources.backends) this.set({ driver: b.driver, role, port }, b.up ? 1 : 0);
  });

  const known = new Map<string, AppSeries>();
  const of = (appId: string): AppSeries => {
    let series = known.get(appId);
    if (series) return series;
    const labels: Labels = { app_id: appId, port };
    // Every series of the app exists from its first event, at 0 until something happens.
    for (const c of [s.newConnections, s.disconnections, s.sent, s.received, s.bytesOut, s.bytesIn, s.httpCalls, s.httpOut, s.httpIn,
      s.resolved, s.uncomplete, s.sentRequests, s.receivedRequests, s.responses]) c.inc(labels, 0);
    (s.resolveTime as Histogram).zero(labels);
    series = {
      newConnections: s.newConnections.labels(labels),
      disconnections: s.disconnections.labels(labels),
      sent: s.sent.labels(labels),
      received: s.received.labels(labels),
      bytesOut: s.bytesOut.labels(labels),
      bytesIn: s.bytesIn.labels(labels),
      httpCalls: s.httpCalls.labels(labels),
      httpOut: s.httpOut.labels(labels),
      httpIn: s.httpIn.labels(labels),
      resolveTime: s.resolveTime.labels(labels),
      resolved: s.resolved.labels(labels),
      uncomplete: s.uncomplete.labels(labels),
      sentRequests: s.sentRequests.labels(labels),
      responses: s.responses.labels(labels),
    };
    known.set(appId, series);
    return series;
  };
  for (const id of sources.appIds) of(id);

  const consume = (e: ServerEvent): void => {
    switch (e.kind) {
      case "broadcast": {
        const a = of(e.appId);
        a.sent.inc(e.sockets);
        a.bytesOut.inc(e.bytes * e.sockets);
        return;
      }
      case "message_received": {
        const a = of(e.appId);
        a.received.inc();
        a.bytesIn.inc(e.bytes);
        return;
      }
      case "connection_opened":
        return of(e.appId).newConnections.inc();
      case "connection_closed":
        return of(e.appId).disconnections.inc();
      case "connection_refused":
        return refused.inc({ app_id: e.appId, port, code: String(e.code) });
      case "subscription_refused":
        return subscriptionRefused.inc({ app_id: e.appId, port, type: e.type });
      case "http_request": {
        const a = of(e.appId);
        a.httpCalls.inc();
        a.httpIn.inc(e.bytesIn);
        a.httpOut.inc(e.bytesOut);
        return;
      }
      case "adapter_request": {
        const a = of(e.appId);
        a.sentRequests.inc();
        a.resolved.inc();
        a.resolveTime.observe(e.ms);
        if (e.ok) a.responses.inc();
        else a.uncomplete.inc();
        return;
      }
      case "rate_limited":
        return limited.inc({ app_id: e.appId, port, scope: e.scope });
      case "api_publish_refused":
        return publishRefused.inc({ app_id: e.appId, port, reason: e.reason });
      case "api_publish_duplicate":
        return publishDuplicates.inc({ app_id: e.appId, port });
    }
  };
  const unsubscribe = server.events.subscribe("metrics", consume, KINDS);

  return {
    contentType: registry.contentType,
    async render() {
      snapshot = undefined;
      try {
        return await registry.metrics();
      } finally {
        snapshot = undefined;
      }
    },
    stop: unsubscribe,
  };
}
