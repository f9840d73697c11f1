import type { SubscribeContext } from "../context.ts";
import type { CachedEvent, JoinResult, LeaveResult, Member, ReadOptions } from "../adapter.ts";
import { verifyAuthToken } from "../auth.ts";
import { classifyChannel, isValidChannelName, isValidUserId, MAX_USER_ID_LENGTH, SERVER_TO_USER_PREFIX, type ChannelKind } from "../channels.ts";
import { framesAfterAck } from "./join-window.ts";
import { announceCount, announceJoined, announceLeft } from "../announce.ts";
import type { Connection, Subscription } from "../connection.ts";
import { frameData, parseJsonObject, type InboundFrame } from "../frames.ts";
import {
  cacheMiss, channelEvent, errorFrame, presenceSnapshot,
  subscriptionError, subscriptionSucceeded, type SubscriptionErrorType,
} from "../messages.ts";
import { MemberView, type MemberSnapshot } from "../presence.ts";

const encoder = new TextEncoder();
/**
 * A joining socket's snapshot and cached event may come from this node's own view while the
 * cluster backend is away: the socket is served locally then, and the catch-up corrects it.
 */
const LOCAL_VIEW_ALLOWED: ReadOptions = { allowLocal: true };

type MemberResult = { member: Member } | { error: string; type: "InvalidChannelData" | "LimitReached"; status: number };

/** Works out the presence member from channel_data, or from the signed-in user (spec §3.6). */
function presenceMember(conn: Connection, channelData: unknown, maxInfoKb: number): MemberResult {
  let userId: unknown;
  let userInfo: unknown;
  if (typeof channelData === "string" && channelData !== "") {
    const parsed = parseJsonObject(channelData);
    if (!parsed) return { type: "InvalidChannelData", error: "channel_data must be a JSON object", status: 400 };
    userId = parsed.user_id;
    userInfo = parsed.user_info;
  } else if (conn.user) {
    userId = conn.user.id;
    userInfo = conn.user.info;
  } else {
    return { type: "InvalidChannelData", error: "Presence channels need channel_data or a signed-in user", status: 400 };
  }
  if (typeof userId === "number" && Number.isFinite(userId)) userId = String(userId);
  if (typeof userId !== "string" || userId === "") {
    return { type: "InvalidChannelData", error: "user_id must be a non-empty string or number", status: 400 };
  }
  if (userId.length > MAX_USER_ID_LENGTH) {
    return { type: "InvalidChannelData", error: `user_id is longer than ${MAX_USER_ID_LENGTH} characters`, status: 400 };
  }
  if (maxInfoKb >= 0 && userInfo !== undefined) {
    const size = encoder.encode(JSON.stringify(userInfo)).length;
    if (size > maxInfoKb * 1024) {
      return { type: "LimitReached", error: `user_info is larger than ${maxInfoKb} KB`, status: 413 };
    }
  }
  return { member: { userId, userInfo: userInfo ?? null } };
}

/**
 * pusher:subscribe (spec §3.3). Subscribes to different channels of one socket may run at once
 * (task-queue.ts); each answers only when the ones before it have, so acks keep the frames' order.
 */
export async function subscribe(server: SubscribeContext, conn: Connection, frame: InboundFrame): Promise<void> {
  const turn = conn.takeTurn();
  try {
    await subscribeInTurn(server, conn, frame, turn.ready);
  } finally {
    turn.done();
  }
}

async function subscribeInTurn(server: SubscribeContext, conn: Connection, frame: InboundFrame, ready: Promise<void>): Promise<void> {
  const app = conn.app;
  const data = frameData(frame);
  const channel = data?.channel;
  if (typeof channel !== "string" || channel === "") {
    await ready;
    conn.send(errorFrame(null, "pusher:subscribe requires a channel name"));
    return;
  }
  if (!isValidChannelName(channel, app.maxChannelNameLength)) {
    await ready;
    refuse(server, conn, channel, "InvalidChannel", "Invalid channel name", 400);
    return;
  }
  const kind = classifyChannel(channel);
  const channelData = data!.channel_data;
  if (kind.authorized) {
    const signed = typeof channelData === "string" && channelData !== ""
      ? `${conn.id}:${channel}:${channelData}` : `${conn.id}:${channel}`;
    const failure = await verifyAuthToken(server.crypto, app, data!.auth, signed);
    if (failure) {
      await ready;
      refuse(server, conn, channel, "AuthError", failure, 401);
      return;
    }
  }
  let member: Member | undefined;
  if (kind.presence) {
    const result = presenceMember(conn, channelData, app.maxPresenceMemberSizeInKb);
    if ("error" in result) {
      await ready;
      refuse(server, conn, channel, result.type, result.error, result.status);
      return;
    }
    member = result.member;
  }
  if (kind.serverToUser) {
    const target = channel.slice(SERVER_TO_USER_PREFIX.length);
    if (!conn.user || conn.user.id !== target || !isValidUserId(target)) {
      await ready;
      refuse(server, conn, channel, "AuthError", "Sign in as this user to subscribe to its channel", 401);
      return;
    }
  }
  const existing = conn.channels.get(channel);
  if (existing) {
    // Duplicate subscribe: acknowledge again with current state, no side effects (spec §3.3 step 7).
    let snapshot: MemberSnapshot | undefined;
    let cached: CachedEvent | null | undefined;
    try {
      snapshot = kind.presence ? await server.adapter.members(app.id, channel, LOCAL_VIEW_ALLOWED) : undefined;
      cached = kind.cache ? await server.adapter.cacheGet(app.id, channel, LOCAL_VIEW_ALLOWED) : undefined;
    } catch (error) {
      await ready;
      unavailable(server, conn, channel, error);
      return;
    }
    await ready;
    if (!conn.open) return;
    // The client replaces its member list with this snapshot, so later changes are told against it.
    if (snapshot) existing.view = MemberView.of(snapshot);
    conn.send(subscriptionSucceeded(channel, snapshot && presenceSnapshot(snapshot.members)));
    if (kind.cache) sendCache(server, conn, channel, cached ?? null);
    return;
  }

  server.registry.beginJoin(conn, channel);
  try {
    await join(server, conn, channel, kind, member, ready);
  } finally {
    server.registry.endJoin(conn, channel);
  }
}

/**
 * The adapter could not answer (the cluster backend away or past its deadline): the client is told
 * with the protocol's error for the channel, as for any refusal, and may subscribe again. Logged
 * at debug with the cause: the adapter warns about the outage itself, once, and the refusal is
 * counted through the event stream.
 */
function unavailable(server: SubscribeContext, conn: Connection, channel: string, error: unknown): void {
  server.logger.debug(`subscribe to ${channel} (socket ${conn.id}): the adapter did not answer`, error);
  refuse(server, conn, channel, "ServerError", "Cluster state unavailable, subscribe again", 503);
}

/** Answers pusher:subscription_error and tells the event stream why. */
function refuse(server: SubscribeContext, conn: Connection, channel: string, type: SubscriptionErrorType, reason: string, status: number): void {
  conn.send(subscriptionError(channel, type, reason, status));
  server.events.emit({ kind: "subscription_refused", appId: conn.app.id, channel, socketId: conn.id, type, reason, status });
}

async function join(
  server: SubscribeContext, conn: Connection, channel: string, kind: ChannelKind, member: Member | undefined, ready: Promise<void>,
): Promise<void> {
  const app = conn.app;
  const sub: Subscription = member ? { member } : {};
  let joined: JoinResult;
  try {
    joined = await server.adapter.join(app.id, channel, conn.id, member, app.maxPresenceMembersPerChannel);
  } catch (error) {
    await ready;
    unavailable(server, conn, channel, error);
    return;
  }
  if (!joined.ok) {
    await ready;
    refuse(server, conn, channel, "LimitReached", "Presence channel member limit reached", 403);
    return;
  }
  let snapshot: MemberSnapshot | undefined;
  let cached: CachedEvent | null = null;
  try {
    snapshot = kind.presence ? await server.adapter.members(app.id, channel, LOCAL_VIEW_ALLOWED) : undefined;
    cached = kind.cache ? await server.adapter.cacheGet(app.id, channel, LOCAL_VIEW_ALLOWED) : null;
  } catch (error) {
    // Joined but not acknowledged: nothing was announced, so the leave is silent; without it the
    // adapter would count a subscriber the connection does not know of (and never leaves).
    await server.adapter.leave(app.id, channel, conn.id, member).catch((leaveError: unknown) => {
      server.logger.warn(`subscribe to ${channel} (socket ${conn.id}): leaving after a failed read failed; the resync repairs it`, leaveError);
    });
    await ready;
    unavailable(server, conn, channel, error);
    return;
  }
  // Recorded only once the adapter answered, so a refused subscribe leaves nothing behind and a
  // retry joins for real. Recorded even if the socket closed meanwhile: its cleanup waits for this
  // task (Connection.whenIdle) and then leaves the channel again.
  conn.addChannel(channel, sub);
  // Only a subscription that succeeded satisfies the authorized-connection rule (spec §3.3 step 13).
  if (kind.authorized) conn.authDeadline = 0;
  await ready;
  if (!conn.open) return;

  announceJoined(server, app, channel, conn.id, joined, member);
  // Joining the local delivery set and acknowledging happen in one synchronous step, so no
  // channel event can reach the socket before its subscription_succeeded.
  if (snapshot) sub.view = MemberView.of(snapshot);
  const held = server.registry.join(conn, channel);
  conn.send(subscriptionSucceeded(channel, snapshot && presenceSnapshot(snapshot.members)));
  if (kind.cache) sendCache(server, conn, channel, cached);
  const cachedFrame = cached ? channelEvent(cached.event, channel, cached.data) : undefined;
  for (const frame of framesAfterAck(held, sub.view, cachedFrame, joined.countSeq)) conn.send(frame);
  server.events.emit({ kind: "subscribed", appId: app.id, channel, socketId: conn.id, userId: member?.userId });
  if (!kind.presence) announceCount(server, app, channel, joined.subscriptionCount, joined.countSeq);
}

function sendCache(server: SubscribeContext, conn: Connection, channel: string, cached: { event: string; data: string } | null): void {
  if (cached) conn.send(channelEvent(cached.event, channel, cached.data));
  else {
    conn.send(cacheMiss(channel));
    void reportCacheMiss(server, conn.app.id, channel);
  }
}

/** Every miss is an event; the adapter decides which one is the first cluster-wide (spec §3.8). */
async function reportCacheMiss(server: SubscribeContext, appId: string, channel: string): Promise<void> {
  let first: boolean;
  try {
    first = await server.adapter.claimCacheMiss(appId, channel);
  } catch (error) {
    // A webhook too many beats a lost one: the receiver sees a repeat, never a silent miss.
    server.logger.debug(`cache_miss on ${channel}: the adapter could not tell whether it was the first; reported as first`, error);
    first = true;
  }
  server.events.emit({ kind: "cache_miss", appId, channel, first });
}

export async function unsubscribe(server: SubscribeContext, conn: Connection, frame: InboundFrame): Promise<void> {
  const channel = frameData(frame)?.channel;
  if (typeof channel !== "string") {
    conn.send(errorFrame(null, "pusher:unsubscribe requires a channel name"));
    return;
  }
  const sub = conn.channels.get(channel);
  if (!sub) return;
  await leaveChannel(server, conn, channel, sub);
}

/** Removes the socket from a channel with every side effect of spec §3.5. */
async function leaveChannel(server: SubscribeContext, conn: Connection, channel: string, sub: Subscription): Promise<void> {
  const app = conn.app;
  conn.removeChannel(channel);
  server.registry.leave(conn, channel);
  announceLeave(server, conn, channel, sub, await server.adapter.leave(app.id, channel, conn.id, sub.member));
}

/** What a socket's leave changed, told to the channel and the server's listeners. */
export function announceLeave(server: SubscribeContext, conn: Connection, channel: string, sub: Subscription, left: LeaveResult): void {
  announceLeft(server, conn.app, channel, left, sub.member?.userId);
  server.events.emit({ kind: "unsubscribed", appId: conn.app.id, channel, socketId: conn.id, userId: sub.member?.userId });
}
