// What a cluster driver and the shared lifecycle (lifecycle.ts) say to each other: the options every
// driver takes, the events a transport reports, and the backend reads and idempotency keys a driver
// supplies.
import type { CachedEvent, ChannelPage, ChannelStats, IdempotencyClaim } from "../../core/adapter.ts";
import type { MemberSnapshot } from "../../core/presence.ts";
import type { Logger, Timers } from "../../core/runtime.ts";

/** CLUSTER_REQUEST_TIMEOUT_MS's default. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 2000;

export interface ClusterOptions {
  /** Key prefix; apps and clusters sharing one backend must use different prefixes or app ids. */
  prefix: string;
  /** A node that has not sent a heartbeat for this long is dead and its state is removed. */
  nodeTimeoutMs: number;
  timers: Timers;
  logger: Logger;
  /** How long start() waits for the backend before serving local clients alone. */
  connectTimeoutMs?: number;
  /**
   * The deadline of every backend call (CLUSTER_REQUEST_TIMEOUT_MS): a hung backend is an outage,
   * handled exactly like a lost connection, and no publish, join or read waits longer.
   */
  requestTimeoutMs?: number;
  /** How long an app's bus subscription outlives its last socket (CLUSTER_BUS_LINGER_MS; app-buses.ts). */
  busLingerMs?: number;
}

/** What a transport reports to the lifecycle. */
export interface TransportEvents {
  /** A payload some node published on the bus. */
  message(payload: string): void;
  /** Commands work (first connection, or again after an outage). */
  up(): void;
  /** Commands stopped working. */
  down(reason: string): void;
  /** Something the transport does in the background failed; logged like a failed command. */
  failed(operation: string, error: unknown): void;
}

/** A driver's cluster-wide reads, straight from its backend: they throw when it cannot answer. */
export interface StoreReads {
  channelStats(appId: string, channel: string): Promise<ChannelStats>;
  channels(appId: string, prefix?: string): Promise<Map<string, ChannelStats>>;
  channelPage(appId: string, limit: number): Promise<ChannelPage>;
  members(appId: string, channel: string): Promise<MemberSnapshot>;
  onlineUsers(appId: string, userIds: string[]): Promise<Set<string>>;
  cacheGet(appId: string, channel: string): Promise<CachedEvent | null>;
}

/** A driver's idempotency keys, in its backend (claims and settles are atomic there). */
export interface IdempotencyBackend {
  claim(appId: string, key: string, pendingMs: number): Promise<IdempotencyClaim>;
  settle(appId: string, key: string, delivered: boolean, windowMs: number): Promise<void>;
}
