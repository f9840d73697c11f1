// The object a runtime holds per WebSocket: it forwards the socket's events to the node (the
// handshake until it opens, then its connection), without a closure per socket.
import type { Connection } from "./connection.ts";
import type { HandshakeRequest } from "./handshake.ts";
import type { RawSocket, Timers } from "./runtime.ts";

/** What a Handle needs of its node (SocketLifecycle). */
export interface HandleHost {
  readonly timers: Timers;
  readonly stopper: { reported(conn: Connection): void };
  openSocket(socket: RawSocket, request: HandshakeRequest): Connection;
  onMessage(conn: Connection, data: string): void;
  onClose(conn: Connection): void;
}

/**
 * What a runtime calls for one WebSocket. Call these as methods (`handle.alive()`), not as
 * detached functions: one small object per socket, no closures.
 */
export interface SocketHandle {
  open(socket: RawSocket): void;
  message(data: string): void;
  /** A WebSocket pong (or ping) control frame arrived: proof of life. */
  alive(): void;
  close(): void;
}

/** The handle of one socket: the upgrade's request until it opens, then its connection. */
export class Handle implements SocketHandle {
  constructor(
    private readonly server: HandleHost,
    private request: HandshakeRequest | undefined,
    private conn: Connection | undefined = undefined,
  ) {}

  open(socket: RawSocket): void {
    const request = this.request;
    if (!request || this.conn) return;
    this.request = undefined;
    this.conn = this.server.openSocket(socket, request);
  }

  message(data: string): void {
    const c = this.conn;
    if (c && c.state !== "closed") this.server.onMessage(c, data);
  }

  alive(): void {
    const c = this.conn;
    if (c) {
      c.lastSeen = this.server.timers.now();
      c.pingSentAt = 0;
    }
  }

  close(): void {
    this.request = undefined;
    if (!this.conn) return;
    // The close handshake is over (a graceful stop waits for it before the listener closes).
    this.server.stopper.reported(this.conn);
    this.server.onClose(this.conn);
  }
}
