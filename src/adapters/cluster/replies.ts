// The Lua scripts' replies (scripts.ts), checked by zod schemas in one place. A reply of the wrong
// shape (a script changed on one side only, a proxy that mangles types) fails with an error naming
// the script and the reply, instead of turning into NaN counts or undefined members downstream.
// Integers may arrive as numbers (ioredis) or numeric strings (REST proxies); both are accepted.
import { z } from "zod";
import type { CachedEvent, ChannelStats, ClusterTransition, IdempotencyClaim } from "../../core/adapter.ts";
import type { RateLimitResult } from "../../core/rate-limiter.ts";
import type { ScriptName } from "./scripts.ts";

class ReplyError extends Error {
  constructor(script: ScriptName, reply: unknown, expected: string) {
    const shown = JSON.stringify(reply) ?? String(reply);
    super(`unexpected reply to the ${script} script (expected ${expected}): ${shown.length > 200 ? `${shown.slice(0, 200)}…` : shown}`);
    this.name = "ReplyError";
  }
}

const int = z.preprocess((v) => (typeof v === "string" && v !== "" ? Number(v) : v), z.number().finite());
const text = z.union([z.string(), z.number().transform(String)]);
const bit = int.transform((n) => n === 1);
const json = z.string().transform((s, ctx) => {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    ctx.addIssue({ code: "custom", message: "not JSON" });
    return z.NEVER;
  }
});

/** Parses `reply` with `schema`, or throws a ReplyError saying what was `expected`. */
function check<S extends z.ZodType>(script: ScriptName, schema: S, expected: string, reply: unknown): z.output<S> {
  const parsed = schema.safeParse(reply);
  if (!parsed.success) throw new ReplyError(script, reply, expected);
  return parsed.data;
}

/** A 0/1 answer (addConnection, signIn, signOut, heartbeat, forgetNode, cacheMiss, ...). */
export const flag = (script: ScriptName, reply: unknown): boolean => check(script, bit, "0 or 1", reply);

/** A list of strings (nodeApps, deadNodes). */
export const strings = (script: ScriptName, reply: unknown): string[] => check(script, z.array(text), "a list of strings", reply);

export const string = (script: ScriptName, reply: unknown): string => check(script, text, "a string", reply);

/** A page of a set read with SSCAN: the next cursor ("0" at the end) and the page's entries. */
/** The "channelsPage" reply: how many channels are within the bounds, and the page's names. */
export function namesPage(reply: unknown): { total: number; names: string[] } {
  const [total, ...names] = check("channelsPage", z.tuple([int], text), "{total, channel...}", reply);
  return { total, names };
}

export function page(script: ScriptName, reply: unknown): { cursor: string; entries: string[] } {
  const [cursor, ...entries] = check(script, z.tuple([text], text), "{cursor, entry...}", reply);
  return { cursor, entries };
}

// The count sequence (last) orders subscriptionCount (core/count-order.ts); 0 when a script of an
// earlier version answered without it, which leaves the count unordered.
const JOINED = z.tuple([bit, bit, bit, int], int).transform((r) => ({
  ok: r[0], occupied: r[1], memberAdded: r[2], count: r[3], seq: r[4] ?? 0, vacatedSince: r[5] === 1, countSeq: r[6] ?? 0,
}));

export const joined = (reply: unknown) => check("join", JOINED, "{ok, occupied, memberAdded, count[, seq, vacatedSince, countSeq]}", reply);

const LEFT = z.tuple([bit, bit, int, text], int).transform((r) => ({
  vacated: r[0], memberRemoved: r[1], count: r[2], seq: r[4] ?? 0, countSeq: r[5] ?? 0,
}));

export const left = (reply: unknown) => check("leave", LEFT, "{vacated, memberRemoved, count, userId[, seq, countSeq]}", reply);

export function stats(reply: unknown): ChannelStats {
  const [subscriptionCount, userCount] = check("channelStats", z.tuple([int, int]), "{subscriptions, users}", reply);
  return { subscriptionCount, userCount };
}

/** The channelCounts reply for `names` (two integers per channel, in order). */
export function counts(names: string[], reply: unknown): ChannelStats[] {
  const flat = check("channelCounts", z.array(int).length(names.length * 2), "{subscriptions, users, ...} per channel", reply);
  return names.map((_, i) => ({ subscriptionCount: flat[2 * i]!, userCount: flat[2 * i + 1]! }));
}

const MEMBERS_PAGE = z.tuple([int, text], text);

/** A page of members: the snapshot sequence, where the next page starts ("" at the end), userId → user_info. */
export function membersPage(reply: unknown): { seq: number; next: string; members: [string, unknown][] } {
  const expected = "{sequence, next, userId, user_info JSON, ...}";
  const [seq, next, ...flat] = check("membersPage", MEMBERS_PAGE, expected, reply);
  if (flat.length % 2 !== 0) throw new ReplyError("membersPage", reply, expected);
  const members: [string, unknown][] = [];
  for (let i = 0; i < flat.length; i += 2) members.push([flat[i]!, check("membersPage", json, expected, flat[i + 1])]);
  return { seq, next, members };
}

export const onlineFlags = (reply: unknown, count: number): boolean[] =>
  check("onlineUsers", z.array(bit).length(count), "one 0 or 1 per user", reply);

const CACHE_ENTRY = json.pipe(z.object({ event: z.string(), data: z.string() }));

/** The "cacheGet" reply: {} when there is no entry, else {JSON {event, data}, pttl}. */
export function cached(reply: unknown): CachedEvent | null {
  const parts = check("cacheGet", z.union([z.tuple([]), z.tuple([CACHE_ENTRY, int])]), "{} or {JSON {event, data}, pttl}", reply);
  if (parts.length === 0) return null;
  const [{ event, data }, pttl] = parts;
  return { event, data, ttl: Math.max(1, Math.ceil(pttl / 1000)) };
}

export function rate(reply: unknown, limit: number): RateLimitResult {
  const [allowed, used, left] = check("rateConsume", z.tuple([bit, int, int]), "{allowed, used, msLeft}", reply);
  return { allowed, remaining: Math.max(0, limit - used), resetMs: left };
}

const RELEASED_ENTRY = z.union([
  z.tuple([z.literal("s"), text, bit, bit, int, text], int).transform(([, channel, vacated, memberRemoved, subscriptionCount, user, seq, countSeq]) => ({
    type: "left" as const, channel, userId: user === "" ? undefined : user, vacated, memberRemoved, seq: seq ?? 0, subscriptionCount,
    countSeq: countSeq ?? 0,
  })),
  z.tuple([z.literal("u"), text]).transform(([, userId]) => ({ type: "offline" as const, userId })),
]);
const RELEASED = z.tuple([int, z.array(RELEASED_ENTRY)]);

/** The "release" reply: how many items the node has left, and the transitions to announce. */
export function released(reply: unknown): { left: number; transitions: ClusterTransition[] } {
  const expected = "{itemsLeft, {{\"s\", channel, vacated, removed, count, userId, seq, countSeq} | {\"u\", userId}}...}";
  const [count, entries] = check("release", RELEASED, expected, reply);
  return { left: count, transitions: entries };
}

/** What the idempotencyClaim script found. */
export const claim = (reply: unknown): IdempotencyClaim =>
  check("idempotencyClaim", z.enum(["claimed", "done", "pending"]), '"claimed", "done" or "pending"', reply);
