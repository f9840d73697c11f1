// The HTTP side of the rate limits: each is a 429 with X-RateLimit-* headers. The app's own REST
// budgets (spec §6.10) are charged by the endpoints; the per-IP limits (RATE_LIMITER_ENABLED) by the
// router, before any app is looked up. Where each limit is counted: docs/architecture.md, "Rate limits".
import type { Context, MiddlewareHandler } from "hono";
import type { App } from "../core/app.ts";
import type { EventStream } from "../core/events.ts";
import type { RateLimiter } from "../core/rate-limiter.ts";
import type { IpLimiter, IpLimitResult, IpLimits } from "../rate-limiters/ip/ip-limiter.ts";
import { HttpError, jsonError } from "./errors.ts";

/** What charging an app's budget needs of a request: the app, and the headers its answer will carry. */
export interface BudgetedRequest {
  app: App;
  /** Rate-limit headers to add to the response. */
  headers: Record<string, string>;
}

/**
 * Counts `points` against the app's REST budget `kind` ("backend", "read") for this second; a
 * negative `perSecond` is no limit. Sets X-RateLimit-Limit/-Remaining; 429 with Retry-After above it.
 */
export async function chargeAppBudget(limiter: RateLimiter, req: BudgetedRequest, kind: string, points: number, perSecond: number): Promise<void> {
  if (perSecond < 0) return;
  const result = await limiter.consume(req.app.id, kind, points, perSecond);
  req.headers["X-RateLimit-Limit"] = String(perSecond);
  req.headers["X-RateLimit-Remaining"] = String(result.remaining);
  if (!result.allowed) {
    throw new HttpError(429, "Too many requests", { ...req.headers, "Retry-After": String(Math.max(1, Math.ceil(result.resetMs / 1000))) });
  }
}

/** What the router needs to apply the per-IP limits (RATE_LIMITER_ENABLED). */
export interface IpLimiting {
  limiter: IpLimiter;
  limits: IpLimits;
}

/** X-RateLimit-* as the peers send them: the budget, what is left, and seconds until it resets. */
function limitHeaders(result: IpLimitResult): Record<string, string> {
  const reset = String(Math.max(1, Math.ceil(result.resetMs / 1000)));
  const headers: Record<string, string> = {
    "X-RateLimit-Limit": String(result.limit),
    "X-RateLimit-Remaining": String(result.remaining),
    "X-RateLimit-Reset": reset,
  };
  if (!result.allowed) headers["Retry-After"] = reset;
  return headers;
}

const appIdOf = (path: string) => /\/apps\/([^/]+)/.exec(path)?.[1] ?? "";

/** The HTTP API limit: one hit per request and address; 429 with Retry-After above it. */
export function apiLimit(ip: IpLimiting, address: (c: Context) => string, events: EventStream): MiddlewareHandler {
  const { max, windowMs } = ip.limits.api;
  return async (c, next) => {
    const who = address(c);
    const result = await ip.limiter.hit(`api:${who}`, max, windowMs);
    const headers = limitHeaders(result);
    if (!result.allowed) {
      events.emit({ kind: "rate_limited", appId: appIdOf(c.req.path), scope: "ip_api", address: who });
      return jsonError(429, `Too many requests from ${who}: at most ${max} per ${windowMs / 1000} s`, headers);
    }
    await next();
    // The app's own REST budget (spec §6.10) sets these too where it applies; that one is tighter.
    for (const [name, value] of Object.entries(headers)) if (!c.res.headers.has(name)) c.res.headers.set(name, value);
  };
}

/**
 * The WebSocket connection limit, checked before the upgrade: undefined when the connection may
 * proceed, else the 429 to answer. Synchronous with the memory store, so the upgrade route stays
 * synchronous there (router.ts); a Redis store makes it a promise.
 */
export function websocketLimit(ip: IpLimiting, who: string, events: EventStream): Response | undefined | Promise<Response | undefined> {
  const { max, windowMs } = ip.limits.websocket;
  const decide = (result: IpLimitResult) => {
    if (result.allowed) return undefined;
    events.emit({ kind: "rate_limited", appId: "", scope: "ip_websocket", address: who });
    return jsonError(429, `Too many connections from ${who}: at most ${max} per ${windowMs / 1000} s`, limitHeaders(result));
  };
  const result = ip.limiter.hit(`ws:${who}`, max, windowMs);
  return result instanceof Promise ? result.then(decide) : decide(result);
}
