import { Hono, type Context } from "hono";
import type { UpgradeWebSocket, WSContext } from "hono/ws";
import type { RateLimiter } from "../core/rate-limiter.ts";
import type { MemoryStats, RawSocket } from "../core/runtime.ts";
import type { SocketHandle, Switchboard } from "../core/server.ts";
import { authenticate, channelUsers, listChannels, showChannel, terminateUser, triggerBatch, triggerEvent, type ApiRequest } from "./api.ts";
import { HttpError, jsonError } from "./errors.ts";

/** How a runtime attaches its WebSocket implementation to the shared router. */
export interface SocketBinding {
  // deno-lint-ignore no-explicit-any
  upgradeWebSocket: UpgradeWebSocket<any, any>;
  /** Builds the core's socket from the runtime's; `handle.alive` is for pong control frames. */
  // deno-lint-ignore no-explicit-any
  wrapSocket(ws: WSContext<any>, handle: SocketHandle): RawSocket;
}

export interface RouterOptions {
  server: Switchboard;
  sockets: SocketBinding;
  rateLimiter: RateLimiter;
  memoryUsage?: () => MemoryStats;
  /** Extra routes (e.g. /metrics) mounted by the composition root. */
  extend?: (app: Hono) => void;
}

const decoder = new TextDecoder();

function messageText(data: unknown): string | undefined {
  if (typeof data === "string") return data;
  if (data instanceof ArrayBuffer) return decoder.decode(data);
  if (ArrayBuffer.isView(data)) return decoder.decode(data);
  return undefined;
}

/** One Hono router for every runtime: the Pusher WebSocket endpoint and the HTTP API. */
export function createRouter(options: RouterOptions): Hono {
  const { server, sockets, rateLimiter } = options;
  const prefix = server.settings.pathPrefix.replace(/\/+$/, "");
  const root = new Hono();
  const app = prefix ? root.basePath(prefix) : root;

  const websocket = (appKey: string | undefined) =>
    sockets.upgradeWebSocket((c: Context) => {
      const handle = server.accept({
        appKey,
        protocol: c.req.query("protocol") ?? null,
        origin: c.req.header("origin") ?? null,
      });
      return {
        onOpen: (_event: Event, ws: WSContext) => handle.open(sockets.wrapSocket(ws, handle)),
        onMessage: (event: MessageEvent) => {
          const text = messageText(event.data);
          if (text !== undefined) handle.message(text);
        },
        onClose: () => handle.close(),
        onError: () => handle.close(),
      };
    });

  app.get("/app/:key", (c, next) => websocket(c.req.param("key"))(c, next));

  const api = (handler: (req: ApiRequest, c: Context) => unknown | Promise<unknown>) => async (c: Context) => {
    const req = await authenticate(server, c);
    const result = await handler(req, c);
    return c.json(result as object, 200, req.headers);
  };
  app.post("/apps/:appId/events", api((req) => triggerEvent(server, rateLimiter, req)));
  app.post("/apps/:appId/batch_events", api((req) => triggerBatch(server, rateLimiter, req)));
  app.get("/apps/:appId/channels", api((req) => listChannels(server, rateLimiter, req)));
  app.get("/apps/:appId/channels/:channel", api((req, c) => showChannel(server, rateLimiter, req, c)));
  app.get("/apps/:appId/channels/:channel/users", api((req, c) => channelUsers(server, rateLimiter, req, c)));
  app.post("/apps/:appId/users/:userId/terminate_connections", api((req, c) => terminateUser(server, req, c)));

  app.get("/", (c) => c.text("OK"));
  app.get("/ready", (c) => (server.isShuttingDown ? c.json({ ready: false }, 503) : c.json({ ready: true })));
  app.get("/up", (c) => (server.isShuttingDown ? c.json({ error: "Shutting down" }, 503) : c.json({ ok: true })));
  app.get("/up/:appId", async (c) => {
    const found = await server.apps.findById(c.req.param("appId"));
    if (!found) return jsonError(404, "Unknown app id");
    if (!found.enabled) return jsonError(403, "Application disabled");
    return server.isShuttingDown ? jsonError(503, "Shutting down") : c.json({ ok: true });
  });
  app.get("/usage", (c) => {
    const memory = options.memoryUsage?.();
    return c.json({ memory: memory ?? null, connections: server.connectionCount });
  });
  options.extend?.(app);

  // Upgrades on any other path still complete, then close with 4005 (spec §1.2 check 1).
  // On root, not under the prefix, so paths outside the prefix are covered too.
  root.get("*", async (c, next) => {
    if (c.req.header("upgrade")?.toLowerCase() === "websocket") {
      const upgraded = await websocket(undefined)(c, next);
      if (upgraded) return upgraded;
    }
    return jsonError(404, "Not found");
  });
  root.notFound(() => jsonError(404, "Not found"));
  root.onError((error) => {
    if (error instanceof HttpError) return jsonError(error.status, error.message, error.headers);
    server.logger.error("HTTP API request failed", error);
    return jsonError(500, "Internal server error");
  });
  return root;
}
