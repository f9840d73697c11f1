import type { Hono } from "hono";
import { LocalAdapter } from "./adapters/local.ts";
import { createRedisAdapter } from "./adapters/redis.ts";
import { createRedisClusterAdapter } from "./adapters/redis-cluster.ts";
import { createUpstashAdapter } from "./adapters/upstash.ts";
import { createNatsAdapter } from "./adapters/nats.ts";
import { FileAppStore } from "./app-stores/file.ts";
import { MemoryAppStore } from "./app-stores/memory.ts";
import type { Adapter } from "./core/adapter.ts";
import type { AppStore } from "./core/app-store.ts";
import type { CryptoProvider, Logger, MemoryStats, NativePubSub, Timers } from "./core/runtime.ts";
import { Switchboard } from "./core/server.ts";
import type { Config } from "./config/load.ts";
import { createRouter, type SocketBinding } from "./http/router.ts";
import { consoleLogger } from "./logger.ts";
import { ClusterRateLimiter } from "./rate-limiters/cluster.ts";
import { LocalRateLimiter } from "./rate-limiters/local.ts";
import { startWebhooks, type Webhooks } from "./webhooks/index.ts";

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
  /** Graceful stop: 4200 to every socket, state cleaned up, backends closed. */
  stop(): Promise<void>;
}

async function createAppStore(config: Config, platform: Platform, logger: Logger): Promise<AppStore> {
  if (config.appStoreDriver === "file") {
    const store = new FileAppStore(config.appStoreFile!, platform.readTextFile, logger, platform.timers.now);
    await store.load();
    return store;
  }
  return new MemoryAppStore(config.apps);
}

function createAdapter(config: Config, platform: Platform, logger: Logger): Adapter {
  const cluster = { prefix: config.redisPrefix, nodeTimeoutMs: config.clusterNodeTimeout * 1000, timers: platform.timers, logger };
  switch (config.adapterDriver) {
    case "local":
      return new LocalAdapter(platform.timers.now);
    case "redis":
      return createRedisAdapter({ ...cluster, url: config.redisUrl });
    case "redis-cluster":
      return createRedisClusterAdapter({ ...cluster, nodes: config.redisClusterNodes! });
    case "upstash":
      return createUpstashAdapter({ ...cluster, url: config.upstashRedisRestUrl!, token: config.upstashRedisRestToken! });
    case "nats":
      return createNatsAdapter({ ...cluster, servers: config.natsServers.split(",").map((s) => s.trim()) });
  }
}

/** The composition root shared by every runtime entrypoint. */
export async function createSwitchboard(config: Config, platform: Platform): Promise<Instance> {
  const logger = platform.logger ?? consoleLogger(config.logLevel);
  const apps = await createAppStore(config, platform, logger);
  const adapter = createAdapter(config, platform, logger);
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
  // Before start(): the adapter may announce transitions (a dead node's sweep) as it starts.
  const webhooks = await startWebhooks(config, server, logger);
  await server.start();
  const router = createRouter({
    server,
    sockets: platform.sockets,
    rateLimiter: adapter.consumeRate ? new ClusterRateLimiter(adapter, localLimiter) : localLimiter,
    memoryUsage: platform.memoryUsage,
  });
  return {
    server,
    router,
    logger,
    webhooks,
    async stop() {
      await server.shutdown();
      // After the sockets' cleanup, so their channel_vacated/member_removed are sent too.
      await webhooks.stop(platform.timers.now() + config.shutdownGracePeriodMs);
      await apps.close?.();
    },
  };
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
      `  pusher-js: new Pusher("${app.key}", { wsHost: "${host}", wsPort: ${port}, forceTLS: false, enabledTransports: ["ws"], cluster: "" })`,
    );
  } else {
    lines.push(`Apps: ${config.apps.map((a) => a.id).join(", ") || `(from ${config.appStoreDriver} store)`}`);
  }
  for (const warning of config.warnings) lines.push(`warning: ${warning}`);
  return lines;
}
