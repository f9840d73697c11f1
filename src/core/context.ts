// What the protocol handlers may use of a node. Each handler names the part it needs (a Pick of
// CoreContext), so it can be driven by a test harness and never reaches into the whole server.
import type { Adapter } from "./adapter.ts";
import type { AppStore } from "./app-store.ts";
import type { EventStream } from "./events.ts";
import type { LocalRegistry } from "./registry.ts";
import type { CryptoProvider, Logger, Timers } from "./runtime.ts";
import type { ProtocolSettings } from "./settings.ts";
import type { SubscriptionCounter } from "./subscription-count.ts";

export interface CoreContext {
  readonly settings: ProtocolSettings;
  readonly apps: AppStore;
  readonly adapter: Adapter;
  readonly registry: LocalRegistry;
  readonly timers: Timers;
  readonly crypto: CryptoProvider;
  readonly logger: Logger;
  readonly events: EventStream;
  readonly subscriptionCounts: SubscriptionCounter;
  /** Open connections on this node. */
  readonly connectionCount: number;
  /** Not ready: a graceful stop began (the node still serves while draining). */
  readonly isShuttingDown: boolean;
  /** A graceful stop is closing the sockets: new handshakes get 4200. */
  readonly refusesSockets: boolean;
}

/** Cluster-wide join/leave side effects (announce.ts). */
export type AnnounceContext = Pick<CoreContext, "adapter" | "events" | "subscriptionCounts">;
/** pusher:subscribe / pusher:unsubscribe. */
export type SubscribeContext = AnnounceContext & Pick<CoreContext, "registry" | "crypto" | "logger">;
/** pusher:signin. */
export type SigninContext = Pick<CoreContext, "adapter" | "registry" | "crypto" | "events">;
/** client-* events. */
export type ClientEventContext = Pick<CoreContext, "adapter" | "timers" | "events">;
/** The handshake checks (spec §1.2). */
export type HandshakeContext = Pick<CoreContext, "settings" | "apps" | "timers" | "logger" | "refusesSockets">;
/** Routing inbound frames. */
export type DispatchContext = SubscribeContext & SigninContext & ClientEventContext & Pick<CoreContext, "logger">;
