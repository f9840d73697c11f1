// The Lua scripts' replies (scripts.ts), checked in one place. A reply of the wrong shape (a
// script changed on one side only, a proxy that mangles types) fails with an error naming the
// script and the reply, instead of turning into NaN counts or undefined members downstream.
// Integers may arrive as numbers (ioredis) or numeric strings (REST proxies); both are accepted.
import type { CachedEvent, ChannelStats, ClusterTransition, IdempotencyClaim } from "../../core/adapter.ts";
import type { MemberSnapshot } from "../../core/presence.ts";
import type { RateLimitResult } from "../../core/rate-limiter.ts";
import type { ScriptName } from "./scripts.ts";

export class ReplyError extends Error {
  constructor(script: ScriptName, reply: unknown, expected: string) {
    const shown = JSON.stringify(reply) ?? String(reply);
    super(`unexpected reply to the ${script} script (expected ${expected}): ${shown.length > 200 ? `${shown.slice(0, 200)}…` : shown}`);
    this.name = "ReplyError";
  }
}

function list(script: ScriptName, reply: unknown, minLength: number, expected: string): unknown[] {
  if (!Array.isArray(reply) || reply.length < minLength) throw new ReplyError(script, reply, expected);
  return reply;
}

function int(script: ScriptName, reply: unknown, value: unknown, expected: string): number {
  const n = typeof value === "string" && value !== "" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n)) throw new ReplyError(script, reply, expected);
  return n;
}

function text(script: ScriptName, reply: unknown, value: unknown, expected: string): string {
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  throw new ReplyError(script, reply, expected);
}

function ints(script: ScriptName, reply: unknown, count: number, expected: string): number[] {
  return list(script, reply, count, expected).slice(0, count).map((v) => int(script, reply, v, expected));
}

/** A 0/1 answer (addConnection, signIn, signOut, heartbeat, forgetNode, ...). */
export function flag(script: ScriptName, reply: unknown): boolean {
  return int(script, reply, reply, "0 or 1") === 1;
}

/** A list of strings (items, nodeApps, deadNodes, onlineUsers). */
export function strings(script: ScriptName, reply: unknown): string[] {
  return list(script, reply, 0, "a list").map((v) => text(script, reply, v, "a list of strings"));
}

export function string(script: ScriptName, reply: unknown): string {
  return text(script, reply, reply, "a string");
}

const JOIN = "{ok, occupied, memberAdded, count[, seq, vacatedSince]}";

export function joined(reply: unknown): { ok: boolean; occupied: boolean; memberAdded: boolean; count: number; seq: number; vacatedSince: boolean } {
  const [ok, occupied, added, count] = ints("join", reply, 4, JOIN);
  const at = (i: number) => ((reply as unknown[]).length > i ? int("join", reply, (reply as unknown[])[i], JOIN) : 0);
  return { ok: ok === 1, occupied: occupied === 1, memberAdded: added === 1, count: count!, seq: at(4), vacatedSince: at(5) === 1 };
}

const LEAVE = "{vacated, memberRemoved, count, userId[, seq]}";

export function left(reply: unknown): { vacated: boolean; memberRemoved: boolean; count: number; seq: number } {
  const [vacated, removed, count] = ints("leave", reply, 3, LEAVE);
  const seq = (reply as unknown[]).length > 4 ? int("leave", reply, (reply as unknown[])[4], LEAVE) : 0;
  return { vacated: vacated === 1, memberRemoved: removed === 1, count: count!, seq };
}

export function stats(reply: unknown): ChannelStats {
  const [subscriptionCount, userCount] = ints("channelStats", reply, 2, "{subscriptions, users}");
  return { subscriptionCount: subscriptionCount!, userCount: userCount! };
}

export function channels(reply: unknown): Map<string, ChannelStats> {
  const expected = "{channel, subscriptions, users, ...}";
  const flat = list("channels", reply, 0, expected);
  if (flat.length % 3 !== 0) throw new ReplyError("channels", reply, expected);
  const out = new Map<string, ChannelStats>();
  for (let i = 0; i < flat.length; i += 3) {
    out.set(text("channels", reply, flat[i], expected), {
      subscriptionCount: int("channels", reply, flat[i + 1], expected),
      userCount: int("channels", reply, flat[i + 2], expected),
    });
  }
  return out;
}

/** The "members" reply (sequence, userId, user_info JSON, ...) in join order. */
export function members(reply: unknown): MemberSnapshot {
  const expected = "{sequence, userId, user_info JSON, ...}";
  const flat = list("members", reply, 1, expected);
  if (flat.length % 2 !== 1) throw new ReplyError("members", reply, expected);
  const out = new Map<string, unknown>();
  for (let i = 1; i < flat.length; i += 2) {
    out.set(text("members", reply, flat[i], expected), json("members", reply, text("members", reply, flat[i + 1], expected)));
  }
  return { members: out, seq: int("members", reply, flat[0], expected) };
}

/** The "cacheGet" reply: {} when there is no entry, else {JSON {event, data}, pttl}. */
export function cached(reply: unknown): CachedEvent | null {
  const expected = "{} or {JSON, pttl}";
  const parts = list("cacheGet", reply, 0, expected);
  if (parts.length === 0) return null;
  if (parts.length !== 2) throw new ReplyError("cacheGet", reply, expected);
  const entry = json("cacheGet", reply, text("cacheGet", reply, parts[0], expected));
  const { event, data } = (entry ?? {}) as { event?: unknown; data?: unknown };
  if (typeof event !== "string" || typeof data !== "string") throw new ReplyError("cacheGet", reply, "an entry {event, data}");
  return { event, data, ttl: Math.max(1, Math.ceil(int("cacheGet", reply, parts[1], expected) / 1000)) };
}

export function rate(reply: unknown, limit: number): RateLimitResult {
  const [allowed, used, left] = ints("rateConsume", reply, 3, "{allowed, used, msLeft}");
  return { allowed: allowed === 1, remaining: Math.max(0, limit - used!), resetMs: left! };
}

/** The "release" reply: how many items are left, and the transitions to announce. */
export function released(reply: unknown, remoteOnly: boolean): { left: number; transitions: ClusterTransition[] } {
  const expected = "{itemsLeft, {{\"s\", channel, vacated, removed, count, userId, seq} | {\"u\", userId}}...}";
  const [count, entries] = list("release", reply, 2, expected);
  const transitions: ClusterTransition[] = [];
  for (const entry of list("release", entries, 0, expected)) {
    const e = list("release", entry, 2, expected);
    if (e[0] === "s") {
      list("release", entry, 6, expected);
      const [vacated, removed, subscriptionCount] = e.slice(2, 5).map((v) => int("release", reply, v, expected));
      const user = text("release", reply, e[5], expected);
      transitions.push({
        type: "left", channel: text("release", reply, e[1], expected), userId: user === "" ? undefined : user,
        vacated: vacated === 1, memberRemoved: removed === 1, seq: e.length > 6 ? int("release", reply, e[6], expected) : 0,
        subscriptionCount: subscriptionCount!, remoteOnly,
      });
    } else if (e[0] === "u") {
      transitions.push({ type: "offline", userId: text("release", reply, e[1], expected), remoteOnly });
    } else {
      throw new ReplyError("release", reply, expected);
    }
  }
  return { left: int("release", reply, count, expected), transitions };
}

function json(script: ScriptName, reply: unknown, value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw new ReplyError(script, reply, "JSON");
  }
}

/** What the idempotencyClaim script found. */
export function claim(reply: unknown): IdempotencyClaim {
  if (reply === "claimed" || reply === "done" || reply === "pending") return reply;
  throw new ReplyError("idempotencyClaim", reply, '"claimed", "done" or "pending"');
}
