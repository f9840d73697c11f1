// The values the nats driver keeps in its JetStream KV bucket, and the pure functions that change
// them. Each key holds every node's contribution ("node X has 3 sockets in this channel"); a node
// only ever replaces its own contribution (or a dead node's), in one compare-and-set. The
// transition (occupied, member added, ...) is read off the value before and after that CAS, so
// exactly one node in the cluster sees each transition, however many race on the key. Presence
// members are keys of their own (nats/members.ts); the channel's value keeps their count and the
// sequence of their transitions.
import { decodeBase64Url, encodeBase64Url } from "../../core/base64url.ts";
import { nextMemberSeq } from "../../core/presence.ts";

/** nodeId → how many of that node's sockets hold the channel / membership / sign-in. */
export type Counts = Record<string, number>;

export interface ChannelValue {
  n: Counts;
  /** Sequence of the last member transition (core/presence.ts): a member snapshot's sequence. */
  v?: number;
  /** Presence: how many members (member keys with sockets); a reserved place counts too. */
  mc?: number;
  /** 1: a cache_miss webhook was sent in this occupied period (spec §3.8). */
  x?: number;
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
  added: { userId: string; userInfo: unknown }[];
  removed: string[];
  /** The member transitions' sequence (0 when none). */
  seq: number;
  subscriptionCount: number;
  countChanged: boolean;
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

/** The sequence a member snapshot read after `value` reflects; a missing value reflects everything up to `nowMs`. */
export function snapshotSeq(value: ChannelValue | undefined, nowMs: number): number {
  return value?.v ?? nextMemberSeq(undefined, nowMs) - 1;
}

/** Every node id that contributes to the value (a channel's members name theirs in their own keys). */
export function nodesIn(value: ChannelValue | UserValue | undefined): Set<string> {
  return new Set(Object.keys(value?.n ?? {}));
}

export function setCount(counts: Counts, node: string, count: number): void {
  if (count > 0) counts[node] = count;
  else delete counts[node];
}

/** The channel's side of one node's write, after the member keys it changed (nats/share.ts). */
export interface ChannelStep {
  value: ChannelValue | undefined;
  changed: boolean;
  occupied: boolean;
  vacated: boolean;
  subscriptionCount: number;
  countChanged: boolean;
  /** The sequence of the write's member transitions (0: none). */
  seq: number;
  /** The transitions' provisional sequences were not kept: their member keys must be stamped with `seq`. */
  restamp: boolean;
}

/**
 * Sets `node`'s socket count, adds `memberDelta` to the member count and sequences the member
 * transitions the write decided, whose member keys hold the provisional sequences `provisional`.
 * A lone provisional sequence above the channel's is kept: no snapshot read before this write can
 * have a sequence at or above it. Otherwise the write takes the channel's next sequence and the
 * member keys are stamped with it (nats/members.ts says why either way is ordered).
 * The key goes when the last socket leaves: members, the cache_miss flag and the sequence with it.
 */
export function applyShare(
  current: ChannelValue | undefined, node: string, sockets: number, memberDelta: number, provisional: number[], nowMs: number,
): ChannelStep {
  const value: ChannelValue = current ? structuredClone(current) : { n: {} };
  const before = total(value.n);
  setCount(value.n, node, sockets);
  const after = total(value.n);
  const mc = Math.max(0, (value.mc ?? 0) + memberDelta);
  if (mc > 0) value.mc = mc;
  else delete value.mc;
  let seq = 0;
  let restamp = false;
  if (provisional.length === 1 && (current?.v ?? 0) < provisional[0]!) {
    seq = provisional[0]!;
  } else if (provisional.length > 0) {
    seq = nextMemberSeq(Math.max(current?.v ?? 0, ...provisional), nowMs);
    restamp = true;
  }
  if (seq > 0) value.v = seq;
  const next = after === 0 ? undefined : value;
  return {
    value: next,
    changed: JSON.stringify(next) !== JSON.stringify(current),
    occupied: before === 0 && after > 0,
    vacated: before > 0 && after === 0,
    subscriptionCount: after,
    countChanged: before !== after,
    seq,
    restamp,
  };
}

/**
 * Sequences a removal decided by a node that stopped before its channel write (a tombstone's
 * provisional sequence): above the channel's sequence and the tombstone's. A vacated channel
 * keeps no value; the sequence then comes from the clock.
 */
export function sequenceRemoval(current: ChannelValue | undefined, provisional: number, nowMs: number): { value: ChannelValue | undefined; seq: number } {
  const seq = nextMemberSeq(Math.max(current?.v ?? 0, provisional), nowMs);
  return { value: current ? { ...current, v: seq } : undefined, seq };
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
// the quota), "<app>.k.<channel>" (cached event), "<app>.m.<channel>.<user>" (a presence member,
// four parts, so no "<app>.c.*" or "<app>.u.*" filter matches it); in the publishes bucket
// "<app>.p.<key>" (an idempotency key, nats/idempotency.ts) ---
// KV keys allow only [-/=._A-Za-z0-9]; Pusher channel names and user ids allow more, so each
// part is base64url-encoded.

export type KeyKind = "c" | "u" | "q" | "k" | "p";

export const token = encodeBase64Url;

export function key(appId: string, kind: KeyKind, name: string): string {
  return `${token(appId)}.${kind}.${token(name)}`;
}

export function appKeys(appId: string, kind: KeyKind): string {
  return `${token(appId)}.${kind}.*`;
}

/** A three-part key; member keys (four parts) and anything else are not one. */
export function parseKey(k: string): { appId: string; kind: KeyKind; name: string } | undefined {
  const parts = k.split(".");
  if (parts.length !== 3 || !["c", "u", "q", "k"].includes(parts[1]!)) return undefined;
  const appId = decodeBase64Url(parts[0]!);
  const name = decodeBase64Url(parts[2]!);
  return appId === undefined || name === undefined ? undefined : { appId, kind: parts[1] as KeyKind, name };
}

export function memberKey(appId: string, channel: string, userId: string): string {
  return `${token(appId)}.m.${token(channel)}.${token(userId)}`;
}

/** The filter that lists a channel's member keys. */
export function memberKeys(appId: string, channel: string): string {
  return `${token(appId)}.m.${token(channel)}.*`;
}

/** The user of a member key, or undefined for any other key. */
export function memberOfKey(k: string): { appId: string; channel: string; userId: string } | undefined {
  const parts = k.split(".");
  if (parts.length !== 4 || parts[1] !== "m") return undefined;
  const [appId, channel, userId] = [parts[0]!, parts[2]!, parts[3]!].map(decodeBase64Url);
  return appId === undefined || channel === undefined || userId === undefined ? undefined : { appId, channel, userId };
}
