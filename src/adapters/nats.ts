// The "nats" adapter driver: nats.ws to NATS's WebSocket listener. Core subjects carry the bus
// and heartbeats; cluster state lives in a JetStream key-value bucket where each key holds every
// node's contribution and changes by compare-and-set (see nats/state.ts), so each transition is
// seen by exactly one node. While NATS is away the node serves its own sockets from local state
// and writes its contribution back when NATS returns.
import type {
  Adapter, BroadcastOptions, CachedEvent, ChannelStats, ClusterMessage, ClusterNode, JoinResult, LeaveResult, Member,
} from "../core/adapter.ts";
import type { MemberSnapshot } from "../core/presence.ts";
import type { RateLimitResult } from "../core/rate-limiter.ts";
import type { Logger, Timers } from "../core/runtime.ts";
import { LocalRateLimiter } from "../rate-limiters/local.ts";
import { readEnvelope, writeEnvelope } from "./cluster/backend.ts";
import { LocalAdapter } from "./local.ts";
import { NatsLink } from "./nats/connection.ts";
import { natsNames, type Announcer } from "./nats/names.ts";
import * as read from "./nats/queries.ts";
import { Reconciler } from "./nats/reconcile.ts";
import { key, type ChannelChange } from "./nats/state.ts";
import { catchUpMembers } from "./cluster/member-catch-up.ts";
import { Rerun } from "./cluster/rerun.ts";
import { Sweeper } from "./nats/sweeper.ts";
import { ContributionWriter } from "./nats/writer.ts";

export interface NatsAdapterOptions {
  servers: string[];
  prefix: string;
  nodeTimeoutMs: number;
  timers: Timers;
  logger: Logger;
  connectTimeoutMs?: number;
}

export class NatsAdapter implements Adapter {
  readonly name = "nats";
  /** Unique per process: a restarted node never inherits (or resurrects) a dead one's state. */
  readonly nodeId = globalThis.crypto.randomUUID();
  private node?: ClusterNode;
  private readonly local: LocalAdapter;
  private readonly link: NatsLink;
  private readonly bus: string;
  private readonly hb: string;
  private readonly logger: Logger;
  private online = false;
  private everOnline = false;
  private stopped = false;
  private dirty = false;
  /** Reconnected: local presence subscribers may have missed member events. */
  private catchUpPending = false;
  private ticker?: unknown;
  private lastTick = 0;
  private readonly connDirty = new Set<string>();
  private connWriting = false;
  private readonly announcer: Announcer;
  private readonly write: ContributionWriter;
  private readonly sweeper: Sweeper;
  private readonly reconciler: Reconciler;
  private readonly rates: LocalRateLimiter;

  constructor(private readonly opts: NatsAdapterOptions) {
    this.local = new LocalAdapter(opts.timers.now);
    this.rates = new LocalRateLimiter(opts.timers.now);
    this.logger = opts.logger;
    const names = natsNames(opts.prefix);
    this.bus = names.bus;
    this.hb = names.heartbeat;
    this.link = new NatsLink(opts.servers, names.bucket, opts.logger, `switchboard ${this.nodeId}`);
    this.announcer = { transition: (appId, t) => this.node?.transition?.(appId, t) };
    this.write = new ContributionWriter(this.link, this.local, this.nodeId, opts.timers.now);
    this.reconciler = new Reconciler(this.nodeId, this.local, this.link, this.write, this.announcer);
    this.sweeper = new Sweeper(
      this.nodeId, this.link, this.write, this.announcer, names.heartbeat, opts.nodeTimeoutMs, opts.timers.now, opts.logger,
      () => this.online && !this.stopped,
    );
  }

  async start(node: ClusterNode): Promise<void> {
    this.node = node;
    let firstUp!: () => void;
    const connected = new Promise<void>((resolve) => (firstUp = resolve));
    this.link.open({ [this.bus]: (p) => this.onBus(p), [this.hb]: (p) => this.sweeper.onHeartbeat(p, this.online) }, {
      up: () => {
        if (this.stopped || this.online) return;
        this.online = true;
        this.logger.info(this.everOnline
          ? "nats adapter: connection restored, resynchronising cluster state"
          : `nats adapter: connected (node ${this.nodeId})`);
        this.catchUpPending = this.everOnline;
        this.everOnline = true;
        this.sweeper.connected();
        this.dirty = true;
        void this.resync().finally(firstUp);
      },
      down: (reason) => {
        if (!this.online) return;
        this.online = false;
        if (!this.stopped) this.logger.warn(`nats adapter: connection lost (${reason}); serving local clients only, reconnecting`);
      },
    });
    const beat = Math.max(100, Math.floor(this.opts.nodeTimeoutMs / 4));
    this.ticker = this.opts.timers.setInterval(() => void this.tick(), beat);
    let timer: unknown;
    const timeout = new Promise<void>((resolve) => (timer = this.opts.timers.setTimeout(resolve, this.opts.connectTimeoutMs ?? 5000)));
    await Promise.race([connected, timeout]);
    this.opts.timers.clearTimeout(timer);
    if (!this.online) this.logger.warn("nats adapter: NATS unreachable at start; serving local clients only until it is reachable");
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.ticker !== undefined) this.opts.timers.clearInterval(this.ticker);
    await this.resyncer.idle();
    await this.sweeper.idle();
    if (this.online) {
      try {
        // The core has left every channel by now; this releases leftovers and the connection counts.
        await this.reconciler.release();
        this.sweeper.heartbeat("bye");
      } catch (error) {
        this.logger.debug("nats adapter: deregistering failed", error);
      }
    }
    this.online = false;
    await this.link.close();
    await this.local.stop();
  }

  broadcast(message: ClusterMessage, options?: BroadcastOptions): void {
    if (!options?.remoteOnly) this.node?.receive(message);
    if (!this.online) return;
    this.link.publish(this.bus, writeEnvelope(this.nodeId, message));
  }

  private onBus(payload: string): void {
    const message = readEnvelope(payload, this.nodeId);
    if (message) this.node?.receive(message);
  }

  private alive(nodeId: string): boolean {
    return this.sweeper.alive(nodeId);
  }

  // --- state transitions: applied locally, then this node's contribution is written by CAS ---

  async addConnection(appId: string, socketId: string, maxConnections: number): Promise<boolean> {
    if (maxConnections >= 0 && this.online) {
      // A quota is decided by one CAS on the app's per-node connection counts, so two nodes can
      // never both admit the last allowed connection.
      this.reconciler.quotaApps.add(appId);
      const qk = key(appId, "q", "all");
      try {
        return await this.write.serial(qk, async () => {
          if (!(await this.write.admit(appId, maxConnections))) return false;
          this.reconciler.touch(appId, qk);
          await this.local.addConnection(appId, socketId, -1);
          this.writeConnections(appId);
          return true;
        });
      } catch (error) {
        this.failed(error);
      }
    }
    const admitted = await this.local.addConnection(appId, socketId, maxConnections);
    if (admitted) this.writeConnections(appId);
    return admitted;
  }

  async removeConnection(appId: string, socketId: string): Promise<void> {
    await this.local.removeConnection(appId, socketId);
    this.writeConnections(appId);
    if (this.reconciler.quotaApps.has(appId) && this.online) await this.write.quota(appId).catch((error) => this.failed(error));
  }

  async join(appId: string, channel: string, socketId: string, member?: Member, maxMembers = -1): Promise<JoinResult> {
    const k = key(appId, "c", channel);
    if (!this.online) return this.offlineResult(k, await this.local.join(appId, channel, socketId, member, maxMembers), member);
    return this.write.serial(k, async () => {
      const joined = await this.local.join(appId, channel, socketId, member, -1);
      if (!this.online) return this.offlineResult(k, joined, member);
      try {
        const limit = member && joined.memberAdded && maxMembers >= 0 ? { userId: member.userId, max: maxMembers } : undefined;
        const change = await this.write.channel(appId, channel, this.nodeId, limit);
        if (!change) {
          await this.local.leave(appId, channel, socketId, member);
          return { ok: false, occupied: false, memberAdded: false, subscriptionCount: 0 };
        }
        this.reconciler.touch(appId, k);
        const memberAdded = member !== undefined && change.added.some((a) => a.userId === member.userId);
        this.announceRest(appId, channel, change, member?.userId, true);
        return { ok: true, occupied: change.occupied, memberAdded, seq: change.seq, subscriptionCount: change.subscriptionCount };
      } catch (error) {
        this.failed(error);
        return this.offlineResult(k, joined, member);
      }
    });
  }

  private offlineResult(k: string, joined: JoinResult, member?: Member): JoinResult {
    this.dirty = true;
    if (joined.ok && (joined.memberAdded || joined.occupied)) this.reconciler.addedWhileAway(k, member?.userId);
    return joined;
  }

  async leave(appId: string, channel: string, socketId: string, member?: Member): Promise<LeaveResult> {
    const localLeave = () => this.local.leave(appId, channel, socketId, member);
    if (!this.online) {
      this.dirty = true;
      return localLeave();
    }
    return this.write.serial(key(appId, "c", channel), async () => {
      const left = await localLeave();
      try {
        const change = (await this.write.channel(appId, channel))!;
        const memberRemoved = member !== undefined && change.removed.includes(member.userId);
        this.announceRest(appId, channel, change, member?.userId, false);
        return { vacated: change.vacated, memberRemoved, seq: change.seq, subscriptionCount: change.subscriptionCount };
      } catch (error) {
        this.failed(error);
        return left;
      }
    });
  }

  async signIn(appId: string, userId: string, socketId: string): Promise<boolean> {
    return this.userChange(appId, userId, () => this.local.signIn(appId, userId, socketId), "online");
  }

  async signOut(appId: string, userId: string, socketId: string): Promise<boolean> {
    return this.userChange(appId, userId, () => this.local.signOut(appId, userId, socketId), "offline");
  }

  private async userChange(appId: string, userId: string, apply: () => Promise<boolean>, wanted: "online" | "offline"): Promise<boolean> {
    const k = key(appId, "u", userId);
    const offline = (result: boolean) => {
      this.dirty = true;
      if (result && wanted === "online") this.reconciler.addedWhileAway(k);
      return result;
    };
    if (!this.online) return offline(await apply());
    return this.write.serial(k, async () => {
      const localResult = await apply();
      try {
        const change = await this.write.user(appId, userId);
        this.reconciler.touch(appId, k);
        return change[wanted];
      } catch (error) {
        this.failed(error);
        return offline(localResult);
      }
    });
  }

  async cacheSet(appId: string, channel: string, event: string, data: string, ttlSeconds: number): Promise<void> {
    await this.local.cacheSet(appId, channel, event, data, ttlSeconds);
    if (this.online) await read.cacheSet(this.link, appId, channel, event, data, ttlSeconds).catch((error) => this.failed(error));
  }

  // --- queries: cluster totals, or this node's view while NATS is unreachable ---

  async connectionCount(appId: string): Promise<number> {
    const own = await this.local.connectionCount(appId);
    return this.query(() => read.connectionCount(this.link, appId, own, (id) => id !== this.nodeId && this.alive(id)), () => own);
  }

  async channelStats(appId: string, channel: string): Promise<ChannelStats> {
    return this.query(() => read.channelStats(this.link, appId, channel), () => this.local.channelStats(appId, channel));
  }

  async channels(appId: string, prefix?: string): Promise<Map<string, ChannelStats>> {
    return this.query(() => read.channels(this.link, appId, prefix), () => this.local.channels(appId, prefix));
  }

  async members(appId: string, channel: string): Promise<MemberSnapshot> {
    return this.query(() => read.members(this.link, appId, channel, this.opts.timers.now()), () => this.local.members(appId, channel));
  }

  async onlineUsers(appId: string, userIds: string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    return this.query(() => read.onlineUsers(this.link, appId, userIds), () => this.local.onlineUsers(appId, userIds));
  }

  async cacheGet(appId: string, channel: string): Promise<CachedEvent | null> {
    return this.query(() => read.cacheGet(this.link, appId, channel), () => this.local.cacheGet(appId, channel));
  }

  /**
   * NATS has no cheap shared counter, so each live node enforces its share of the limit (the
   * remainder goes to the first nodes in id order): the cluster never exceeds it, though uneven
   * load can refuse a request on one node while another still has budget.
   */
  async consumeRate(appId: string, bucket: string, points: number, limit: number): Promise<RateLimitResult | undefined> {
    if (!this.online) return undefined;
    const nodes = this.sweeper.liveNodes();
    const rank = nodes.indexOf(this.nodeId);
    const share = Math.floor(limit / nodes.length) + (rank < limit % nodes.length ? 1 : 0);
    return this.rates.consume(appId, bucket, points, share);
  }

  // --- plumbing ---

  private async query<T>(remote: () => Promise<T>, fallback: () => T | Promise<T>): Promise<T> {
    if (!this.online) return fallback();
    try {
      return await remote();
    } catch (error) {
      this.failed(error);
      return fallback();
    }
  }

  private failed(error: unknown): void {
    this.dirty = true;
    this.logger.debug("nats adapter: operation failed", error);
  }

  /** Announces what a join or leave changed besides the caller's own member (outage leftovers). */
  private announceRest(appId: string, channel: string, change: ChannelChange, userId: string | undefined, joining: boolean): void {
    const rest: ChannelChange = {
      ...change,
      occupied: false,
      vacated: false,
      added: change.added.filter((a) => !(joining && a.userId === userId)),
      removed: change.removed.filter((id) => !(!joining && id === userId)),
    };
    if (rest.added.length || rest.removed.length) this.reconciler.announce(appId, channel, rest, true, false);
  }

  private writeConnections(appId: string): void {
    if (!this.online) {
      this.dirty = true;
      return;
    }
    this.connDirty.add(appId);
    if (this.connWriting) return;
    this.connWriting = true;
    void (async () => {
      while (this.connDirty.size > 0 && this.online) {
        for (const id of [...this.connDirty]) {
          this.connDirty.delete(id);
          await this.reconciler.writeConnections(id);
        }
      }
    })().catch((error) => this.failed(error)).finally(() => (this.connWriting = false));
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const now = this.opts.timers.now();
    // A pause longer than the timeout (a stopped process, a starved event loop) may have got us swept.
    if (this.lastTick && now - this.lastTick > this.opts.nodeTimeoutMs) this.dirty = true;
    this.lastTick = now;
    if (!this.online) return this.link.retry();
    try {
      if (this.dirty) await this.resync();
      await this.sweeper.tick();
    } catch (error) {
      this.failed(error);
    }
  }

  private readonly resyncer = new Rerun(async () => {
    this.dirty = false;
    try {
      const lostData = await this.reconciler.resync(() => !this.stopped);
      // After NATS lost its data the lists fill up node by node as each resyncs, so a member
      // missing from them now may just not be back yet: then only additions count.
      if (this.catchUpPending) await this.catchUp(!lostData);
      this.catchUpPending = false;
      this.reconciler.settled();
    } catch (error) {
      this.failed(error);
      return false;
    }
    return !this.stopped && this.online;
  });

  private resync(): Promise<void> {
    return this.resyncer.run();
  }

  /** After an outage: tell local presence subscribers about member changes they missed meanwhile. */
  private catchUp(removals: boolean): Promise<void> {
    const members = (appId: string, channel: string) => read.members(this.link, appId, channel, this.opts.timers.now());
    return catchUpMembers(this.local, this.node, removals, () => this.online && !this.stopped, members);
  }
}

export function createNatsAdapter(options: NatsAdapterOptions): NatsAdapter {
  return new NatsAdapter(options);
}
