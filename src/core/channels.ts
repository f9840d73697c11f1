// Channel classification and name rules (protocol spec §2).

export interface ChannelKind {
  /** private-*, presence-* (all variants): needs a signed auth token. */
  authorized: boolean;
  presence: boolean;
  cache: boolean;
  encrypted: boolean;
  serverToUser: boolean;
  /** Client events may be relayed on this channel. */
  clientEvents: boolean;
}

export const SERVER_TO_USER_PREFIX = "#server-to-user-";
const NAME_RE = /^[A-Za-z0-9_\-=@,.;]+$/;
/** Pusher's limit on a user id (presence member, server-to-user channel). */
export const MAX_USER_ID_LENGTH = 128;
const USER_ID_RE = new RegExp(`^[A-Za-z0-9_\\-=@,.;]{1,${MAX_USER_ID_LENGTH}}$`);

const kind = (k: Partial<ChannelKind>): ChannelKind => ({
  authorized: false, presence: false, cache: false, encrypted: false, serverToUser: false, clientEvents: false, ...k,
});
const PUBLIC = kind({});
const CACHE = kind({ cache: true });
const PRIVATE = kind({ authorized: true, clientEvents: true });
const PRIVATE_CACHE = kind({ authorized: true, clientEvents: true, cache: true });
const ENCRYPTED = kind({ authorized: true, clientEvents: true, encrypted: true });
const ENCRYPTED_CACHE = kind({ authorized: true, clientEvents: true, encrypted: true, cache: true });
const PRESENCE = kind({ authorized: true, clientEvents: true, presence: true });
const PRESENCE_CACHE = kind({ authorized: true, clientEvents: true, presence: true, cache: true });
const SERVER_TO_USER = kind({ serverToUser: true });

/** First matching prefix wins, in the order of spec §2.1. */
export function classifyChannel(name: string): ChannelKind {
  if (name.startsWith(SERVER_TO_USER_PREFIX)) return SERVER_TO_USER;
  if (name.startsWith("private-")) {
    if (name.startsWith("private-encrypted-cache-")) return ENCRYPTED_CACHE;
    if (name.startsWith("private-encrypted-")) return ENCRYPTED;
    if (name.startsWith("private-cache-")) return PRIVATE_CACHE;
    return PRIVATE;
  }
  if (name.startsWith("presence-")) return name.startsWith("presence-cache-") ? PRESENCE_CACHE : PRESENCE;
  if (name.startsWith("cache-")) return CACHE;
  return PUBLIC;
}

export function isValidChannelName(name: unknown, maxLength: number): name is string {
  if (typeof name !== "string" || name.length === 0) return false;
  if (name.startsWith(SERVER_TO_USER_PREFIX)) return isValidUserId(name.slice(SERVER_TO_USER_PREFIX.length));
  return name.length <= maxLength && NAME_RE.test(name);
}

export function isValidUserId(id: string): boolean {
  return USER_ID_RE.test(id);
}

export const SOCKET_ID_RE = /^\d+\.\d+$/;
