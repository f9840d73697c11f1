import type { CryptoProvider } from "../core/runtime.ts";
import { decodeBase64Url, encodeBase64Url } from "../core/base64url.ts";
import { timingSafeEqual } from "../core/crypto.ts";

// A console sign-in is an HttpOnly, SameSite=Strict cookie holding who signed in and until when,
// signed with HMAC-SHA256. The key is the credential that was shown at sign-in: the app's secret
// for an app session, CONSOLE_TOKEN for an operator session. So the cookie holds no secret, is
// valid on every node of a cluster (a balancer may send each request elsewhere) and across
// restarts, and changing an app's secret (or the token) signs out every console of it at once.
// The signed text starts with a label no Pusher signature starts with, so a session signature can
// never stand in for a channel, user or REST signature made with the same secret.

export const COOKIE = "sb_console";
const LABEL = "switchboard-console-session-v1\n";

/** `id` names one sign-in, so signing out can revoke exactly it (Revocations). */
export type Session = { kind: "app"; appId: string; expires: number; id: string } | { kind: "operator"; expires: number; id: string };

interface Payload {
  k: "app" | "op";
  a?: string;
  /** Expiry, ms since the epoch. */
  e: number;
  /** The sign-in's random id. */
  s: string;
}


/** The cookie value for a session, signed with `key` (the app secret or the operator token). */
export async function signSession(crypto: CryptoProvider, key: string, session: Session): Promise<string> {
  const payload: Payload = session.kind === "app"
    ? { k: "app", a: session.appId, e: session.expires, s: session.id }
    : { k: "op", e: session.expires, s: session.id };
  const body = encodeBase64Url(JSON.stringify(payload));
  return `${body}.${await crypto.hmacSha256Hex(key, LABEL + body)}`;
}

/** What an unverified cookie claims: the caller looks up the key for it, then calls verifySession. */
export function readSession(value: string | undefined, now: number): Session | undefined {
  if (!value) return undefined;
  const dot = value.indexOf(".");
  if (dot <= 0) return undefined;
  const json = decodeBase64Url(value.slice(0, dot));
  if (json === undefined) return undefined;
  let p: Partial<Payload>;
  try {
    p = JSON.parse(json) as Partial<Payload>;
  } catch {
    return undefined; // signed text is always JSON: this cookie was not made here
  }
  if (typeof p !== "object" || p === null || typeof p.e !== "number" || p.e <= now || typeof p.s !== "string" || p.s === "") return undefined;
  if (p.k === "op") return { kind: "operator", expires: p.e, id: p.s };
  if (p.k === "app" && typeof p.a === "string" && p.a !== "") return { kind: "app", appId: p.a, expires: p.e, id: p.s };
  return undefined;
}

/** True when `value`'s signature was made with `key`. */
export async function verifySession(crypto: CryptoProvider, key: string, value: string): Promise<boolean> {
  const dot = value.indexOf(".");
  const expected = await crypto.hmacSha256Hex(key, LABEL + value.slice(0, dot));
  return timingSafeEqual(expected, value.slice(dot + 1));
}

/** Set-Cookie for a session (or, with value "" and maxAge 0, its removal). */
export function sessionCookie(value: string, path: string, maxAgeSeconds: number, secure: boolean): string {
  return `${COOKIE}=${value}; Path=${path}; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;
}

/** The session cookie's value in a Cookie header. */
export function cookieValue(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}
