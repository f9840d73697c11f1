// The cluster bus as the lifecycle (lifecycle.ts) uses it: messages go out in envelopes
// (envelope.ts) on their app's bus, hellos and node-wide feature messages on the node bus every node
// hears; what comes in is applied to this node's sockets, counted per app, and tells which peers
// are on the bus (bus-peers.ts). Which apps' buses this node hears is app-buses.ts.
import type { ClusterMessage } from "../../core/adapter.ts";
import { AppBuses, DEFAULT_BUS_LINGER_MS } from "./app-buses.ts";
import { BusPeers } from "./bus-peers.ts";
import { readEnvelope, writeBye, writeEnvelope, writeHello, writeSwept } from "./envelope.ts";
import type { ClusterOptions } from "./transport.ts";

export interface BusDeps {
  nodeId: string;
  name: string;
  opts: ClusterOptions;
  now(): number;
  /** Whether the bus works now (the lifecycle is online). */
  online(): boolean;
  /** A backend call bound by the request deadline. */
  withinDeadline<T>(operation: string, call: () => Promise<T>): Promise<T>;
  /** The driver's publish: on an app's bus, or on the node bus (appId undefined). */
  publish(appId: string | undefined, payload: string): Promise<void>;
  subscribe(appIds: string[]): Promise<void>;
  unsubscribe(appIds: string[]): Promise<void>;
  /** Applies a message from another node to this node's sockets. */
  receive(message: ClusterMessage): void;
  /** A failure that may leave the backend disagreeing with this node (the lifecycle resyncs). */
  failed(operation: string, error: unknown): void;
  /** A failure to log only. */
  logged(operation: string, error: unknown): void;
  /** Another node swept this one's state (this node was paused past the node timeout). */
  sweptBy(node: string): void;
}

/** A feature's message that every node must hear, also the nodes that hold none of the app's bus. */
function nodeWide(message: ClusterMessage): boolean {
  return message.type === "feature" && message.nodeWide === true;
}

export class ClusterBus {
  /** The other nodes this node hears on the bus: a publish waits for those back from an outage. */
  readonly peers: BusPeers;
  readonly apps: AppBuses;

  constructor(private readonly deps: BusDeps) {
    this.peers = new BusPeers(deps.opts.nodeTimeoutMs, deps.now);
    this.apps = new AppBuses({
      driver: {
        subscribe: (appIds) => deps.withinDeadline("subscribing to the apps' buses", () => deps.subscribe(appIds)),
        unsubscribe: (appIds) => deps.withinDeadline("unsubscribing from the apps' buses", () => deps.unsubscribe(appIds)),
      },
      timers: deps.opts.timers, lingerMs: deps.opts.busLingerMs ?? DEFAULT_BUS_LINGER_MS, logger: deps.opts.logger, name: deps.name,
      online: deps.online,
      failed: deps.logged,
    });
  }

  /**
   * Why a publish now would miss nodes (undefined when none): after this node lost the bus and is
   * back, the peers that were on it before and are not heard again yet.
   */
  waitingForPeers(): string | undefined {
    const missing = this.peers.missing();
    if (missing.length === 0) return undefined;
    const waiting = `waiting for ${missing.length} node(s) that were on the bus before the outage to rejoin it`;
    this.deps.opts.logger.debug(`${this.deps.name} adapter: publish refused, ${waiting}: ${missing.join(", ")}`);
    return waiting;
  }

  /** Publishes on the message's bus. Not deferred: one connection keeps it in order with the commands around it. */
  send(message: ClusterMessage): Promise<void> {
    const appId = nodeWide(message) ? undefined : message.appId;
    return this.deps.withinDeadline("publish", () => this.deps.publish(appId, writeEnvelope(this.deps.nodeId, message)));
  }

  /** Tells the other nodes this one is on the bus (BusPeers). */
  hello(): void {
    this.deps.withinDeadline("hello", () => this.deps.publish(undefined, writeHello(this.deps.nodeId)))
      .catch((error: unknown) => this.deps.failed("hello", error));
  }

  /** Tells the other nodes this one stopped on purpose and left nothing unannounced. */
  bye(): Promise<void> {
    return this.deps.withinDeadline("goodbye", () => this.deps.publish(undefined, writeBye(this.deps.nodeId)));
  }

  /** Tells the other nodes this one swept `node` (a node that was only paused writes its state back). */
  swept(node: string): void {
    this.deps.withinDeadline("telling a sweep", () => this.deps.publish(undefined, writeSwept(this.deps.nodeId, node)))
      .catch((error: unknown) => this.deps.logged("telling a sweep", error));
  }

  onMessage(payload: string): void {
    const received = readEnvelope(payload, this.deps.nodeId);
    if (!received) return;
    if (received.bye) {
      this.deps.opts.logger.debug(`${this.deps.name} adapter: node ${received.from} stopped`);
      return this.peers.departed(received.from);
    }
    if (received.swept === this.deps.nodeId) this.deps.sweptBy(received.from);
    const news = this.peers.heardFrom(received.from);
    const message = received.message;
    if (message) {
      if (!nodeWide(message)) this.apps.heard(message.appId);
      this.deps.receive(message);
    }
    // A node that just (re)joined the bus may be waiting for this one: answer its hello at once
    // instead of at the next tick. Only a hello is answered, so two nodes stop after one exchange.
    else if (news && this.deps.online()) this.hello();
  }
}
