// The cluster adapter shared by the Redis-family drivers. A driver supplies a ClusterBackend
// (run a script from scripts.ts, publish on the bus, report up/down); this class does the rest:
// cluster-wide state with local fallback, the bus, heartbeats, dead-node sweeping and resync.
import type {
  Adapter, BroadcastOptions, CachedEvent, ChannelStats, ClusterMessage, ClusterNode, JoinResult, LeaveResult, Member,
} from "../../core/adapter.ts";
import type { MemberSnapshot } from "../../core/presence.ts";
import type { RateLimitResult } from "../../core/rate-limiter.ts";
import type { Logger } from "../../core/runtime.ts";
import { LocalAdapter } from "../local.ts";
import { catchUpMembers } from "./member-catch-up.ts";
import { Rerun } from "./rerun.ts";
import type { ScriptName } from "./scripts.ts";
import {
  parseItem, parseJson, parseMembers, readEnvelope, releasedTransitions, writeEnvelope, type ClusterBackend, type ClusterOptions,
} from "./backend.ts";

export type { BackendEvents, ClusterBackend, ClusterOptions } from "./backend.ts";

const SWEEP_BATCH = 500;

export class ClusterAdapter implements Adapter {
  /** Unique per process: a restarted node never inherits (or resurrects) a dead one's state. */
  readonly nodeId = globalThis.crypto.randomUUID();
  private node?: ClusterNode;
  /** This node's sockets only: answers while the backend is unreachable. */
  private readonly local: LocalAdapter;
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
  private online = false;
  private everOnline = false;
  private stopped = false;
  private dirty = false;
  private sweeping = false;
  /** Reconnected: local presence subscribers may have missed member events sent meanwhile. */
  private catchUpPending = false;
  private ticker?: unknown;
  private readonly bus: string;
  private readonly nodesBase: string;
  private readonly logger: Logger;

  constructor(readonly name: string, private readonly backend: ClusterBackend, private readonly opts: ClusterOptions) {
    this.local = new LocalAdapter(opts.timers.now);
    this.logger = opts.logger;
    this.bus = `${opts.prefix}bus`;
    this.nodesBase = `${opts.prefix}{nodes}:`;
  }

  async start(node: ClusterNode): Promise<void> {
    this.node = node;
    let firstUp!: () => void;
    const connected = new Promise<void>((resolve) => (firstUp = resolve));
    this.backend.open(this.bus, {
      message: (payload) => this.onBusMessage(payload),
      up: () => {
        if (this.stopped || this.online) return;
        this.online = true;
        this.logger.info(this.everOnline
          ? `${this.name} adapter: connection restored, resynchronising cluster state`
          : `${this.name} adapter: connected (node ${this.nodeId})`);
        this.catchUpPending = this.everOnline;
        this.everOnline = true;
        this.dirty = true;
        void this.resync();
        firstUp();
      },
      down: (reason) => {
        if (!this.online) return;
        this.online = false;
        if (!this.stopped) this.logger.warn(`${this.name} adapter: connection lost (${reason}); serving local clients only, reconnecting`);
      },
    });
    const beat = Math.max(100, Math.floor(this.opts.nodeTimeoutMs / 4));
    this.ticker = this.opts.timers.setInterval(() => void this.tick(), beat);
    // A healthy start is cluster-wide from the first socket on; an unreachable backend must not
    // keep the node from serving its own clients.
    let timer: unknown;
    const timeout = new Promise<void>((resolve) => (timer = this.opts.timers.setTimeout(resolve, this.opts.connectTimeoutMs ?? 5000)));
    await Promise.race([connected.then(() => this.resyncer.idle()), timeout]);
    this.opts.timers.clearTimeout(timer);
    if (!this.online) this.logger.warn(`${this.name} adapter: backend unreachable at start; serving local clients only until it is reachable`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.ticker !== undefined) this.opts.timers.clearInterval(this.ticker);
    await this.resyncer.idle();
    if (this.online) {
      try {
        // The core has left every channel by now; release leftovers (a failed cleanup) and
        // deregister so no other node waits for our heartbeat to expire.
        for (const appId of new Set([...this.mine.keys(), ...this.registeredApps])) await this.releaseAll(appId, this.nodeId);
        await this.runNodes("forgetNode", [this.nodeId, -1]);
      } catch (error) {
        this.logger.debug(`${this.name} adapter: deregistering failed`, error);
      }
    }
    this.online = false;
    await this.backend.close();
    await this.local.stop();
  }

  broadcast(message: ClusterMessage, options?: BroadcastOptions): void {
    if (!options?.remoteOnly) this.node?.receive(message);
    if (!this.online) return;
    this.backend.publish(this.bus, writeEnvelope(this.nodeId, message)).catch((error) => this.failed(error));
  }

  private onBusMessage(payload: string): void {
    const message = readEnvelope(payload, this.nodeId);
    if (message) this.node?.receive(message);
  }

  // --- state transitions: recorded locally, decided by the backend when it is reachable ---

  async addConnection(appId: string, socketId: string, maxConnections: number): Promise<boolean> {
    const item = `c|${socketId}`;
    this.record(appId, item);
    const remote = await this.remote(appId, () => this.runApp("addConnection", appId, [this.nodeId, socketId, maxConnections]));
    const admitted = remote === undefined
      ? await this.local.addConnection(appId, socketId, maxConnections)
      : remote === 1 && (await this.local.addConnection(appId, socketId, -1));
    if (!admitted) this.forget(appId, item);
    return admitted;
  }

  async removeConnection(appId: string, socketId: string): Promise<void> {
    this.forget(appId, `c|${socketId}`);
    await this.local.removeConnection(appId, socketId);
    await this.remote(appId, () => this.runApp("removeConnection", appId, [this.nodeId, socketId]));
  }

  async join(appId: string, channel: string, socketId: string, member?: Member, maxMembers = -1): Promise<JoinResult> {
    const item = `s|${socketId}|${channel}`;
    this.record(appId, item, member);
    const remote = await this.remote(appId, () => this.runJoin(appId, channel, socketId, member, maxMembers));
    if (remote === undefined) {
      const result = await this.local.join(appId, channel, socketId, member, maxMembers);
      if (!result.ok) this.forget(appId, item);
      else this.addedOffline.add(`${appId}\n${item}`);
      return result;
    }
    const [ok, occupied, added, count, seq] = remote as number[];
    if (ok !== 1) {
      this.forget(appId, item);
      return { ok: false, occupied: false, memberAdded: false, subscriptionCount: count ?? 0 };
    }
    await this.local.join(appId, channel, socketId, member, -1);
    return { ok: true, occupied: occupied === 1, memberAdded: added === 1, seq: Number(seq ?? 0), subscriptionCount: count ?? 0 };
  }

  async leave(appId: string, channel: string, socketId: string, member?: Member): Promise<LeaveResult> {
    this.forget(appId, `s|${socketId}|${channel}`);
    const localResult = await this.local.leave(appId, channel, socketId, member);
    const remote = await this.remote(appId, () => this.runApp("leave", appId, [this.nodeId, socketId, channel]));
    if (remote === undefined) return localResult;
    const [vacated, removed, count, , seq] = remote as [number, number, number, string, number];
    return { vacated: vacated === 1, memberRemoved: removed === 1, seq: Number(seq ?? 0), subscriptionCount: count };
  }

  async signIn(appId: string, userId: string, socketId: string): Promise<boolean> {
    this.record(appId, `u|${socketId}|${userId}`);
    const localResult = await this.local.signIn(appId, userId, socketId);
    const remote = await this.remote(appId, () => this.runApp("signIn", appId, [this.nodeId, socketId, userId]));
    if (remote === undefined) this.addedOffline.add(`${appId}\nu|${socketId}|${userId}`);
    return remote === undefined ? localResult : remote === 1;
  }

  async signOut(appId: string, userId: string, socketId: string): Promise<boolean> {
    this.forget(appId, `u|${socketId}|${userId}`);
    const localResult = await this.local.signOut(appId, userId, socketId);
    const remote = await this.remote(appId, () => this.runApp("signOut", appId, [this.nodeId, socketId, userId]));
    return remote === undefined ? localResult : remote === 1;
  }

  async cacheSet(appId: string, channel: string, event: string, data: string, ttlSeconds: number): Promise<void> {
    await this.local.cacheSet(appId, channel, event, data, ttlSeconds);
    await this.remote(appId, () => this.runApp("cacheSet", appId, [channel, JSON.stringify({ event, data }), Math.round(ttlSeconds * 1000)]));
  }

  // --- queries: cluster totals, or this node's view while the backend is unreachable ---

  async connectionCount(appId: string): Promise<number> {
    const remote = await this.query(() => this.runApp("connectionCount", appId, []));
    return remote === undefined ? this.local.connectionCount(appId) : Number(remote);
  }

  async channelStats(appId: string, channel: string): Promise<ChannelStats> {
    const remote = await this.query(() => this.runApp("channelStats", appId, [channel]));
    if (remote === undefined) return this.local.channelStats(appId, channel);
    const [subscriptionCount, userCount] = remote as [number, number];
    return { subscriptionCount, userCount };
  }

  async channels(appId: string, prefix?: string): Promise<Map<string, ChannelStats>> {
    const remote = await this.query(() => this.runApp("channels", appId, [prefix ?? ""]));
    if (remote === undefined) return this.local.channels(appId, prefix);
    const flat = remote as (string | number)[];
    const out = new Map<string, ChannelStats>();
    for (let i = 0; i + 2 < flat.length; i += 3) {
      out.set(String(flat[i]), { subscriptionCount: Number(flat[i + 1]), userCount: Number(flat[i + 2]) });
    }
    return out;
  }

  async members(appId: string, channel: string): Promise<MemberSnapshot> {
    const remote = await this.query(() => this.runApp("members", appId, [channel]));
    return remote === undefined ? this.local.members(appId, channel) : parseMembers(remote);
  }

  /** After an outage: tell local presence subscribers about member changes they missed meanwhile. */
  private catchUp(removals: boolean): Promise<void> {
    // Straight from Redis, without the local fallback: a failure must fail the catch-up (retried).
    const members = async (appId: string, channel: string) => parseMembers(await this.runApp("members", appId, [channel]));
    return catchUpMembers(this.local, this.node, removals, () => this.online && !this.stopped, members);
  }

  async onlineUsers(appId: string, userIds: string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    const remote = await this.query(() => this.runApp("onlineUsers", appId, userIds));
    if (remote === undefined) return this.local.onlineUsers(appId, userIds);
    return new Set((remote as string[]).map(String));
  }

  async cacheGet(appId: string, channel: string): Promise<CachedEvent | null> {
    const remote = await this.query(() => this.runApp("cacheGet", appId, [channel]));
    if (remote === undefined) return this.local.cacheGet(appId, channel);
    const [json, pttl] = remote as [string?, number?];
    if (json === undefined) return null;
    const entry = parseJson(json) as { event: string; data: string } | null;
    if (!entry) return null;
    return { event: entry.event, data: entry.data, ttl: Math.max(1, Math.ceil(Number(pttl) / 1000)) };
  }

  async consumeRate(appId: string, bucket: string, points: number, limit: number): Promise<RateLimitResult | undefined> {
    const remote = await this.query(() => this.runApp("rateConsume", appId, [bucket, points, limit]));
    if (remote === undefined) return undefined;
    const [allowed, used, left] = remote as [number, number, number];
    return { allowed: allowed === 1, remaining: Math.max(0, limit - Number(used)), resetMs: Number(left) };
  }

  // --- plumbing ---

  private base(appId: string): string {
    return `${this.opts.prefix}{${appId}}:`;
  }

  private runApp(script: ScriptName, appId: string, args: (string | number)[]): Promise<unknown> {
    const base = this.base(appId);
    return this.backend.run(script, `${base}conns`, [base, ...args]);
  }

  private runNodes(script: ScriptName, args: (string | number)[]): Promise<unknown> {
    return this.backend.run(script, `${this.nodesBase}nodes`, [this.nodesBase, ...args]);
  }

  private runJoin(appId: string, channel: string, socketId: string, member: Member | undefined, maxMembers: number): Promise<unknown> {
    return this.runApp("join", appId, [
      this.nodeId, socketId, channel, member ? "1" : "0", member?.userId ?? "", JSON.stringify(member?.userInfo ?? null), maxMembers,
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
  private async remote(appId: string, op: () => Promise<unknown>): Promise<unknown> {
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
      this.failed(error);
      return undefined;
    }
  }

  private async query(op: () => Promise<unknown>): Promise<unknown> {
    if (!this.online) return undefined;
    try {
      return await op();
    } catch (error) {
      this.failed(error);
      return undefined;
    }
  }

  private failed(error: unknown): void {
    this.dirty = true;
    this.logger.debug(`${this.name} adapter: command failed`, error);
  }

  private async tick(): Promise<void> {
    if (this.stopped || !this.online) return;
    try {
      if ((await this.runNodes("heartbeat", [this.nodeId])) === 1) this.dirty = true;
      if (this.dirty) await this.resync();
      await this.sweepDead();
    } catch (error) {
      this.failed(error);
    }
  }

  private readonly resyncer = new Rerun(async () => {
    this.dirty = false;
    try {
      const lostData = await this.reconcile();
      // After Redis lost its data the lists fill up node by node as each resyncs, so a
      // member missing from them now may just not be back yet: then only additions count.
      if (this.catchUpPending && !this.stopped) await this.catchUp(!lostData);
      this.catchUpPending = false;
    } catch (error) {
      this.failed(error);
      return false;
    }
    return !this.stopped && this.online;
  });

  private resync(): Promise<void> {
    return this.resyncer.run();
  }

  /**
   * Makes the backend hold exactly this node's state: after an outage the backend may have lost
   * it (restart), kept entries that went away meanwhile, or had it swept by another node.
   */
  private async reconcile(): Promise<boolean> {
    await this.runNodes("heartbeat", [this.nodeId]);
    // After Redis lost its data every node re-registers what the cluster had already announced:
    // only what joined during the outage is news. After a sweep (our members were announced as
    // removed) everything restored is news again.
    const epoch = String(await this.runNodes("epoch", [globalThis.crypto.randomUUID()]));
    const lostData = this.epoch !== undefined && epoch !== this.epoch;
    this.epoch = epoch;
    const announced = new Set(this.addedOffline);
    const listed = (await this.runNodes("nodeApps", [this.nodeId])) as string[];
    this.registeredApps.clear();
    for (const appId of new Set([...this.mine.keys(), ...listed.map(String)])) {
      if (this.stopped) return lostData;
      await this.runNodes("addNodeApp", [this.nodeId, appId]);
      this.registeredApps.add(appId);
      const recorded = new Set(((await this.runApp("items", appId, [this.nodeId])) as string[]).map(String));
      const mine = this.mine.get(appId);
      const stale = [...recorded].filter((item) => !mine?.has(item));
      // These left during the outage; our own clients saw that then, the other nodes learn it now.
      if (stale.length > 0) this.announce(appId, await this.runApp("release", appId, [this.nodeId, "items", ...stale]), true);
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
      const [, occupied, added, count, seq] = (await this.runJoin(appId, tail, socketId, member, -1)) as number[];
      if (!announce) return;
      this.node?.transition?.(appId, {
        type: "joined", channel: tail, socketId, member, occupied: occupied === 1, memberAdded: added === 1, seq: Number(seq ?? 0),
        subscriptionCount: count ?? 0,
        remoteOnly: true,
      });
    } else if ((await this.runApp("signIn", appId, [this.nodeId, socketId, tail])) === 1 && announce) {
      this.node?.transition?.(appId, { type: "online", userId: tail, remoteOnly: true });
    }
  }

  /** Finds nodes whose heartbeat expired and removes their state, announcing each transition once. */
  private async sweepDead(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const dead = ((await this.runNodes("deadNodes", [this.opts.nodeTimeoutMs])) as string[]).map(String);
      for (const id of dead) {
        if (id === this.nodeId || this.stopped) continue;
        for (const appId of ((await this.runNodes("nodeApps", [id])) as string[]).map(String)) await this.releaseAll(appId, id);
        if ((await this.runNodes("forgetNode", [id, this.opts.nodeTimeoutMs])) === 1) {
          this.logger.info(`${this.name} adapter: node ${id} stopped sending heartbeats; its sockets were removed`);
        }
      }
    } finally {
      this.sweeping = false;
    }
  }

  private async releaseAll(appId: string, nodeId: string): Promise<void> {
    for (;;) {
      const result = await this.runApp("release", appId, [nodeId, "batch", SWEEP_BATCH]);
      this.announce(appId, result);
      if (Number((result as unknown[])[0]) === 0) return;
    }
  }

  private announce(appId: string, result: unknown, remoteOnly = false): void {
    for (const transition of releasedTransitions(result, remoteOnly)) this.node?.transition?.(appId, transition);
  }
}
