// Cluster-wide answers read from the nats driver's KV bucket.
import type { CachedEvent, ChannelStats } from "../../core/adapter.ts";
import type { NatsLink } from "./connection.ts";
import type { MemberSnapshot } from "../../core/presence.ts";
import { appKeys, key, memberCount, parseKey, snapshotOf, total, type ChannelValue, type UserValue } from "./state.ts";

/** Connections of the nodes `counted` accepts (live ones other than the caller) plus `own`. */
export async function connectionCount(link: NatsLink, appId: string, own: number, counted: (nodeId: string) => boolean): Promise<number> {
  const others = (await link.keys(appKeys(appId, "n"))).filter((k) => {
    const id = parseKey(k)?.name;
    return id !== undefined && counted(id);
  });
  let sum = own;
  for (const { value } of await Promise.all(others.map((k) => link.getJson<number>(k)))) sum += Number(value ?? 0);
  return sum;
}

export async function channelStats(link: NatsLink, appId: string, channel: string): Promise<ChannelStats> {
  const { value } = await link.getJson<ChannelValue>(key(appId, "c", channel));
  return { subscriptionCount: total(value?.n), userCount: memberCount(value) };
}

export async function channels(link: NatsLink, appId: string, prefix?: string): Promise<Map<string, ChannelStats>> {
  const names = (await link.keys(appKeys(appId, "c")))
    .map((k) => parseKey(k)?.name)
    .filter((n): n is string => n !== undefined && (!prefix || n.startsWith(prefix)));
  const values = await Promise.all(names.map((n) => link.getJson<ChannelValue>(key(appId, "c", n))));
  const out = new Map<string, ChannelStats>();
  names.forEach((name, i) => {
    const value = values[i]!.value;
    if (total(value?.n) > 0) out.set(name, { subscriptionCount: total(value!.n), userCount: memberCount(value) });
  });
  return out;
}

export async function members(link: NatsLink, appId: string, channel: string, nowMs: number): Promise<MemberSnapshot> {
  return snapshotOf((await link.getJson<ChannelValue>(key(appId, "c", channel))).value, nowMs);
}

export async function onlineUsers(link: NatsLink, appId: string, userIds: string[]): Promise<Set<string>> {
  const values = await Promise.all(userIds.map((id) => link.getJson<UserValue>(key(appId, "u", id))));
  return new Set(userIds.filter((_, i) => total(values[i]!.value?.n) > 0));
}

export async function cacheGet(link: NatsLink, appId: string, channel: string): Promise<CachedEvent | null> {
  const { value, entry } = await link.getJson<{ event: string; data: string; ttl: number }>(key(appId, "k", channel));
  if (!value || !entry) return null;
  // The entry's timestamp is the NATS server's, so node clocks may drift.
  const left = entry.created.getTime() + value.ttl * 1000 - Date.now();
  return left > 0 ? { event: value.event, data: value.data, ttl: Math.max(1, Math.ceil(left / 1000)) } : null;
}

export function cacheSet(link: NatsLink, appId: string, channel: string, event: string, data: string, ttl: number): Promise<void> {
  return link.put(key(appId, "k", channel), { event, data, ttl });
}
