// A connection's state as plain data, for hosts that lose their memory while sockets stay open:
// a hibernated Durable Object is rebuilt from scratch, with its sockets (and what it stored
// beside them) still there. The host keeps a snapshot per socket after every change (the
// "subscribed", "unsubscribed" and "signed_in" events tell it when) and restores each one into
// the new node, quietly: its joins, member_added and occupancy were announced when they happened.
// A snapshot whose socket vanished while the node was gone (a deploy drops every socket without a
// close event) is restored on a socket that is already closed and then closed, so its leaves are
// announced exactly as a close would announce them.
import type { Member } from "./adapter.ts";
import type { App } from "./app.ts";
import type { Connection, SignedInUser, Subscription } from "./connection.ts";
import type { CoreContext } from "./context.ts";
import { MemberView } from "./presence.ts";

/** JSON-serialisable; small for a socket with a few channels (a presence view lists its members' ids). */
export interface ConnectionSnapshot {
  id: string;
  appId: string;
  channels: { name: string; member?: Member; view?: { seq: number; ids: string[] } }[];
  user?: SignedInUser;
  lastSeen: number;
  pingSentAt: number;
  authDeadline: number;
}

export function snapshotOf(conn: Connection): ConnectionSnapshot {
  const channels: ConnectionSnapshot["channels"] = [];
  for (const [name, sub] of conn.channels) {
    channels.push({
      name,
      ...(sub.member ? { member: sub.member } : {}),
      ...(sub.view ? { view: { seq: sub.view.seq, ids: [...sub.view.ids()] } } : {}),
    });
  }
  return {
    id: conn.id,
    appId: conn.app.id,
    channels,
    ...(conn.user ? { user: conn.user } : {}),
    lastSeen: conn.lastSeen,
    pingSentAt: conn.pingSentAt,
    authDeadline: conn.authDeadline,
  };
}

/**
 * Puts a snapshot's state back into a fresh connection, the registry and the adapter, announcing
 * nothing. False when its app is gone (the host closes the socket).
 */
export async function restoreInto(
  node: Pick<CoreContext, "apps" | "adapter" | "registry">,
  conn: Connection,
  snapshot: ConnectionSnapshot,
): Promise<boolean> {
  const app: App | undefined = await node.apps.findById(snapshot.appId);
  if (!app) return false;
  conn.app = app;
  conn.id = snapshot.id;
  conn.lastSeen = snapshot.lastSeen;
  conn.pingSentAt = snapshot.pingSentAt;
  conn.authDeadline = snapshot.authDeadline;
  // Counted without the quota: the socket was admitted before.
  await node.adapter.addConnection(app.id, conn.id, -1);
  conn.registered = true;
  conn.state = "open";
  node.registry.addSocket(conn);
  for (const channel of snapshot.channels) {
    const sub: Subscription = {};
    if (channel.member) sub.member = channel.member;
    if (channel.view) sub.view = new MemberView(channel.view.seq, new Set(channel.view.ids));
    await node.adapter.join(app.id, channel.name, conn.id, channel.member);
    conn.addChannel(channel.name, sub);
    node.registry.join(conn, channel.name);
  }
  if (snapshot.user) {
    conn.user = snapshot.user;
    await node.adapter.signIn(app.id, snapshot.user.id, conn.id);
    node.registry.signIn(conn, snapshot.user.id, app.enableWatchlistEvents ? snapshot.user.watchlist : []);
  }
  return true;
}
