import type { SigninContext } from "../context.ts";
import { announcePresence } from "../announce.ts";
import { verifyAuthToken } from "../auth.ts";
import type { Connection } from "../connection.ts";
import { frameData, parseJsonObject, type InboundFrame } from "../frames.ts";
import { ErrorCode, errorFrame, signinSuccess, watchlistEvents, type WatchlistEvent } from "../messages.ts";

const MAX_WATCHLIST = 100;

/** Answers pusher:error (code null, the socket stays open) and tells the event stream why. */
function refuse(server: SigninContext, conn: Connection, reason: string): void {
  conn.send(errorFrame(null, reason));
  server.events.emit({ kind: "signin_refused", appId: conn.app.id, socketId: conn.id, reason });
}

/** pusher:signin (spec §4.5). Failures answer pusher:error code null and keep the socket open. */
export async function signin(server: SigninContext, conn: Connection, frame: InboundFrame): Promise<void> {
  const app = conn.app;
  const data = frameData(frame);
  const userData = data?.user_data;
  if (typeof userData !== "string" || userData === "") {
    return refuse(server, conn, "pusher:signin requires user_data");
  }
  const failure = await verifyAuthToken(server.crypto, app, data!.auth, `${conn.id}::user::${userData}`);
  if (failure) {
    return refuse(server, conn, failure);
  }
  const user = parseJsonObject(userData);
  if (!user) return refuse(server, conn, "user_data must be a JSON object");
  if (typeof user.id !== "string" || user.id === "") {
    return refuse(server, conn, "user_data.id must be a non-empty string");
  }
  const id = user.id;
  if (conn.user && conn.user.id !== id) {
    return refuse(server, conn, `Already signed in as another user (${conn.user.id})`);
  }
  let watchlist = Array.isArray(user.watchlist) ? user.watchlist.filter((w): w is string => typeof w === "string") : [];
  const truncated = watchlist.length > MAX_WATCHLIST;
  if (truncated) watchlist = watchlist.slice(0, MAX_WATCHLIST);

  const again = conn.user !== undefined;
  if (again) server.registry.unwatch(conn, conn.user!.watchlist);
  conn.user = { id, userData, info: user.user_info ?? null, watchlist };
  conn.authDeadline = 0;
  const wentOnline = again ? false : await server.adapter.signIn(app.id, id, conn.id);
  if (!conn.open) return;
  server.registry.signIn(conn, id, app.enableWatchlistEvents ? watchlist : []);
  conn.send(signinSuccess(userData));
  server.events.emit({ kind: "signed_in", appId: app.id, socketId: conn.id, userId: id });
  if (!app.enableWatchlistEvents) return;
  if (truncated) conn.send(errorFrame(ErrorCode.WatchlistLimit, `Watchlist limit exceeded; only the first ${MAX_WATCHLIST} user ids are used`));
  if (wentOnline) announcePresence(server, app, id, true);
  if (watchlist.length > 0) {
    const online = await server.adapter.onlineUsers(app.id, watchlist, { allowLocal: true });
    const events: WatchlistEvent[] = [];
    const on = watchlist.filter((w) => online.has(w));
    const off = watchlist.filter((w) => !online.has(w));
    if (on.length) events.push({ name: "online", user_ids: on });
    if (off.length) events.push({ name: "offline", user_ids: off });
    if (conn.open) conn.send(watchlistEvents(events));
  }
}
