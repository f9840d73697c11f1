import type { Hono } from "hono";
import type { Adapter } from "./core/adapter.ts";
import type { CryptoProvider, Logger, MemoryStats, NativePubSub, Timers } from "./core/runtime.ts";
import { Switchboard } from "./core/server.ts";
import type { Config } from "./config/load.ts";
import { createAppStore } from "./drivers/open-app-store.ts";
import { createDriver, type DriverContext } from "./drivers/index.ts";
import { mountHealth, type HealthDeps } from "./http/health.ts";
import { createRouter, type SocketBinding } from "./http/router.ts";
import { noWebhooks, startWebhooks, type Webhooks } from "./webhooks/index.ts";
import type { WebhookQueue } from "./webhooks/queues/queue.ts";
import { consoleEnabled, createConsole, type Console } from "./console/routes.ts";
import type { RateLimiter } from "./core/rate-limiter.ts";
import { consoleLogger, effectiveLevel } from "./logging/logger.ts";
import { logEvents } from "./logging/event-log.ts";
import { measureAdapterRequests } from "./metrics/adapter-requests.ts";
import type { IpLimiter, IpLimits } from "./rate-limiters/ip/ip-limiter.ts";
import { ClusterRateLimiter } from "./rate-limiters/cluster.ts";
import { LocalRateLimiter } from "./rate-limiters/local.ts";
import { parseProxyTrust } from "./http/client-address.ts";

/** Everything a runtime entrypoint supplies. */
export interface Platform {
  name: string;
  sockets: SocketBinding;
  timers: Timers;
  crypto: CryptoProvider;
  readTextFile(path: string): Promise<string>;
  memoryUsage?(): MemoryStats;
  /** Bytes of memory the machine has (/accept-traffic). */
  totalMemory?(): number;
  pubsub?: NativePubSub;
  logger?: Logger;
  /** The host runs the liveness sweep itself (Switchboard.sweep; a Durable Object, from its alarm). */
  hostSweeps?: boolean;
  /** Wraps the chosen adapter, e.g. to mirror its cache writes into the host's storage. */
  decorateAdapter?(adapter: Adapter): Adapter;
  /** Wraps the chosen webhook queue, e.g. to keep its jobs in the host's storage. */
  decorateQueue?(queue: WebhookQueue): WebhookQueue;
}

export interface Instance {
  server: Switchboard;
  router: Hono;
  logger: Logger;
  webhooks: Webhooks;
  /**
   * The debug console: its pages only when CONSOLE_ENABLED, its cluster relay always (a node
   * without the page still feeds consoles on other nodes). Its counters are for the metrics exporter.
   */
  console: Console;
  /** The per-IP limiter, when RATE_LIMITER_ENABLED. */
  ipLimiter?: IpLimiter;
  /** Mounts /, /ready, /up, /accept-traffic and /usage on another listener (the metrics one). */
  mountHealth(app: Hono): void;
  /** Each backend's last reported health by role (adapter, apps, rate_limiter), for backend_up. */
  backends: Map<string, { driver: string; up: boolean }>;
  /**
   * Graceful stop, phase 1: /ready answers 503 while everything keeps serving, so a balancer takes
   * the node out before anything is refused (runtimes/cli.ts waits SHUTDOWN_GRACE_PERIOD_MS).
   */
  drain(): void;
  /**
   * The rest, in order: sockets closed with 4200 over SHUTDOWN_CLOSE_SPREAD_MS and cleaned up,
   * webhooks flushed, the API refused (503) and the adapter stopped, then the other backends.
   */
  stop(): Promise<void>;
}

/** Webhooks through the chosen queue (QUEUE_DRIVER), behind the host's own layer if it has one. */
async function openWebhooks(config: Config, server: Switchboard, logger: Logger, context: DriverContext, platform: Platform): Promise<Webhooks> {
  const choice = config.drivers.queue ?? { kind: "queue", name: "memory", options: {} };
  if (choice.name === "none") return noWebhooks(logger);
  const open = await createDriver("queue", choice, context);
  const opened = await open({ config, timers: server.timers, logger });
  return startWebhooks(config, server, logger, platform.decorateQueue ? platform.decorateQueue(opened) : opened, choice.name);
}

/** The composition root shared by every runtime entrypoint. */
export async function createSwitchboard(config: Config, platform: Platform): Promise<Instance> {
  const level = effectiveLevel(config);
  const logger = platform.logger ?? consoleLogger(level, config.logFormat);
  // Backends by name through the driver registry: only the chosen drivers' modules are loaded.
  const context: DriverContext = { apps: config.apps, timers: platform.timers, logger, crypto: platform.crypto, readTextFile: platform.readTextFile };
  // A database store's up/down changes reach the server's event stream once the server exists.
  let backendStatus: ((up: boolean, detail?: string) => void) | undefined;
  const apps = await createAppStore(
    { config, logger, readTextFile: platform.readTextFile, now: platform.timers.now },
    (up, detail) => backendStatus?.(up, detail),
    context,
  );
  const chosen = await createDriver("adapter", config.drivers.adapter, context);
  const adapter = platform.decorateAdapter ? platform.decorateAdapter(chosen) : chosen;
  const localLimiter = new LocalRateLimiter(platform.timers.now);
  const server = new Switchboard({
    settings: config,
    apps,
    adapter,
    timers: platform.timers,
    crypto: platform.crypto,
    logger,
    pubsub: platform.pubsub,
    hostSweeps: platform.hostSweeps,
  });
  backendStatus = (up, detail) => server.events.emit({ kind: "backend", appId: "", driver: config.drivers["app-store"].name, role: "apps", up, detail });
  if (level === "debug") logEvents(server.events, logger, { requests: !config.ignoreLoggerMiddleware });
  // Health as last reported, kept from the start so a consumer that starts later (the metrics,
  // after the listener) still knows about an outage reported before it.
  const backends = new Map<string, { driver: string; up: boolean }>([
    ["adapter", { driver: config.drivers.adapter.name, up: true }],
    ["apps", { driver: config.drivers["app-store"].name, up: true }],
  ]);
  server.events.subscribe("backends", (e) => {
    if (e.kind === "backend") backends.set(e.role, { driver: e.driver, up: e.up });
  }, ["backend"]);
  if (config.drivers.adapter.name !== "local") measureAdapterRequests(adapter, server.events, platform.timers.now);
  const ip = config.rateLimiterEnabled ? await openIpLimiter(config, context, server) : undefined;
  if (ip && !backends.has("rate_limiter")) backends.set("rate_limiter", { driver: ip.limiter.name, up: true });
  // Before start(): the adapter may announce transitions (a dead node's sweep) as it starts.
  const webhooks = await openWebhooks(config, server, logger, context, platform);
  await server.start();
  const rateLimiter = adapter.consumeRate ? new ClusterRateLimiter(adapter, localLimiter) : localLimiter;
  const debugConsole = consoleFor(config, server, rateLimiter, logger);
  const health: HealthDeps = {
    server, memoryUsage: platform.memoryUsage, totalMemory: platform.totalMemory, acceptTrafficThreshold: config.httpAcceptTrafficMemoryThreshold,
  };
  const router = createRouter({
    server,
    sockets: platform.sockets,
    rateLimiter,
    health,
    extend: (app, peer) => {
      if (consoleEnabled(config)) debugConsole.mount(app, peer);
    },
    cors: {
      origins: list(config.corsOrigins),
      methods: list(config.corsMethods),
      headers: list(config.corsHeaders),
      credentials: config.corsCredentials,
    },
    ipLimits: ip,
    trustProxy: parseProxyTrust(config.trustProxy),
  });
  return {
    server,
    router,
    logger,
    webhooks,
    console: debugConsole,
    ipLimiter: ip?.limiter,
    backends,
    mountHealth: (app) => mountHealth(app, health),
    drain: () => server.drain(),
    async stop() {
      await server.closeSockets();
      // After the sockets' cleanup, so their channel_vacated/member_removed are sent too.
      await webhooks.stop(platform.timers.now() + config.shutdownGracePeriodMs);
      debugConsole.stop();
      // The adapter last: until it goes, what the API answers 2xx is delivered.
      await server.stop();
      await apps.close?.();
      await ip?.limiter.close?.();
    },
  };
}

/** The debug console; its routes are mounted only when it is on (docs/console.md). */
function consoleFor(config: Config, server: Switchboard, rateLimiter: RateLimiter, logger: Logger): Console {
  if (consoleEnabled(config)) logger.debug(`console: on at ${config.pathPrefix}/console (operator token ${config.consoleToken ? "set" : "not set"})`);
  return createConsole({
    server,
    rateLimiter,
    token: config.consoleToken || undefined,
    sessionHours: config.consoleSessionHours,
    bufferEvents: config.consoleBufferEvents,
    clusterEventsPerSecond: config.consoleClusterEventsPerSecond,
  });
}

const list = (value: string) => value.split(",").map((s) => s.trim()).filter(Boolean);

/** The RATE_LIMITER_DRIVER store and its limits; its health changes reach the event stream. */
async function openIpLimiter(config: Config, context: DriverContext, server: Switchboard): Promise<{ limiter: IpLimiter; limits: IpLimits }> {
  const choice = config.drivers["rate-limiter"] ?? { kind: "rate-limiter" as const, name: "memory", options: {} };
  const limiter = await createDriver("rate-limiter", choice, context);
  limiter.watch?.((up, detail) => server.events.emit({ kind: "backend", appId: "", driver: limiter.name, role: "rate_limiter", up, detail }));
  const o = choice.options as { rateLimiterApiMaxRequests?: number; rateLimiterApiWindowSeconds?: number; rateLimiterWsMaxConnections?: number; rateLimiterWsWindowSeconds?: number };
  return {
    limiter,
    limits: {
      api: { max: o.rateLimiterApiMaxRequests ?? 100, windowMs: (o.rateLimiterApiWindowSeconds ?? 60) * 1000 },
      websocket: { max: o.rateLimiterWsMaxConnections ?? 20, windowMs: (o.rateLimiterWsWindowSeconds ?? 60) * 1000 },
    },
  };
}

/** One line naming the backend chosen for each kind, for the start-up log. */
function driverLine(config: Config): string {
  const store = config.drivers["app-store"].name;
  // The app cache only sits in front of a database store; the IP limiter only runs when enabled.
  const unused = new Set([...(store === "memory" || store === "file" ? ["cache"] : []), ...(config.rateLimiterEnabled ? [] : ["rate-limiter"])]);
  const parts = Object.values(config.drivers).filter((d) => d !== undefined && !unused.has(d.kind)).map((d) => `${d!.kind}=${d!.name}`);
  if (!config.rateLimiterEnabled) parts.push("per-IP rate limits off");
  return `drivers: ${parts.join(", ")}`;
}

/** The start-up banner; prints development credentials so a fresh `npm start` is usable. */
export function startupLines(config: Config, runtime: string, port: number): string[] {
  const host = config.bindAddress === "0.0.0.0" ? "127.0.0.1" : config.bindAddress;
  const scheme = config.sslEnabled ? "https/wss" : "http/ws";
  const lines = [`Switchboard (${runtime}) listening on ${config.bindAddress}:${port}${config.pathPrefix} (${scheme})`];
  if (config.devApp) {
    const app = config.apps[0]!;
    lines.push(
      "No app configured: created a development app with random credentials (set APP_ID, APP_KEY and APP_SECRET to fix them):",
      `  app_id=${app.id} key=${app.key} secret=${app.secret}`,
      config.sslEnabled
        ? `  pusher-js: new Pusher("${app.key}", { wsHost: "${host}", wssPort: ${port}, forceTLS: true, enabledTransports: ["ws", "wss"], cluster: "" })`
        : `  pusher-js: new Pusher("${app.key}", { wsHost: "${host}", wsPort: ${port}, forceTLS: false, enabledTransports: ["ws", "wss"], cluster: "" })`,
    );
  } else {
    lines.push(`Apps: ${config.apps.map((a) => a.id).join(", ") || `(from the ${config.drivers["app-store"].name} app store)`}`);
  }
  if (consoleEnabled(config)) lines.push(`  debug console: http://${host}:${port}${config.pathPrefix}/console`);
  lines.push(driverLine(config));
  for (const warning of config.warnings) lines.push(`warning: ${warning}`);
  return lines;
}
