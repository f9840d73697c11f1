// Cluster-wide answers read from the nats driver's KV bucket (the lifecycle falls back to this
// node's own state when they fail), and the cache write that goes with cacheGet.
import { FIRST_LISTED_CHANNEL, type CachedEvent, type ChannelPage, type ChannelStats } from "../../core/adapter.ts";
import type { MemberSnapshot } from "../../core/presence.ts";
import type { StoreReads } from "../cluster/transport.ts";
import type { NatsLink } from "./connection.ts";
import type { EpochBase } from "./epoch.ts";
import { appKeys, key, memberCount, memberKeys, membersInOrder, parseKey, total, type MemberValue } from "./state.ts";
import { CACHE, CHANNEL, MEMBER, USER, type CacheValue } from "./values.ts";
import type { KvEntry } from "nats.ws";

export class NatsReads implements StoreReads {
  constructor(private readonly link: NatsLink, private readonly now: () => number, private readonly epochs: EpochBase) {}

  async channelStats(appId: string, channel: string): Promise<ChannelStats> {
    const { value } = await this.link.getJson(key(appId, "c", channel), CHANNEL);
    return { subscriptionCount: total(value?.n), userCount: memberCount(value) };
  }

  async channels(appId: string, prefix?: string): Promise<Map<string, ChannelStats>> {
    return this.counted(appId, (await this.channelNames(appId)).filter((n) => !prefix || n.startsWith(prefix)));
  }

  /** The key names are listed whole (no values read); only the page's channels are read. */
  async channelPage(appId: string, limit: number): Promise<ChannelPage> {
    const names = (await this.channelNames(appId)).filter((n) => n >= FIRST_LISTED_CHANNEL).sort();
    return { channels: await this.counted(appId, names.slice(0, limit)), total: names.length };
  }

  private async channelNames(appId: string): Promise<string[]> {
    return (await this.link.keys(appKeys(appId, "c"))).map((k) => parseKey(k)?.name).filter((n): n is string => n !== undefined);
  }

  private async counted(appId: string, names: string[]): Promise<Map<string, ChannelStats>> {
    const values = await Promise.all(names.map((n) => this.link.getJson(key(appId, "c", n), CHANNEL)));
    const out = new Map<string, ChannelStats>();
    names.forEach((name, i) => {
      const value = values[i]!.value;
      if (total(value?.n) > 0) out.set(name, { subscriptionCount: total(value!.n), userCount: memberCount(value) });
    });
    return out;
  }

  /**
   * The bucket's last revision first, the channel's member keys after: every member transition
   * at or below that revision was written before the listing began, so it is reflected; a later
   * one may be too, which core/presence.ts MemberView tolerates (it checks the members it knows).
   */
  async members(appId: string, channel: string): Promise<MemberSnapshot> {
    const seq = this.epochs.seqOf(await this.link.lastRevision());
    const entries: { userId: string; value: MemberValue; revision: number }[] = [];
    for (const [k, { value, revision }] of await this.link.entries(memberKeys(appId, channel), MEMBER)) {
      const userId = parseKey(k)?.userId;
      if (userId !== undefined) entries.push({ userId, value, revision });
    }
    return { members: membersInOrder(entries), seq };
  }

  async onlineUsers(appId: string, userIds: string[]): Promise<Set<string>> {
    const values = await Promise.all(userIds.map((id) => this.link.getJson(key(appId, "u", id), USER)));
    return new Set(userIds.filter((_, i) => total(values[i]!.value?.n) > 0));
  }

  async cacheGet(appId: string, channel: string): Promise<CachedEvent | null> {
    const { value, entry } = await this.link.getJson(key(appId, "k", channel), CACHE);
    if (!value || !entry) return null;
    const left = this.msLeft(value, entry);
    return left > 0 ? { event: value.event, data: value.data, ttl: Math.max(1, Math.ceil(left / 1000)) } : null;
  }

  /** The entry's timestamp is the NATS server's and now() this node's, so node clocks may drift. */
  private msLeft(value: CacheValue, entry: KvEntry): number {
    return entry.created.getTime() + value.ttl * 1000 - this.now();
  }

  /**
   * Deletes the cached events that expired: a KV bucket has one lifetime for all its keys, so
   * without this every cache channel ever published to would keep its key. Returns how many.
   */
  async dropExpiredCache(): Promise<number> {
    let dropped = 0;
    for (const k of await this.link.keys("*.k.*")) {
      const { value, entry } = await this.link.getJson(k, CACHE);
      // At the revision read: a publish that rewrote the entry meanwhile keeps it.
      if (value && entry && this.msLeft(value, entry) <= 0 && (await this.link.deleteAt(k, entry.revision))) dropped++;
    }
    return dropped;
  }

  cacheSet(appId: string, channel: string, event: string, data: string, ttl: number): Promise<void> {
    return this.link.put(key(appId, "k", channel), { event, data, ttl });
  }
}
