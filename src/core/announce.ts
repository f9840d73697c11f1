import type { BroadcastOptions, ClusterTransition, Member } from "./adapter.ts";
import type { App } from "./app.ts";
import { classifyChannel } from "./channels.ts";
import { memberAdded, memberRemoved } from "./messages.ts";
import type { AnnounceContext } from "./context.ts";

// The side effects of a cluster-wide join or leave (member events, server events, subscription counts),
// shared by the socket handlers and by transitions an adapter made for another node's sockets.

export function announceJoined(
  server: AnnounceContext, app: App, channel: string, socketId: string,
  joined: { occupied: boolean; memberAdded: boolean; seq?: number; localOnly?: boolean }, member?: Member, options?: BroadcastOptions,
): void {
  const localOnly = joined.localOnly ? { localOnly: true } : {};
  if (joined.occupied && !classifyChannel(channel).serverToUser) server.events.emit({ kind: "channel_occupied", appId: app.id, channel, ...localOnly });
  if (joined.memberAdded && member) {
    const frame = memberAdded(channel, member.userId, member.userInfo);
    const change = { userId: member.userId, added: true, seq: joined.seq ?? 0 };
    server.adapter.broadcast({ type: "publish", appId: app.id, channel, frame, exceptSocketId: socketId, member: change }, options);
    server.events.emit({ kind: "member_added", appId: app.id, channel, userId: member.userId, ...localOnly });
  }
}

/** member_removed before channel_vacated (spec §7.1 ordering), then the new count if still occupied. */
export function announceLeft(
  server: AnnounceContext, app: App, channel: string,
  left: { vacated: boolean; memberRemoved: boolean; seq?: number; subscriptionCount: number; countSeq?: number; localOnly?: boolean }, userId?: string,
  options?: BroadcastOptions,
): void {
  const localOnly = left.localOnly ? { localOnly: true } : {};
  if (left.memberRemoved && userId !== undefined) {
    const change = { userId, added: false, seq: left.seq ?? 0 };
    server.adapter.broadcast({ type: "publish", appId: app.id, channel, frame: memberRemoved(channel, userId), member: change }, options);
    server.events.emit({ kind: "member_removed", appId: app.id, channel, userId, ...localOnly });
  }
  const kind = classifyChannel(channel);
  if (left.vacated && !kind.serverToUser) server.events.emit({ kind: "channel_vacated", appId: app.id, channel, ...localOnly });
  if (left.vacated) server.subscriptionCounts.vacated(app.id, channel);
  else if (!kind.presence) announceCount(server, app, channel, left.subscriptionCount, left.countSeq);
}

/** pusher_internal:subscription_count for apps that enable it (spec §3.10), with its order (count-order.ts). */
export function announceCount(server: AnnounceContext, app: App, channel: string, count: number, countSeq?: number): void {
  if (!app.enableSubscriptionCount) return;
  server.subscriptionCounts.changed(app.id, channel, count, countSeq);
}

/** Tells every node's watchers that a user went online or offline (spec §4.7). */
export function announcePresence(server: Pick<AnnounceContext, "adapter">, app: App, userId: string, online: boolean, options?: BroadcastOptions): void {
  server.adapter.broadcast({ type: "watchlist", appId: app.id, userId, online }, options);
}

/** A transition the adapter made for sockets the core did not handle, with a local change's side effects. */
export function announceTransition(server: AnnounceContext, app: App, t: ClusterTransition): void {
  const options = { remoteOnly: t.remoteOnly };
  if (t.type === "online" || t.type === "offline") {
    if (app.enableWatchlistEvents) announcePresence(server, app, t.userId, t.type === "online", options);
  } else if (t.type === "joined") {
    announceJoined(server, app, t.channel, t.socketId, t, t.member, options);
    if (!classifyChannel(t.channel).presence) announceCount(server, app, t.channel, t.subscriptionCount, t.countSeq);
  } else {
    announceLeft(server, app, t.channel, t, t.userId, options);
  }
}
