import type { Hono } from "hono";
import type { CryptoProvider, Logger, MemoryStats, NativePubSub, Timers } from "./core/runtime.ts";
import { Switchboard } from "./core/server.ts";
import type { Config } from "./config/load.ts";
import { createAppStore } from "./app-stores/index.ts";
import { createDriver, type DriverContext } from "./drivers/index.ts";
import { createRouter, type SocketBinding } from "./http/router.ts";
import { startWebhooks, type Webhooks } from "./webhooks/index.ts";
import { consoleEnabled, createConsole, type Console } from "./console/routes.ts";
import { consoleLogger } from "./logger.ts";
import type { RateLimiter } from "./core/rate-limiter.ts";
import { ClusterRateLimiter } from "./rate-limiters/cluster.ts";
import { LocalRateLimiter } from "./rate-limiters/local.ts";

/** Everything a runtime entrypoint supplies. */
export interface Platform {
  name: string;
  sockets: SocketBinding;
  timers: Timers;
  crypto: CryptoProvider;
  readTextFile(path: string): Promise<string>;
  memoryUsage?(): MemoryStats;
  pubsub?: NativePubSub;
  logger?: Logger;
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
  /** Graceful stop: 4200 to every socket, state cleaned up, backends closed. */
  stop(): Promise<void>;
}

/** The composition root shared by every runtime entrypoint. */
export async function createSwitchboard(config: Config, platform: Platform): Promise<Instance> {
  const logger = platform.logger ?? consoleLogger(config.logLevel);
  // Backends by name through the driver registry: only the chosen drivers' modules are loaded.
  const context: DriverContext = { apps: config.apps, timers: platform.timers, logger, crypto: platform.crypto, readTextFile: platform.readTextFile };
  // A database store's up/down changes reach the server's event stream once the server exists.
  let backendStatus: ((up: boolean, detail?: string) => void) | undefined;
  const apps = await createAppStore(
    { config, logger, readTextFile: platform.readTextFile, now: platform.timers.now },
    (up, detail) => backendStatus?.(up, detail),
    context,
  );
  const adapter = await createDriver("adapter", config.drivers.adapter, context);
  const localLimiter = new LocalRateLimiter(platform.timers.now);
  const server = new Switchboard({
    settings: config,
    apps,
    adapter,
    timers: platform.timers,
    crypto: platform.crypto,
    logger,
    pubsub: platform.pubsub,
  });
  backendStatus = (up, detail) => server.events.emit({ kind: "backend", appId: "", driver: config.drivers["app-store"].name, role: "apps", up, detail });
  // Before start(): the adapter may announce transitions (a dead node's sweep) as it starts.
  const webhooks = await startWebhooks(config, server, logger, context);
  await server.start();
  const rateLimiter = adapter.consumeRate ? new ClusterRateLimiter(adapter, localLimiter) : localLimiter;
  const debugConsole = consoleFor(config, server, rateLimiter, logger);
  const router = createRouter({
    server,
    sockets: platform.sockets,
    rateLimiter,
    memoryUsage: platform.memoryUsage,
    extend: (app) => {
      if (consoleEnabled(config)) debugConsole.mount(app);
    },
  });
  return {
    server,
    router,
    logger,
    webhooks,
    console: debugConsole,
    async stop() {
      debugConsole.stop();
      await server.shutdown();
      // After the sockets' cleanup, so their channel_vacated/member_removed are sent too.
      await webhooks.stop(platform.timers.now() + config.shutdownGracePeriodMs);
      await apps.close?.();
    },
  };
}

/** The debug console; its routes are mounted only when it is on (README "Debug console"). */
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

/** The start-up banner; prints development credentials so a fresh `npm start` is usable. */
export function startupLines(config: Config, runtime: string, port: number): string[] {
  const host = config.bindAddress === "0.0.0.0" ? "127.0.0.1" : config.bindAddress;
  const lines = [`Switchboard (${runtime}) listening on ${config.bindAddress}:${port}${config.pathPrefix}`];
  if (config.devApp) {
    const app = config.apps[0]!;
    lines.push(
      "No app configured: created a development app with random credentials (set APP_ID, APP_KEY and APP_SECRET to fix them):",
      `  app_id=${app.id} key=${app.key} secret=${app.secret}`,
      `  pusher-js: new Pusher("${app.key}", { wsHost: "${host}", wsPort: ${port}, forceTLS: false, enabledTransports: ["ws", "wss"], cluster: "" })`,
    );
  } else {
    lines.push(`Apps: ${config.apps.map((a) => a.id).join(", ") || `(from the ${config.drivers["app-store"].name} app store)`}`);
  }
  if (consoleEnabled(config)) lines.push(`  debug console: http://${host}:${port}${config.pathPrefix}/console`);
  for (const warning of config.warnings) lines.push(`warning: ${warning}`);
  return lines;
}
