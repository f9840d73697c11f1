// A connection's state as plain data, for hosts that lose their memory while sockets stay open:
// a hibernated Durable Object is rebuilt from scratch, with its sockets (and what it stored
// beside them) still there. The host keeps a snapshot per socket after every change (the
// "subscribed", "unsubscribed" and "signed_in" events tell it when) and restores each one into
// the new node, quietly: its joins, member_added and occupancy were announced when they happened.
// All sockets are restored in one call: a presence subscriber's view of the members (what it was
// told) is the channel's members once every socket is back, as it was before the memory was lost.
// A snapshot whose socket vanished while the node was gone (a deploy drops every socket without a
// close event) is restored on a socket that is already closed and then closed, so its leaves are
// announced exactly as a close would announce them.
import type { Member } from "./adapter.ts";
import type { App } from "./app.ts";
import type { Connection, SignedInUser, Subscription } from "./connection.ts";
import type { CoreContext } from "./context.ts";
import { MemberView } from "./presence.ts";

/** JSON-serialisable, and small: a socket's own channels and membership, not its channels' members. */
export interface ConnectionSnapshot {
  id: string;
  appId: string;
  channels: { name: string; member?: Member }[];
  user?: SignedInUser;
  lastSeen: number;
  pingSentAt: number;
  authDeadline: number;
}

export function snapshotOf(conn: Connection): ConnectionSnapshot {
  const channels: ConnectionSnapshot["channels"] = [];
  for (const [name, sub] of conn.channels) {
    channels.push(sub.member ? { name, member: sub.member } : { name });
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

type RestoreContext = Pick<CoreContext, "apps" | "adapter" | "registry">;

/**
 * Puts each snapshot's state back into its fresh connection, the registry and the adapter,
 * announcing nothing; then sets each presence subscriber's view. Each entry's result is false when
 * its app is gone (the host closes that socket).
 */
export async function restoreAll(node: RestoreContext, entries: { conn: Connection; snapshot: ConnectionSnapshot }[]): Promise<boolean[]> {
  const restored: boolean[] = [];
  for (const { conn, snapshot } of entries) restored.push(await restoreOne(node, conn, snapshot));
  const views = new Map<string, MemberView>();
  for (const [i, { conn }] of entries.entries()) {
    if (!restored[i]) continue;
    for (const [channel, sub] of conn.channels) {
      if (!sub.member) continue;
      const key = `${conn.app.id}\n${channel}`;
      let view = views.get(key);
      if (!view) views.set(key, (view = MemberView.of(await node.adapter.members(conn.app.id, channel))));
      // One view object per socket: each records what its own socket is told from now on.
      sub.view = new MemberView(view.seq, new Set(view.ids()));
    }
  }
  return restored;
}

async function restoreOne(node: RestoreContext, conn: Connection, snapshot: ConnectionSnapshot): Promise<boolean> {
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
    const sub: Subscription = channel.member ? { member: channel.member } : {};
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
