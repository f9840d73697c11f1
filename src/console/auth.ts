import type { Context } from "hono";
import type { App } from "../core/app.ts";
import { timingSafeEqual } from "../core/crypto.ts";
import type { Switchboard } from "../core/server.ts";
import { readBody, parseJsonBody } from "../http/body.ts";
import type { RequestPeer } from "../http/client-address.ts";
import { HttpError } from "../http/errors.ts";
import { findApp } from "../http/find-app.ts";
import type { FailureGuard } from "./guard.ts";
import { clearSessionCookie, isSignedWith, readClaim, setSessionCookie, type CookieOptions, type Session } from "./session.ts";
import type { ConsoleStats } from "./stats.ts";

// Sign-in, sign-out and "which app may this request see". An app session sees its own app only;
// an operator session (CONSOLE_TOKEN) names the app in ?app= on each request. Every answer is the
// same for an unknown app id and a wrong secret, so the console does not reveal which ids exist.

export interface AuthDeps {
  server: Switchboard;
  /** CONSOLE_TOKEN; undefined: operator sign-in is off. */
  token: string | undefined;
  sessionMs: number;
  guard: FailureGuard;
  stats: ConsoleStats;
  /** The cookie's Path: the console's own URL prefix. */
  cookiePath: string;
  /** True for a session that was signed out (on any node). */
  revoked(id: string): boolean;
  /** Signs a session out on every node until it would have expired. */
  revoke(id: string, until: number): void;
  /**
   * Who sent the request, as the API sees it: behind a balancer with TRUST_PROXY each user has
   * their own lockout, instead of all of them sharing the proxy's address.
   */
  peer: RequestPeer;
}

/** The header the page sends on every change: a cross-site form cannot set it (no CORS here). */
const CSRF_HEADER = "x-switchboard-console";
const REFUSED = "Wrong app id or secret";
const SIGN_IN_BODY_LIMIT = 4096;
/**
 * Compared with what was sent for an unknown app id or a missing token: a random value per process,
 * so nothing matches it. Drawn on first use: Workers refuse random values at module load.
 */
let nothingToMatch: string | undefined;
const NOTHING_TO_MATCH = () => (nothingToMatch ??= `unmatched:${globalThis.crypto.randomUUID()}`);

/** Refuses a state change that did not come from the console page itself. */
export function requirePageOrigin(c: Context): void {
  if (c.req.header(CSRF_HEADER) !== "1") throw new HttpError(403, `Missing ${CSRF_HEADER} header: use the console page`);
}

/** POST /console/api/session {appId, secret} or {token}: sets the session cookie. */
export async function signIn(d: AuthDeps, c: Context): Promise<Response> {
  requirePageOrigin(c);
  const body = parseJsonBody(await readBody(c.req.raw, SIGN_IN_BODY_LIMIT, d.server.logger));
  const operator = typeof body.token === "string";
  const appId = typeof body.appId === "string" ? body.appId.trim() : "";
  if (!operator && (appId === "" || typeof body.secret !== "string")) throw new HttpError(400, "appId and secret (or token) are required");
  const address = d.peer.address(c);
  const account = operator ? "operator" : `app:${appId}`;
  const keys = address === "unknown" ? [account] : [account, `ip:${address}`];
  const wait = d.guard.retryAfterMs(keys);
  if (wait > 0) {
    d.stats.signInsThrottled++;
    throw new HttpError(429, `Too many failed sign-ins: try again in ${Math.ceil(wait / 1000)} s`, { "Retry-After": String(Math.ceil(wait / 1000)) });
  }
  const now = d.server.timers.now();
  let session: Session | undefined;
  let key = "";
  if (operator) {
    // Compared as HMACs so the comparison takes the same time whatever the lengths, and made even
    // when there is nothing to compare with, so timing does not tell which case this was.
    if (await same(d, body.token as string, d.token ?? NOTHING_TO_MATCH()) && d.token !== undefined) {
      session = { kind: "operator", expires: now + d.sessionMs, id: globalThis.crypto.randomUUID() };
      key = d.token;
    }
  } else {
    const app = await findApp(d.server, appId);
    if (await same(d, body.secret as string, app?.secret ?? NOTHING_TO_MATCH()) && app) {
      if (!app.enabled) throw new HttpError(403, "Application disabled");
      session = { kind: "app", appId: app.id, expires: now + d.sessionMs, id: globalThis.crypto.randomUUID() };
      key = app.secret;
    }
  }
  const who = operator ? "operator" : `app ${appId}`;
  if (!session) {
    d.stats.signInFailures++;
    const lock = d.guard.failed(keys);
    d.server.logger.warn(`console: sign-in as ${who} refused (wrong ${operator ? "token" : "id or secret"}) from ${address}${lock ? `; locked for ${Math.ceil(lock / 1000)} s` : ""}`);
    throw new HttpError(401, operator && d.token === undefined ? "Operator sign-in is off (CONSOLE_TOKEN is not set)" : operator ? "Wrong token" : REFUSED);
  }
  // The account's failures only: signing in to one's own app must not wipe the address's count
  // of guesses at another.
  d.guard.succeeded([account]);
  d.stats.signIns++;
  d.server.logger.info(`console: signed in as ${who} from ${address}`);
  await setSessionCookie(c, d.server.crypto, key, session, Math.floor(d.sessionMs / 1000), cookieOptions(d, c));
  return c.json(describe(session), 200);
}

/** Ends the session on the server side too: a copy of the cookie is refused from now on. */
export async function signOut(d: AuthDeps, c: Context): Promise<Response> {
  requirePageOrigin(c);
  const signedIn = await session(d, c).catch((error: unknown) => {
    if (!(error instanceof HttpError)) throw error;
    return undefined; // not signed in (or already out): only the browser's copy is left to clear
  });
  if (signedIn) {
    d.revoke(signedIn.id, signedIn.expires);
    d.server.logger.info(`console: signed out ${signedIn.kind === "app" ? `app ${signedIn.appId}` : "operator"} (session revoked on every node)`);
  }
  clearSessionCookie(c, cookieOptions(d, c));
  return c.json({}, 200);
}

/** Secure when the browser reached us over TLS, directly or through a trusted proxy. */
const cookieOptions = (d: AuthDeps, c: Context): CookieOptions => ({ path: d.cookiePath, secure: d.peer.secure(c) });

/** The request's verified session; 401 without one. */
export async function session(d: AuthDeps, c: Context): Promise<Session> {
  const claim = readClaim(c, d.server.timers.now());
  if (!claim) throw new HttpError(401, "Not signed in");
  const claimed = claim.session;
  let key: string | undefined;
  if (claimed.kind === "operator") key = d.token;
  else {
    const app = await findApp(d.server, claimed.appId);
    key = app?.secret;
  }
  if (key === undefined || !(await isSignedWith(c, d.server.crypto, key, claim))) throw new HttpError(401, "Not signed in");
  if (d.revoked(claimed.id)) throw new HttpError(401, "Signed out");
  return claimed;
}

/** The app this request may see: the session's own, or for an operator the one in ?app=. */
export async function viewedApp(d: AuthDeps, c: Context): Promise<App> {
  const s = await session(d, c);
  const asked = c.req.query("app");
  if (s.kind === "app" && asked !== undefined && asked !== s.appId) throw new HttpError(403, "This session is for another app");
  const id = s.kind === "app" ? s.appId : asked;
  if (!id) throw new HttpError(400, "app is required");
  const app = await findApp(d.server, id);
  if (!app) throw new HttpError(404, "Unknown app id");
  return app;
}

/** What the page learns about its session: never a secret. */
export function describe(s: Session): { kind: Session["kind"]; appId?: string; expires: number } {
  return s.kind === "app" ? { kind: "app", appId: s.appId, expires: s.expires } : { kind: "operator", expires: s.expires };
}

async function same(d: AuthDeps, given: string, expected: string): Promise<boolean> {
  const label = "switchboard-console-compare";
  const [a, b] = await Promise.all([d.server.crypto.hmacSha256Hex(label, given), d.server.crypto.hmacSha256Hex(label, expected)]);
  return timingSafeEqual(a, b);
}
