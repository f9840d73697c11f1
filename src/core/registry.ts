import { classifyChannel } from "./channels.ts";
import type { Connection } from "./connection.ts";
import type { EventStream } from "./events.ts";
import type { NativePubSub } from "./runtime.ts";
import { CountOrder } from "./count-order.ts";
import { memberAdded, memberRemoved, watchlistEvents } from "./messages.ts";
import { MemberLog, type MemberChange, type MemberSnapshot } from "./presence.ts";

/** A frame held for a socket whose subscription is in flight, with the member change or the count order it carries. */
export interface HeldFrame {
  frame: string;
  member?: MemberChange;
  countSeq?: number;
}

/** What is held for one joining socket, and what it costs against the socket's byte bound. */
interface Holding {
  frames: HeldFrame[];
  bytes: number;
  /** Past the bound: the socket was closed as a slow reader and nothing more is held. */
  over: boolean;
}

interface AppSockets {
  channels: Map<string, Set<Connection>>;
  users: Map<string, Set<Connection>>;
  /** watched user id → sockets whose watchlist names it. */
  watchers: Map<string, Set<Connection>>;
  /** Sockets whose subscription is in flight: channel → socket → frames held until the ack. */
  joining: Map<string, Map<Connection, Holding>>;
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

/**
 * Holds a frame for a joining socket. Held frames are owed to the socket like its outgoing buffer,
 * so they count against the same bound: a join that takes long (a slow backend) on a busy channel
 * must not grow our memory without limit. Past it the socket is closed like a slow reader.
 */
function hold(conn: Connection, holding: Holding, entry: HeldFrame): void {
  if (holding.over) return;
  // UTF-16 units, as the broadcast event counts bytes: cheap, and exact for the usual ASCII JSON.
  holding.bytes += entry.frame.length;
  if (!conn.overBound(holding.bytes)) {
    holding.frames.push(entry);
    return;
  }
  holding.over = true;
  holding.frames = [];
}

/** This node's sockets, indexed for delivery. Cluster-wide truth lives in the adapter. */
export class LocalRegistry {
  private readonly sockets = new Map<string, Connection>();
  private readonly apps = new Map<string, AppSockets>();
  /** Newest member transition per user of each presence channel with local sockets. */
  private readonly memberLog: MemberLog;
  /** Newest subscription count order per channel: an older count that arrives later is dropped. */
  readonly countOrder: CountOrder;

  constructor(private readonly pubsub?: NativePubSub, now: () => number = () => performance.now()) {
    this.memberLog = new MemberLog(now);
    this.countOrder = new CountOrder(now);
  }

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
    for (const [channel, held] of app.joining) {
      if (held.delete(conn) && held.size === 0) {
        app.joining.delete(channel);
        this.forgetIfUnused(app, conn.app.id, channel);
      }
    }
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
    held.set(conn, { frames: [], bytes: 0, over: false });
  }

  /** Stops holding frames for the socket; returns what was held (none after a failed join). */
  endJoin(conn: Connection, channel: string): HeldFrame[] {
    const app = this.apps.get(conn.app.id);
    const held = app?.joining.get(channel);
    const frames = held?.get(conn)?.frames ?? [];
    if (held && held.delete(conn) && held.size === 0) {
      app!.joining.delete(channel);
      this.forgetIfUnused(app!, conn.app.id, channel);
    }
    return frames;
  }

  /** Adds the socket to the channel's delivery set and returns the frames held meanwhile. */
  join(conn: Connection, channel: string): HeldFrame[] {
    addTo(this.app(conn.app.id).channels, channel, conn);
    const frames = this.endJoin(conn, channel);
    conn.socket.subscribe?.(this.topic(conn.app.id, channel));
    return frames;
  }

  leave(conn: Connection, channel: string): void {
    const app = this.apps.get(conn.app.id);
    if (app) {
      removeFrom(app.channels, channel, conn);
      this.forgetIfUnused(app, conn.app.id, channel);
    }
    conn.socket.unsubscribe?.(this.topic(conn.app.id, channel));
  }

  /** A channel without local subscribers or joiners needs no member log. */
  private forgetIfUnused(app: AppSockets, appId: string, channel: string): void {
    if (!app.channels.has(channel) && !app.joining.has(channel)) this.memberLog.drop(this.topic(appId, channel));
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

  /**
   * Per app on this node: sockets, occupied channels and presence members (distinct users per
   * presence channel, summed). Walks every socket, so it is for a metrics scrape, not a hot path.
   */
  appGauges(): Map<string, { sockets: number; channels: number; presenceMembers: number }> {
    const out = new Map<string, { sockets: number; channels: number; presenceMembers: number }>();
    const of = (appId: string) => {
      let g = out.get(appId);
      if (!g) out.set(appId, (g = { sockets: 0, channels: 0, presenceMembers: 0 }));
      return g;
    };
    for (const conn of this.sockets.values()) of(conn.app.id).sockets++;
    for (const [appId, app] of this.apps) {
      const g = of(appId);
      g.channels += app.channels.size;
      for (const [channel, conns] of app.channels) {
        if (!classifyChannel(channel).presence) continue;
        const users = new Set<string>();
        for (const conn of conns) {
          const id = conn.channels.get(channel)?.member?.userId;
          if (id !== undefined) users.add(id);
        }
        g.presenceMembers += users.size;
      }
    }
    return out;
  }

  /** This node's open sockets of one app: O(sockets), for a count every few seconds (the console's). */
  appSocketCount(appId: string): number {
    let count = 0;
    for (const conn of this.sockets.values()) if (conn.app.id === appId) count++;
    return count;
  }

  userSockets(appId: string, userId: string): Connection[] {
    return [...(this.apps.get(appId)?.users.get(userId) ?? EMPTY)];
  }

  /**
   * Hands the same frame string to every local subscriber. A subscription count (`countSeq`)
   * older than one applied here already is dropped: it would take every socket back to a stale count.
   */
  deliver(
    appId: string, channel: string, frame: string, exceptSocketId: string | undefined, events: EventStream, member?: MemberChange, countSeq?: number,
  ): void {
    if (member) return this.deliverMember(appId, channel, frame, exceptSocketId, events, member);
    if (countSeq !== undefined && !this.countOrder.fresh(this.topic(appId, channel), countSeq)) return;
    const app = this.apps.get(appId);
    const held = app?.joining.get(channel);
    const entry: HeldFrame = countSeq === undefined ? { frame } : { frame, countSeq };
    if (held) for (const [conn, holding] of held) if (conn.id !== exceptSocketId) hold(conn, holding, entry);
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

  /**
   * A member_added / member_removed frame goes to each local subscriber that has not been told
   * (see presence.ts), socket by socket: member events are rare next to channel events, so the
   * per-socket check costs nothing on the broadcast path.
   */
  private deliverMember(appId: string, channel: string, frame: string, exceptSocketId: string | undefined, events: EventStream, change: MemberChange): void {
    const app = this.apps.get(appId);
    const held = app?.joining.get(channel);
    const subscribers = app?.channels.get(channel);
    if (!held && !subscribers) return;
    if (!this.memberLog.fresh(this.topic(appId, channel), change)) return;
    if (held) for (const [conn, holding] of held) if (conn.id !== exceptSocketId) hold(conn, holding, { frame, member: change });
    let count = 0;
    for (const conn of subscribers ?? EMPTY) {
      if (conn.id === exceptSocketId) continue;
      const view = conn.channels.get(channel)?.view;
      if (view && !view.admit(change)) continue;
      conn.send(frame);
      count++;
    }
    if (count > 0 && events.wants("broadcast")) events.emit({ kind: "broadcast", appId, channel, bytes: frame.length, sockets: count });
  }

  /**
   * After a bus outage: tells each local subscriber of a presence channel the member changes it
   * missed, as of the snapshot's sequence. A user with a newer transition seen here already is
   * left alone; without `removals` (the store is still refilling) only additions are made.
   */
  syncMembers(appId: string, channel: string, snapshot: MemberSnapshot, removals: boolean): void {
    const subscribers = this.apps.get(appId)?.channels.get(channel);
    if (!subscribers) return;
    const topic = this.topic(appId, channel);
    const newer = (userId: string) => (this.memberLog.last(topic, userId) ?? -1) > snapshot.seq;
    const frames = new Map<string, string>();
    const frameOf = (userId: string, added: boolean) => {
      const k = `${added ? "+" : "-"}${userId}`;
      let frame = frames.get(k);
      if (frame === undefined) {
        frame = added ? memberAdded(channel, userId, snapshot.members.get(userId)) : memberRemoved(channel, userId);
        frames.set(k, frame);
      }
      return frame;
    };
    for (const conn of subscribers) {
      const view = conn.channels.get(channel)?.view;
      if (!view || view.seq >= snapshot.seq) continue;
      const changes: MemberChange[] = [];
      if (removals) for (const id of view.ids()) if (!snapshot.members.has(id) && !newer(id)) changes.push({ userId: id, added: false, seq: snapshot.seq });
      for (const id of snapshot.members.keys()) if (!view.has(id) && !newer(id)) changes.push({ userId: id, added: true, seq: snapshot.seq });
      for (const change of changes) if (view.admit(change)) conn.send(frameOf(change.userId, change.added));
    }
    for (const k of frames.keys()) this.memberLog.advance(topic, k.slice(1), snapshot.seq);
    // Every subscriber now reflects the snapshot (or a later one), so a change it already covers
    // that arrives late is stale: without this, a removal still in flight when the snapshot was
    // read would undo it for a user whose view already agreed. Not while a socket is joining
    // (its own snapshot may be older, and it needs the held changes), nor without `removals`
    // (views may still list users the snapshot has not got back yet).
    if (removals && !this.apps.get(appId)?.joining.has(channel)) this.memberLog.settle(topic, snapshot.seq);
  }

  deliverWatchlist(appId: string, userId: string, online: boolean): void {
    const watchers = this.apps.get(appId)?.watchers.get(userId);
    if (!watchers) return;
    const frame = watchlistEvents([{ name: online ? "online" : "offline", user_ids: [userId] }]);
    for (const conn of watchers) conn.send(frame);
  }
}
