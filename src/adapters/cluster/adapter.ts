// The cluster adapter shared by the Redis-family drivers. A driver supplies a ClusterBackend
// (run a script from scripts.ts, publish on the bus, report up/down); ClusterLifecycle runs the
// connection, the bus, the resync and the catch-up; this class keeps the cluster state in the
// scripts' keys with local fallback, re-registers it after an outage and sweeps dead nodes.
import type { Adapter, ClusterTransition, Departure, JoinResult, LeaveResult, Member, Subscribed } from "../../core/adapter.ts";
import type { RateLimitResult } from "../../core/rate-limiter.ts";
import type { ClusterBackend } from "./backend.ts";
import { ClusterLifecycle } from "./lifecycle.ts";
import type { ClusterOptions, IdempotencyBackend, StoreReads, TransportEvents } from "./transport.ts";
import { appKeys, nodeKeys, parseItem, type AppKeys, type NodeKeys } from "./keys.ts";
import { PAGE, redisIdempotency, redisReads } from "./reads.ts";
import * as reply from "./replies.ts";
import type { ScriptName } from "./scripts.ts";

/** How long a cache_miss marker may outlive a channel whose vacate it never saw (a dead node's sockets). */
const CACHE_MISS_BOUND_MS = 24 * 3600_000;

export class ClusterAdapter extends ClusterLifecycle implements Adapter {
  /**
   * Everything this node recorded, per app, in the scripts' item form ("c|sock",
   * "s|sock|channel" → member, "u|sock|user"). It is changed synchronously before the matching
   * command is sent, so a resync that checks it right before each command never races a live op
   * (one connection keeps command order).
   */
  private readonly mine = new Map<string, Map<string, Member | undefined>>();
  private readonly registeredApps = new Set<string>();
  /** Items added while the backend was unreachable ("appId\nitem"): nobody else has seen them yet. */
  private readonly addedOffline = new Set<string>();
  /** Redis's data epoch when last seen; a new one means Redis restarted empty. */
  private epoch?: string;
  private sweeping = false;
  private readonly bus: string;
  private readonly nodes: NodeKeys;

  constructor(name: string, private readonly backend: ClusterBackend, opts: ClusterOptions) {
    super(name, opts);
    this.bus = `${opts.prefix}bus`;
    this.nodes = nodeKeys(opts.prefix);
    this.reads = redisReads(backend, opts.prefix);
    this.idempotency = redisIdempotency(backend, opts.prefix);
  }

  // --- the transport, for ClusterLifecycle ---

  protected open(events: TransportEvents): void {
    this.backend.open(this.bus, events);
  }

  protected publish(payload: string): Promise<void> {
    return this.backend.publish(this.bus, payload);
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
    if (reply.flag("heartbeat", await this.heartbeat())) this.missedEvents();
  }

  protected maintain(): Promise<void> {
    return this.sweepDead();
  }

  protected async release(): Promise<void> {
    // The core has left every channel by now; release leftovers (a failed cleanup) and
    // deregister so no other node waits for our heartbeat to expire.
    for (const appId of new Set([...this.mine.keys(), ...this.registeredApps])) await this.releaseAll(appId, this.nodeId);
    await this.forgetNode(this.nodeId, -1);
  }

  protected readonly reads: StoreReads;
  protected readonly idempotency: IdempotencyBackend;

  // --- state transitions: recorded locally, decided by the backend when it is reachable ---

  async addConnection(appId: string, socketId: string, maxConnections: number): Promise<boolean> {
    const item = `c|${socketId}`;
    this.record(appId, item);
    const remote = await this.remote("addConnection", appId, async () =>
      reply.flag("addConnection", await this.runApp("addConnection", appId, (k) => [k.conns, k.node(this.nodeId)], [this.nodeId, socketId, maxConnections])));
    const admitted = remote === undefined
      ? await this.local.addConnection(appId, socketId, maxConnections)
      : remote && (await this.local.addConnection(appId, socketId, -1));
    if (!admitted) this.forget(appId, item);
    return admitted;
  }

  async removeConnection(appId: string, socketId: string): Promise<void> {
    this.forget(appId, `c|${socketId}`);
    await this.local.removeConnection(appId, socketId);
    await this.remote("removeConnection", appId, () => this.runApp("removeConnection", appId, (k) => [k.conns, k.node(this.nodeId)], [socketId]));
  }

  async join(appId: string, channel: string, socketId: string, member?: Member, maxMembers = -1): Promise<JoinResult> {
    const item = `s|${socketId}|${channel}`;
    this.record(appId, item, member);
    const remote = await this.remote("join", appId, async () => reply.joined(await this.runJoin(appId, channel, socketId, member, maxMembers)));
    if (remote === undefined) {
      const result = await this.local.join(appId, channel, socketId, member, maxMembers);
      if (!result.ok) this.forget(appId, item);
      else this.addedOffline.add(`${appId}\n${item}`);
      return this.localOnly(result);
    }
    if (!remote.ok) {
      this.forget(appId, item);
      return { ok: false, occupied: false, memberAdded: false, subscriptionCount: remote.count };
    }
    await this.local.join(appId, channel, socketId, member, -1);
    return { ok: true, occupied: remote.occupied, memberAdded: remote.memberAdded, seq: remote.seq, subscriptionCount: remote.count };
  }

  async leave(appId: string, channel: string, socketId: string, member?: Member): Promise<LeaveResult> {
    this.forget(appId, `s|${socketId}|${channel}`);
    const localResult = await this.local.leave(appId, channel, socketId, member);
    const remote = await this.remote("leave", appId, async () =>
      reply.left(await this.runApp("leave", appId, (k) => [k.node(this.nodeId), ...k.channel(channel)], [socketId, channel])));
    if (remote === undefined) return this.leftLocally(appId, channel, localResult, member?.userId);
    return { vacated: remote.vacated, memberRemoved: remote.memberRemoved, seq: remote.seq, subscriptionCount: remote.count };
  }

  async signIn(appId: string, userId: string, socketId: string): Promise<boolean> {
    this.record(appId, `u|${socketId}|${userId}`);
    const localResult = await this.local.signIn(appId, userId, socketId);
    const remote = await this.remote("signIn", appId, async () =>
      reply.flag("signIn", await this.runApp("signIn", appId, (k) => [k.user(userId), k.node(this.nodeId)], [socketId, userId])));
    if (remote === undefined) this.addedOffline.add(`${appId}\nu|${socketId}|${userId}`);
    return remote ?? localResult;
  }

  async signOut(appId: string, userId: string, socketId: string): Promise<boolean> {
    this.forget(appId, `u|${socketId}|${userId}`);
    const localResult = await this.local.signOut(appId, userId, socketId);
    const remote = await this.remote("signOut", appId, async () =>
      reply.flag("signOut", await this.runApp("signOut", appId, (k) => [k.user(userId), k.node(this.nodeId)], [socketId, userId])));
    return remote ?? localResult;
  }

  async cacheSet(appId: string, channel: string, event: string, data: string, ttlSeconds: number): Promise<void> {
    await this.local.cacheSet(appId, channel, event, data, ttlSeconds);
    await this.remote("cacheSet", appId, () => this.runApp("cacheSet", appId, (k) => [k.cache(channel), k.cacheMissed(channel)],
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
    for (const item of items) this.forget(appId, item);
    const local = await this.local.disconnect(appId, socketId, subscriptions, userId);
    const remote = await this.remote("disconnect", appId, () => this.releaseItems(appId, this.nodeId, items, { report: true }));
    if (remote === undefined) {
      return { left: subscriptions.map(({ channel, member }, i) => this.leftLocally(appId, channel, local.left[i]!, member?.userId)), wentOffline: local.wentOffline };
    }
    const byChannel = new Map<string, LeaveResult>();
    let wentOffline = false;
    for (const t of remote.transitions) {
      if (t.type === "left") byChannel.set(t.channel, t);
      else if (t.type === "offline") wentOffline = true;
    }
    const left = subscriptions.map(({ channel }): LeaveResult => {
      const t = byChannel.get(channel);
      return t ? { vacated: t.vacated, memberRemoved: t.memberRemoved, seq: t.seq, subscriptionCount: t.subscriptionCount } : { vacated: false, memberRemoved: false, subscriptionCount: 0 };
    });
    return { left, wentOffline };
  }

  /** The rate counter part: one fixed window per bucket for the whole cluster, timed by Redis. */
  async consumeRate(appId: string, bucket: string, points: number, limit: number): Promise<RateLimitResult | undefined> {
    return this.query("rateConsume", async () => reply.rate(await this.runApp("rateConsume", appId, (k) => [k.rate(bucket)], [points, limit]), limit),
      () => undefined);
  }

  // --- plumbing ---

  private keys(appId: string): AppKeys {
    return appKeys(this.opts.prefix, appId);
  }

  private runApp(script: ScriptName, appId: string, keys: (k: AppKeys) => string[], args: (string | number)[]): Promise<unknown> {
    return this.backend.run(script, keys(this.keys(appId)), args);
  }

  private runJoin(appId: string, channel: string, socketId: string, member: Member | undefined, maxMembers: number, restore = false): Promise<unknown> {
    return this.runApp("join", appId, (k) => [k.node(this.nodeId), ...k.channel(channel)], [
      socketId, channel, member ? "1" : "0", member?.userId ?? "", JSON.stringify(member?.userInfo ?? null), maxMembers,
      restore ? "1" : "0",
    ]);
  }

  private heartbeat(): Promise<unknown> {
    return this.backend.run("heartbeat", [this.nodes.nodes, this.nodes.swept(this.nodeId)], [this.nodeId]);
  }

  private addNodeApp(appId: string): Promise<unknown> {
    return this.backend.run("addNodeApp", [this.nodes.apps(this.nodeId)], [appId]);
  }

  private async nodeApps(nodeId: string): Promise<string[]> {
    return reply.strings("nodeApps", await this.backend.run("nodeApps", [this.nodes.apps(nodeId)], []));
  }

  private forgetNode(nodeId: string, timeoutMs: number): Promise<unknown> {
    const n = this.nodes;
    return this.backend.run("forgetNode", [n.nodes, n.apps(nodeId), n.swept(nodeId), n.epoch], [nodeId, timeoutMs]);
  }

  /** Every item `nodeId` recorded in the app, a page at a time. */
  private async recordedItems(appId: string, nodeId: string): Promise<Set<string>> {
    const key = this.keys(appId).node(nodeId);
    const items = new Set<string>();
    let cursor = "0";
    do {
      const page = reply.page("itemsPage", await this.backend.run("itemsPage", [key], [cursor, PAGE]));
      for (const item of page.entries) items.add(item);
      cursor = page.cursor;
    } while (cursor !== "0");
    return items;
  }

  /**
   * Undoes `items` of `nodeId` (release script), PAGE items per call. `report`: a closing socket's
   * own items, whose channels answer their counts even when a sweep released them first.
   * `remoteOnly`: this node's clients saw these transitions already.
   */
  private async releaseItems(
    appId: string, nodeId: string, items: string[], opts: { report?: boolean; remoteOnly?: boolean },
  ): Promise<{ left: number; transitions: ClusterTransition[] }> {
    const k = this.keys(appId);
    const transitions: ClusterTransition[] = [];
    let left = 0;
    for (let at = 0; at < items.length; at += PAGE) {
      const batch = items.slice(at, at + PAGE);
      const keys = [k.node(nodeId), ...batch.flatMap((item) => k.item(item))];
      const done = reply.released(await this.backend.run("release", keys, [opts.report ? "1" : "0", ...batch]), opts.remoteOnly ?? false);
      transitions.push(...done.transitions);
      left = done.left;
    }
    return { left, transitions };
  }

  private record(appId: string, item: string, member?: Member): void {
    let items = this.mine.get(appId);
    if (!items) this.mine.set(appId, (items = new Map()));
    items.set(item, member);
  }

  private forget(appId: string, item: string): void {
    this.addedOffline.delete(`${appId}\n${item}`);
    const items = this.mine.get(appId);
    if (items?.delete(item) && items.size === 0) this.mine.delete(appId);
  }

  /** Runs a state change remotely; undefined when the backend is unreachable (resync later). */
  private async remote<T>(operation: string, appId: string, op: () => Promise<T>): Promise<T | undefined> {
    if (!this.online) {
      this.dirty = true;
      return undefined;
    }
    try {
      // The app must be listed under this node before any of its state is, or a sweeper could miss it.
      if (!this.registeredApps.has(appId)) {
        await this.addNodeApp(appId);
        this.registeredApps.add(appId);
      }
      return await op();
    } catch (error) {
      this.failed(operation, error);
      return undefined;
    }
  }

  // --- resync and sweep ---

  /**
   * Makes the backend hold exactly this node's state: after an outage the backend may have lost
   * it (restart), kept entries that went away meanwhile, or had it swept by another node.
   */
  protected async reconcile(): Promise<boolean> {
    await this.heartbeat();
    // After Redis lost its data every node re-registers what the cluster had already announced:
    // only what joined during the outage is news. After a sweep (our members were announced as
    // removed) everything restored is news again.
    const epoch = reply.string("epoch", await this.backend.run("epoch", [this.nodes.epoch], [globalThis.crypto.randomUUID()]));
    const lostData = this.epoch !== undefined && epoch !== this.epoch;
    this.epoch = epoch;
    const announced = new Set(this.addedOffline);
    const listed = await this.nodeApps(this.nodeId);
    this.registeredApps.clear();
    for (const appId of new Set([...this.mine.keys(), ...listed])) {
      if (this.stopped) return lostData;
      await this.addNodeApp(appId);
      this.registeredApps.add(appId);
      const recorded = await this.recordedItems(appId, this.nodeId);
      const mine = this.mine.get(appId);
      const stale = [...recorded].filter((item) => !mine?.has(item));
      // These left during the outage; our own clients saw that then, the other nodes learn it now.
      if (stale.length > 0) this.announce(appId, (await this.releaseItems(appId, this.nodeId, stale, { remoteOnly: true })).transitions);
      // Connections first so quotas see them, then subscriptions and sign-ins.
      for (const kind of ["c", "s", "u"]) {
        for (const item of [...(this.mine.get(appId)?.keys() ?? [])]) {
          if (item[0] !== kind || recorded.has(item)) continue;
          const current = this.mine.get(appId);
          if (!current?.has(item)) continue; // went away meanwhile
          await this.restore(appId, item, current.get(item), !lostData || announced.has(`${appId}\n${item}`));
        }
      }
    }
    for (const key of announced) this.addedOffline.delete(key);
    return lostData;
  }

  private async restore(appId: string, item: string, member: Member | undefined, announce: boolean): Promise<void> {
    const { kind, socketId, rest: tail } = parseItem(item);
    if (kind === "c") {
      await this.runApp("addConnection", appId, (k) => [k.conns, k.node(this.nodeId)], [this.nodeId, socketId, -1]);
    } else if (kind === "s") {
      const joined = reply.joined(await this.runJoin(appId, tail, socketId, member, -1, true));
      // After Redis lost its data, re-registering is no news unless the channel was announced
      // vacated meanwhile (a leave while the nodes re-registered found it empty): then it is.
      if (!announce && !joined.vacatedSince) return;
      this.node?.transition?.(appId, {
        type: "joined", channel: tail, socketId, member, occupied: joined.occupied, memberAdded: joined.memberAdded, seq: joined.seq,
        subscriptionCount: joined.count,
        remoteOnly: true,
      });
    } else if (reply.flag("signIn", await this.runApp("signIn", appId, (k) => [k.user(tail), k.node(this.nodeId)], [socketId, tail])) && announce) {
      this.node?.transition?.(appId, { type: "online", userId: tail, remoteOnly: true });
    }
  }

  /** Finds nodes whose heartbeat expired and removes their state, announcing each transition once. */
  private async sweepDead(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      for (const id of reply.strings("deadNodes", await this.backend.run("deadNodes", [this.nodes.nodes], [this.opts.nodeTimeoutMs]))) {
        if (id === this.nodeId || this.stopped) continue;
        for (const appId of await this.nodeApps(id)) await this.releaseAll(appId, id);
        if (reply.flag("forgetNode", await this.forgetNode(id, this.opts.nodeTimeoutMs))) {
          this.logger.info(`${this.name} adapter: node ${id} stopped sending heartbeats; its sockets were removed`);
        }
      }
    } finally {
      this.sweeping = false;
    }
  }

  /**
   * Releases everything `nodeId` recorded in the app. The release script undoes only items still
   * recorded, so two nodes sweeping the same dead node announce each transition once.
   */
  private async releaseAll(appId: string, nodeId: string): Promise<void> {
    for (;;) {
      const items = [...await this.recordedItems(appId, nodeId)];
      if (items.length === 0 || this.stopped) return;
      const { left, transitions } = await this.releaseItems(appId, nodeId, items, {});
      this.announce(appId, transitions);
      if (left === 0) return;
    }
  }

  private announce(appId: string, transitions: ClusterTransition[]): void {
    for (const transition of transitions) this.node?.transition?.(appId, transition);
  }
}
