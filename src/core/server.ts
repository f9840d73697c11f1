import type { Adapter, ClusterMessage, ClusterNode, ClusterTransition, FeatureMessage } from "./adapter.ts";
import type { App } from "./app.ts";
import type { AppStore } from "./app-store.ts";
import { randomSocketIdPart } from "./crypto.ts";
import { Connection } from "./connection.ts";
import { dispatchFrame } from "./dispatch.ts";
import { frameData, parseFrame } from "./frames.ts";
import { checkHandshake, type HandshakeRequest } from "./handshake.ts";
import { EventStream } from "./events.ts";
import { checkLiveness, livenessInterval } from "./liveness.ts";
import { ExpiringMap } from "./expiring-map.ts";
import { LocalRegistry } from "./registry.ts";
import type { CryptoProvider, Logger, NativePubSub, RawSocket, Timers } from "./runtime.ts";
import type { MemberSnapshot } from "./presence.ts";
import type { ProtocolSettings } from "./settings.ts";
import { CloseCode, channelEvent, connectionEstablished } from "./messages.ts";
import { classifyChannel } from "./channels.ts";
import { announceLeave } from "./handlers/subscribe.ts";
import { announcePresence, announceTransition } from "./announce.ts";
import { SubscriptionCounter } from "./subscription-count.ts";
import { GracefulStop } from "./shutdown.ts";
import { restoreAll, snapshotOf, type ConnectionSnapshot } from "./snapshot.ts";
import { Handle, type SocketHandle } from "./socket-handle.ts";

export type { SocketHandle };

export interface ServerDeps {
  settings: ProtocolSettings;
  apps: AppStore;
  adapter: Adapter;
  timers: Timers;
  crypto: CryptoProvider;
  logger: Logger;
  /** The stream consumers subscribe to; one is made when not given. */
  events?: EventStream;
  pubsub?: NativePubSub;
  /**
   * The host calls sweep() itself instead of the node running it on an interval (a Durable Object
   * runs it from its alarm: an interval would keep the object from hibernating).
   */
  hostSweeps?: boolean;
}

const utf8 = new TextEncoder();
/**
 * Idempotent publishes this node delivered, remembered so a retry (or a bus message of a publish
 * answered 503) reaches no socket twice; a cap keeps memory bounded under a flood of keys.
 */
const MAX_DELIVERED_KEYS = 100_000;
/** A handshake refused because the app store is unavailable takes at least this long. */
const STORE_RETRY_FLOOR_MS = 1000;
const SHUTTING_DOWN = "Server is shutting down, reconnect";

/** One node of a Pusher Channels cluster: local sockets, protocol handling, liveness. */
export class Switchboard implements ClusterNode {
  readonly settings: ProtocolSettings;
  readonly apps: AppStore;
  readonly adapter: Adapter;
  readonly timers: Timers;
  readonly crypto: CryptoProvider;
  readonly logger: Logger;
  readonly events: EventStream;
  readonly registry: LocalRegistry;
  readonly subscriptionCounts: SubscriptionCounter;
  private readonly connections = new Set<Connection>();
  /** Sockets between openSocket and the end of their handshake (see openSocket). */
  private handshakes = 0;
  private sweeper?: unknown;
  private readonly hostSweeps: boolean;
  /** The graceful stop's phases (src/core/shutdown.ts), driven through drain/closeSockets/stop below. */
  readonly stopper: GracefulStop<Connection>;
  private readonly pendingCleanups = new Set<Promise<void>>();
  private readonly delivered: ExpiringMap<true>;
  /** Topic → where its FeatureMessages go; a message of a topic nobody listens to is dropped. */
  private readonly features = new Map<string, (message: FeatureMessage) => void>();

  constructor(deps: ServerDeps) {
    this.settings = deps.settings;
    this.apps = deps.apps;
    this.adapter = deps.adapter;
    this.timers = deps.timers;
    this.crypto = deps.crypto;
    this.logger = deps.logger;
    this.events = deps.events ?? new EventStream(deps.timers.now, deps.logger);
    this.registry = new LocalRegistry(deps.pubsub, () => deps.timers.now());
    this.subscriptionCounts = new SubscriptionCounter(deps.adapter, deps.timers, this.events, this.registry.countOrder);
    this.stopper = new GracefulStop<Connection>(this, {
      sockets: () => [...this.connections],
      close: (conn) => {
        if (conn.state === "closed") return false;
        conn.terminate(CloseCode.Reconnect, SHUTTING_DOWN);
        this.onClose(conn);
        return true;
      },
      cleanups: () => [...this.pendingCleanups],
      release: async () => {
        if (this.sweeper !== undefined) this.timers.clearInterval(this.sweeper);
        this.subscriptionCounts.stop();
        await this.adapter.stop();
      },
    });
    this.delivered = new ExpiringMap(MAX_DELIVERED_KEYS, () => deps.timers.now());
    this.hostSweeps = deps.hostSweeps ?? false;
  }

  async start(): Promise<void> {
    await this.adapter.start(this);
    if (!this.hostSweeps) this.sweeper = this.timers.setInterval(() => this.sweep(), livenessInterval(this.settings));
  }

  /**
   * Pings silent sockets and closes those past their pong or sign-in deadline; returns when the
   * next of those deadlines falls (undefined without open sockets), for a host that sweeps itself.
   */
  sweep(): number | undefined {
    return checkLiveness(this.connections, this.settings, this.timers.now());
  }

  /** What a host keeps of an open connection to restore it later (snapshot.ts); undefined if not open here. */
  snapshot(socketId: string): ConnectionSnapshot | undefined {
    const conn = this.registry.socket(socketId);
    return conn?.open ? snapshotOf(conn) : undefined;
  }

  /**
   * Rebuilds connections from their snapshots on sockets that stayed open while this node's memory
   * was lost, all at once and announcing nothing (snapshot.ts); each handle then drives its socket
   * as any other. Undefined for a snapshot whose app is gone. A socket that vanished meanwhile is
   * restored on a closed RawSocket and then closed, which announces its leaves.
   */
  async restore(entries: { socket: RawSocket; snapshot: ConnectionSnapshot }[]): Promise<(SocketHandle | undefined)[]> {
    const conns = entries.map(({ socket, snapshot }) => ({
      conn: new Connection(socket, this.timers.now(), this.settings.maxSocketBufferKb * 1024, this.settings.maxInboundBacklogKb * 1024, this.logger),
      snapshot,
    }));
    const restored = await restoreAll(this, conns);
    return conns.map(({ conn }, i) => {
      if (!restored[i]) return undefined;
      this.connections.add(conn);
      return new Handle(this, undefined, conn);
    });
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Sends the cluster messages of a feature's `topic` to `listener`; returns how to stop. */
  listenFeature(topic: string, listener: (message: FeatureMessage) => void): () => void {
    this.features.set(topic, listener);
    return () => void (this.features.get(topic) === listener && this.features.delete(topic));
  }

  /** Not ready (/ready, /up answer 503) from the first phase of a graceful stop on. */
  get isShuttingDown(): boolean {
    return this.stopper.phase !== "running";
  }

  /** New handshakes get 4200 once the sockets are being closed (not while draining). */
  get refusesSockets(): boolean {
    return this.stopper.refusesSockets;
  }

  /** Called by the runtime for every upgrade request, before the socket opens. */
  accept(request: HandshakeRequest): SocketHandle {
    return new Handle(this, request);
  }

  /** @internal (Handle) A socket opened: its connection, with the handshake under way. */
  openSocket(socket: RawSocket, request: HandshakeRequest): Connection {
    // Sockets still in their handshake count toward MAX_NODE_CONNECTIONS: counting only open
    // ones, a burst of handshakes would all pass the check before the first was established.
    const cap = this.settings.maxNodeConnections;
    const nodeFull = cap >= 0 && this.connections.size + this.handshakes >= cap;
    this.handshakes++;
    const c = new Connection(socket, this.timers.now(), this.settings.maxSocketBufferKb * 1024, this.settings.maxInboundBacklogKb * 1024, this.logger);
    c.enqueue(() => this.handshake(c, request, nodeFull).catch((error: unknown) => {
      // Whatever failed, the client must not wait forever for connection_established.
      this.logger.error("handshake failed", error);
      this.refuse(c, request, CloseCode.Reconnect, "Internal server error, reconnect", c.app?.id);
    }).finally(() => this.handshakes--));
    return c;
  }

  /** Sockets opened whose handshake has not ended (established or refused) yet. */
  get handshakesInFlight(): number {
    return this.handshakes;
  }

  private refuse(conn: Connection, request: HandshakeRequest, code: number, reason: string, appId?: string): void {
    this.events.emit({ kind: "connection_refused", appId: appId ?? "", appKey: request.appKey, code, reason });
    conn.terminate(code, reason);
    conn.state = "closed";
  }

  /** @internal (Handle) One inbound text frame of an open connection. */
  onMessage(c: Connection, data: string): void {
    c.lastSeen = this.timers.now();
    c.pingSentAt = 0;
    const limit = this.settings.maxWebSocketMessageKb * 1024;
    // The limit is in UTF-8 bytes; a UTF-16 unit is at most 3 of them, so only count near the limit.
    if (data.length > limit || (data.length * 3 > limit && utf8.encode(data).length > limit)) {
      c.closeSocket(CloseCode.MessageTooBig, "Message too big");
      return;
    }
    const frame = parseFrame(data);
    // Subscribes to different channels may overlap their round trips (task-queue.ts).
    const channel = frame?.event === "pusher:subscribe" ? frameData(frame)?.channel : undefined;
    c.enqueue(() => dispatchFrame(this, c, frame, data.length), data.length, typeof channel === "string" ? channel : undefined);
  }

  private async handshake(conn: Connection, request: HandshakeRequest, nodeFull: boolean): Promise<void> {
    const started = this.timers.now();
    const outcome = await checkHandshake(this, request, nodeFull);
    // Clients reconnect at once on 42xx: holding the refusal a moment keeps a backend outage from
    // turning every client into a tight reconnect loop.
    const holdRefusal = async () => {
      const wait = STORE_RETRY_FLOOR_MS - (this.timers.now() - started);
      if (wait > 0) await new Promise<void>((resolve) => this.timers.setTimeout(() => resolve(), wait));
    };
    if ("code" in outcome) {
      if (outcome.code === CloseCode.AppStoreUnavailable) await holdRefusal();
      this.refuse(conn, request, outcome.code, outcome.message, outcome.appId);
      return;
    }
    const app = outcome.app;
    conn.app = app;
    do conn.id = `${randomSocketIdPart()}.${randomSocketIdPart()}`;
    while (this.registry.socket(conn.id));
    // The app's bus first: once told it is connected, the socket must get every publish another
    // node answers 2xx for. cleanup() gives the hold back (a refusal below, at once).
    try {
      await this.adapter.listen?.(app.id);
    } catch (error) {
      this.logger.debug(`handshake refused: the bus of app ${app.id} is unavailable`, error);
      await holdRefusal();
      this.refuse(conn, request, CloseCode.Reconnect, "Cluster backend unavailable, reconnect", app.id);
      return;
    }
    const admitted = await this.adapter.addConnection(app.id, conn.id, app.maxConnections).catch((error: unknown) => {
      this.adapter.unlisten?.(app.id);
      throw error;
    });
    if (!admitted) {
      this.adapter.unlisten?.(app.id);
      this.refuse(conn, request, CloseCode.OverQuota, "Application is over connection quota", app.id);
      return;
    }
    conn.registered = true;
    if (conn.state === "closed") return; // closed during the round trip; onClose cleans up
    if (this.refusesSockets) {
      // The sockets were closed while this handshake waited for the adapter: it must not outlive them.
      conn.terminate(CloseCode.Reconnect, SHUTTING_DOWN);
      this.onClose(conn);
      return;
    }
    conn.state = "open";
    this.connections.add(conn);
    this.registry.addSocket(conn);
    conn.lastSeen = this.timers.now();
    if (app.enableUserAuthentication) {
      conn.authDeadline = conn.lastSeen + this.settings.userAuthenticationTimeout * 1000;
    }
    conn.send(connectionEstablished(conn.id, this.settings.activityTimeout));
    this.events.emit({ kind: "connection_opened", appId: app.id, socketId: conn.id });
  }

  /** @internal (Handle, shutdown) */
  onClose(conn: Connection): void {
    if (conn.state === "closed" && !conn.registered) return;
    conn.state = "closed";
    this.connections.delete(conn);
    // Pending from the close on, not from when the socket's queue empties: a graceful stop waits
    // for it before the adapter goes (its leaves need the adapter).
    const cleanup = new Promise<void>((resolve) =>
      conn.whenIdle(() => resolve(this.cleanup(conn).catch((error) => this.logger.error("socket cleanup failed", error)))));
    this.pendingCleanups.add(cleanup);
    void cleanup.finally(() => this.pendingCleanups.delete(cleanup));
  }

  /** Closing a socket has the effect of unsubscribing it from everything (spec §3.5). */
  private async cleanup(conn: Connection): Promise<void> {
    if (!conn.registered) return;
    conn.registered = false;
    const app = conn.app;
    this.registry.removeSocket(conn);
    this.adapter.unlisten?.(app.id);
    const subscriptions = [...conn.channels];
    for (const [channel] of subscriptions) {
      conn.removeChannel(channel);
      this.registry.leave(conn, channel);
    }
    // One adapter call for every channel, the sign-out and the connection: one backend round trip.
    const { left, wentOffline } = await this.adapter.disconnect(
      app.id, conn.id, subscriptions.map(([channel, sub]) => ({ channel, member: sub.member })), conn.user?.id,
    );
    subscriptions.forEach(([channel, sub], i) => announceLeave(this, conn, channel, sub, left[i]!));
    if (conn.user && wentOffline && app.enableWatchlistEvents) announcePresence(this, app, conn.user.id, false);
    this.events.emit({ kind: "connection_closed", appId: app.id, socketId: conn.id, code: conn.closeCode, userId: conn.user?.id });
  }

  /** Applies a cluster-wide message to this node's sockets. */
  receive(message: ClusterMessage): void {
    switch (message.type) {
      case "publish":
        if (message.dedupe !== undefined && !this.firstDelivery(message.appId, message.dedupe)) return;
        this.registry.deliver(message.appId, message.channel, message.frame, message.exceptSocketId, this.events, message.member, message.countSeq);
        break;
      case "terminate":
        for (const conn of this.registry.userSockets(message.appId, message.userId)) {
          conn.terminate(CloseCode.Unauthorized, "Connection terminated by the application");
        }
        break;
      case "watchlist":
        this.registry.deliverWatchlist(message.appId, message.userId, message.online);
        break;
      case "feature":
        this.features.get(message.topic)?.(message);
        break;
    }
  }

  /**
   * Announces a transition the adapter made for a socket the core did not handle (a dead node's
   * state swept here, or state re-registered after a bus outage), with the same side effects as
   * a local join, leave or sign-in.
   */
  transition(appId: string, t: ClusterTransition): void {
    const announce = async () => {
      const app = await this.apps.findById(appId);
      if (app) announceTransition(this, app, t);
    };
    announce().catch((error) => this.logger.error("announcing a cluster transition failed", error));
  }

  syncMembers(appId: string, channel: string, snapshot: MemberSnapshot, removals: boolean): void {
    this.registry.syncMembers(appId, channel, snapshot, removals);
  }

  /** The adapter's backend went up or down (reported once per change): a "backend" server event. */
  backendState(driver: string, up: boolean, detail?: string): void {
    this.events.emit({ kind: "backend", appId: "", driver, role: "adapter", up, detail });
  }

  /** False when this node delivered a publish with this dedupe key within the idempotency window. */
  private firstDelivery(appId: string, dedupe: string): boolean {
    const k = `${appId}\n${dedupe}`;
    if (this.delivered.get(k)) {
      this.logger.debug(`idempotent publish ${dedupe} of app ${appId} reached this node again; not delivered twice`);
      return false;
    }
    this.delivered.set(k, true, this.settings.idempotencyWindowSeconds * 1000);
    return true;
  }

  /**
   * Publishes an application event to a channel cluster-wide (HTTP API, spec §3.11): resolved once
   * delivered here and accepted by the bus for the other nodes, else a ClusterUnavailableError.
   * `dedupe` (from an idempotency key) makes every node deliver it at most once.
   */
  async publish(app: App, channel: string, event: string, data: string, exceptSocketId?: string, dedupe?: string): Promise<void> {
    const frame = channelEvent(event, channel, data);
    // Cached first: a cache the backend refused answers 503 before anyone got the event, so the
    // retry delivers it once, and a 2xx means delivered and cached. (A socket subscribing between
    // the two steps may get it twice: from the cache, then live.)
    if (classifyChannel(channel).cache) await this.adapter.cacheSet(app.id, channel, event, data, this.settings.cacheTtlSeconds);
    await this.adapter.deliver({ type: "publish", appId: app.id, channel, frame, exceptSocketId, dedupe });
  }

  /**
   * HTTP API work: runs `work` unless the node is stopping (then a ClusterUnavailableError, 503);
   * a stop waits for admitted work before the adapter goes, so no 2xx is undeliverable.
   */
  admit<T>(work: () => Promise<T>): Promise<T> {
    return this.stopper.admit(work);
  }

  /** Graceful stop, phase 1: not ready, while the API, the sockets and the bus keep serving. */
  drain(): void {
    this.stopper.drain();
  }

  /** Phase 2: 4200 to new handshakes and, spread over `spreadMs`, to the open sockets; their cleanup runs. */
  closeSockets(spreadMs = this.settings.shutdownCloseSpreadMs): Promise<void> {
    return this.stopper.closeSockets(spreadMs);
  }

  /** Phase 3, last: the API answers 503, admitted work finishes, the adapter stops. */
  stop(): Promise<void> {
    return this.stopper.stop();
  }

  /** Every phase at once, the sockets closed without a spread (embedding, tests). */
  async shutdown(): Promise<void> {
    await this.closeSockets(0);
    await this.stop();
  }
}
