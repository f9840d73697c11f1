// The life of this node's sockets, from the upgrade to the cleanup after the close: the handshake,
// each inbound frame into the socket's queue, liveness, and the state a host keeps to restore
// them. The runtimes reach it through a Handle (socket-handle.ts), one per socket.
import type { CoreContext, DispatchContext, HandshakeContext } from "./context.ts";
import { randomSocketIdPart } from "./crypto.ts";
import { Connection } from "./connection.ts";
import { dispatchFrame } from "./dispatch.ts";
import { frameData, parseFrame } from "./frames.ts";
import { checkHandshake, type HandshakeRequest } from "./handshake.ts";
import { checkLiveness } from "./liveness.ts";
import type { RawSocket, Timers } from "./runtime.ts";
import type { ProtocolSettings } from "./settings.ts";
import { CloseCode, connectionEstablished } from "./messages.ts";
import { announceLeave } from "./handlers/subscribe.ts";
import { announcePresence } from "./announce.ts";
import { restoreAll, snapshotOf, type ConnectionSnapshot } from "./snapshot.ts";
import { Handle, type HandleHost, type SocketHandle } from "./socket-handle.ts";

/** What the sockets use of their node; `stopper` is read only once a socket closes. */
export type SocketsContext = DispatchContext & HandshakeContext & Pick<CoreContext, "registry"> & Pick<HandleHost, "stopper">;

const utf8 = new TextEncoder();
/** A handshake refused because the app store is unavailable takes at least this long. */
const STORE_RETRY_FLOOR_MS = 1000;
const SHUTTING_DOWN = "Server is shutting down, reconnect";

/** This node's sockets: each one's handshake, frames, liveness and cleanup. */
export class SocketLifecycle implements HandleHost {
  // Read on every inbound frame: held here rather than looked up through the node each time.
  readonly timers: Timers;
  private readonly settings: ProtocolSettings;
  private readonly connections = new Set<Connection>();
  /** Sockets between openSocket and the end of their handshake (see openSocket). */
  private handshakes = 0;
  private readonly pendingCleanups = new Set<Promise<void>>();

  constructor(private readonly node: SocketsContext) {
    this.timers = node.timers;
    this.settings = node.settings;
  }

  get stopper(): HandleHost["stopper"] {
    return this.node.stopper;
  }

  get count(): number {
    return this.connections.size;
  }

  /** Sockets opened whose handshake has not ended (established or refused) yet. */
  get handshakesInFlight(): number {
    return this.handshakes;
  }

  /** The open sockets, at the moment of asking. */
  open(): Connection[] {
    return [...this.connections];
  }

  /** The closed sockets' cleanups still running. */
  cleanups(): Promise<void>[] {
    return [...this.pendingCleanups];
  }

  /** A graceful stop closes `conn` with 4200; false when it was closed already. */
  closeForStop(conn: Connection): boolean {
    if (conn.state === "closed") return false;
    conn.terminate(CloseCode.Reconnect, SHUTTING_DOWN);
    this.onClose(conn);
    return true;
  }

  /**
   * Pings silent sockets and closes those past their pong or sign-in deadline; returns when the
   * next of those deadlines falls (undefined without open sockets), for a host that sweeps itself.
   */
  sweep(): number | undefined {
    return checkLiveness(this.connections, this.settings, this.timers.now());
  }

  /** What a host keeps of an open connection to restore it later (snapshot.ts); undefined if not open here. */
  snapshot(socketId: string): ConnectionSnapshot | undefined {
    const conn = this.node.registry.socket(socketId);
    return conn?.open ? snapshotOf(conn) : undefined;
  }

  /** See Switchboard.restore. */
  async restore(entries: { socket: RawSocket; snapshot: ConnectionSnapshot }[]): Promise<(SocketHandle | undefined)[]> {
    const conns = entries.map(({ socket, snapshot }) => ({ conn: this.connection(socket), snapshot }));
    const restored = await restoreAll(this.node, conns);
    return conns.map(({ conn }, i) => {
      if (!restored[i]) return undefined;
      this.connections.add(conn);
      return new Handle(this, undefined, conn);
    });
  }

  private connection(socket: RawSocket): Connection {
    const s = this.settings;
    return new Connection(socket, this.timers.now(), s.maxSocketBufferKb * 1024, s.maxInboundBacklogKb * 1024, this.node.logger);
  }

  /** (Handle) A socket opened: its connection, with the handshake under way. */
  openSocket(socket: RawSocket, request: HandshakeRequest): Connection {
    // Sockets still in their handshake count toward MAX_NODE_CONNECTIONS: counting only open
    // ones, a burst of handshakes would all pass the check before the first was established.
    const cap = this.settings.maxNodeConnections;
    const nodeFull = cap >= 0 && this.connections.size + this.handshakes >= cap;
    this.handshakes++;
    const c = this.connection(socket);
    c.enqueue(() => this.handshake(c, request, nodeFull).catch((error: unknown) => {
      // Whatever failed, the client must not wait forever for connection_established.
      this.node.logger.error("handshake failed", error);
      this.refuse(c, request, CloseCode.Reconnect, "Internal server error, reconnect", c.app?.id);
    }).finally(() => this.handshakes--));
    return c;
  }

  private refuse(conn: Connection, request: HandshakeRequest, code: number, reason: string, appId?: string): void {
    this.node.events.emit({ kind: "connection_refused", appId: appId ?? "", appKey: request.appKey, code, reason });
    conn.terminate(code, reason);
    conn.state = "closed";
  }

  /** (Handle) One inbound text frame of an open connection. */
  onMessage(c: Connection, data: string): void {
    c.lastSeen = this.timers.now();
    c.pingSentAt = 0;
    const limit = this.settings.maxWebSocketMessageKb * 1024;
    // The limit is in UTF-8 bytes; a UTF-16 unit is at most 3 of them, so only count near the limit.
    if (data.length > limit || (data.length * 3 > limit && utf8.encode(data).length > limit)) {
      c.closeSocket(CloseCode.MessageTooBig, "Message too big");
      return;
    }
    const frame = parseFrame(data);
    // Subscribes to different channels may overlap their round trips (task-queue.ts).
    const channel = frame?.event === "pusher:subscribe" ? frameData(frame)?.channel : undefined;
    c.enqueue(() => dispatchFrame(this.node, c, frame, data.length), data.length, typeof channel === "string" ? channel : undefined);
  }

  private async handshake(conn: Connection, request: HandshakeRequest, nodeFull: boolean): Promise<void> {
    const node = this.node;
    const started = this.timers.now();
    const outcome = await checkHandshake(node, request, nodeFull);
    // Clients reconnect at once on 42xx: holding the refusal a moment keeps a backend outage from
    // turning every client into a tight reconnect loop.
    const holdRefusal = async () => {
      const wait = STORE_RETRY_FLOOR_MS - (this.timers.now() - started);
      if (wait > 0) await new Promise<void>((resolve) => this.timers.setTimeout(() => resolve(), wait));
    };
    if ("code" in outcome) {
      if (outcome.code === CloseCode.AppStoreUnavailable) await holdRefusal();
      this.refuse(conn, request, outcome.code, outcome.message, outcome.appId);
      return;
    }
    const app = outcome.app;
    conn.app = app;
    do conn.id = `${randomSocketIdPart()}.${randomSocketIdPart()}`;
    while (node.registry.socket(conn.id));
    // The app's bus first: once told it is connected, the socket must get every publish another
    // node answers 2xx for. cleanup() gives the hold back (a refusal below, at once).
    try {
      await node.adapter.listen?.(app.id);
    } catch (error) {
      node.logger.debug(`handshake refused: the bus of app ${app.id} is unavailable`, error);
      await holdRefusal();
      this.refuse(conn, request, CloseCode.Reconnect, "Cluster backend unavailable, reconnect", app.id);
      return;
    }
    const admitted = await node.adapter.addConnection(app.id, conn.id, app.maxConnections).catch((error: unknown) => {
      node.adapter.unlisten?.(app.id);
      throw error;
    });
    if (!admitted) {
      node.adapter.unlisten?.(app.id);
      this.refuse(conn, request, CloseCode.OverQuota, "Application is over connection quota", app.id);
      return;
    }
    conn.registered = true;
    if (conn.state === "closed") return; // closed during the round trip; onClose cleans up
    if (node.refusesSockets) {
      // The sockets were closed while this handshake waited for the adapter: it must not outlive them.
      conn.terminate(CloseCode.Reconnect, SHUTTING_DOWN);
      this.onClose(conn);
      return;
    }
    conn.state = "open";
    this.connections.add(conn);
    node.registry.addSocket(conn);
    conn.lastSeen = this.timers.now();
    if (app.enableUserAuthentication) {
      conn.authDeadline = conn.lastSeen + this.settings.userAuthenticationTimeout * 1000;
    }
    conn.send(connectionEstablished(conn.id, this.settings.activityTimeout));
    node.events.emit({ kind: "connection_opened", appId: app.id, socketId: conn.id });
  }

  /** (Handle, a graceful stop) */
  onClose(conn: Connection): void {
    if (conn.state === "closed" && !conn.registered) return;
    conn.state = "closed";
    this.connections.delete(conn);
    // Pending from the close on, not from when the socket's queue empties: a graceful stop waits
    // for it before the adapter goes (its leaves need the adapter).
    const cleanup = new Promise<void>((resolve) =>
      conn.whenIdle(() => resolve(this.cleanup(conn).catch((error) => this.node.logger.error("socket cleanup failed", error)))));
    this.pendingCleanups.add(cleanup);
    void cleanup.finally(() => this.pendingCleanups.delete(cleanup));
  }

  /** Closing a socket has the effect of unsubscribing it from everything (spec §3.5). */
  private async cleanup(conn: Connection): Promise<void> {
    if (!conn.registered) return;
    conn.registered = false;
    const node = this.node;
    const app = conn.app;
    node.registry.removeSocket(conn);
    node.adapter.unlisten?.(app.id);
    const subscriptions = [...conn.channels];
    for (const [channel] of subscriptions) {
      conn.removeChannel(channel);
      node.registry.leave(conn, channel);
    }
    // One adapter call for every channel, the sign-out and the connection: one backend round trip.
    const { left, wentOffline } = await node.adapter.disconnect(
      app.id, conn.id, subscriptions.map(([channel, sub]) => ({ channel, member: sub.member })), conn.user?.id,
    );
    subscriptions.forEach(([channel, sub], i) => announceLeave(node, conn, channel, sub, left[i]!));
    if (conn.user && wentOffline && app.enableWatchlistEvents) announcePresence(node, app, conn.user.id, false);
    node.events.emit({ kind: "connection_closed", appId: app.id, socketId: conn.id, code: conn.closeCode, userId: conn.user?.id });
  }
}
