import type { Context } from "hono";
import { deleteCookie, getCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import type { CryptoProvider } from "../core/runtime.ts";
import { decodeBase64Url, encodeBase64Url } from "../core/base64url.ts";

// A console sign-in is an HttpOnly, SameSite=Strict cookie holding who signed in and until when,
// signed by hono's signed cookies (HMAC-SHA256). The key comes from the credential shown at
// sign-in: the app's secret for an app session, CONSOLE_TOKEN for an operator session. So the
// cookie holds no secret, is valid on every node of a cluster (a balancer may send each request
// elsewhere) and across restarts, and changing an app's secret (or the token) signs out every
// console of it at once. Signing out also revokes the session on every node (revocations.ts).
// The key is an HMAC of the credential under a label of its own, not the credential itself: a
// cookie signature can never stand in for a channel, user or REST signature made with the same
// secret, and no Pusher signing endpoint signs that label ("socket_id:channel…" strings only).

export const COOKIE = "sb_console";
const KEY_LABEL = "switchboard-console-session-v2";

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

/** What a request's cookie claims, before its signature is checked with the claimed session's key. */
export interface Claim {
  session: Session;
  /** The signed text, as in the cookie. */
  payload: string;
}

export interface CookieOptions {
  /** The console's own URL prefix. */
  path: string;
  secure: boolean;
}

/** The cookie-signing key for a credential (app secret or operator token): see the header. */
function sessionKey(crypto: CryptoProvider, credential: string): Promise<string> {
  return crypto.hmacSha256Hex(credential, KEY_LABEL);
}

/** Sets the session cookie, signed with the key of `credential`, kept by the browser for `maxAge` s. */
export async function setSessionCookie(c: Context, crypto: CryptoProvider, credential: string, session: Session, maxAge: number, options: CookieOptions): Promise<void> {
  const payload: Payload = session.kind === "app"
    ? { k: "app", a: session.appId, e: session.expires, s: session.id }
    : { k: "op", e: session.expires, s: session.id };
  await setSignedCookie(c, COOKIE, encodeBase64Url(JSON.stringify(payload)), await sessionKey(crypto, credential), {
    path: options.path, maxAge, httpOnly: true, sameSite: "Strict", secure: options.secure,
  });
}

/** Tells the browser to drop its copy (the server side is revocations.ts). */
export function clearSessionCookie(c: Context, options: CookieOptions): void {
  deleteCookie(c, COOKIE, { path: options.path, httpOnly: true, sameSite: "Strict", secure: options.secure });
}

/** What the request's cookie claims, unverified: the caller looks up the key, then calls isSignedWith. */
export function readClaim(c: Context, now: number): Claim | undefined {
  const value = getCookie(c, COOKIE);
  const dot = value?.lastIndexOf(".") ?? -1;
  if (!value || dot <= 0) return undefined;
  const payload = value.slice(0, dot);
  const session = parsePayload(payload, now);
  return session && { session, payload };
}

/** True when the request's cookie is the claim, signed with the key of `credential`. */
export async function isSignedWith(c: Context, crypto: CryptoProvider, credential: string, claim: Claim): Promise<boolean> {
  return (await getSignedCookie(c, await sessionKey(crypto, credential), COOKIE)) === claim.payload;
}

function parsePayload(text: string, now: number): Session | undefined {
  const json = decodeBase64Url(text);
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
