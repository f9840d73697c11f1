// The values the nats driver keeps in its JetStream KV bucket, and the pure functions that change
// them. Each key holds every node's contribution ("node X has 3 sockets in this channel"); a node
// only ever replaces its own contribution (or a dead node's), in one compare-and-set. The
// transition (occupied, member added, ...) is read off the value before and after that CAS, so
// exactly one node in the cluster sees each transition, however many race on the key.
import { decodeBase64Url, encodeBase64Url } from "../../core/base64url.ts";
import { nextMemberSeq, type MemberSnapshot } from "../../core/presence.ts";

/** nodeId → how many of that node's sockets hold the channel / membership / sign-in. */
export type Counts = Record<string, number>;

export interface MemberEntry {
  n: Counts;
  /** user_info of the member's first socket. */
  i: unknown;
  /** Join order within the channel. */
  o: number;
}

export interface ChannelValue {
  n: Counts;
  /** Presence channels: userId → membership. */
  m?: Record<string, MemberEntry>;
  /** Last join sequence handed out. */
  s?: number;
  /** Sequence of the last member transition (core/presence.ts). */
  v?: number;
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
  /** undefined: delete the key. */
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
  return value?.m ? Object.keys(value.m).length : 0;
}

/** Members and the sequence they reflect; a missing value reflects everything up to `nowMs`. */
export function snapshotOf(value: ChannelValue | undefined, nowMs: number): MemberSnapshot {
  return { members: membersOf(value), seq: value?.v ?? nextMemberSeq(undefined, nowMs) - 1 };
}

/** Members in join order: userId → user_info. */
export function membersOf(value: ChannelValue | undefined): Map<string, unknown> {
  const entries = Object.entries(value?.m ?? {}).sort((a, b) => a[1].o - b[1].o);
  return new Map(entries.map(([id, e]) => [id, e.i]));
}

/** Every node id that contributes to the value. */
export function nodesIn(value: ChannelValue | UserValue | undefined): Set<string> {
  const ids = new Set(Object.keys(value?.n ?? {}));
  for (const entry of Object.values((value as ChannelValue | undefined)?.m ?? {})) for (const id in entry.n) ids.add(id);
  return ids;
}

function setCount(counts: Counts, node: string, count: number): void {
  if (count > 0) counts[node] = count;
  else delete counts[node];
}

/** Replaces `node`'s contribution to a channel with `c`; `nowMs` orders its member transitions. */
export function applyChannel(current: ChannelValue | undefined, node: string, c: Contribution, nowMs = 0): ChannelChange {
  const value: ChannelValue = current ? structuredClone(current) : { n: {} };
  const before = total(value.n);
  setCount(value.n, node, c.sockets);
  const removed: string[] = [];
  const added: { userId: string; userInfo: unknown }[] = [];
  for (const [userId, entry] of Object.entries(value.m ?? {})) {
    if (!(node in entry.n) || c.members.has(userId)) continue;
    delete entry.n[node];
    if (total(entry.n) === 0) {
      delete value.m![userId];
      removed.push(userId);
    }
  }
  for (const [userId, { count, info }] of c.members) {
    value.m ??= {};
    let entry = value.m[userId];
    if (!entry) {
      value.s = (value.s ?? 0) + 1;
      entry = value.m[userId] = { n: {}, i: info, o: value.s };
      added.push({ userId, userInfo: info });
    }
    setCount(entry.n, node, count);
  }
  if (value.m && Object.keys(value.m).length === 0) delete value.m;
  // All transitions of one write share a sequence: they are different users, decided at once.
  const seq = added.length + removed.length > 0 ? nextMemberSeq(current?.v, nowMs) : 0;
  if (seq > 0) value.v = seq;
  const after = total(value.n);
  const changed = JSON.stringify(value) !== JSON.stringify(current ?? { n: {} });
  return {
    value: after === 0 && !value.m ? undefined : value,
    changed,
    occupied: before === 0 && after > 0,
    vacated: before > 0 && after === 0,
    added,
    removed,
    seq,
    subscriptionCount: after,
    countChanged: before !== after,
  };
}

/** Would a join by `userId` exceed the presence limit? (An existing member always may join.) */
export function overMemberLimit(value: ChannelValue | undefined, userId: string, maxMembers: number): boolean {
  if (maxMembers < 0 || value?.m?.[userId]) return false;
  return memberCount(value) >= maxMembers;
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
// the quota), "<app>.k.<channel>" (cached event); in the publishes bucket "<app>.p.<key>" (an
// idempotency key, nats/idempotency.ts) ---
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

export function parseKey(k: string): { appId: string; kind: KeyKind; name: string } | undefined {
  const parts = k.split(".");
  if (parts.length !== 3 || !["c", "u", "q", "k"].includes(parts[1]!)) return undefined;
  const appId = decodeBase64Url(parts[0]!);
  const name = decodeBase64Url(parts[2]!);
  return appId === undefined || name === undefined ? undefined : { appId, kind: parts[1] as KeyKind, name };
}
