// One node assembled: its parts (the sockets, what the cluster adapter calls back, the publish
// API, the graceful stop) built from the runtime's dependencies, and the node's start and stop.
import type { Adapter, FeatureMessage } from "./adapter.ts";
import type { App } from "./app.ts";
import type { AppStore } from "./app-store.ts";
import { ClusterCallbacks } from "./cluster-callbacks.ts";
import type { Connection } from "./connection.ts";
import { EventStream } from "./events.ts";
import type { HandshakeRequest } from "./handshake.ts";
import { livenessInterval } from "./liveness.ts";
import { publishEvent } from "./publish.ts";
import { LocalRegistry } from "./registry.ts";
import type { CryptoProvider, Logger, NativePubSub, RawSocket, Timers } from "./runtime.ts";
import type { ProtocolSettings } from "./settings.ts";
import { SubscriptionCounter } from "./subscription-count.ts";
import { GracefulStop } from "./shutdown.ts";
import type { ConnectionSnapshot } from "./snapshot.ts";
import { Handle, type SocketHandle } from "./socket-handle.ts";
import { SocketLifecycle } from "./socket-lifecycle.ts";

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

/** One node of a Pusher Channels cluster: local sockets, protocol handling, liveness. */
export class Switchboard {
  readonly settings: ProtocolSettings;
  readonly apps: AppStore;
  readonly adapter: Adapter;
  readonly timers: Timers;
  readonly crypto: CryptoProvider;
  readonly logger: Logger;
  readonly events: EventStream;
  readonly registry: LocalRegistry;
  readonly subscriptionCounts: SubscriptionCounter;
  /** This node's sockets (socket-lifecycle.ts); the runtimes drive them through accept()'s handles. */
  readonly sockets: SocketLifecycle;
  /** What the adapter calls on this node (cluster-callbacks.ts), given to it on start. */
  readonly cluster: ClusterCallbacks;
  /** The graceful stop's phases (src/core/shutdown.ts), driven through drain/closeSockets/stop below. */
  readonly stopper: GracefulStop<Connection>;
  private sweeper?: unknown;
  private readonly hostSweeps: boolean;

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
    this.sockets = new SocketLifecycle(this);
    this.cluster = new ClusterCallbacks(this);
    this.stopper = new GracefulStop<Connection>(this, {
      sockets: () => this.sockets.open(),
      close: (conn) => this.sockets.closeForStop(conn),
      cleanups: () => this.sockets.cleanups(),
      release: async () => {
        if (this.sweeper !== undefined) this.timers.clearInterval(this.sweeper);
        this.subscriptionCounts.stop();
        await this.adapter.stop();
      },
    });
    this.hostSweeps = deps.hostSweeps ?? false;
  }

  async start(): Promise<void> {
    await this.adapter.start(this.cluster);
    if (!this.hostSweeps) this.sweeper = this.timers.setInterval(() => this.sweep(), livenessInterval(this.settings));
  }

  /**
   * Pings silent sockets and closes those past their pong or sign-in deadline; returns when the
   * next of those deadlines falls (undefined without open sockets), for a host that sweeps itself.
   */
  sweep(): number | undefined {
    return this.sockets.sweep();
  }

  /** What a host keeps of an open connection to restore it later (snapshot.ts); undefined if not open here. */
  snapshot(socketId: string): ConnectionSnapshot | undefined {
    return this.sockets.snapshot(socketId);
  }

  /**
   * Rebuilds connections from their snapshots on sockets that stayed open while this node's memory
   * was lost, all at once and announcing nothing (snapshot.ts); each handle then drives its socket
   * as any other. Undefined for a snapshot whose app is gone. A socket that vanished meanwhile is
   * restored on a closed RawSocket and then closed, which announces its leaves.
   */
  restore(entries: { socket: RawSocket; snapshot: ConnectionSnapshot }[]): Promise<(SocketHandle | undefined)[]> {
    return this.sockets.restore(entries);
  }

  get connectionCount(): number {
    return this.sockets.count;
  }

  /** Sockets opened whose handshake has not ended (established or refused) yet. */
  get handshakesInFlight(): number {
    return this.sockets.handshakesInFlight;
  }

  /** Sends the cluster messages of a feature's `topic` to `listener`; returns how to stop. */
  listenFeature(topic: string, listener: (message: FeatureMessage) => void): () => void {
    return this.cluster.listenFeature(topic, listener);
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
    return new Handle(this.sockets, request);
  }

  /**
   * Publishes an application event to a channel cluster-wide (HTTP API, spec §3.11; publish.ts):
   * resolved once delivered here and accepted by the bus for the other nodes, else a
   * ClusterUnavailableError. `dedupe` (from an idempotency key) makes every node deliver it at most once.
   */
  publish(app: App, channel: string, event: string, data: string, exceptSocketId?: string, dedupe?: string): Promise<void> {
    return publishEvent(this, app, channel, event, data, exceptSocketId, dedupe);
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
