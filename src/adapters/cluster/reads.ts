// The Redis family's cluster-wide reads and idempotency keys, straight from the backend (the
// lifecycle decides when this node's own view may answer instead). Lists come a page per call:
// no script walks an app's channels or a channel's members in one go.
import { FIRST_LISTED_CHANNEL, type ChannelPage, type ChannelStats } from "../../core/adapter.ts";
import type { MemberSnapshot } from "../../core/presence.ts";
import type { ClusterBackend } from "./backend.ts";
import { appKeys } from "./keys.ts";
import * as reply from "./replies.ts";
import type { IdempotencyBackend, StoreReads } from "./transport.ts";

/** Entries per page of a set or member list. */
export const PAGE = 500;

export function redisReads(backend: ClusterBackend, prefix: string): StoreReads {
  const keys = (appId: string) => appKeys(prefix, appId);
  /** The counts of the named channels; a channel that emptied since its name was read is left out. */
  const counted = async (appId: string, names: string[]): Promise<Map<string, ChannelStats>> => {
    const out = new Map<string, ChannelStats>();
    if (names.length === 0) return out;
    const k = keys(appId);
    const counts = reply.counts(names, await backend.run("channelCounts", names.flatMap((n) => k.channel(n).slice(0, 2)), []));
    names.forEach((name, i) => {
      if (counts[i]!.subscriptionCount > 0) out.set(name, counts[i]!);
    });
    return out;
  };
  return {
    channelStats: async (appId, channel) => reply.stats(await backend.run("channelStats", keys(appId).channel(channel).slice(0, 2), [])),

    /** The app's occupied channels with the prefix, from its channel index a page at a time, in name order. */
    async channels(appId, prefix): Promise<Map<string, ChannelStats>> {
      const out = new Map<string, ChannelStats>();
      // "\xff" sorts after every character a channel name may hold: the end of the prefix's range.
      const max = prefix ? `[${prefix}\xff` : "+";
      let min = prefix ? `[${prefix}` : "-";
      for (;;) {
        const { names } = reply.namesPage(await backend.run("channelsPage", [keys(appId).chans], [min, max, PAGE]));
        for (const [name, stats] of await counted(appId, names)) out.set(name, stats);
        if (names.length < PAGE) return out;
        min = `(${names.at(-1)}`;
      }
    },

    /** One page from the start of the index, past the server's own "#" channels, and the index's size. */
    async channelPage(appId, limit): Promise<ChannelPage> {
      const page = reply.namesPage(await backend.run("channelsPage", [keys(appId).chans], [`[${FIRST_LISTED_CHANNEL}`, "+", Math.min(limit, PAGE)]));
      return { channels: await counted(appId, page.names), total: page.total };
    },

    /**
     * A presence channel's members in join order, a page per call. The snapshot's sequence is the
     * first page's: a change made while the later pages are read carries a later sequence, which
     * core/presence.ts applies on top of the snapshot.
     */
    async members(appId, channel): Promise<MemberSnapshot> {
      const [, , i, o, v] = keys(appId).channel(channel);
      const members = new Map<string, unknown>();
      let seq: number | undefined;
      let after = "-inf";
      while (after !== "") {
        const page = reply.membersPage(await backend.run("membersPage", [o!, i!, v!], [after, PAGE]));
        seq ??= page.seq;
        for (const [id, info] of page.members) members.set(id, info);
        after = page.next;
      }
      return { members, seq: seq! };
    },

    async onlineUsers(appId, userIds) {
      const k = keys(appId);
      const online = reply.onlineFlags(await backend.run("onlineUsers", userIds.map((id) => k.user(id)), []), userIds.length);
      return new Set(userIds.filter((_, i) => online[i]));
    },

    cacheGet: async (appId, channel) => reply.cached(await backend.run("cacheGet", [keys(appId).cache(channel)], [])),
  };
}

export function redisIdempotency(backend: ClusterBackend, prefix: string): IdempotencyBackend {
  return {
    claim: async (appId, key, pendingMs) => reply.claim(await backend.run("idempotencyClaim", [appKeys(prefix, appId).publish(key)], [pendingMs])),
    settle: async (appId, key, delivered, windowMs) => {
      await backend.run("idempotencySettle", [appKeys(prefix, appId).publish(key)], [delivered ? "1" : "0", windowMs]);
    },
  };
}
