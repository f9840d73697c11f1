// The cluster-shaped view of channel, presence and user state. The core asks the adapter for
// every state transition and query, so a Redis or NATS adapter gives cluster-wide answers
// without the core changing. All queries are async for that reason.
import type { MemberChange, MemberSnapshot } from "./presence.ts";
import type { RateLimitResult } from "./rate-limiter.ts";

export interface Member {
  userId: string;
  userInfo: unknown;
}

export interface JoinResult {
  /** False when the presence member limit refused a new member. */
  ok: boolean;
  /** The channel's subscriber count went 0 → 1 across the cluster. */
  occupied: boolean;
  /** Presence: this user had no other socket in the channel anywhere in the cluster. */
  memberAdded: boolean;
  /** The member_added transition's sequence (see presence.ts), when memberAdded. */
  seq?: number;
  subscriptionCount: number;
  /**
   * The order of `subscriptionCount` (see count-order.ts): higher for every later change of the
   * channel's subscribers, cluster-wide. 0 or absent: unordered (decided from this node alone).
   */
  countSeq?: number;
  /** Decided from this node's state alone (cluster backend away): the flags are this node's view. */
  localOnly?: boolean;
}

export interface LeaveResult {
  vacated: boolean;
  memberRemoved: boolean;
  /** The member_removed transition's sequence, when memberRemoved. */
  seq?: number;
  subscriptionCount: number;
  /**
   * The order of `subscriptionCount` (see count-order.ts): higher for every later change of the
   * channel's subscribers, cluster-wide. 0 or absent: unordered (decided from this node alone).
   */
  countSeq?: number;
  /** Decided from this node's state alone (cluster backend away): the flags are this node's view. */
  localOnly?: boolean;
}

/** One of a closing socket's subscriptions. */
export interface Subscribed {
  channel: string;
  member?: Member;
}

/** What a closing socket's departure changed: a LeaveResult per subscription (same order), and its sign-out. */
export interface Departure {
  left: LeaveResult[];
  /** The socket was its user's last signed-in one (online → offline). */
  wentOffline: boolean;
}

/** How a read may be answered while the cluster backend cannot answer. */
export interface ReadOptions {
  /**
   * Fall back to this node's own view (presence snapshots and cache reads for a joining socket,
   * which the catch-up corrects after the outage). Without it such a read rejects with
   * ClusterUnavailableError: a REST or console answer is the cluster's or none.
   */
  allowLocal?: boolean;
}

/**
 * Every channel name the REST API lists sorts at or after this; the server's own "#" channels
 * (server-to-user, spec §6) sort before it.
 */
export const FIRST_LISTED_CHANNEL = "$";

/** The first occupied channels by name, and how many the app has in all. */
export interface ChannelPage {
  channels: Map<string, ChannelStats>;
  /** Channels in the index, server's own left out; a channel that emptied a moment ago may still count. */
  total: number;
}

export interface ChannelStats {
  subscriptionCount: number;
  /** Distinct presence members (0 for non-presence channels). */
  userCount: number;
}

export interface CachedEvent {
  event: string;
  data: string;
  /** Seconds left before the entry expires. */
  ttl: number;
}

/** Messages that must reach every node; each node acts on its own sockets. */
export type ClusterMessage =
  | {
    type: "publish"; appId: string; channel: string; frame: string; exceptSocketId?: string;
    /** Set on member_added / member_removed frames: which transition the frame announces. */
    member?: MemberChange;
    /** Set on pusher_internal:subscription_count frames: the count's order (JoinResult.countSeq). */
    countSeq?: number;
    /**
     * A REST publish made with an idempotency key: each node delivers a message with the same
     * `dedupe` once, so a retry after a 503 or a timeout reaches nobody twice.
     */
    dedupe?: string;
  }
  | { type: "terminate"; appId: string; userId: string }
  | { type: "watchlist"; appId: string; userId: string; online: boolean }
  | FeatureMessage;

/**
 * A feature's own cluster traffic (the debug console's: src/console/), routed by `topic` to its
 * listener (Switchboard.listenFeature) without the core knowing its shape. Heard by the nodes
 * holding the app's bus, or with `nodeWide` by every node.
 */
export type FeatureMessage = { type: "feature"; topic: string; appId: string; nodeWide?: boolean; body: unknown };

/**
 * A state change an adapter made for sockets the core did not ask about: a dead node's state
 * swept by this node, or this node's state re-registered after a bus outage. The core announces
 * it (member_added/removed frames, webhooks hooks, subscription counts, watchlist) as if it were
 * its own join or leave, so each transition is announced exactly once in the cluster.
 */
export type ClusterTransition = (
  | { type: "joined"; channel: string; socketId: string; member?: Member; occupied: boolean; memberAdded: boolean; seq?: number; subscriptionCount: number; countSeq?: number }
  | { type: "left"; channel: string; userId?: string; vacated: boolean; memberRemoved: boolean; seq?: number; subscriptionCount: number; countSeq?: number }
  | { type: "online"; userId: string }
  | { type: "offline"; userId: string }
) & {
  /** This node's clients saw it already (it happened here during a bus outage): tell the other nodes only. */
  remoteOnly?: boolean;
  /**
   * Not known to be news (re-registered after the backend lost its data): its frames still go out,
   * for sockets another node's catch-up told otherwise meanwhile (the others ignore a member they
   * know), but no webhook, which the cluster sent already.
   */
  localOnly?: boolean;
};

export interface BroadcastOptions {
  /** Skip this node's own sockets. */
  remoteOnly?: boolean;
}

export interface ClusterNode {
  /** Applies a cluster message to this node's local sockets. */
  receive(message: ClusterMessage): void;
  /** Announces a transition made on behalf of another node's (or a resynchronised) socket. */
  transition?(appId: string, transition: ClusterTransition): void;
  /**
   * After a bus outage: the channel's members as the store has them now. The node tells each
   * local subscriber what it missed (additions only, without `removals`).
   */
  syncMembers?(appId: string, channel: string, snapshot: MemberSnapshot, removals: boolean): void;
  /**
   * The adapter's backend became reachable (`up`) or stopped being reachable, once per change;
   * `detail` says why it went down. The core turns it into a "backend" server event.
   */
  backendState?(driver: string, up: boolean, detail?: string): void;
}

// An adapter is composed of the parts below. A driver implements each part it has a backend for;
// the Redis-family and NATS drivers share their lifecycle (src/adapters/cluster/lifecycle.ts).

/** The message bus: every node that listens to an app hears every broadcast of it. */
export interface MessageBus {
  readonly name: string;
  start(node: ClusterNode): Promise<void>;
  stop(): Promise<void>;
  /**
   * Broadcasts to every node, this one included (which applies it synchronously when it can).
   * Best effort, for the core's own announcements: the adapter logs and counts a failure, and its
   * resync and catch-up repair what the other nodes missed.
   */
  broadcast(message: ClusterMessage, options?: BroadcastOptions): void;
  /**
   * A message someone waits for (a REST publish): applied to this node's sockets, and resolved once
   * the bus accepted it for the other nodes within the request deadline. Rejects with
   * ClusterUnavailableError otherwise; while the bus is known to be away nothing is applied at all.
   */
  deliver(message: ClusterMessage): Promise<void>;
  /**
   * This node serves a socket of the app (or a console watches it) from now on: the adapter hears
   * the app's bus until as many unlisten() calls. Resolves once the backend confirmed the
   * subscription (at once while it is away: the node serves its own sockets then, and subscribes
   * before it counts as back). Rejects with ClusterUnavailableError when the backend is up but
   * refused or did not answer in time; nothing is held then. A bus that every node hears whole
   * (the local adapter) leaves both out.
   */
  listen?(appId: string): Promise<void>;
  unlisten?(appId: string): void;
  /** Bus messages received from other nodes since start, per app (a metric). */
  busMessagesReceived?(): ReadonlyMap<string, number>;
}

/**
 * Cluster state: connections, subscriptions, presence members and signed-in users. Every change
 * answers with the cluster-wide transition it made (occupied, member_added, online, ...), decided
 * once for the whole cluster.
 */
export interface ClusterState {
  /** Atomically checks the app's connection quota and counts the socket; false when over quota. */
  addConnection(appId: string, socketId: string, maxConnections: number): Promise<boolean>;
  removeConnection(appId: string, socketId: string): Promise<void>;

  join(appId: string, channel: string, socketId: string, member?: Member, maxMembers?: number): Promise<JoinResult>;
  leave(appId: string, channel: string, socketId: string, member?: Member): Promise<LeaveResult>;

  channelStats(appId: string, channel: string, options?: ReadOptions): Promise<ChannelStats>;
  /** Occupied channels, optionally filtered by prefix. */
  channels(appId: string, prefix?: string, options?: ReadOptions): Promise<Map<string, ChannelStats>>;
  /**
   * The first `limit` occupied channels by name (at most 500), the server's own "#" channels left
   * out, and how many there are: what a dashboard shows, without counting every channel.
   */
  channelPage(appId: string, limit: number, options?: ReadOptions): Promise<ChannelPage>;
  /** Presence members in join order (user id → user_info of its first socket), and their sequence. */
  members(appId: string, channel: string, options?: ReadOptions): Promise<MemberSnapshot>;

  /**
   * A closing socket leaves every channel, signs out (with `userId`) and stops counting toward the
   * quota, in one backend round trip.
   */
  disconnect(appId: string, socketId: string, subscriptions: Subscribed[], userId?: string): Promise<Departure>;

  /** Returns true when this socket made the user go offline → online. */
  signIn(appId: string, userId: string, socketId: string): Promise<boolean>;
  /** Returns true when this socket was the user's last (online → offline). */
  signOut(appId: string, userId: string, socketId: string): Promise<boolean>;
  onlineUsers(appId: string, userIds: string[], options?: ReadOptions): Promise<Set<string>>;
}

/** The last event of each cache channel (spec §10), with its expiry. */
export interface CacheStore {
  /** Rejects with ClusterUnavailableError when the cluster's cache did not take it (a publish then answers 503). */
  cacheSet(appId: string, channel: string, event: string, data: string, ttlSeconds: number): Promise<void>;
  cacheGet(appId: string, channel: string, options?: ReadOptions): Promise<CachedEvent | null>;
  /**
   * A subscriber found the channel's cache empty: true when this one sends the cache_miss webhook,
   * once per channel cluster-wide until an event is cached or the channel is vacated (spec §3.8).
   */
  claimCacheMiss(appId: string, channel: string): Promise<boolean>;
}

/** What claiming an idempotency key found: ours to publish, published already, or being published. */
export type IdempotencyClaim = "claimed" | "done" | "pending";

/**
 * REST publishes made with an idempotency key, remembered cluster-wide (docs/operating.md, "Idempotent
 * publishes"): a retry of a publish that was delivered is answered as a duplicate, not sent again.
 */
export interface IdempotencyStore {
  /** Takes the key for a publish about to be made; a claim nobody settles lapses after `pendingMs`. */
  claimIdempotency(appId: string, key: string, pendingMs: number): Promise<IdempotencyClaim>;
  /** The claimed publish was delivered (kept `windowMs`), or failed (released, so a retry makes it). */
  settleIdempotency(appId: string, key: string, delivered: boolean, windowMs: number): Promise<void>;
}

/** A cluster-wide counter for the REST rate limits (src/rate-limiters/cluster.ts). */
export interface SharedRateCounter {
  /**
   * Counts `points` against the app's cluster-wide budget `bucket` for the current one-second
   * window. Undefined when the backend cannot be reached: the caller then counts on this node.
   */
  consumeRate(appId: string, bucket: string, points: number, limit: number): Promise<RateLimitResult | undefined>;
}

/**
 * What the core holds. The rate counter is optional: a driver without a shared counter (local)
 * leaves it out and the REST limits are counted on each node.
 */
export interface Adapter extends MessageBus, ClusterState, CacheStore, IdempotencyStore, Partial<SharedRateCounter> {}

/**
 * The cluster backend cannot take or answer this now (away, hung past its deadline, or refusing):
 * the HTTP API answers 503 with Retry-After, never a 2xx for work that was not done.
 */
export class ClusterUnavailableError extends Error {
  readonly retryAfterSeconds = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ClusterUnavailableError";
  }
}
