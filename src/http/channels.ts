// GET /channels, /channels/{name} and /channels/{name}/users (spec §6.5 to §6.7): what the cluster
// knows of an app's channels, each read charged to the app's read budget.
import type { Context } from "hono";
import type { App } from "../core/app.ts";
import { classifyChannel, isValidChannelName } from "../core/channels.ts";
import type { RateLimiter } from "../core/rate-limiter.ts";
import type { Switchboard } from "../core/server.ts";
import type { ApiRequest } from "./authenticate.ts";
import { HttpError } from "./errors.ts";
import { chargeAppBudget } from "./rate-limits.ts";

function infoList(query: URLSearchParams): string[] {
  return (query.get("info") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
}

export async function listChannels(server: Switchboard, limiter: RateLimiter, req: ApiRequest): Promise<unknown> {
  await chargeAppBudget(limiter, req, "read", 1, req.app.maxReadRequestsPerSecond);
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
  await chargeAppBudget(limiter, req, "read", 1, req.app.maxReadRequestsPerSecond);
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
  await chargeAppBudget(limiter, req, "read", 1, req.app.maxReadRequestsPerSecond);
  const { members } = await server.adapter.members(req.app.id, channel);
  return { users: [...members.keys()].map((id) => ({ id })) };
}
