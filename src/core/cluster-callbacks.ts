// What the cluster adapter calls on this node (the ClusterNode of adapter.ts): bus messages for the
// local sockets, transitions made on another socket's behalf, member resyncs after an outage, and
// the backend going up or down.
import type { ClusterMessage, ClusterNode, ClusterTransition, FeatureMessage } from "./adapter.ts";
import type { AnnounceContext, CoreContext } from "./context.ts";
import type { EventStream } from "./events.ts";
import { ExpiringMap } from "./expiring-map.ts";
import { CloseCode } from "./messages.ts";
import type { MemberSnapshot } from "./presence.ts";
import { announceTransition } from "./announce.ts";
import type { LocalRegistry } from "./registry.ts";

/** What the callbacks use of their node. */
export type ClusterCallbacksContext = AnnounceContext & Pick<CoreContext, "apps" | "registry" | "settings" | "timers" | "logger">;

/**
 * Idempotent publishes this node delivered, remembered so a retry (or a bus message of a publish
 * answered 503) reaches no socket twice; a cap keeps memory bounded under a flood of keys.
 */
const MAX_DELIVERED_KEYS = 100_000;

/** The node as the adapter sees it: handed to Adapter.start. */
export class ClusterCallbacks implements ClusterNode {
  // Read for every bus message: held here rather than looked up through the node each time.
  private readonly registry: LocalRegistry;
  private readonly events: EventStream;
  private readonly delivered: ExpiringMap<true>;
  /** Topic → where its FeatureMessages go; a message of a topic nobody listens to is dropped. */
  private readonly features = new Map<string, (message: FeatureMessage) => void>();

  constructor(private readonly node: ClusterCallbacksContext) {
    this.registry = node.registry;
    this.events = node.events;
    this.delivered = new ExpiringMap(MAX_DELIVERED_KEYS, () => node.timers.now());
  }

  /** Sends the cluster messages of a feature's `topic` to `listener`; returns how to stop. */
  listenFeature(topic: string, listener: (message: FeatureMessage) => void): () => void {
    this.features.set(topic, listener);
    return () => void (this.features.get(topic) === listener && this.features.delete(topic));
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
      const app = await this.node.apps.findById(appId);
      if (app) announceTransition(this.node, app, t);
    };
    announce().catch((error) => this.node.logger.error("announcing a cluster transition failed", error));
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
      this.node.logger.debug(`idempotent publish ${dedupe} of app ${appId} reached this node again; not delivered twice`);
      return false;
    }
    this.delivered.set(k, true, this.node.settings.idempotencyWindowSeconds * 1000);
    return true;
  }
}
