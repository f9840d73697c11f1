import type { Logger } from "./runtime.ts";

// One stream of server events, for every consumer that wants to know what happened (webhooks,
// metrics, logs, the debug console). Cluster transitions (occupied/vacated, member added/removed)
// are emitted once for the whole cluster: the adapters decide each one on exactly one node.

interface Base {
  appId: string;
  /** Milliseconds since the epoch, stamped by the stream from the core's clock. */
  time: number;
}

/**
 * Event kinds that features above the core add (kind → its fields), each declared beside its
 * producer by augmenting this interface: `declare module "../core/events.ts" { interface
 * FeatureEvents { ... } }` (webhook deliveries, HTTP requests, adapter requests). The core emits
 * none of them and names none.
 */
// deno-lint-ignore no-empty-interface
export interface FeatureEvents {}

type FeatureEvent = { [K in keyof FeatureEvents]: { kind: K } & FeatureEvents[K] }[keyof FeatureEvents];

export type ServerEvent = Base & (
  | FeatureEvent
  | { kind: "connection_opened"; socketId: string }
  /** `code` is the close code the server sent, undefined when the client went away. */
  | { kind: "connection_closed"; socketId: string; code?: number; userId?: string }
  /** A handshake the server refused (spec §1.2); appId is "" when no app was found. */
  | { kind: "connection_refused"; appKey?: string; code: number; reason: string }
  | { kind: "subscribed"; channel: string; socketId: string; userId?: string }
  | { kind: "unsubscribed"; channel: string; socketId: string; userId?: string }
  /** What the client got in pusher:subscription_error (or pusher:error). */
  | { kind: "subscription_refused"; channel: string; socketId: string; type: string; reason: string; status: number }
  | { kind: "signin_refused"; socketId: string; reason: string }
  | { kind: "signed_in"; socketId: string; userId: string }
  /**
   * Occupancy and membership. `localOnly`: decided from this node's own state while the cluster
   * backend was away, so not known to be a cluster-wide transition; it gets no webhook (the resync
   * announces what really changed).
   */
  | { kind: "channel_occupied"; channel: string; localOnly?: boolean }
  | { kind: "channel_vacated"; channel: string; localOnly?: boolean }
  | { kind: "member_added"; channel: string; userId: string; localOnly?: boolean }
  | { kind: "member_removed"; channel: string; userId: string; localOnly?: boolean }
  | { kind: "client_event"; channel: string; event: string; data: string; socketId: string; userId?: string }
  /** An event published through the HTTP API (or the console), once per request item. */
  | { kind: "api_publish"; channels: string[]; event: string; bytes: number; socketId?: string }
  /**
   * An API publish (one request item) not done: `reason` "unavailable" (the cluster backend could
   * not take it: answered 503), "in_progress" (its idempotency key is being published: 409) or
   * "shutting_down" (the node is stopping: 503, once per request).
   */
  | { kind: "api_publish_refused"; reason: "unavailable" | "in_progress" | "shutting_down"; detail: string }
  /** An API publish whose idempotency key was delivered within the window: answered, not sent again. */
  | { kind: "api_publish_duplicate"; key: string }
  /** `first`: no other miss on the channel since it was occupied or an event was cached, cluster-wide. */
  | { kind: "cache_miss"; channel: string; first: boolean }
  | { kind: "subscription_count"; channel: string; count: number }
  /**
   * scope: what was limited ("client_events"; per client address "ip_api", "ip_websocket" with
   * `address`; appId is "" when the request named no app).
   */
  | { kind: "rate_limited"; scope: string; socketId?: string; address?: string }
  /** appId is "" for events about the node rather than an app. */
  | { kind: "backend"; driver: string; role: string; up: boolean; detail?: string }
  /** One broadcast delivered on this node: counted once, with its recipients, never per socket. */
  | { kind: "broadcast"; channel: string; bytes: number; sockets: number }
  | { kind: "message_received"; socketId: string; bytes: number }
  /** The node entered a phase of its graceful stop (src/core/shutdown.ts); appId is "". */
  | { kind: "shutdown"; phase: "draining" | "closing" | "stopping" | "stopped" }
);

export type ServerEventKind = ServerEvent["kind"];
export type EventOf<K extends ServerEventKind> = Extract<ServerEvent, { kind: K }>;
/** What a producer hands to emit(): the event without its timestamp. */
export type EventInput = ServerEvent extends infer E ? (E extends ServerEvent ? Omit<E, "time"> : never) : never;

export type EventConsumer = (event: ServerEvent) => void | Promise<void>;

interface Subscription {
  name: string;
  consumer: EventConsumer;
  kinds: ReadonlySet<ServerEventKind> | undefined;
}

/**
 * Guarded fan-out: a consumer that throws (or rejects) is logged and counted, and the others and
 * the emitting code carry on. Consumers must not block: queue the work and return.
 */
export class EventStream {
  private subscriptions: Subscription[] = [];
  /** kind → how many consumers want it; producers check wants() before building costly events. */
  private readonly wanted = new Map<ServerEventKind, number>();
  private allKinds = 0;
  /** Consumer failures per consumer name, for the metrics and tests. */
  readonly failures = new Map<string, number>();

  constructor(private readonly now: () => number, private readonly logger: Logger) {}

  /** Subscribes a consumer to every event, or to the kinds listed; returns the unsubscribe. */
  subscribe(name: string, consumer: EventConsumer, kinds?: readonly ServerEventKind[]): () => void {
    const sub: Subscription = { name, consumer, kinds: kinds ? new Set(kinds) : undefined };
    this.subscriptions = [...this.subscriptions, sub];
    this.count(sub, 1);
    return () => {
      if (!this.subscriptions.includes(sub)) return;
      this.subscriptions = this.subscriptions.filter((s) => s !== sub);
      this.count(sub, -1);
    };
  }

  private count(sub: Subscription, delta: number): void {
    if (!sub.kinds) {
      this.allKinds += delta;
      return;
    }
    for (const kind of sub.kinds) this.wanted.set(kind, (this.wanted.get(kind) ?? 0) + delta);
  }

  /** True when some consumer listens for `kind`. */
  wants(kind: ServerEventKind): boolean {
    return this.allKinds > 0 || (this.wanted.get(kind) ?? 0) > 0;
  }

  /** Takes the object over (it gets its `time`): pass a fresh one. */
  emit(input: EventInput): void {
    if (!this.wants(input.kind)) return;
    // Stamped in place: every producer passes a fresh literal. A copy (`{ ...input, time }`) over
    // the many event shapes was the stream's main cost (storm profile: ~2 % of the server's CPU).
    const event = input as ServerEvent;
    event.time = this.now();
    // The array is replaced, never mutated, on (un)subscribe, so a consumer may unsubscribe mid-emit.
    for (const sub of this.subscriptions) {
      if (sub.kinds && !sub.kinds.has(event.kind)) continue;
      try {
        const result = sub.consumer(event);
        if (result && typeof (result as Promise<void>).then === "function") {
          (result as Promise<void>).then(undefined, (error: unknown) => this.failed(sub.name, event, error));
        }
      } catch (error) {
        this.failed(sub.name, event, error);
      }
    }
  }

  private failed(name: string, event: ServerEvent, error: unknown): void {
    this.failures.set(name, (this.failures.get(name) ?? 0) + 1);
    this.logger.warn(`event consumer "${name}" failed on ${event.kind}`, error);
  }
}
