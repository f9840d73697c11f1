// Cluster-wide answers read from the nats driver's KV bucket.
import type { CachedEvent, ChannelStats } from "../../core/adapter.ts";
import type { MemberSnapshot } from "../../core/presence.ts";
import type { NatsLink } from "./connection.ts";
import { appKeys, key, memberCount, parseKey, snapshotOf, total } from "./state.ts";
import { CACHE, CHANNEL, USER } from "./values.ts";

export async function channelStats(link: NatsLink, appId: string, channel: string): Promise<ChannelStats> {
  const { value } = await link.getJson(key(appId, "c", channel), CHANNEL);
  return { subscriptionCount: total(value?.n), userCount: memberCount(value) };
}

export async function channels(link: NatsLink, appId: string, prefix?: string): Promise<Map<string, ChannelStats>> {
  const names = (await link.keys(appKeys(appId, "c")))
    .map((k) => parseKey(k)?.name)
    .filter((n): n is string => n !== undefined && (!prefix || n.startsWith(prefix)));
  const values = await Promise.all(names.map((n) => link.getJson(key(appId, "c", n), CHANNEL)));
  const out = new Map<string, ChannelStats>();
  names.forEach((name, i) => {
    const value = values[i]!.value;
    if (total(value?.n) > 0) out.set(name, { subscriptionCount: total(value!.n), userCount: memberCount(value) });
  });
  return out;
}

export async function members(link: NatsLink, appId: string, channel: string, nowMs: number): Promise<MemberSnapshot> {
  return snapshotOf((await link.getJson(key(appId, "c", channel), CHANNEL)).value, nowMs);
}

export async function onlineUsers(link: NatsLink, appId: string, userIds: string[]): Promise<Set<string>> {
  const values = await Promise.all(userIds.map((id) => link.getJson(key(appId, "u", id), USER)));
  return new Set(userIds.filter((_, i) => total(values[i]!.value?.n) > 0));
}

/** `nowMs` is this node's clock; the entry's timestamp is the NATS server's, so clocks may drift. */
export async function cacheGet(link: NatsLink, appId: string, channel: string, nowMs: number): Promise<CachedEvent | null> {
  const { value, entry } = await link.getJson(key(appId, "k", channel), CACHE);
  if (!value || !entry) return null;
  const left = entry.created.getTime() + value.ttl * 1000 - nowMs;
  return left > 0 ? { event: value.event, data: value.data, ttl: Math.max(1, Math.ceil(left / 1000)) } : null;
}

export function cacheSet(link: NatsLink, appId: string, channel: string, event: string, data: string, ttl: number): Promise<void> {
  return link.put(key(appId, "k", channel), { event, data, ttl });
}
