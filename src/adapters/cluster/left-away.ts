// Leaves a node decided while its cluster backend was away (ClusterLifecycle.leftLocally). A
// resync that finds the store intact announces what they changed (the store's own transitions).
// After the store lost its data nothing does: once the other nodes have re-registered (the
// follow-up catch-up), what the refilled store still lacks is announced here.
import type { ClusterTransition, LeaveResult } from "../../core/adapter.ts";
import type { StoreReads } from "./transport.ts";

export interface LeftAwayContext {
  reads: Pick<StoreReads, "members" | "channelStats">;
  announce(appId: string, transition: ClusterTransition): void;
  /** False once the node stops or loses the backend again: the rest waits for the next resync. */
  active(): boolean;
}

/**
 * A join or leave decided by this node's local state alone (the backend away or failing) is
 * unknown to the cluster: its flags are this node's view (no webhook; the resync announces what
 * changed), and its sequence, from this node's clock, would outrank the store's later snapshots,
 * so the catch-up would take the store's answer as the older one (a member that left and came
 * back while the bus was down stayed removed). Sequence 0 is "unordered": this node's sockets are
 * told by who they know, and the catch-up corrects them. Its count is unordered for the same
 * reason (a local count's order means nothing against the store's): it reaches this node's sockets.
 */
export function localOnly<T extends { seq?: number; countSeq?: number }>(result: T): T & { localOnly: true } {
  return { ...result, seq: 0, countSeq: 0, localOnly: true };
}

export class LeftAway {
  /** Per "appId\nchannel": whether a leave vacated it, and the members that left. */
  private readonly entries = new Map<string, { appId: string; channel: string; vacated: boolean; users: Set<string> }>();
  /** The backend lost its data: the leaves above wait for the refilled store to be confirmed. */
  private afterLoss = false;

  record(appId: string, channel: string, left: LeaveResult, userId?: string): void {
    if (!left.vacated && !left.memberRemoved) return;
    const k = `${appId}\n${channel}`;
    const entry = this.entries.get(k) ?? { appId, channel, vacated: false, users: new Set<string>() };
    this.entries.set(k, entry);
    entry.vacated ||= left.vacated;
    if (left.memberRemoved && userId !== undefined) entry.users.add(userId);
  }

  /** After a resync: `lostData` from its reconcile, `catchUp` when it was the follow-up. */
  async settle(lostData: boolean, catchUp: boolean, ctx: LeftAwayContext): Promise<void> {
    if (lostData) {
      this.afterLoss = this.entries.size > 0;
      return;
    }
    if (!this.afterLoss) return this.entries.clear();
    if (!catchUp) return; // not the follow-up yet
    // One entry at a time, dropped once announced: a failing read leaves the rest for the next resync.
    for (const [k, { appId, channel, vacated, users }] of this.entries) {
      if (!ctx.active()) return;
      const members = users.size > 0 ? (await ctx.reads.members(appId, channel)).members : undefined;
      for (const userId of users) {
        if (members?.has(userId)) continue;
        ctx.announce(appId, { type: "left", channel, userId, vacated: false, memberRemoved: true, seq: 0, subscriptionCount: 0, remoteOnly: true });
      }
      if (vacated && (await ctx.reads.channelStats(appId, channel)).subscriptionCount === 0) {
        ctx.announce(appId, { type: "left", channel, vacated: true, memberRemoved: false, subscriptionCount: 0, remoteOnly: true });
      }
      this.entries.delete(k);
    }
    this.afterLoss = false;
  }
}
