import type { Connection } from "./connection.ts";
import type { EventStream } from "./events.ts";
import type { NativePubSub } from "./runtime.ts";
import { watchlistEvents } from "./messages.ts";

interface AppSockets {
  channels: Map<string, Set<Connection>>;
  users: Map<string, Set<Connection>>;
  /** watched user id → sockets whose watchlist names it. */
  watchers: Map<string, Set<Connection>>;
  /** Sockets whose subscription is in flight: channel → socket → frames held until the ack. */
  joining: Map<string, Map<Connection, string[]>>;
}

const EMPTY: ReadonlySet<Connection> = new Set();

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}

function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set && set.delete(value) && set.size === 0) map.delete(key);
}

/** This node's sockets, indexed for delivery. Cluster-wide truth lives in the adapter. */
export class LocalRegistry {
  private readonly sockets = new Map<string, Connection>();
  private readonly apps = new Map<string, AppSockets>();

  constructor(private readonly pubsub?: NativePubSub) {}

  private app(appId: string): AppSockets {
    let app = this.apps.get(appId);
    if (!app) this.apps.set(appId, (app = { channels: new Map(), users: new Map(), watchers: new Map(), joining: new Map() }));
    return app;
  }

  private topic(appId: string, channel: string): string {
    return `${appId}\n${channel}`;
  }

  socket(id: string): Connection | undefined {
    return this.sockets.get(id);
  }

  addSocket(conn: Connection): void {
    this.sockets.set(conn.id, conn);
  }

  removeSocket(conn: Connection): void {
    if (this.sockets.get(conn.id) === conn) this.sockets.delete(conn.id);
    const app = this.apps.get(conn.app.id);
    if (!app) return;
    for (const channel of conn.channels.keys()) this.leave(conn, channel);
    for (const [channel, held] of app.joining) if (held.delete(conn) && held.size === 0) app.joining.delete(channel);
    if (conn.user) {
      removeFrom(app.users, conn.user.id, conn);
      for (const id of conn.user.watchlist) removeFrom(app.watchers, id, conn);
    }
  }

  /**
   * Starts holding the channel's frames for a socket whose subscription is in flight. Across the
   * adapter round trips of a subscribe, other sockets may join and broadcast; holding their
   * frames (instead of missing them) lets the ack go first and nothing fall in between.
   */
  beginJoin(conn: Connection, channel: string): void {
    const joining = this.app(conn.app.id).joining;
    let held = joining.get(channel);
    if (!held) joining.set(channel, (held = new Map()));
    held.set(conn, []);
  }

  /** Stops holding frames for the socket; returns what was held (none after a failed join). */
  endJoin(conn: Connection, channel: string): string[] {
    const joining = this.apps.get(conn.app.id)?.joining;
    const held = joining?.get(channel);
    const frames = held?.get(conn) ?? [];
    if (held && held.delete(conn) && held.size === 0) joining!.delete(channel);
    return frames;
  }

  /** Adds the socket to the channel's delivery set and returns the frames held meanwhile. */
  join(conn: Connection, channel: string): string[] {
    const frames = this.endJoin(conn, channel);
    addTo(this.app(conn.app.id).channels, channel, conn);
    conn.socket.subscribe?.(this.topic(conn.app.id, channel));
    return frames;
  }

  leave(conn: Connection, channel: string): void {
    const app = this.apps.get(conn.app.id);
    if (app) removeFrom(app.channels, channel, conn);
    conn.socket.unsubscribe?.(this.topic(conn.app.id, channel));
  }

  signIn(conn: Connection, userId: string, watchlist: string[]): void {
    const app = this.app(conn.app.id);
    addTo(app.users, userId, conn);
    for (const id of watchlist) addTo(app.watchers, id, conn);
  }

  unwatch(conn: Connection, watchlist: string[]): void {
    const app = this.apps.get(conn.app.id);
    if (app) for (const id of watchlist) removeFrom(app.watchers, id, conn);
  }

  userSockets(appId: string, userId: string): Connection[] {
    return [...(this.apps.get(appId)?.users.get(userId) ?? EMPTY)];
  }

  channelSockets(appId: string, channel: string): ReadonlySet<Connection> {
    return this.apps.get(appId)?.channels.get(channel) ?? EMPTY;
  }

  /** Hands the same frame string to every local subscriber. */
  deliver(appId: string, channel: string, frame: string, exceptSocketId: string | undefined, events: EventStream): void {
    const app = this.apps.get(appId);
    const held = app?.joining.get(channel);
    if (held) for (const [conn, frames] of held) if (conn.id !== exceptSocketId) frames.push(frame);
    const subscribers = app?.channels.get(channel);
    if (!subscribers || subscribers.size === 0) return;
    let count = subscribers.size;
    if (this.pubsub) {
      const except = exceptSocketId ? this.sockets.get(exceptSocketId) : undefined;
      const topic = this.topic(appId, channel);
      let backedUp: boolean;
      if (except && subscribers.has(except)) {
        backedUp = this.pubsub.publishExcept(except.socket, topic, frame);
        count--;
      } else backedUp = this.pubsub.publish(topic, frame);
      // Only when the runtime reports backpressure: a scan per publish would undo the native fan-out.
      if (backedUp) for (const conn of subscribers) conn.checkBuffer();
    } else {
      for (const conn of subscribers) {
        if (conn.id === exceptSocketId) {
          count--;
          continue;
        }
        conn.send(frame);
      }
    }
    if (events.wants("broadcast")) events.emit({ kind: "broadcast", appId, channel, bytes: frame.length, sockets: count });
  }

  deliverWatchlist(appId: string, userId: string, online: boolean): void {
    const watchers = this.apps.get(appId)?.watchers.get(userId);
    if (!watchers) return;
    const frame = watchlistEvents([{ name: online ? "online" : "offline", user_ids: [userId] }]);
    for (const conn of watchers) conn.send(frame);
  }
}
