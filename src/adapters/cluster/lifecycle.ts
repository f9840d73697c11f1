// The lifecycle every cluster driver shares (redis, redis-cluster and upstash through
// ClusterAdapter; nats through NatsAdapter): connect with a deadline, broadcast over the bus,
// serve this node's own sockets from local state while the backend is away, resynchronise when it
// is back, catch presence subscribers up on what they missed, heartbeat and sweep on a ticker,
// release this node's state on a graceful stop, answer queries with the local fallback, and log
// every failure. A driver subclass supplies the transport (open/publish/close), the backend's
// reads and the state changes; see docs/architecture.md, "Adding a cluster transport".
import {
  ClusterUnavailableError,
  type BroadcastOptions, type CachedEvent, type ChannelStats, type ClusterMessage, type ClusterNode, type IdempotencyClaim, type ChannelPage,
  type MessageBus, type ReadOptions,
} from "../../core/adapter.ts";
import type { MemberSnapshot } from "../../core/presence.ts";
import type { Logger, TimerHandle } from "../../core/runtime.ts";
import { LocalAdapter } from "../local.ts";
import { ClusterBus } from "./bus.ts";
import { withDeadline } from "./deadline.ts";
import { FailureLog, unavailable } from "./failures.ts";
import { Rerun } from "./rerun.ts";
import { StateSync, type ShareStore } from "./state-sync.ts";
import { DEFAULT_REQUEST_TIMEOUT_MS, type ClusterOptions, type IdempotencyBackend, type StoreReads, type TransportEvents } from "./transport.ts";

const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

export abstract class ClusterLifecycle implements MessageBus {
  /** Unique per process: a restarted node never inherits (or resurrects) a dead one's state. */
  readonly nodeId = globalThis.crypto.randomUUID();
  protected node?: ClusterNode;
  /** This node's sockets only: answers while the backend is unreachable. */
  protected readonly local: LocalAdapter;
  protected readonly logger: Logger;
  protected readonly failures: FailureLog;
  protected online = false;
  protected stopped = false;
  /** The backend may not hold exactly this node's state: resync on the next tick. */
  protected dirty = false;
  private everOnline = false;
  /** Reconnected: local presence subscribers may have missed member events sent meanwhile. */
  private catchUpPending = false;
  private ticker?: TimerHandle;
  private lastTick = 0;
  /** When the follow-up resync and catch-up is due (0: none). */
  private followUpAt = 0;
  private stateSync?: StateSync;

  protected readonly bus: ClusterBus;
  /** The transport reported up; the node is online once the apps' buses are subscribed again too. */
  private transportUp = false;
  private firstUp: () => void = () => {};

  constructor(readonly name: string, protected readonly opts: ClusterOptions) {
    this.local = new LocalAdapter(this.now);
    this.logger = opts.logger;
    this.failures = new FailureLog(name, opts.logger, this.now);
    this.bus = new ClusterBus({
      nodeId: this.nodeId, name, opts, now: this.now, online: () => this.online, receive: (message) => this.node?.receive(message),
      withinDeadline: (operation, call) => this.withinDeadline(operation, call), publish: (appId, payload) => this.publish(appId, payload),
      subscribe: (appIds) => this.subscribeApps(appIds), unsubscribe: (appIds) => this.unsubscribeApps(appIds),
      failed: (operation, error) => this.failed(operation, error), logged: (operation, error) => this.failures.failed(operation, error),
      sweptBy: (node) => this.sweptBy(node),
    });
  }

  /** The injected clock, bound: a Timers implementation may rely on `this`. */
  protected readonly now = (): number => this.opts.timers.now();

  // --- what a driver supplies ---

  /** Connects in the background, keeps reconnecting, and reports through `events`. */
  protected abstract open(events: TransportEvents): void;
  /**
   * Sends a payload on an app's bus, or on the node bus every node hears (appId undefined);
   * called only while online. Resolves once the bus accepted it.
   */
  protected abstract publish(appId: string | undefined, payload: string): Promise<void>;
  /** Subscribes to the apps' buses; resolves once the backend confirmed every one. */
  protected abstract subscribeApps(appIds: string[]): Promise<void>;
  protected abstract unsubscribeApps(appIds: string[]): Promise<void>;
  protected abstract close(): Promise<void>;
  /** How the backend records this node's share of the cluster state (the resync and sweeps run over it). */
  protected abstract readonly shares: ShareStore;
  /** The backend's answers to the queries below (and to the catch-up, which has no fallback). */
  protected abstract readonly reads: StoreReads;
  /** The idempotency keys of REST publishes, cluster-wide. */
  protected abstract readonly idempotency: IdempotencyBackend;
  /** Each tick while online, after any resync: heartbeat and sweep dead nodes. */
  protected abstract maintain(): Promise<void>;
  /** Graceful stop while online, after the core left everything: release leftovers, deregister. */
  protected abstract release(): Promise<void>;

  /** Came online, before the resync. */
  protected connected(): void {}
  /** Each tick while online, before any resync (may set `dirty`). */
  protected async checkIn(): Promise<void> {}
  /** Each tick while offline. */
  protected retry(): void {}
  /** Resolves once the driver's background work (a sweep) has finished; awaited by stop(). */
  protected async idle(): Promise<void> {}
  /** The ticker fired at least half a node timeout late (a paused process); first thing on that tick. */
  protected stalled(): void {}
  /** Peers silent for a node timeout (after the catch-up is asked for): a driver that sweeps by them does so. */
  protected peersGone(_nodes: string[]): void {}
  /** Another node said it swept this one's state (a driver whose sweeps say so). */
  protected sweptBy(_node: string): void {}

  // --- the bus ---

  async start(node: ClusterNode): Promise<void> {
    this.node = node;
    const connected = new Promise<void>((resolve) => (this.firstUp = resolve));
    this.open({
      message: (payload) => this.bus.onMessage(payload),
      up: () => this.wentUp(),
      down: (reason) => this.wentDown(reason),
      failed: (operation, error) => this.failures.failed(operation, error),
    });
    const beat = Math.max(100, Math.floor(this.opts.nodeTimeoutMs / 4));
    this.ticker = this.opts.timers.setInterval(() => void this.tick(), beat);
    // A healthy start is cluster-wide from the first socket on; an unreachable backend must not
    // keep the node from serving its own clients.
    let timer: TimerHandle | undefined;
    const timeout = new Promise<void>((resolve) => (timer = this.opts.timers.setTimeout(resolve, this.opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS)));
    await Promise.race([connected, timeout]);
    if (timer !== undefined) this.opts.timers.clearTimeout(timer);
    if (!this.online) {
      this.logger.warn(`${this.name} adapter: backend unreachable at start; serving local clients only until it is reachable`);
      this.node.backendState?.(this.name, false, "unreachable at start");
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.ticker !== undefined) this.opts.timers.clearInterval(this.ticker);
    await this.resyncer.idle();
    await this.idle();
    if (this.online) {
      try {
        await this.release();
        await this.bus.bye(); // only after a clean release: else the peers' catch-up and sweep repair it
      } catch (error) {
        // Not fatal: the other nodes sweep what is left once our heartbeat expires.
        this.failures.failed("deregistering on stop", error);
      }
    }
    this.online = false;
    this.bus.apps.stop();
    await this.close();
    await this.local.stop();
  }

  broadcast(message: ClusterMessage, options?: BroadcastOptions): void {
    if (!options?.remoteOnly) this.node?.receive(message);
    // While away the resync and catch-up repair what the other nodes missed.
    if (this.online) this.bus.send(message).catch((error: unknown) => this.failed("publish", error));
  }

  async deliver(message: ClusterMessage): Promise<void> {
    // Refused before anything is applied: a retry then reaches every node exactly once.
    if (!this.online) throw unavailable(this.name, "publish");
    const waiting = this.bus.waitingForPeers();
    if (waiting) throw new ClusterUnavailableError(`the cluster backend (${this.name}) is back, ${waiting}; publish not done`);
    this.node?.receive(message);
    try {
      await this.bus.send(message);
    } catch (error) {
      this.failed("publish", error);
      throw unavailable(this.name, "publish", error);
    }
  }

  listen(appId: string): Promise<void> {
    return this.bus.apps.hold(appId).catch((error: unknown) => {
      this.failed(`subscribing to the bus of app ${appId}`, error);
      throw unavailable(this.name, `subscribing to the bus of app ${appId}`, error);
    });
  }

  readonly unlisten = (appId: string): void => this.bus.apps.release(appId);
  readonly busMessagesReceived = (): ReadonlyMap<string, number> => this.bus.apps.received;

  async claimIdempotency(appId: string, key: string, pendingMs: number): Promise<IdempotencyClaim> {
    return this.strict("claimIdempotency", () => this.idempotency.claim(appId, key, pendingMs));
  }

  async settleIdempotency(appId: string, key: string, delivered: boolean, windowMs: number): Promise<void> {
    return this.strict("settleIdempotency", () => this.idempotency.settle(appId, key, delivered, windowMs));
  }

  private wentUp(): void {
    this.transportUp = true;
    void this.comer.run();
  }

  /**
   * The transport is up: subscribe to the held apps' buses again, then count as online. Until
   * then a publish is refused: the other nodes' messages may not reach this node's sockets yet.
   * A failure leaves the node offline; the next tick tries again.
   */
  private readonly comer = new Rerun(async () => {
    const pending = () => !this.stopped && !this.online && this.transportUp;
    if (pending()) await this.bus.apps.restore();
    if (pending()) this.cameOnline();
    return false;
  }, (error) => this.failures.failed("subscribing to the apps' buses again", error));

  private cameOnline(): void {
    this.online = true;
    this.logger.info(this.everOnline
      ? `${this.name} adapter: connection restored, resynchronising cluster state`
      : `${this.name} adapter: connected (node ${this.nodeId})`);
    this.failures.recovered();
    this.node?.backendState?.(this.name, true);
    const again = (this.catchUpPending = this.everOnline);
    this.followUp();
    this.everOnline = true;
    this.connected();
    this.bus.peers.rejoined(again);
    this.bus.hello();
    this.dirty = true;
    void this.resync().finally(this.firstUp);
  }

  private wentDown(reason: string): void {
    this.transportUp = false;
    this.bus.apps.lost();
    if (!this.online) return;
    this.online = false;
    if (this.stopped) return;
    this.bus.peers.lost();
    this.logger.warn(`${this.name} adapter: connection lost (${reason}); serving local clients only, reconnecting`);
    this.node?.backendState?.(this.name, false, reason);
  }

  // --- queries: cluster totals; this node's view while the backend is away only when allowed ---

  channelStats(appId: string, channel: string, options?: ReadOptions): Promise<ChannelStats> {
    return this.read("channelStats", options, () => this.reads.channelStats(appId, channel), () => this.local.channelStats(appId, channel));
  }

  channels(appId: string, prefix?: string, options?: ReadOptions): Promise<Map<string, ChannelStats>> {
    return this.read("channels", options, () => this.reads.channels(appId, prefix), () => this.local.channels(appId, prefix));
  }

  channelPage(appId: string, limit: number, options?: ReadOptions): Promise<ChannelPage> {
    return this.read("channelPage", options, () => this.reads.channelPage(appId, limit), () => this.local.channelPage(appId, limit));
  }

  members(appId: string, channel: string, options?: ReadOptions): Promise<MemberSnapshot> {
    // This node's own members reflect none of the cluster's transitions: sequence 0, so a socket
    // that subscribed meanwhile is still caught up on them (and takes every later change).
    const own = async () => ({ ...(await this.local.members(appId, channel)), seq: 0 });
    return this.read("members", options, () => this.reads.members(appId, channel), own);
  }

  async onlineUsers(appId: string, userIds: string[], options?: ReadOptions): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    return this.read("onlineUsers", options, () => this.reads.onlineUsers(appId, userIds), () => this.local.onlineUsers(appId, userIds));
  }

  cacheGet(appId: string, channel: string, options?: ReadOptions): Promise<CachedEvent | null> {
    return this.read("cacheGet", options, () => this.reads.cacheGet(appId, channel), () => this.local.cacheGet(appId, channel));
  }

  // --- plumbing for the drivers ---

  private read<T>(operation: string, options: ReadOptions | undefined, remote: () => Promise<T>, fallback: () => T | Promise<T>): Promise<T> {
    return options?.allowLocal ? this.query(operation, remote, fallback) : this.strict(operation, remote);
  }

  /** A cluster-wide answer, or this node's own while the backend is unreachable or failing. */
  protected async query<T>(operation: string, remote: () => Promise<T>, fallback: () => T | Promise<T>): Promise<T> {
    if (!this.online) return fallback();
    try {
      return await this.withinDeadline(operation, remote);
    } catch (error) {
      this.failed(operation, error);
      return fallback();
    }
  }

  /** A cluster-wide answer or a ClusterUnavailableError: never this node's view passed off as the cluster's. */
  protected async strict<T>(operation: string, remote: () => Promise<T>): Promise<T> {
    if (!this.online) throw unavailable(this.name, operation);
    try {
      return await this.withinDeadline(operation, remote);
    } catch (error) {
      this.failed(operation, error);
      throw unavailable(this.name, operation, error);
    }
  }

  /** A backend call bounded by the request deadline (CLUSTER_REQUEST_TIMEOUT_MS). */
  protected withinDeadline<T>(operation: string, call: () => Promise<T>): Promise<T> {
    const ms = this.opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    return withDeadline(this.opts.timers, ms, `${this.name} adapter: ${operation}`, call());
  }

  /** Swept, or missed bus messages, without losing the connection: resync, then catch up. */
  protected missedEvents(): void {
    this.dirty = true;
    this.catchUpPending = this.everOnline;
    this.followUp();
  }

  /**
   * Resync and catch up once more a node timeout from now. Right after an outage or a freeze the
   * first pass can be early: the bus subscription may not be back yet (member events published
   * meanwhile are missed), another node may still sweep us (it had not expired us before we were
   * back), and after the backend lost its data the other nodes are still re-registering. By then
   * all of that has settled.
   */
  private followUp(): void {
    if (this.everOnline) this.followUpAt = this.now() + this.opts.nodeTimeoutMs;
  }

  /** The reconcile path (state-sync.ts): what was decided while away, the resync, the sweeps. */
  protected get state(): StateSync {
    return (this.stateSync ??= new StateSync(this.nodeId, this.shares, this.local, {
      announce: (appId, t) => this.node?.transition?.(appId, t),
      syncMembers: (appId, channel, snapshot, removals) => this.node?.syncMembers?.(appId, channel, snapshot, removals),
      active: () => !this.stopped && this.online,
    }));
  }

  /** A backend operation failed: the backend may now disagree with this node, so resync. */
  protected failed(operation: string, error: unknown): void {
    this.dirty = true;
    this.failures.failed(operation, error);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const now = this.now();
    // A pause longer than the timeout (a stopped process, a starved event loop) may have got us
    // swept: the other nodes announced our members as removed, our own sockets heard that too,
    // and the resync re-announces them to the other nodes only. The bus connection may never
    // have dropped, so no reconnect asks for the catch-up that tells our sockets.
    const gap = this.lastTick ? now - this.lastTick : 0;
    this.lastTick = now;
    if (gap > this.opts.nodeTimeoutMs / 2) {
      this.bus.peers.restart(); // their hellos of the pause are still unread: their silence is ours
      this.stalled();
    }
    if (gap > this.opts.nodeTimeoutMs) {
      this.logger.warn(`${this.name} adapter: this node was paused for ${gap} ms, past the node timeout; resynchronising`);
      this.missedEvents();
    }
    try {
      if (!this.online) return this.transportUp ? void this.comer.run() : this.retry();
      this.bus.hello();
      const gone = this.bus.peers.prune();
      if (gone.length > 0) {
        this.logger.debug(`${this.name} adapter: node(s) ${gone.join(", ")} silent for a node timeout; catching presence subscribers up`);
        this.state.peersLost();
        this.peersGone(gone);
      }
      if (this.followUpAt && now >= this.followUpAt) {
        this.followUpAt = 0;
        this.dirty = true;
        this.catchUpPending = true;
      }
      await this.checkIn();
      if (this.dirty) await this.resync();
      // A catch-up still to come (a reconnect's follow-up) reads the store once it has refilled.
      if (!this.followUpAt && !this.catchUpPending) await this.state.afterPeersLost(this.reads);
      await this.maintain();
    } catch (error) {
      this.failed("heartbeat and sweep", error);
    }
  }

  private readonly resyncer = new Rerun(async () => {
    this.dirty = false;
    const catchUp = this.catchUpPending;
    this.catchUpPending = false;
    try {
      const lostData = await this.state.resync();
      // Cut short (the backend went away again): what was decided while away is still news for
      // the resync that follows the reconnection, and so is the catch-up.
      if (this.stopped || !this.online) {
        this.catchUpPending ||= catchUp;
        return false;
      }
      // After the backend lost its data the lists fill up node by node as each resyncs, so a
      // member missing from them now may just not be back yet: then only additions count.
      if (catchUp) await this.state.catchUp(!lostData, this.reads);
      await this.state.settle(lostData, catchUp, this.reads);
    } catch (error) {
      if (catchUp) this.catchUpPending = true; // the next resync catches up instead
      throw error;
    }
    return !this.stopped && this.online;
  }, (error) => this.failed("resync", error));

  protected resync(): Promise<void> {
    return this.resyncer.run();
  }
}
