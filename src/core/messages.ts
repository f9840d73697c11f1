// Server → client frames (spec §1.4). Each builder returns the final JSON text so a broadcast
// serializes once and every socket receives the same string.

export const PONG_FRAME = '{"event":"pusher:pong","data":"{}"}';
export const PING_FRAME = '{"event":"pusher:ping","data":"{}"}';

/** Built from a template: a socket id is digits and a dot, so nothing needs escaping (one per handshake). */
export function connectionEstablished(socketId: string, activityTimeout: number): string {
  return `{"event":"pusher:connection_established","data":"{\\"socket_id\\":\\"${socketId}\\",\\"activity_timeout\\":${activityTimeout}}"}`;
}

export function errorFrame(code: number | null, message: string, channel?: string): string {
  const frame: Record<string, unknown> = { event: "pusher:error", data: { code, message } };
  if (channel !== undefined) frame.channel = channel;
  return JSON.stringify(frame);
}

/** A channel-scoped frame whose `data` is already a string (application events, internal events). */
export function channelEvent(event: string, channel: string, data: string, userId?: string): string {
  const frame: Record<string, string> = { event, channel, data };
  if (userId !== undefined) frame.user_id = userId;
  return JSON.stringify(frame);
}

export function subscriptionSucceeded(channel: string, presence?: PresenceSnapshot): string {
  return channelEvent(
    "pusher_internal:subscription_succeeded",
    channel,
    presence ? JSON.stringify({ presence }) : "{}",
  );
}

export type SubscriptionErrorType = "AuthError" | "InvalidChannel" | "InvalidChannelData" | "LimitReached" | "ServerError";

export function subscriptionError(channel: string, type: SubscriptionErrorType, error: string, status: number): string {
  return channelEvent("pusher:subscription_error", channel, JSON.stringify({ type, error, status }));
}

export interface PresenceSnapshot {
  ids: string[];
  hash: Record<string, unknown>;
  count: number;
}

export function presenceSnapshot(members: Map<string, unknown>): PresenceSnapshot {
  const hash: Record<string, unknown> = {};
  for (const [id, info] of members) hash[id] = info ?? null;
  return { ids: [...members.keys()], hash, count: members.size };
}

export function memberAdded(channel: string, userId: string, userInfo: unknown): string {
  return channelEvent("pusher_internal:member_added", channel, JSON.stringify({ user_id: userId, user_info: userInfo ?? null }));
}

export function memberRemoved(channel: string, userId: string): string {
  return channelEvent("pusher_internal:member_removed", channel, JSON.stringify({ user_id: userId }));
}

export function subscriptionCount(channel: string, count: number): string {
  return channelEvent("pusher_internal:subscription_count", channel, JSON.stringify({ subscription_count: count }));
}

export function cacheMiss(channel: string): string {
  return channelEvent("pusher:cache_miss", channel, "{}");
}

export function signinSuccess(userData: string): string {
  return JSON.stringify({ event: "pusher:signin_success", data: { user_data: userData } });
}

export interface WatchlistEvent {
  name: "online" | "offline";
  user_ids: string[];
}

export function watchlistEvents(events: WatchlistEvent[]): string {
  return JSON.stringify({ event: "pusher_internal:watchlist_events", data: JSON.stringify({ events }) });
}

/** RFC 6455 caps close reasons at 123 bytes of UTF-8. */
export function truncateReason(reason: string): string {
  const bytes = new TextEncoder().encode(reason);
  if (bytes.length <= 123) return reason;
  let cut = 123;
  while (cut > 0 && (bytes[cut]! & 0xc0) === 0x80) cut--;
  return new TextDecoder().decode(bytes.slice(0, cut));
}

/** Codes of pusher:error frames that leave the socket open (spec §1.6 table, §1.7). */
export const ErrorCode = {
  ClientEventRateLimit: 4301,
  WatchlistLimit: 4302,
} as const;

export const CloseCode = {
  AppNotFound: 4001,
  AppDisabled: 4003,
  OverQuota: 4004,
  PathNotFound: 4005,
  InvalidVersion: 4006,
  UnsupportedProtocol: 4007,
  NoProtocol: 4008,
  Unauthorized: 4009,
  OverCapacity: 4100,
  Reconnect: 4200,
  PongNotReceived: 4201,
  /** The app store failed or timed out during the handshake: try again (not in Pusher's table). */
  AppStoreUnavailable: 4203,
  MessageTooBig: 1009,
} as const;
