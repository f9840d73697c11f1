// The "nats" adapter driver: nats.ws to NATS's WebSocket listener. Core subjects carry the bus
// (one subject per app, one for the node-wide messages and hellos); cluster state lives in a JetStream key-value bucket where each key holds every
// node's contribution and changes by compare-and-set (see nats/state.ts), so each transition is
// seen by exactly one node. While NATS is away the node serves its own sockets from local state
// and writes its contribution back when NATS returns (ClusterLifecycle runs that cycle).
import type { Adapter, Departure, JoinResult, LeaveResult, Member, Subscribed } from "../core/adapter.ts";
import type { RateLimitResult } from "../core/rate-limiter.ts";
import { ClusterLifecycle } from "./cluster/lifecycle.ts";
import type { ClusterOptions, TransportEvents } from "./cluster/transport.ts";
import { NatsLink, UNCHANGED } from "./nats/connection.ts";
import { EpochBase } from "./nats/epoch.ts";
import { NatsIdempotency } from "./nats/idempotency.ts";
import { natsNames, transitionsOf } from "./nats/names.ts";
import { NatsReads } from "./nats/queries.ts";
import { NodeShareRateCounter } from "./nats/rate-share.ts";
import { key, type ChannelChange } from "./nats/state.ts";
import { CHANNEL } from "./nats/values.ts";
import { NatsShares } from "./nats/share-store.ts";
import { Sweeper } from "./nats/sweeper.ts";
import { ContributionWriter } from "./nats/writer.ts";

export type NatsAdapterOptions = ClusterOptions & { servers: string[] };

export class NatsAdapter extends ClusterLifecycle implements Adapter {
  private readonly link: NatsLink;
  private readonly nodeBus: string;
  private readonly appBus: (appId: string) => string;
  private onBusMessage: (payload: string) => void = () => {};
  private readonly write: ContributionWriter;
  private readonly epochs: EpochBase;
  private readonly sweeper: Sweeper;
  protected readonly shares: NatsShares;
  private readonly rates: NodeShareRateCounter;
  protected readonly reads: NatsReads;
  protected readonly idempotency: NatsIdempotency;

  constructor(opts: NatsAdapterOptions) {
    super("nats", opts);
    const names = natsNames(opts.prefix);
    this.nodeBus = names.bus;
    this.appBus = names.app;
    this.link = new NatsLink(opts.servers, names.bucket, opts.logger, opts.timers, `switchboard ${this.nodeId}`, opts.requestTimeoutMs);
    this.epochs = new EpochBase(this.link, this.now);
    this.reads = new NatsReads(this.link, this.now, this.epochs);
    this.idempotency = new NatsIdempotency(this.link, this.now);
    this.write = new ContributionWriter(this.link, this.local, this.nodeId, this.epochs);
    this.shares = new NatsShares(this.nodeId, this.local, this.write, (node) => this.sweeper.alive(node));
    this.sweeper = new Sweeper(this.nodeId, this.link, opts.nodeTimeoutMs, this.now, opts.logger, this.bus.peers, {
      active: () => this.online && !this.stopped,
      failed: (error) => this.failed("sweep", error),
      tellSwept: (node) => this.bus.swept(node),
      syncOwn: async (appId, k) => this.state.announce(appId, await this.shares.syncKey(appId, k), true),
      sweepFound: async (found) => {
        this.shares.scanned(found);
        for (const node of found.keys()) await this.state.sweep(node);
      },
      recount: async (appId, channel) => {
        if (await this.write.serial(key(appId, "c", channel), () => this.write.recount(appId, channel))) {
          opts.logger.info(`nats adapter: set the member count of ${appId}/${channel} from its member keys`);
        }
      },
      dropExpired: () => this.reads.dropExpiredCache(),
    });
    this.rates = new NodeShareRateCounter(this.nodeId, () => (this.online ? this.sweeper.liveNodes() : undefined), this.now);
  }

  // --- the transport, for ClusterLifecycle ---

  protected open(events: TransportEvents): void {
    this.onBusMessage = events.message;
    this.link.open({ [this.nodeBus]: events.message }, events, () => this.epochs.read());
  }

  protected publish(appId: string | undefined, payload: string): Promise<void> {
    this.link.publish(appId === undefined ? this.nodeBus : this.appBus(appId), payload);
    return this.link.published();
  }

  protected async subscribeApps(appIds: string[]): Promise<void> {
    await Promise.all(appIds.map((appId) => this.link.subscribe(this.appBus(appId), this.onBusMessage)));
  }

  protected async unsubscribeApps(appIds: string[]): Promise<void> {
    for (const appId of appIds) this.link.unsubscribe(this.appBus(appId));
  }

  protected close(): Promise<void> {
    return this.link.close();
  }

  protected connected(): void {
    this.sweeper.connected();
  }

  protected stalled(): void {
    this.sweeper.stalled();
  }

  protected peersGone(nodes: string[]): void {
    this.sweeper.gone(nodes);
  }

  protected sweptBy(node: string): void {
    this.logger.warn(`nats adapter: node ${node} swept this node's state (it did not hear us for a node timeout); re-registering`);
    this.missedEvents();
  }

  /** The bucket may have been unavailable on a live connection (JetStream still starting). */
  protected retry(): void {
    this.link.retry();
  }

  protected maintain(): Promise<void> {
    return this.sweeper.tick();
  }

  protected idle(): Promise<void> {
    return this.sweeper.idle();
  }

  protected async release(): Promise<void> {
    // The core has left every channel by now; this releases leftovers and the quota counts.
    await this.state.release();
  }

  // --- state transitions: applied locally, then this node's contribution is written by CAS ---

  async addConnection(appId: string, socketId: string, maxConnections: number): Promise<boolean> {
    if (maxConnections >= 0 && this.online) {
      // A quota is decided by one CAS on the app's per-node connection counts, so two nodes can
      // never both admit the last allowed connection.
      this.shares.quotaApps.add(appId);
      const qk = key(appId, "q", "all");
      try {
        return await this.write.serial(qk, async () => {
          if (!(await this.write.admit(appId, maxConnections))) return false;
          this.shares.touch(appId, qk);
          await this.local.addConnection(appId, socketId, -1);
          return true;
        });
      } catch (error) {
        this.failed("addConnection", error);
      }
    }
    // Without a quota nothing cluster-wide depends on the connection: it is counted here only.
    return this.local.addConnection(appId, socketId, maxConnections);
  }

  async removeConnection(appId: string, socketId: string): Promise<void> {
    await this.local.removeConnection(appId, socketId);
    if (this.shares.quotaApps.has(appId) && this.online) {
      await this.write.quota(appId).catch((error: unknown) => this.failed("removeConnection", error));
    }
  }

  async join(appId: string, channel: string, socketId: string, member?: Member, maxMembers = -1): Promise<JoinResult> {
    const k = key(appId, "c", channel);
    if (!this.online) return this.offlineResult(appId, channel, await this.local.join(appId, channel, socketId, member, maxMembers), member);
    return this.write.serial(k, async () => {
      const joined = await this.local.join(appId, channel, socketId, member, -1);
      if (!this.online) return this.offlineResult(appId, channel, joined, member);
      try {
        const limit = member && joined.memberAdded && maxMembers >= 0 ? maxMembers : undefined;
        const change = await this.write.socket(appId, channel, member?.userId, limit);
        if (!change) {
          await this.local.leave(appId, channel, socketId, member);
          return { ok: false, occupied: false, memberAdded: false, subscriptionCount: 0 };
        }
        this.shares.touch(appId, k);
        const added = change.added.find((a) => a.userId === member?.userId);
        this.announceRest(appId, channel, change, member?.userId, true);
        return {
          ok: true, occupied: change.occupied, memberAdded: added !== undefined, seq: added?.seq,
          subscriptionCount: change.subscriptionCount, countSeq: change.countSeq,
        };
      } catch (error) {
        this.failed("join", error);
        return this.offlineResult(appId, channel, joined, member);
      }
    });
  }

  private offlineResult(appId: string, channel: string, joined: JoinResult, member?: Member): JoinResult {
    this.dirty = true;
    return this.state.joinedAway(appId, channel, joined, member?.userId);
  }

  async leave(appId: string, channel: string, socketId: string, member?: Member): Promise<LeaveResult> {
    const localLeave = () => this.local.leave(appId, channel, socketId, member);
    if (!this.online) {
      this.dirty = true;
      return this.state.leftAwayFrom(appId, channel, await localLeave(), member?.userId);
    }
    return this.write.serial(key(appId, "c", channel), async () => {
      const left = await localLeave();
      try {
        const change = (await this.write.socket(appId, channel, member?.userId))!;
        const removed = change.removed.find((r) => r.userId === member?.userId);
        this.announceRest(appId, channel, change, member?.userId, false);
        return {
          vacated: change.vacated, memberRemoved: removed !== undefined, seq: removed?.seq,
          subscriptionCount: change.subscriptionCount, countSeq: change.countSeq,
        };
      } catch (error) {
        this.failed("leave", error);
        return this.state.leftAwayFrom(appId, channel, left, member?.userId);
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
      if (result) this.state.signedAway(appId, userId, wanted === "online");
      return result;
    };
    if (!this.online) return offline(await apply());
    return this.write.serial(k, async () => {
      const localResult = await apply();
      try {
        const change = await this.write.user(appId, userId);
        this.shares.touch(appId, k);
        // A sign-out on a key swept while this node was paused brings its other sockets back: the
        // sweep told every node (this one too) that the user went offline.
        if (wanted === "offline" && change.online) this.node?.transition?.(appId, { type: "online", userId });
        return change[wanted];
      } catch (error) {
        this.failed(wanted === "online" ? "signIn" : "signOut", error);
        return offline(localResult);
      }
    });
  }

  /** Cluster-wide or a ClusterUnavailableError: a publish answered 2xx is cached for every node's next subscriber. */
  async cacheSet(appId: string, channel: string, event: string, data: string, ttlSeconds: number): Promise<void> {
    await this.local.cacheSet(appId, channel, event, data, ttlSeconds);
    await this.strict("cacheSet", async () => {
      await this.reads.cacheSet(appId, channel, event, data, ttlSeconds);
      // A cached event ends the channel's cache_miss suppression (spec §3.8).
      await this.link.cas(key(appId, "c", channel), CHANNEL, (value) => {
        if (!value?.x) return { next: UNCHANGED, result: undefined };
        const { x: _sent, ...rest } = value;
        return { next: rest, result: undefined };
      });
    });
  }

  /**
   * The flag lives in the channel's own value (`x`), so vacating the channel (which deletes the
   * value) ends the suppression with no extra write, and a vacant channel claims nothing.
   */
  claimCacheMiss(appId: string, channel: string): Promise<boolean> {
    return this.query("cacheMiss", () => this.link.cas(key(appId, "c", channel), CHANNEL, (value) => {
      if (!value || value.x) return { next: UNCHANGED, result: false };
      return { next: { ...value, x: 1 }, result: true };
    }), () => this.local.claimCacheMiss(appId, channel));
  }

  /**
   * Each channel is its own key, written by compare-and-set: the leaves, the sign-out and the
   * connection go out together, so a closing socket costs one round trip, not one per channel.
   */
  async disconnect(appId: string, socketId: string, subscriptions: Subscribed[], userId?: string): Promise<Departure> {
    const [left, wentOffline] = await Promise.all([
      Promise.all(subscriptions.map(({ channel, member }) => this.leave(appId, channel, socketId, member))),
      userId === undefined ? false : this.signOut(appId, userId, socketId),
      this.removeConnection(appId, socketId),
    ]);
    return { left, wentOffline };
  }

  /** The rate counter part (nats/rate-share.ts): this node's share of each limit. */
  consumeRate(appId: string, bucket: string, points: number, limit: number): Promise<RateLimitResult | undefined> {
    return this.rates.consumeRate(appId, bucket, points, limit);
  }

  /**
   * Announces what a join or leave changed besides the caller's own transition (outage leftovers).
   * A leave writes this node's socket count: on a key another node swept while this one was
   * paused, it brings the remaining sockets back, so the channel is occupied again (the leave's own
   * result has no room for that); their members come back with the resync the sweep set off.
   */
  private announceRest(appId: string, channel: string, change: ChannelChange, userId: string | undefined, joining: boolean): void {
    const rest: ChannelChange = {
      ...change,
      occupied: !joining && change.occupied,
      vacated: false,
      added: change.added.filter((a) => !(joining && a.userId === userId)),
      removed: change.removed.filter((r) => !(!joining && r.userId === userId)),
    };
    if (rest.occupied || rest.added.length || rest.removed.length) this.state.announce(appId, transitionsOf(channel, rest, false), true);
  }
}

export function createNatsAdapter(options: NatsAdapterOptions): NatsAdapter {
  return new NatsAdapter(options);
}
