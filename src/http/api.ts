import type { Context } from "hono";
import { requestBodyLimitBytes, type App } from "../core/app.ts";
import { AppStoreError, lookupApp } from "../core/app-store.ts";
import { classifyChannel, isValidChannelName } from "../core/channels.ts";
import type { RateLimiter } from "../core/rate-limiter.ts";
import type { Switchboard } from "../core/server.ts";
import { parseJsonBody, readBody, refuseDeclaredOversize } from "./body.ts";
import { HttpError } from "./errors.ts";
import { channelAttributes, idempotencyKey, validateEvent, type PublishRequest } from "./events.ts";
import { publishOnce, type PublishOutcome } from "./publish-once.ts";
import { verifyRequestSignature } from "./signature.ts";

export interface ApiRequest {
  app: App;
  body: Uint8Array;
  query: URLSearchParams;
  /** Rate-limit headers to add to the response. */
  headers: Record<string, string>;
  /** The X-Idempotency-Key (or Idempotency-Key) header, when given. */
  idempotencyKey?: string;
}

/**
 * Route → declared length (413) → app (404) → body (413) → signature (401) → enabled (403), as
 * spec §6.1 orders them. The body is read only up to the smaller of HTTP_MAX_BODY_KB and what the
 * app's own limits admit: an unsigned client cannot make the server hold more than that.
 */
export async function authenticate(server: Switchboard, c: Context): Promise<ApiRequest> {
  const serverLimit = server.settings.httpMaxBodyKb * 1024;
  refuseDeclaredOversize(c.req.raw, serverLimit);
  const app = await findApp(server, c.req.param("appId") ?? "");
  if (!app) throw new HttpError(404, "Unknown app id");
  const body = await readBody(c.req.raw, Math.min(serverLimit, requestBodyLimitBytes(app) ?? Infinity), server.logger);
  const url = new URL(c.req.url);
  const failure = await verifyRequestSignature(server.crypto, app, {
    method: c.req.method,
    path: url.pathname,
    rawQuery: url.search,
    body,
    nowSeconds: Math.floor(server.timers.now() / 1000),
  });
  if (failure) throw new HttpError(401, failure);
  if (!app.enabled) throw new HttpError(403, "Application disabled");
  const key = c.req.header("x-idempotency-key") ?? c.req.header("idempotency-key");
  return { app, body, query: url.searchParams, headers: {}, idempotencyKey: idempotencyKey(key, "X-Idempotency-Key") };
}

/** The app by id; a store that fails or hangs is a 503, never a hanging request. */
export async function findApp(server: Switchboard, id: string): Promise<App | undefined> {
  try {
    return await lookupApp(server.apps, server.timers, "id", id);
  } catch (error) {
    if (!(error instanceof AppStoreError)) throw error;
    server.logger.warn(`HTTP API: ${error.message}`, error.cause);
    throw new HttpError(503, "Application store unavailable, try again", { "Retry-After": "1" });
  }
}

async function limit(limiter: RateLimiter, req: ApiRequest, kind: string, points: number, perSecond: number): Promise<void> {
  if (perSecond < 0) return;
  const result = await limiter.consume(req.app.id, kind, points, perSecond);
  req.headers["X-RateLimit-Limit"] = String(perSecond);
  req.headers["X-RateLimit-Remaining"] = String(result.remaining);
  if (!result.allowed) {
    throw new HttpError(429, "Too many requests", { ...req.headers, "Retry-After": String(Math.max(1, Math.ceil(result.resetMs / 1000))) });
  }
}

export async function triggerEvent(server: Switchboard, limiter: RateLimiter, req: ApiRequest): Promise<unknown> {
  const event = validateEvent(req.app, parseJsonBody(req.body), false);
  await limit(limiter, req, "backend", event.channels.length, req.app.maxBackendEventsPerSecond);
  // Read before publishing (a publish changes no count): a read the cluster cannot answer is a 503
  // with nothing sent, never a 503 for an event that went out.
  const channels: Record<string, Record<string, number>> = {};
  for (const channel of event.info.length > 0 ? event.channels : []) channels[channel] = await channelAttributes(server, req.app, channel, event.info);
  const outcome = await publishOnce(server, req.app, event, req.idempotencyKey ?? event.idempotencyKey);
  return answered(req, [outcome], event.info.length > 0 ? { channels } : {});
}

export async function triggerBatch(server: Switchboard, limiter: RateLimiter, req: ApiRequest): Promise<unknown> {
  const body = parseJsonBody(req.body);
  if (!Array.isArray(body.batch)) throw new HttpError(400, "batch must be an array of events");
  const max = req.app.maxEventBatchSize;
  if (body.batch.length === 0) throw new HttpError(400, "batch must not be empty");
  // Hosted Pusher's phrase first: SDK test suites (pusher-http-php) look for it.
  if (max >= 0 && body.batch.length > max) throw new HttpError(400, `Batch too large: batch holds more than ${max} events`);
  // All-or-nothing: every item is validated before anything is published.
  const events: PublishRequest[] = body.batch.map((item: unknown) => {
    if (typeof item !== "object" || item === null || Array.isArray(item)) throw new HttpError(400, "batch items must be objects");
    return validateEvent(req.app, item as Record<string, unknown>, true);
  });
  const points = events.reduce((sum, e) => sum + e.channels.length, 0);
  await limit(limiter, req, "backend", points, req.app.maxBackendEventsPerSecond);
  const wantsInfo = events.some((e) => e.info.length > 0);
  const batch = [];
  for (const event of wantsInfo ? events : []) batch.push(await channelAttributes(server, req.app, event.channels[0]!, event.info));
  // One at a time, in order: a 503 part-way leaves the rest unsent, and the retry (with keys)
  // skips the items already delivered.
  const outcomes: PublishOutcome[] = [];
  for (const [i, event] of events.entries()) {
    const key = event.idempotencyKey ?? (req.idempotencyKey === undefined ? undefined : `${req.idempotencyKey}#${i}`);
    outcomes.push(await publishOnce(server, req.app, event, key));
  }
  return answered(req, outcomes, wantsInfo ? { batch } : {});
}

/** The answer to a publish; a retry whose every item was delivered before says so. */
function answered(req: ApiRequest, outcomes: PublishOutcome[], body: Record<string, unknown>): Record<string, unknown> {
  if (!outcomes.every((o) => o === "duplicate")) return body;
  req.headers["Idempotent-Replayed"] = "true";
  return { ...body, duplicate: true };
}

function infoList(query: URLSearchParams): string[] {
  return (query.get("info") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
}

export async function listChannels(server: Switchboard, limiter: RateLimiter, req: ApiRequest): Promise<unknown> {
  await limit(limiter, req, "read", 1, req.app.maxReadRequestsPerSecond);
  const prefix = req.query.get("filter_by_prefix") ?? "";
  const info = infoList(req.query);
  if (info.includes("user_count") && !prefix.startsWith("presence-")) {
    throw new HttpError(400, "info=user_count requires filter_by_prefix starting with presence-");
  }
  const channels: Record<string, Record<string, number>> = {};
  for (const [name, stats] of await server.adapter.channels(req.app.id, prefix || undefined)) {
    if (name.startsWith("#") || stats.subscriptionCount === 0) continue;
    const entry: Record<string, number> = {};
    if (info.includes("user_count")) entry.user_count = stats.userCount;
    if (info.includes("subscription_count")) entry.subscription_count = stats.subscriptionCount;
    channels[name] = entry;
  }
  return { channels };
}

function channelParam(c: Context, app: App): string {
  const name = c.req.param("channel") ?? "";
  if (!isValidChannelName(name, app.maxChannelNameLength)) throw new HttpError(400, "Invalid channel name");
  return name;
}

export async function showChannel(server: Switchboard, limiter: RateLimiter, req: ApiRequest, c: Context): Promise<unknown> {
  const channel = channelParam(c, req.app);
  await limit(limiter, req, "read", 1, req.app.maxReadRequestsPerSecond);
  const info = infoList(req.query);
  const kind = classifyChannel(channel);
  if (info.includes("user_count") && !kind.presence) throw new HttpError(400, "user_count is only available for presence channels");
  if (info.includes("cache") && !kind.cache) throw new HttpError(400, "cache is only available for cache channels");
  const stats = await server.adapter.channelStats(req.app.id, channel);
  const out: Record<string, unknown> = { occupied: stats.subscriptionCount > 0 };
  if (info.includes("user_count")) out.user_count = stats.userCount;
  if (info.includes("subscription_count")) out.subscription_count = stats.subscriptionCount;
  if (info.includes("cache")) {
    const cached = await server.adapter.cacheGet(req.app.id, channel);
    out.cache = cached ? { data: cached.data, ttl: cached.ttl } : null;
  }
  return out;
}

export async function channelUsers(server: Switchboard, limiter: RateLimiter, req: ApiRequest, c: Context): Promise<unknown> {
  const channel = channelParam(c, req.app);
  if (!classifyChannel(channel).presence) throw new HttpError(400, "Users are only available for presence channels");
  await limit(limiter, req, "read", 1, req.app.maxReadRequestsPerSecond);
  const { members } = await server.adapter.members(req.app.id, channel);
  return { users: [...members.keys()].map((id) => ({ id })) };
}

export async function terminateUser(server: Switchboard, req: ApiRequest, c: Context): Promise<unknown> {
  const userId = c.req.param("userId") ?? "";
  if (userId === "") throw new HttpError(400, "user id is required");
  await server.adapter.deliver({ type: "terminate", appId: req.app.id, userId });
  return {};
}
