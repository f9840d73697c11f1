// The cluster adapter shared by the Redis-family drivers. A driver supplies a ClusterBackend
// (run a script from scripts.ts, publish on the bus, report up/down); ClusterLifecycle runs the
// connection, the bus, the resync and the catch-up; this class runs each state change in the
// scripts with local fallback, and the heartbeats and sweeps of dead nodes. How a node's share is
// recorded and rewritten after an outage is redis-share-store.ts's.
import type { Adapter, Departure, JoinResult, LeaveResult, Member, Subscribed } from "../../core/adapter.ts";
import type { RateLimitResult } from "../../core/rate-limiter.ts";
import { appToken } from "./app-buses.ts";
import type { ClusterBackend } from "./backend.ts";
import { ClusterLifecycle } from "./lifecycle.ts";
import type { ClusterOptions, IdempotencyBackend, StoreReads, TransportEvents } from "./transport.ts";
import type { AppKeys } from "./keys.ts";
import { redisIdempotency, redisReads } from "./reads.ts";
import { RedisShares } from "./redis-share-store.ts";
import * as reply from "./replies.ts";
import type { ScriptName } from "./scripts.ts";

/** How long a cache_miss marker may outlive a channel whose vacate it never saw (a dead node's sockets). */
const CACHE_MISS_BOUND_MS = 24 * 3600_000;

export class ClusterAdapter extends ClusterLifecycle implements Adapter {
  private sweeping = false;
  /** Hellos and console watches and revocations: every node hears it. */
  private readonly nodeBus: string;
  protected readonly shares: RedisShares;
  protected readonly reads: StoreReads;
  protected readonly idempotency: IdempotencyBackend;

  constructor(name: string, private readonly backend: ClusterBackend, opts: ClusterOptions) {
    super(name, opts);
    this.nodeBus = `${opts.prefix}{nodes}:bus`;
    this.shares = new RedisShares(backend, opts.prefix, this.nodeId);
    this.reads = redisReads(backend, opts.prefix);
    this.idempotency = redisIdempotency(backend, opts.prefix);
  }

  // --- the transport, for ClusterLifecycle ---

  protected open(events: TransportEvents): void {
    this.backend.open(this.nodeBus, events);
  }

  protected publish(appId: string | undefined, payload: string): Promise<void> {
    return this.backend.publish(appId === undefined ? this.nodeBus : this.appBus(appId), payload);
  }

  protected subscribeApps(appIds: string[]): Promise<void> {
    return this.backend.subscribe(appIds.map((appId) => this.appBus(appId)));
  }

  protected unsubscribeApps(appIds: string[]): Promise<void> {
    return this.backend.unsubscribe(appIds.map((appId) => this.appBus(appId)));
  }

  /** An app's bus, in a hash tag of its own: on Redis Cluster the apps' buses spread over the shards. */
  private appBus(appId: string): string {
    return `${this.opts.prefix}{${appToken(appId)}}:bus`;
  }

  protected close(): Promise<void> {
    return this.backend.close();
  }

  /** A backend that stopped answering (not disconnected) is only noticed back by asking it. */
  protected retry(): void {
    this.backend.probe?.();
  }

  protected async checkIn(): Promise<void> {
    // Flagged: Redis lost our registration, or another node swept our state while we were slow.
    if (await this.shares.heartbeat()) this.missedEvents();
  }

  protected maintain(): Promise<void> {
    return this.sweepDead();
  }

  protected async release(): Promise<void> {
    // The core has left every channel by now; release leftovers (a failed cleanup) and
    // deregister so no other node waits for our heartbeat to expire.
    await this.state.release();
    await this.shares.forgetNode(this.nodeId, -1);
  }

  // --- state transitions: recorded locally, decided by the backend when it is reachable ---

  async addConnection(appId: string, socketId: string, maxConnections: number): Promise<boolean> {
    const item = `c|${socketId}`;
    this.shares.record(appId, item);
    const remote = await this.remote("addConnection", appId, async () =>
      reply.flag("addConnection", await this.runApp("addConnection", appId, (k) => [k.conns, k.node(this.nodeId)], [this.nodeId, socketId, maxConnections])));
    const admitted = remote === undefined
      ? await this.local.addConnection(appId, socketId, maxConnections)
      : remote && (await this.local.addConnection(appId, socketId, -1));
    if (!admitted) this.shares.forget(appId, item);
    return admitted;
  }

  async removeConnection(appId: string, socketId: string): Promise<void> {
    this.shares.forget(appId, `c|${socketId}`);
    await this.local.removeConnection(appId, socketId);
    await this.remote("removeConnection", appId, () => this.runApp("removeConnection", appId, (k) => [k.conns, k.node(this.nodeId)], [socketId]));
  }

  async join(appId: string, channel: string, socketId: string, member?: Member, maxMembers = -1): Promise<JoinResult> {
    const item = `s|${socketId}|${channel}`;
    this.shares.record(appId, item, member);
    const remote = await this.remote("join", appId, async () => reply.joined(await this.runJoin(appId, channel, socketId, member, maxMembers)));
    if (remote === undefined) {
      const result = await this.local.join(appId, channel, socketId, member, maxMembers);
      if (!result.ok) this.shares.forget(appId, item);
      return this.state.joinedAway(appId, channel, result, member?.userId);
    }
    if (!remote.ok) {
      this.shares.forget(appId, item);
      return { ok: false, occupied: false, memberAdded: false, subscriptionCount: remote.count };
    }
    await this.local.join(appId, channel, socketId, member, -1);
    return {
      ok: true, occupied: remote.occupied, memberAdded: remote.memberAdded, seq: remote.seq, subscriptionCount: remote.count, countSeq: remote.countSeq,
    };
  }

  async leave(appId: string, channel: string, socketId: string, member?: Member): Promise<LeaveResult> {
    this.shares.forget(appId, `s|${socketId}|${channel}`);
    const localResult = await this.local.leave(appId, channel, socketId, member);
    const remote = await this.remote("leave", appId, async () =>
      reply.left(await this.runApp("leave", appId, (k) => [k.node(this.nodeId), ...k.channel(channel)], [socketId, channel])));
    if (remote === undefined) return this.state.leftAwayFrom(appId, channel, localResult, member?.userId);
    return { vacated: remote.vacated, memberRemoved: remote.memberRemoved, seq: remote.seq, subscriptionCount: remote.count, countSeq: remote.countSeq };
  }

  async signIn(appId: string, userId: string, socketId: string): Promise<boolean> {
    this.shares.record(appId, `u|${socketId}|${userId}`);
    const localResult = await this.local.signIn(appId, userId, socketId);
    const remote = await this.remote("signIn", appId, async () =>
      reply.flag("signIn", await this.runApp("signIn", appId, (k) => [k.user(userId), k.node(this.nodeId)], [socketId, userId])));
    if (remote === undefined && localResult) this.state.signedAway(appId, userId, true);
    return remote ?? localResult;
  }

  async signOut(appId: string, userId: string, socketId: string): Promise<boolean> {
    this.shares.forget(appId, `u|${socketId}|${userId}`);
    const localResult = await this.local.signOut(appId, userId, socketId);
    const remote = await this.remote("signOut", appId, async () =>
      reply.flag("signOut", await this.runApp("signOut", appId, (k) => [k.user(userId), k.node(this.nodeId)], [socketId, userId])));
    if (remote === undefined && localResult) this.state.signedAway(appId, userId, false);
    return remote ?? localResult;
  }

  /** Cluster-wide or a ClusterUnavailableError: a publish answered 2xx is cached for every node's next subscriber. */
  async cacheSet(appId: string, channel: string, event: string, data: string, ttlSeconds: number): Promise<void> {
    await this.local.cacheSet(appId, channel, event, data, ttlSeconds);
    await this.strict("cacheSet", () => this.runApp("cacheSet", appId, (k) => [k.cache(channel), k.cacheMissed(channel)],
      [JSON.stringify({ event, data }), Math.round(ttlSeconds * 1000)]));
  }

  /** Decided by the backend for the whole cluster; by this node alone while it is away. */
  claimCacheMiss(appId: string, channel: string): Promise<boolean> {
    return this.query("cacheMiss", async () => reply.flag("cacheMiss",
      await this.runApp("cacheMiss", appId, (k) => [k.cacheMissed(channel), k.channel(channel)[0]!], [CACHE_MISS_BOUND_MS])),
    () => this.local.claimCacheMiss(appId, channel));
  }

  /**
   * A closing socket's channels, sign-in and connection, released in one script: one round trip
   * however many channels it held. While the backend is away, each is left like a single leave.
   */
  async disconnect(appId: string, socketId: string, subscriptions: Subscribed[], userId?: string): Promise<Departure> {
    const items = [
      ...subscriptions.map(({ channel }) => `s|${socketId}|${channel}`),
      ...(userId === undefined ? [] : [`u|${socketId}|${userId}`]),
      `c|${socketId}`,
    ];
    for (const item of items) this.shares.forget(appId, item);
    const local = await this.local.disconnect(appId, socketId, subscriptions, userId);
    const remote = await this.remote("disconnect", appId, () => this.shares.releaseItems(appId, this.nodeId, items, true));
    if (remote === undefined) {
      if (userId !== undefined && local.wentOffline) this.state.signedAway(appId, userId, false);
      const left = subscriptions.map(({ channel, member }, i) => this.state.leftAwayFrom(appId, channel, local.left[i]!, member?.userId));
      return { left, wentOffline: local.wentOffline };
    }
    const byChannel = new Map<string, LeaveResult>();
    let wentOffline = false;
    for (const t of remote.transitions) {
      if (t.type === "left") byChannel.set(t.channel, t);
      else if (t.type === "offline") wentOffline = true;
    }
    const left = subscriptions.map(({ channel }): LeaveResult => {
      const t = byChannel.get(channel);
      if (!t) return { vacated: false, memberRemoved: false, subscriptionCount: 0 };
      return { vacated: t.vacated, memberRemoved: t.memberRemoved, seq: t.seq, subscriptionCount: t.subscriptionCount, countSeq: t.countSeq };
    });
    return { left, wentOffline };
  }

  /** The rate counter part: one fixed window per bucket for the whole cluster, timed by Redis. */
  async consumeRate(appId: string, bucket: string, points: number, limit: number): Promise<RateLimitResult | undefined> {
    return this.query("rateConsume", async () => reply.rate(await this.runApp("rateConsume", appId, (k) => [k.rate(bucket)], [points, limit]), limit),
      () => undefined);
  }

  // --- plumbing ---

  private runApp(script: ScriptName, appId: string, keys: (k: AppKeys) => string[], args: (string | number)[]): Promise<unknown> {
    return this.shares.runApp(script, appId, keys, args);
  }

  private runJoin(appId: string, channel: string, socketId: string, member: Member | undefined, maxMembers: number): Promise<unknown> {
    return this.shares.runJoin(appId, channel, socketId, member, maxMembers);
  }

  /** Runs a state change remotely; undefined when the backend is unreachable (resync later). */
  private async remote<T>(operation: string, appId: string, op: () => Promise<T>): Promise<T | undefined> {
    if (!this.online) {
      this.dirty = true;
      return undefined;
    }
    try {
      // Listed already: no await, so the command goes out in the same turn as the caller's change.
      if (!this.shares.registered(appId)) await this.shares.register(appId);
      return await op();
    } catch (error) {
      this.failed(operation, error);
      return undefined;
    }
  }

  // --- sweep ---

  /** Finds nodes whose heartbeat expired and removes their state, announcing each transition once. */
  private async sweepDead(): Promise<void> {
    // After an outage that kept the data every node's last heartbeat is old, and a live node may
    // still be in its reconnect back-off: sweeping it would announce its members gone, and back.
    if (this.sweeping || this.bus.peers.settling()) return;
    this.sweeping = true;
    try {
      for (const id of await this.shares.deadNodes(this.opts.nodeTimeoutMs)) {
        if (id === this.nodeId || this.stopped) continue;
        await this.state.sweep(id);
        if (await this.shares.forgetNode(id, this.opts.nodeTimeoutMs)) {
          this.logger.info(`${this.name} adapter: node ${id} stopped sending heartbeats; its sockets were removed`);
        }
      }
    } finally {
      this.sweeping = false;
    }
  }
}
