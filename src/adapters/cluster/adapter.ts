// The cluster adapter shared by the Redis-family drivers. A driver supplies a ClusterBackend
// (run a script from scripts.ts, publish on the bus, report up/down); ClusterLifecycle runs the
// connection, the bus, the resync and the catch-up; this class keeps the cluster state in the
// scripts' keys with local fallback, re-registers it after an outage and sweeps dead nodes.
import type { Adapter, ClusterTransition, JoinResult, LeaveResult, Member } from "../../core/adapter.ts";
import type { RateLimitResult } from "../../core/rate-limiter.ts";
import { appToken } from "./app-buses.ts";
import type { ClusterBackend } from "./backend.ts";
import { ClusterLifecycle } from "./lifecycle.ts";
import type { ClusterOptions, IdempotencyBackend, StoreReads, TransportEvents } from "./transport.ts";
import * as reply from "./replies.ts";
import type { ScriptName } from "./scripts.ts";

const SWEEP_BATCH = 500;

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
  /** Hellos and console revocations: every node hears it. */
  private readonly nodeBus: string;
  private readonly nodesBase: string;

  constructor(name: string, private readonly backend: ClusterBackend, opts: ClusterOptions) {
    super(name, opts);
    this.nodeBus = `${opts.prefix}{nodes}:bus`;
    this.nodesBase = `${opts.prefix}{nodes}:`;
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
    if (reply.flag("heartbeat", await this.runNodes("heartbeat", [this.nodeId]))) this.missedEvents();
  }

  protected maintain(): Promise<void> {
    return this.sweepDead();
  }

  protected async release(): Promise<void> {
    // The core has left every channel by now; release leftovers (a failed cleanup) and
    // deregister so no other node waits for our heartbeat to expire.
    for (const appId of new Set([...this.mine.keys(), ...this.registeredApps])) await this.releaseAll(appId, this.nodeId);
    await this.runNodes("forgetNode", [this.nodeId, -1]);
  }

  protected readonly reads: StoreReads = {
    channelStats: async (appId, channel) => reply.stats(await this.runApp("channelStats", appId, [channel])),
    channels: async (appId, prefix) => reply.channels(await this.runApp("channels", appId, [prefix ?? ""])),
    members: async (appId, channel) => reply.members(await this.runApp("members", appId, [channel])),
    onlineUsers: async (appId, userIds) => new Set(reply.strings("onlineUsers", await this.runApp("onlineUsers", appId, userIds))),
    cacheGet: async (appId, channel) => reply.cached(await this.runApp("cacheGet", appId, [channel])),
  };

  protected readonly idempotency: IdempotencyBackend = {
    claim: async (appId, key, pendingMs) => reply.claim(await this.backend.run("idempotencyClaim", this.publishKey(appId, key), [pendingMs])),
    settle: async (appId, key, delivered, windowMs) => {
      await this.backend.run("idempotencySettle", this.publishKey(appId, key), [delivered ? "1" : "0", windowMs]);
    },
  };

  /** In the app's hash tag, like every key of the app (one cluster slot). */
  private publishKey(appId: string, key: string): string {
    return `${this.opts.prefix}{${appId}}:p:${key}`;
  }

  // --- state transitions: recorded locally, decided by the backend when it is reachable ---

  async addConnection(appId: string, socketId: string, maxConnections: number): Promise<boolean> {
    const item = `c|${socketId}`;
    this.record(appId, item);
    const remote = await this.remote("addConnection", appId, async () =>
      reply.flag("addConnection", await this.runApp("addConnection", appId, [this.nodeId, socketId, maxConnections])));
    const admitted = remote === undefined
      ? await this.local.addConnection(appId, socketId, maxConnections)
      : remote && (await this.local.addConnection(appId, socketId, -1));
    if (!admitted) this.forget(appId, item);
    return admitted;
  }

  async removeConnection(appId: string, socketId: string): Promise<void> {
    this.forget(appId, `c|${socketId}`);
    await this.local.removeConnection(appId, socketId);
    await this.remote("removeConnection", appId, () => this.runApp("removeConnection", appId, [this.nodeId, socketId]));
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
    const remote = await this.remote("leave", appId, async () => reply.left(await this.runApp("leave", appId, [this.nodeId, socketId, channel])));
    if (remote === undefined) return this.leftLocally(appId, channel, localResult, member?.userId);
    return { vacated: remote.vacated, memberRemoved: remote.memberRemoved, seq: remote.seq, subscriptionCount: remote.count };
  }

  async signIn(appId: string, userId: string, socketId: string): Promise<boolean> {
    this.record(appId, `u|${socketId}|${userId}`);
    const localResult = await this.local.signIn(appId, userId, socketId);
    const remote = await this.remote("signIn", appId, async () =>
      reply.flag("signIn", await this.runApp("signIn", appId, [this.nodeId, socketId, userId])));
    if (remote === undefined) this.addedOffline.add(`${appId}\nu|${socketId}|${userId}`);
    return remote ?? localResult;
  }

  async signOut(appId: string, userId: string, socketId: string): Promise<boolean> {
    this.forget(appId, `u|${socketId}|${userId}`);
    const localResult = await this.local.signOut(appId, userId, socketId);
    const remote = await this.remote("signOut", appId, async () =>
      reply.flag("signOut", await this.runApp("signOut", appId, [this.nodeId, socketId, userId])));
    return remote ?? localResult;
  }

  async cacheSet(appId: string, channel: string, event: string, data: string, ttlSeconds: number): Promise<void> {
    await this.local.cacheSet(appId, channel, event, data, ttlSeconds);
    await this.remote("cacheSet", appId, () =>
      this.runApp("cacheSet", appId, [channel, JSON.stringify({ event, data }), Math.round(ttlSeconds * 1000)]));
  }

  /** The rate counter part: one fixed window per bucket for the whole cluster, timed by Redis. */
  async consumeRate(appId: string, bucket: string, points: number, limit: number): Promise<RateLimitResult | undefined> {
    return this.query("rateConsume", async () => reply.rate(await this.runApp("rateConsume", appId, [bucket, points, limit]), limit),
      () => undefined);
  }

  // --- plumbing ---

  private runApp(script: ScriptName, appId: string, args: (string | number)[]): Promise<unknown> {
    const base = `${this.opts.prefix}{${appId}}:`;
    return this.backend.run(script, `${base}conns`, [base, ...args]);
  }

  private runNodes(script: ScriptName, args: (string | number)[]): Promise<unknown> {
    return this.backend.run(script, `${this.nodesBase}nodes`, [this.nodesBase, ...args]);
  }

  private runJoin(appId: string, channel: string, socketId: string, member: Member | undefined, maxMembers: number, restore = false): Promise<unknown> {
    return this.runApp("join", appId, [
      this.nodeId, socketId, channel, member ? "1" : "0", member?.userId ?? "", JSON.stringify(member?.userInfo ?? null), maxMembers,
      restore ? "1" : "0",
    ]);
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
        await this.runNodes("addNodeApp", [this.nodeId, appId]);
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
    await this.runNodes("heartbeat", [this.nodeId]);
    // After Redis lost its data every node re-registers what the cluster had already announced:
    // only what joined during the outage is news. After a sweep (our members were announced as
    // removed) everything restored is news again.
    const epoch = reply.string("epoch", await this.runNodes("epoch", [globalThis.crypto.randomUUID()]));
    const lostData = this.epoch !== undefined && epoch !== this.epoch;
    this.epoch = epoch;
    const announced = new Set(this.addedOffline);
    const listed = reply.strings("nodeApps", await this.runNodes("nodeApps", [this.nodeId]));
    this.registeredApps.clear();
    for (const appId of new Set([...this.mine.keys(), ...listed])) {
      if (this.stopped) return lostData;
      await this.runNodes("addNodeApp", [this.nodeId, appId]);
      this.registeredApps.add(appId);
      const recorded = new Set(reply.strings("items", await this.runApp("items", appId, [this.nodeId])));
      const mine = this.mine.get(appId);
      const stale = [...recorded].filter((item) => !mine?.has(item));
      // These left during the outage; our own clients saw that then, the other nodes learn it now.
      if (stale.length > 0) this.announce(appId, reply.released(await this.runApp("release", appId, [this.nodeId, "items", ...stale]), true).transitions);
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
      await this.runApp("addConnection", appId, [this.nodeId, socketId, -1]);
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
    } else if (reply.flag("signIn", await this.runApp("signIn", appId, [this.nodeId, socketId, tail])) && announce) {
      this.node?.transition?.(appId, { type: "online", userId: tail, remoteOnly: true });
    }
  }

  /** Finds nodes whose heartbeat expired and removes their state, announcing each transition once. */
  private async sweepDead(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      for (const id of reply.strings("deadNodes", await this.runNodes("deadNodes", [this.opts.nodeTimeoutMs]))) {
        if (id === this.nodeId || this.stopped) continue;
        for (const appId of reply.strings("nodeApps", await this.runNodes("nodeApps", [id]))) await this.releaseAll(appId, id);
        if (reply.flag("forgetNode", await this.runNodes("forgetNode", [id, this.opts.nodeTimeoutMs]))) {
          this.logger.info(`${this.name} adapter: node ${id} stopped sending heartbeats; its sockets were removed`);
        }
      }
    } finally {
      this.sweeping = false;
    }
  }

  private async releaseAll(appId: string, nodeId: string): Promise<void> {
    for (;;) {
      const { left, transitions } = reply.released(await this.runApp("release", appId, [nodeId, "batch", SWEEP_BATCH]), false);
      this.announce(appId, transitions);
      if (left === 0) return;
    }
  }

  private announce(appId: string, transitions: ClusterTransition[]): void {
    for (const transition of transitions) this.node?.transition?.(appId, transition);
  }
}

/** Splits a recorded item ("c|sock", "s|sock|channel", "u|sock|user") into kind, socket and rest. */
function parseItem(item: string): { kind: string; socketId: string; rest: string } {
  const tail = item.slice(2);
  const bar = tail.indexOf("|");
  return { kind: item[0] ?? "", socketId: bar < 0 ? tail : tail.slice(0, bar), rest: bar < 0 ? "" : tail.slice(bar + 1) };
}
