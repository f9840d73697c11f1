// What this node's presence subscribers were told about each channel's members. Bus messages
// sent while this node was cut off never reach it, so after an outage the node compares these
// views with the cluster's member lists and tells its own sockets what they missed.
import type { ClusterMessage, ClusterNode } from "../../core/adapter.ts";
import type { LocalAdapter } from "../local.ts";
import { memberAdded, memberRemoved } from "../../core/messages.ts";

const ADDED = "pusher_internal:member_added";
const REMOVED = "pusher_internal:member_removed";

export class PresenceViews {
  /** "appId\nchannel" → userId → user_info, for presence channels with local subscribers. */
  private readonly views = new Map<string, Map<string, unknown>>();

  /** The node an adapter hands frames to: every frame delivered here passes the views first. */
  wrap(node: ClusterNode): ClusterNode {
    return {
      receive: (message) => {
        if (this.observe(message)) node.receive(message);
      },
      transition: node.transition?.bind(node),
    };
  }

  /**
   * After an outage: delivers (through `node`, a wrap()ped one) what each local presence channel
   * missed, reading the cluster's members with `members`; stops when `active` turns false.
   */
  async catchUpAll(
    local: LocalAdapter, node: ClusterNode | undefined, removals: boolean, active: () => boolean,
    members: (appId: string, channel: string) => Promise<Map<string, unknown>>,
  ): Promise<void> {
    for (const { appId, channel } of this.entries()) {
      if (!active()) return;
      if (local.contribution(appId, channel).sockets === 0) {
        this.drop(appId, channel);
        continue;
      }
      for (const message of this.catchUp(appId, channel, await members(appId, channel), removals)) node?.receive(message);
    }
  }

  /** The first local subscriber's snapshot starts the view; later frames keep it current. */
  snapshot(appId: string, channel: string, members: Map<string, unknown>): void {
    const k = `${appId}\n${channel}`;
    if (channel.startsWith("presence-") && !this.views.has(k)) this.views.set(k, new Map(members));
  }

  /**
   * Follows the member events this node delivers to its sockets; false for a duplicate (a member
   * added that they know already, or removed that they never had), which happens when a catch-up
   * and the original event both reach them.
   */
  observe(message: ClusterMessage): boolean {
    // Runs for every broadcast this node delivers: rule most out without touching the frame.
    if (message.type !== "publish" || this.views.size === 0 || !message.channel.startsWith("presence-")) return true;
    const view = this.views.get(`${message.appId}\n${message.channel}`);
    if (!view || !message.frame.includes("pusher_internal:member_")) return true;
    let frame: { event: string; data: string };
    let data: { user_id: string; user_info?: unknown };
    try {
      frame = JSON.parse(message.frame) as { event: string; data: string };
      data = JSON.parse(frame.data) as { user_id: string; user_info?: unknown };
    } catch {
      return true;
    }
    if (frame.event === ADDED) {
      if (view.has(data.user_id)) return false;
      view.set(data.user_id, data.user_info ?? null);
    } else if (frame.event === REMOVED) {
      if (!view.delete(data.user_id)) return false;
    }
    return true;
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

  /**
   * The frames that bring the local view in line with the cluster's members. Without `removals`
   * (the backend lost its data and is being refilled node by node) only members that are surely
   * there are added; an absent one may simply not be re-registered yet.
   */
  catchUp(appId: string, channel: string, cluster: Map<string, unknown>, removals = true): ClusterMessage[] {
    const view = this.views.get(`${appId}\n${channel}`);
    if (!view) return [];
    const out: ClusterMessage[] = [];
    for (const userId of removals ? view.keys() : []) {
      if (!cluster.has(userId)) out.push({ type: "publish", appId, channel, frame: memberRemoved(channel, userId) });
    }
    for (const [userId, info] of cluster) {
      if (!view.has(userId)) out.push({ type: "publish", appId, channel, frame: memberAdded(channel, userId, info) });
    }
    return out;
  }
}
