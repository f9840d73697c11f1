import { Hono, type Context, type MiddlewareHandler } from "hono";
import type { GetConnInfo } from "hono/conninfo";
import { cors } from "hono/cors";
import { ClusterUnavailableError } from "../core/adapter.ts";
import type { RateLimiter } from "../core/rate-limiter.ts";
import type { SocketHandle, Switchboard } from "../core/server.ts";
import { authenticate, type ApiRequest } from "./authenticate.ts";
import { channelUsers, listChannels, showChannel } from "./channels.ts";
import { clientAddress, isSecureRequest, NO_PROXY, type ProxyTrust, type RequestPeer } from "./client-address.ts";
import { HttpError, jsonError, jsonBody } from "./errors.ts";
import { mountHealth, type HealthDeps } from "./health.ts";
import { observeRequests } from "./observe.ts";
import { triggerBatch, triggerEvent } from "./publish.ts";
import { apiLimit, websocketLimit, type IpLimiting } from "./rate-limits.ts";
import { terminateUser } from "./terminate-user.ts";

/**
 * How a runtime attaches its WebSocket implementation to the shared router. The router checks
 * the request and asks the core for the socket's handle; the runtime upgrades and then drives
 * the handle itself: `open` with its RawSocket, `message` with each frame's text (binary frames
 * decoded as UTF-8 too), `alive` on ping/pong control frames, `close` once. Nothing from `c`
 * (Hono's Context, the Request) may outlive the upgrade: it would be kept once per socket.
 */
export interface SocketBinding {
  /**
   * The response Hono answers the upgrade with; undefined if the request cannot be upgraded.
   * Synchronous, so an upgrade is routed without an async dispatch (see the routes below).
   */
  upgrade(c: Context, handle: SocketHandle): Response | undefined;
  /**
   * Hono's connection info for the runtime (`getConnInfo` of @hono/node-server/conninfo, hono/deno,
   * hono/bun): the TCP peer, which the one client-address function starts from (TRUST_PROXY).
   */
  connInfo: GetConnInfo;
}

/** CORS on the HTTP API and pages (CORS_* settings); never on the WebSocket endpoint. */
export interface CorsSettings {
  origins: string[];
  methods: string[];
  headers: string[];
  credentials: boolean;
}

export interface RouterOptions {
  server: Switchboard;
  sockets: SocketBinding;
  rateLimiter: RateLimiter;
  /** What /usage and /accept-traffic report; without it they know only the connection count. */
  health?: Omit<HealthDeps, "server">;
  cors?: CorsSettings;
  /** Per-IP limits; absent when RATE_LIMITER_ENABLED is off. */
  ipLimits?: IpLimiting;
  /** Which X-Forwarded-For entries count (TRUST_PROXY). */
  trustProxy?: ProxyTrust;
  /** Extra routes (e.g. the console) mounted by the composition root. */
  extend?: (app: Hono, peer: RequestPeer) => void;
}

/** Headers a browser script may read from an API answer (the limits it ran into). */
const EXPOSED = ["Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"];

function corsMiddleware(settings: CorsSettings): MiddlewareHandler {
  const any = settings.origins.includes("*");
  return cors({
    // With credentials a browser refuses "*": the request's own origin is echoed instead.
    origin: any ? (settings.credentials ? (origin) => origin : "*") : settings.origins,
    allowMethods: settings.methods,
    allowHeaders: settings.headers,
    exposeHeaders: EXPOSED,
    credentials: settings.credentials,
    maxAge: 600,
  });
}

const NOT_A_PAGE =
  "This is a Pusher WebSocket endpoint: connect with a Pusher client such as pusher-js (wsHost/wsPort set to this server), not with a browser or plain HTTP";

const isUpgrade = (c: Context) => c.req.header("upgrade")?.toLowerCase() === "websocket";

/** One Hono router for every runtime: the Pusher WebSocket endpoint and the HTTP API. */
export function createRouter(options: RouterOptions): Hono {
  const { server, sockets, rateLimiter } = options;
  const prefix = server.settings.pathPrefix.replace(/\/+$/, "");
  const root = new Hono();
  const app = prefix ? root.basePath(prefix) : root;

  const trustProxy = options.trustProxy ?? NO_PROXY;
  const fromSocket = (c: Context) => sockets.connInfo(c).remote.address;
  const address = (c: Context) => clientAddress(c, fromSocket(c), trustProxy);
  const peer: RequestPeer = { address, secure: (c) => isSecureRequest(c, fromSocket(c), trustProxy) };
  const ip = options.ipLimits;

  /** Only what the handshake checks is taken from the request; the handle keeps nothing else. */
  const websocket = (c: Context, appKey: string | undefined) =>
    sockets.upgrade(
      c,
      server.accept({ appKey, protocol: c.req.query("protocol") ?? null, origin: c.req.header("origin") ?? null }),
    );

  // The only route matching an upgrade, and synchronous: Hono then answers from fetch() at once
  // instead of through an async dispatch that holds the request and its context across turns
  // (bench, Bun: ~0.3 KB less RSS per idle connection at 5000). So no middleware matches this
  // path: CORS, request metrics and the API limit are mounted on the other paths only. The
  // per-IP connection limit is checked here, synchronously with the memory store; a Redis store
  // makes only limited deployments pay for the async dispatch.
  // A plain GET (a browser, curl) learns what the path is for instead of a bare 404.
  if (!ip) {
    app.get("/app/:key", (c, next) =>
      isUpgrade(c) ? websocket(c, c.req.param("key")) || next() : jsonError(426, NOT_A_PAGE, { upgrade: "websocket" }));
  } else app.get("/app/:key", (c): Response | Promise<Response> => {
    if (!isUpgrade(c)) return jsonError(426, NOT_A_PAGE, { upgrade: "websocket" });
    const refused = websocketLimit(ip, address(c), server.events);
    // (A request the runtime cannot upgrade gets the 404 that next() would have led to.)
    const proceed = (r: Response | undefined) => r ?? websocket(c, c.req.param("key")) ?? jsonError(404, "Not found");
    return refused instanceof Promise ? refused.then(proceed) : proceed(refused);
  });

  // Measured first, so a preflight and a 429 are counted and logged too; CORS before the limit,
  // so a browser can read the 429.
  const http: MiddlewareHandler[] = [observeRequests(server.events, () => server.timers.now(), address)];
  if (options.cors) http.push(corsMiddleware(options.cors));
  for (const path of ["/", "/ready", "/up", "/up/*", "/usage", "/accept-traffic"]) app.use(path, ...http);
  app.use("/apps/*", ...http, ...(ip ? [apiLimit(ip, address, server.events)] : []));

  const api = (handler: (req: ApiRequest, c: Context) => unknown | Promise<unknown>, publishes = false) => async (c: Context) => {
    const req = await authenticate(server, c);
    // Refused (503) once the node is stopping; admitted work holds the adapter's stop back.
    if (publishes && server.stopper.refusesApi) server.events.emit({ kind: "api_publish_refused", appId: req.app.id, reason: "shutting_down", detail: "the node is stopping" });
    const result = await server.admit(async () => handler(req, c));
    // With its length, so the request metrics need not measure the body again.
    return jsonBody(result, 200, req.headers);
  };
  app.post("/apps/:appId/events", api((req) => triggerEvent(server, rateLimiter, req), true));
  app.post("/apps/:appId/batch_events", api((req) => triggerBatch(server, rateLimiter, req), true));
  app.get("/apps/:appId/channels", api((req) => listChannels(server, rateLimiter, req)));
  app.get("/apps/:appId/channels/:channel", api((req, c) => showChannel(server, rateLimiter, req, c)));
  app.get("/apps/:appId/channels/:channel/users", api((req, c) => channelUsers(server, rateLimiter, req, c)));
  app.post("/apps/:appId/users/:userId/terminate_connections", api((req, c) => terminateUser(server, req, c)));

  mountHealth(app, { ...options.health, server });
  options.extend?.(app, peer);

  // Upgrades on any other path still complete, then close with 4005 (spec §1.2 check 1). The
  // not-found handler is the root's, so paths outside the prefix are covered too.
  // The 404 carries the CORS headers too, so browser code can read it (a middleware on every path
  // would also match the upgrade route, which must stay synchronous, see above).
  const notFoundCors = options.cors ? corsMiddleware(options.cors) : undefined;
  root.notFound((c) => {
    const upgraded = c.req.method === "GET" && isUpgrade(c) && websocket(c, undefined);
    if (upgraded) return upgraded;
    if (!notFoundCors) return jsonError(404, "Not found");
    return (async () => (await notFoundCors(c, async () => void (c.res = jsonError(404, "Not found")))) ?? c.res)();
  });
  root.onError((error, c) => {
    if (error instanceof HttpError) return jsonError(error.status, error.message, error.headers);
    // A read or a publish the cluster backend could not serve: the adapter logged and counted it.
    if (error instanceof ClusterUnavailableError) {
      server.logger.debug("HTTP API: cluster backend unavailable", { method: c.req.method, path: c.req.path, error: error.message });
      return jsonError(503, error.message, { "Retry-After": String(error.retryAfterSeconds) });
    }
    server.logger.error("HTTP API request failed", { method: c.req.method, path: c.req.path, error });
    return jsonError(500, "Internal server error");
  });
  return root;
}
