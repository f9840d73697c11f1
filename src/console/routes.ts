import type { Context, Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";
import { streamSSE } from "hono/streaming";
import { classifyChannel, isValidChannelName } from "../core/channels.ts";
import type { RateLimiter } from "../core/rate-limiter.ts";
import type { Switchboard } from "../core/server.ts";
import { parseJsonBody, readBody } from "../http/body.ts";
import type { RequestPeer } from "../http/client-address.ts";
import { HttpError } from "../http/errors.ts";
import { triggerEvent } from "../http/publish.ts";
import { CONSOLE_CSS, CONSOLE_HTML, CONSOLE_JS } from "./assets/index.ts";
import { describe, requirePageOrigin, session, signIn, signOut, viewedApp, type AuthDeps } from "./auth.ts";
import { FailureGuard } from "./guard.ts";
import { ConsoleHub } from "./hub.ts";
import { Revocations } from "./revocations.ts";
import { ConsoleStats } from "./stats.ts";

// The debug console's routes, mounted under the router's PATH_PREFIX through its `extend` option:
// the page and its two assets (embedded strings: the single binary has no files to serve), the
// session, a server-sent event stream per browser, presence members, and the trigger form.

export interface ConsoleOptions {
  server: Switchboard;
  rateLimiter: RateLimiter;
  /** CONSOLE_TOKEN. */
  token: string | undefined;
  sessionHours: number;
  bufferEvents: number;
  clusterEventsPerSecond: number;
}

export interface Console {
  readonly stats: ConsoleStats;
  /** Mounts the pages and API; `peer` tells who sent a request (the router's, TRUST_PROXY included). */
  mount(app: Hono, peer: RequestPeer): void;
  stop(): void;
}

/** Operators pick an app from this list; bounded because a database store may hold many. */
const MAX_LISTED_APPS = 1000;
/** A comment line on an idle stream keeps proxies from closing it and notices a gone browser. */
const KEEPALIVE_MS = 15_000;
const TRIGGER_BODY_LIMIT_KB = 1024;

/**
 * On every console answer. script-src 'self': the page runs only console.js, so an event's text
 * shown in the page can never run as script even if escaping failed somewhere. No HSTS: the
 * console shares its host with the API and is often served over plain HTTP in development, so
 * pinning HTTPS (for subdomains too) is the operator's call, not a debug page's.
 */
const consoleHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    connectSrc: ["'self'"],
    imgSrc: ["'self'", "data:"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
  },
  referrerPolicy: "no-referrer",
  xFrameOptions: "DENY",
  strictTransportSecurity: false,
});

/** CONSOLE_ENABLED=auto (the default) turns the console on for the development app only. */
export function consoleEnabled(config: { consoleEnabled: "auto" | boolean; devApp: boolean }): boolean {
  return config.consoleEnabled === "auto" ? config.devApp : config.consoleEnabled;
}

export function createConsole(o: ConsoleOptions): Console {
  const { server } = o;
  const stats = new ConsoleStats();
  const revocations = new Revocations(() => server.timers.now());
  const hub = new ConsoleHub(server, { bufferEvents: o.bufferEvents, eventsPerSecond: o.clusterEventsPerSecond }, stats, revocations);
  const prefix = server.settings.pathPrefix.replace(/\/+$/, "");
  const shared: Omit<AuthDeps, "peer"> = {
    server,
    revoked: (id) => revocations.has(id),
    revoke: (id, until) => hub.revoke(id, until),
    token: o.token,
    sessionMs: o.sessionHours * 3_600_000,
    guard: new FailureGuard(server.timers.now),
    stats,
    cookiePath: `${prefix}/console`,
  };

  const mount = (app: Hono, peer: RequestPeer) => {
    const deps: AuthDeps = { ...shared, peer };
    app.use("/console", consoleHeaders);
    app.use("/console/*", consoleHeaders);
    const asset = (body: string, type: string) => (c: Context) => c.body(body, 200, { "cache-control": "no-cache", "content-type": type });
    app.get("/console", asset(CONSOLE_HTML, "text/html; charset=utf-8"));
    app.get("/console/", (c) => c.redirect(`${prefix}/console`));
    app.get("/console/console.css", asset(CONSOLE_CSS, "text/css; charset=utf-8"));
    app.get("/console/console.js", asset(CONSOLE_JS, "text/javascript; charset=utf-8"));

    app.get("/console/api/session", async (c) => c.json(describe(await session(deps, c))));
    app.post("/console/api/session", (c) => signIn(deps, c));
    app.delete("/console/api/session", (c) => signOut(deps, c));

    app.get("/console/api/apps", async (c) => {
      const s = await session(deps, c);
      if (s.kind === "app") return c.json({ apps: [s.appId] });
      // Ids only: keys and secrets stay on the server.
      const all = await server.apps.all();
      return c.json({ apps: all.slice(0, MAX_LISTED_APPS).map((a) => a.id).sort(), total: all.length });
    });

    app.get("/console/api/members", async (c) => {
      const target = await viewedApp(deps, c);
      const channel = c.req.query("channel") ?? "";
      if (!isValidChannelName(channel, target.maxChannelNameLength) || !classifyChannel(channel).presence) {
        throw new HttpError(400, "channel must be a presence channel");
      }
      const { members } = await server.adapter.members(target.id, channel);
      return c.json({ members: [...members].map(([id, info]) => ({ id, info })) });
    });

    // The same path as POST /apps/{id}/events: validation, the app's rate limit, publishAll.
    app.post("/console/api/events", async (c) => {
      requirePageOrigin(c);
      const target = await viewedApp(deps, c);
      const body = parseJsonBody(await readBody(c.req.raw, TRIGGER_BODY_LIMIT_KB * 1024, server.logger));
      if (typeof body.data === "string") {
        try {
          JSON.parse(body.data);
        } catch (error) {
          throw new HttpError(400, `data is not valid JSON: ${(error as Error).message}`);
        }
      }
      const req = { app: target, body: new TextEncoder().encode(JSON.stringify(body)), headers: {} };
      const result = await triggerEvent(server, o.rateLimiter, req);
      stats.eventsTriggered++;
      server.logger.debug(`console: triggered ${String(body.name)} on app ${target.id}`);
      return c.json(result as object, 200, req.headers);
    });

    app.get("/console/api/stream", async (c) => {
      const target = await viewedApp(deps, c);
      return streamSSE(c, async (stream) => {
        const viewer = hub.join(target.id);
        stream.onAbort(() => hub.leave(viewer));
        const keepalive = server.timers.setInterval(() => viewer.ping(), KEEPALIVE_MS);
        try {
          await stream.writeSSE({ event: "hello", data: JSON.stringify({ appId: target.id, node: hub.node }) });
          for (;;) {
            const batch = await viewer.take();
            if (!batch) break;
            if (batch.ping) await stream.write(": keepalive\n\n");
            if (batch.dropped || batch.clusterDropped) {
              await stream.writeSSE({ event: "dropped", data: JSON.stringify({ slow: batch.dropped, cluster: batch.clusterDropped }) });
            }
            if (batch.state !== undefined) await stream.writeSSE({ event: "state", data: JSON.stringify(batch.state) });
            if (batch.events.length > 0) {
              await stream.writeSSE({ event: "events", data: JSON.stringify(batch.events) });
              stats.eventsSent += batch.events.length;
            }
          }
        } finally {
          server.timers.clearInterval(keepalive);
          hub.leave(viewer);
        }
      }, async (error, stream) => {
        server.logger.debug(`console: stream of app ${target.id} ended: ${error.message}`);
        await stream.close();
      });
    });
  };

  return { stats, mount, stop: () => hub.stop() };
}
