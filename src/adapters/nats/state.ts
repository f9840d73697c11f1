// The values the nats driver keeps in its JetStream KV bucket, and the pure functions that change
// them. Each key holds every node's contribution ("node X has 3 sockets in this channel"); a node
// only ever replaces its own contribution (or a dead node's), in one compare-and-set. The
// transition (occupied, member added, ...) is read off the value before and after that CAS, so
// exactly one node in the cluster sees each transition, however many race on the key.
//
// A presence member is a key of its own ("<app>.m.<channel>.<user>"), so a channel is not capped by
// the JetStream payload limit. The CAS that takes a member's sockets 0 → >0 (member_added) or
// >0 → 0 (member_removed, the key is deleted) decides the transition, and the KV revision of that
// write, plus the epoch's base, is its sequence (core/presence.ts): decision and sequence are one
// atomic step, so of one user's transitions the later-decided always has the higher sequence.
import { decodeBase64Url, encodeBase64Url } from "../../core/base64url.ts";

/** nodeId → how many of that node's sockets hold the channel / membership / sign-in. */
export type Counts = Record<string, number>;

export interface ChannelValue {
  n: Counts;
  /** Presence: how many members; a place reserved under the presence limit counts too. */
  mc?: number;
  /** 1: a cache_miss webhook was sent in this occupied period (spec §3.8). */
  x?: number;
}

export interface MemberValue {
  n: Counts;
  /** user_info of the member's first socket. */
  i?: unknown;
  /** Join order: the revision of the write that added the member (set by the key's next write). */
  o?: number;
}

export interface UserValue {
  n: Counts;
}

/** What one node holds of a channel: its socket count and, for presence, its members. */
export interface Contribution {
  sockets: number;
  members: Map<string, { count: number; info: unknown }>;
}

export const EMPTY: Contribution = { sockets: 0, members: new Map() };

export interface ChannelChange {
  /** The channel's value after the write; undefined: the key was deleted. */
  value: ChannelValue | undefined;
  changed: boolean;
  occupied: boolean;
  vacated: boolean;
  /** Member transitions the write decided, each with its own sequence. */
  added: { userId: string; userInfo: unknown; seq: number }[];
  removed: { userId: string; seq: number }[];
  /**
   * Members whose count the write changed without a transition (others still hold them), with
   * the sequence of the write that added them: a sweep repeats their member_added (nats/share-store.ts).
   */
  kept?: { userId: string; userInfo: unknown; seq: number }[];
  subscriptionCount: number;
  countChanged: boolean;
  /**
   * The order of `subscriptionCount` (core/count-order.ts): the channel key's revision after the
   * write (or as read, when it wrote nothing) plus the epoch's base, like a member's sequence, so a
   * later write of the key always orders its count later. 0 when the key was never written.
   */
  countSeq?: number;
  /**
   * Occupied from a delete marker: the channel was announced vacated within the marker window
   * (writer.ts sets it; the pure functions here cannot know).
   */
  vacatedSince?: boolean;
}

export function total(counts: Counts | undefined): number {
  let sum = 0;
  for (const id in counts) sum += counts[id]!;
  return sum;
}

export function memberCount(value: ChannelValue | undefined): number {
  return Math.max(0, value?.mc ?? 0);
}

/**
 * The sequence of a member transition written at KV revision `revision`, or of a snapshot whose
 * listing began after revision `revision`. `base` is the epoch's (NatsLink.readEpoch): a bucket
 * lost and created again starts its revisions at 1, and its base at the clock then.
 */
export function memberSeq(base: number, revision: number): number {
  return base + revision;
}

/** Members in join order (ties by user id): userId → user_info. */
export function membersInOrder(entries: Iterable<{ userId: string; value: MemberValue; revision: number }>): Map<string, unknown> {
  const live = [...entries].filter((e) => total(e.value.n) > 0).map((e) => ({ ...e, o: e.value.o ?? e.revision }));
  live.sort((a, b) => a.o - b.o || (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
  return new Map(live.map((e) => [e.userId, e.value.i]));
}

/** Every node id that contributes to the value. */
export function nodesIn(value: { n: Counts } | undefined): Set<string> {
  return new Set(Object.keys(value?.n ?? {}));
}

function setCount(counts: Counts, node: string, count: number): void {
  if (count > 0) counts[node] = count;
  else delete counts[node];
}

export interface MemberStep {
  /** undefined: delete the key. */
  value: MemberValue | undefined;
  changed: boolean;
  added: boolean;
  removed: boolean;
}

/**
 * Sets `node`'s count of the user's sockets; `info` is the user_info if it becomes a member, and
 * `revision` the key's current one (what an added member's join order becomes).
 */
export function applyMember(current: MemberValue | undefined, node: string, count: number, info: unknown, revision: number): MemberStep {
  const before = total(current?.n);
  const n = { ...current?.n };
  setCount(n, node, count);
  const after = total(n);
  const changed = (current?.n[node] ?? 0) !== count;
  if (after === 0) return { value: undefined, changed, added: false, removed: before > 0 };
  if (before === 0) return { value: { n, i: info }, changed, added: true, removed: false };
  return { value: { n, i: current!.i, o: current!.o ?? revision }, changed, added: false, removed: false };
}

export interface ChannelStep {
  value: ChannelValue | undefined;
  changed: boolean;
  occupied: boolean;
  vacated: boolean;
  subscriptionCount: number;
  countChanged: boolean;
}

/**
 * Sets `node`'s socket count and adds `memberDelta` to the member count (the member transitions
 * the same write decided on member keys just before). The key goes when the last socket leaves:
 * the member count and the cache_miss flag with it.
 */
export function applyChannel(current: ChannelValue | undefined, node: string, sockets: number, memberDelta = 0): ChannelStep {
  const value: ChannelValue = current ? structuredClone(current) : { n: {} };
  const before = total(value.n);
  setCount(value.n, node, sockets);
  const after = total(value.n);
  const mc = memberCount(value) + memberDelta;
  if (mc > 0) value.mc = mc;
  else delete value.mc;
  const next = after === 0 ? undefined : value;
  return {
    value: next,
    changed: JSON.stringify(next) !== JSON.stringify(current),
    occupied: before === 0 && after > 0,
    vacated: before > 0 && after === 0,
    subscriptionCount: after,
    countChanged: before !== after,
  };
}

/**
 * Reserves a place for a new member under the presence limit, before its member key is written,
 * so two nodes can never both admit the last place; undefined when the channel is full.
 */
export function reservePlace(current: ChannelValue | undefined, maxMembers: number): ChannelValue | undefined {
  if (memberCount(current) >= maxMembers) return undefined;
  return { ...(current ?? { n: {} }), mc: memberCount(current) + 1 };
}

export interface UserChange {
  value: UserValue | undefined;
  changed: boolean;
  online: boolean;
  offline: boolean;
}

/** Replaces `node`'s count of signed-in sockets for a user. */
export function applyUser(current: UserValue | undefined, node: string, count: number): UserChange {
  const value: UserValue = { n: { ...current?.n } };
  const before = total(value.n);
  setCount(value.n, node, count);
  const after = total(value.n);
  return {
    value: after === 0 ? undefined : value,
    changed: (current?.n[node] ?? 0) !== count,
    online: before === 0 && after > 0,
    offline: before > 0 && after === 0,
  };
}

// --- keys: "<app>.c.<channel>", "<app>.u.<user>", "<app>.q.all" (connections per node, for
// the quota), "<app>.k.<channel>" (cached event), "<app>.m.<channel>.<user>" (a presence member:
// four parts, so no "<app>.c.*" filter matches it); in the publishes bucket "<app>.p.<key>" (an
// idempotency key, nats/idempotency.ts) ---
// KV keys allow only [-/=._A-Za-z0-9]; Pusher channel names and user ids allow more, so each
// part is base64url-encoded.

export type KeyKind = "c" | "u" | "q" | "k" | "p" | "m";

export const token = encodeBase64Url;

export function key(appId: string, kind: KeyKind, name: string): string {
  return `${token(appId)}.${kind}.${token(name)}`;
}

export function appKeys(appId: string, kind: KeyKind): string {
  return `${token(appId)}.${kind}.*`;
}

export function memberKey(appId: string, channel: string, userId: string): string {
  return `${key(appId, "m", channel)}.${token(userId)}`;
}

/** The filter that lists a channel's member keys. */
export function memberKeys(appId: string, channel: string): string {
  return `${key(appId, "m", channel)}.*`;
}

/** A key's parts; `name` is the channel, user or "all", and a member key ("m") has its user in `userId`. */
export interface ParsedKey {
  appId: string;
  kind: KeyKind;
  name: string;
  userId?: string;
}

export function parseKey(k: string): ParsedKey | undefined {
  const parts = k.split(".");
  const kind = parts[1] as KeyKind;
  if (parts.length !== (kind === "m" ? 4 : 3) || !["c", "u", "q", "k", "m"].includes(kind)) return undefined;
  const [appId, name, userId] = [parts[0]!, parts[2]!, parts[3]].map((p) => (p === undefined ? "" : decodeBase64Url(p)));
  if (appId === undefined || name === undefined || userId === undefined) return undefined;
  return kind === "m" ? { appId, kind, name, userId } : { appId, kind, name };
}
