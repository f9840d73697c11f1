import {
  FIRST_LISTED_CHANNEL,
  type Adapter, type CachedEvent, type ChannelPage, type ChannelStats, type ClusterMessage, type ClusterNode, type Departure,
  type IdempotencyClaim, type JoinResult, type LeaveResult, type Member, type Subscribed,
} from "../core/adapter.ts";
import { ExpiringMap } from "../core/expiring-map.ts";
import { nextMemberSeq, type MemberSnapshot } from "../core/presence.ts";

/** Idempotency keys remembered at most; past it the oldest go first (each lapses after its window anyway). */
const MAX_IDEMPOTENCY_KEYS = 100_000;
/**
 * Cache channels' last events kept per app at most. Each lapses after CACHE_TTL_SECONDS and is
 * dropped on the next write after that, read or not; past the cap the oldest goes first (a late
 * subscriber of that channel then gets pusher:cache_miss), so distinct names cannot pile up.
 */
const MAX_CACHED_CHANNELS = 100_000;

type CacheEntry = { event: string; data: string; expiresAt: number };

interface ChannelState {
  sockets: Set<string>;
  /** Presence only: user id → first user_info and the sockets holding the membership. */
  members?: Map<string, { info: unknown; sockets: Set<string> }>;
  /** Sequence of the last member transition (presence.ts). */
  seq?: number;
}

interface AppState {
  connections: Set<string>;
  channels: Map<string, ChannelState>;
  users: Map<string, Set<string>>;
  cache: ExpiringMap<CacheEntry>;
  /** Occupied channels whose cache_miss webhook was sent, until an event is cached or they are vacated. */
  missed: Set<string>;
}

/**
 * Single-node adapter: all state in this process's memory. It has no rate counter part, so the
 * REST limits are counted by the local rate limiter. The cluster drivers also keep one as this
 * node's own view, for answers while their backend is unreachable.
 */
export class LocalAdapter implements Adapter {
  readonly name = "local";
  private node?: ClusterNode;
  private readonly apps = new Map<string, AppState>();
  private readonly idempotency: ExpiringMap<"pending" | "done">;
  /**
   * The order of subscription counts (core/count-order.ts): one counter for every channel, so it
   * keeps rising across a channel that emptied and was joined again (its state is gone by then).
   */
  private countSeq = 0;

  constructor(private readonly now: () => number = Date.now) {
    this.idempotency = new ExpiringMap(MAX_IDEMPOTENCY_KEYS, now);
  }

  async start(node: ClusterNode): Promise<void> {
    this.node = node;
  }

  async stop(): Promise<void> {
    this.apps.clear();
  }

  broadcast(message: ClusterMessage): void {
    this.node?.receive(message);
  }

  /** One node: applying the message to this node's sockets is delivering it. */
  async deliver(message: ClusterMessage): Promise<void> {
    this.node?.receive(message);
  }

  async claimIdempotency(appId: string, key: string, pendingMs: number): Promise<IdempotencyClaim> {
    const k = `${appId}\n${key}`;
    const state = this.idempotency.get(k);
    if (state) return state;
    this.idempotency.set(k, "pending", pendingMs);
    return "claimed";
  }

  async settleIdempotency(appId: string, key: string, delivered: boolean, windowMs: number): Promise<void> {
    const k = `${appId}\n${key}`;
    if (delivered) this.idempotency.set(k, "done", windowMs);
    else if (this.idempotency.get(k) === "pending") this.idempotency.delete(k);
  }

  private app(appId: string): AppState {
    let state = this.apps.get(appId);
    if (!state) {
      state = { connections: new Set(), channels: new Map(), users: new Map(), cache: new ExpiringMap(MAX_CACHED_CHANNELS, this.now), missed: new Set() };
      this.apps.set(appId, state);
    }
    return state;
  }

  async addConnection(appId: string, socketId: string, maxConnections: number): Promise<boolean> {
    const app = this.app(appId);
    if (maxConnections >= 0 && app.connections.size + 1 > maxConnections) return false;
    app.connections.add(socketId);
    return true;
  }

  async removeConnection(appId: string, socketId: string): Promise<void> {
    this.apps.get(appId)?.connections.delete(socketId);
  }

  async join(appId: string, channel: string, socketId: string, member?: Member, maxMembers = -1): Promise<JoinResult> {
    const app = this.app(appId);
    let state = app.channels.get(channel);
    if (member) {
      const existing = state?.members?.get(member.userId);
      const memberCount = state?.members?.size ?? 0;
      if (!existing && maxMembers >= 0 && memberCount >= maxMembers) {
        return { ok: false, occupied: false, memberAdded: false, subscriptionCount: state?.sockets.size ?? 0 };
      }
    }
    if (!state) {
      state = { sockets: new Set() };
      app.channels.set(channel, state);
    }
    const occupied = state.sockets.size === 0;
    state.sockets.add(socketId);
    let memberAdded = false;
    if (member) {
      state.members ??= new Map();
      const existing = state.members.get(member.userId);
      if (existing) existing.sockets.add(socketId);
      else {
        state.members.set(member.userId, { info: member.userInfo, sockets: new Set([socketId]) });
        memberAdded = true;
        state.seq = nextMemberSeq(state.seq, this.now());
      }
    }
    return {
      ok: true, occupied, memberAdded, seq: memberAdded ? state.seq : undefined, subscriptionCount: state.sockets.size, countSeq: ++this.countSeq,
    };
  }

  async leave(appId: string, channel: string, socketId: string, member?: Member): Promise<LeaveResult> {
    const app = this.apps.get(appId);
    const state = app?.channels.get(channel);
    if (!app || !state || !state.sockets.delete(socketId)) {
      return { vacated: false, memberRemoved: false, subscriptionCount: state?.sockets.size ?? 0 };
    }
    let memberRemoved = false;
    if (member && state.members) {
      const entry = state.members.get(member.userId);
      if (entry && entry.sockets.delete(socketId) && entry.sockets.size === 0) {
        state.members.delete(member.userId);
        memberRemoved = true;
        state.seq = nextMemberSeq(state.seq, this.now());
      }
    }
    const vacated = state.sockets.size === 0;
    if (vacated) {
      app.channels.delete(channel);
      app.missed.delete(channel);
    }
    return { vacated, memberRemoved, seq: memberRemoved ? state.seq : undefined, subscriptionCount: state.sockets.size, countSeq: ++this.countSeq };
  }

  async disconnect(appId: string, socketId: string, subscriptions: Subscribed[], userId?: string): Promise<Departure> {
    const left: LeaveResult[] = [];
    for (const { channel, member } of subscriptions) left.push(await this.leave(appId, channel, socketId, member));
    const wentOffline = userId !== undefined && (await this.signOut(appId, userId, socketId));
    await this.removeConnection(appId, socketId);
    return { left, wentOffline };
  }

  async channelStats(appId: string, channel: string): Promise<ChannelStats> {
    const state = this.apps.get(appId)?.channels.get(channel);
    return { subscriptionCount: state?.sockets.size ?? 0, userCount: state?.members?.size ?? 0 };
  }

  async channels(appId: string, prefix?: string): Promise<Map<string, ChannelStats>> {
    const out = new Map<string, ChannelStats>();
    for (const [name, state] of this.apps.get(appId)?.channels ?? []) {
      if (prefix && !name.startsWith(prefix)) continue;
      out.set(name, { subscriptionCount: state.sockets.size, userCount: state.members?.size ?? 0 });
    }
    return out;
  }

  async channelPage(appId: string, limit: number): Promise<ChannelPage> {
    const channels = await this.channels(appId);
    const names = [...channels.keys()].filter((name) => name >= FIRST_LISTED_CHANNEL).sort();
    return { channels: new Map(names.slice(0, limit).map((name) => [name, channels.get(name)!])), total: names.length };
  }

  async members(appId: string, channel: string): Promise<MemberSnapshot> {
    const state = this.apps.get(appId)?.channels.get(channel);
    const members = new Map<string, unknown>();
    for (const [id, entry] of state?.members ?? []) members.set(id, entry.info);
    // A channel without an entry reflects every transition up to now (it emptied, or never filled).
    return { members, seq: state?.seq ?? nextMemberSeq(undefined, this.now()) - 1 };
  }

  async signIn(appId: string, userId: string, socketId: string): Promise<boolean> {
    const users = this.app(appId).users;
    let sockets = users.get(userId);
    if (!sockets) users.set(userId, (sockets = new Set()));
    const wentOnline = sockets.size === 0;
    sockets.add(socketId);
    return wentOnline;
  }

  async signOut(appId: string, userId: string, socketId: string): Promise<boolean> {
    const users = this.apps.get(appId)?.users;
    const sockets = users?.get(userId);
    if (!sockets || !sockets.delete(socketId)) return false;
    if (sockets.size > 0) return false;
    users!.delete(userId);
    return true;
  }

  async onlineUsers(appId: string, userIds: string[]): Promise<Set<string>> {
    const users = this.apps.get(appId)?.users;
    return new Set(userIds.filter((id) => (users?.get(id)?.size ?? 0) > 0));
  }

  async cacheSet(appId: string, channel: string, event: string, data: string, ttlSeconds: number): Promise<void> {
    const ttlMs = ttlSeconds * 1000;
    const app = this.app(appId);
    app.cache.set(channel, { event, data, expiresAt: this.now() + ttlMs }, ttlMs);
    app.missed.delete(channel);
  }

  async claimCacheMiss(appId: string, channel: string): Promise<boolean> {
    const app = this.apps.get(appId);
    // Only an occupied channel is remembered: its vacate forgets it, so the set stays bounded.
    if (!app?.channels.has(channel) || app.missed.has(channel)) return false;
    app.missed.add(channel);
    return true;
  }

  async cacheGet(appId: string, channel: string): Promise<CachedEvent | null> {
    const entry = this.apps.get(appId)?.cache.get(channel);
    if (!entry) return null;
    return { event: entry.event, data: entry.data, ttl: Math.ceil((entry.expiresAt - this.now()) / 1000) };
  }

  /** Cache channels held for an app, lapsed ones not yet dropped included; for tests of memory bounds. */
  cachedChannels(appId: string): number {
    return this.apps.get(appId)?.cache.size ?? 0;
  }

  // --- this node's share of the state, for cluster adapters that store per-node contributions ---

  appIds(): string[] {
    return [...this.apps.keys()];
  }

  channelNames(appId: string): string[] {
    return [...(this.apps.get(appId)?.channels.keys() ?? [])];
  }

  userIds(appId: string): string[] {
    return [...(this.apps.get(appId)?.users.keys() ?? [])];
  }

  /**
   * Sockets in the channel and, for presence, each member's socket count and first user_info
   * (only `userId`'s when given: a join or leave changes one member, whatever the channel's size).
   */
  contribution(appId: string, channel: string, userId?: string): { sockets: number; members: Map<string, { count: number; info: unknown }> } {
    const state = this.apps.get(appId)?.channels.get(channel);
    const members = new Map<string, { count: number; info: unknown }>();
    const one = userId === undefined ? undefined : state?.members?.get(userId);
    const entries = userId === undefined ? state?.members ?? [] : one ? [[userId, one] as const] : [];
    for (const [id, entry] of entries) members.set(id, { count: entry.sockets.size, info: entry.info });
    return { sockets: state?.sockets.size ?? 0, members };
  }

  /** This node's connections of the app (the nats driver's share of a connection quota). */
  connectionCount(appId: string): number {
    return this.apps.get(appId)?.connections.size ?? 0;
  }

  userSocketCount(appId: string, userId: string): number {
    return this.apps.get(appId)?.users.get(userId)?.size ?? 0;
  }
}
