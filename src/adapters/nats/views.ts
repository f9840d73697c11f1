// What this node's presence subscribers were told about each channel's members. Bus messages
// sent while this node was cut off never reach it, so after an outage the node compares these
// views with the cluster's member lists and tells its own sockets what they missed.
import type { ClusterMessage } from "../../core/adapter.ts";
import { memberAdded, memberRemoved } from "../../core/messages.ts";

const ADDED = "pusher_internal:member_added";
const REMOVED = "pusher_internal:member_removed";

export class PresenceViews {
  /** "appId\nchannel" → userId → user_info, for presence channels with local subscribers. */
  private readonly views = new Map<string, Map<string, unknown>>();

  /** The first local subscriber's snapshot starts the view; later frames keep it current. */
  snapshot(appId: string, channel: string, members: Map<string, unknown>): void {
    const k = `${appId}\n${channel}`;
    if (channel.startsWith("presence-") && !this.views.has(k)) this.views.set(k, new Map(members));
  }

  /** Follows the member events this node delivers to its sockets. */
  observe(message: ClusterMessage): void {
    if (message.type !== "publish" || !message.frame.includes("pusher_internal:member_")) return;
    const view = this.views.get(`${message.appId}\n${message.channel}`);
    if (!view) return;
    try {
      const frame = JSON.parse(message.frame) as { event: string; data: string };
      const data = JSON.parse(frame.data) as { user_id: string; user_info?: unknown };
      if (frame.event === ADDED) view.set(data.user_id, data.user_info ?? null);
      else if (frame.event === REMOVED) view.delete(data.user_id);
    } catch {
      // not a member event after all
    }
  }

  /** The channel has no local subscribers left. */
  drop(appId: string, channel: string): void {
    this.views.delete(`${appId}\n${channel}`);
  }

  entries(): { appId: string; channel: string }[] {
    return [...this.views.keys()].map((k) => {
      const cut = k.indexOf("\n");
      return { appId: k.slice(0, cut), channel: k.slice(cut + 1) };
    });
  }

  /** The frames that bring the local view in line with the cluster's members. */
  catchUp(appId: string, channel: string, cluster: Map<string, unknown>): ClusterMessage[] {
    const view = this.views.get(`${appId}\n${channel}`);
    if (!view) return [];
    const out: ClusterMessage[] = [];
    for (const userId of view.keys()) {
      if (!cluster.has(userId)) out.push({ type: "publish", appId, channel, frame: memberRemoved(channel, userId) });
    }
    for (const [userId, info] of cluster) {
      if (!view.has(userId)) out.push({ type: "publish", appId, channel, frame: memberAdded(channel, userId, info) });
    }
    return out;
  }
}
