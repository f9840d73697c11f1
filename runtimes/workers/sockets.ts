// The SocketBinding of a Durable Object: sockets accepted with the Hibernation API
// (state.acceptWebSocket), so an object whose sockets are idle can be evicted from memory while
// they stay connected. Their events arrive as the object's webSocketMessage / webSocketClose
// methods, which call message() and closed() here.
import type { Context } from "hono";
import type { GetConnInfo } from "hono/conninfo";
import type { RawSocket } from "../../src/core/runtime.ts";
import type { SocketHandle } from "../../src/core/server.ts";
import type { SocketBinding } from "../../src/http/router.ts";

const OPEN = 1;
/** Close codes a peer reports but no endpoint may send (RFC 6455 §7.4.1). */
const RESERVED = new Set([1005, 1006, 1015]);

const decoder = new TextDecoder();

/** One accepted socket: the core's RawSocket and its handle (set once the core has one for it). */
export class WorkerSocket implements RawSocket {
  handle!: SocketHandle;
  constructor(readonly ws: WebSocket, private readonly state: DurableObjectState) {}
  send(frame: string): void {
    // workerd throws on send after close; a broadcast loop must not stop at one gone socket.
    if (this.ws.readyState === OPEN) this.ws.send(frame);
  }
  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }
  /**
   * Always 0: workerd does not report what it has queued (40 MiB sent to a paused reader read 0),
   * so the 4100 slow-reader close cannot fire on Workers; the platform bounds the buffer itself.
   */
  bufferedAmount(): number {
    return 0;
  }
  /** The auto-response answered the client's pusher:ping without waking the object. */
  answeredAt(): number {
    return this.state.getWebSocketAutoResponseTimestamp(this.ws)?.getTime() ?? 0;
  }
}

/** Where a socket that vanished while the object was gone is restored, to be closed at once. */
export const GONE: RawSocket = {
  send: () => undefined,
  close: () => undefined,
  bufferedAmount: () => 0,
};

export class HibernatingSockets implements SocketBinding {
  private readonly sockets = new Map<WebSocket, WorkerSocket>();

  constructor(private readonly state: DurableObjectState) {}

  upgrade(c: Context, handle: SocketHandle): Response {
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.state.acceptWebSocket(server);
    const socket = new WorkerSocket(server, this.state);
    socket.handle = handle;
    this.sockets.set(server, socket);
    // Accepted means open: workerd has no open event for the server end.
    handle.open(socket);
    const protocol = c.req.header("sec-websocket-protocol")?.split(",")[0]?.trim();
    return new Response(null, { status: 101, webSocket: client, headers: protocol ? { "Sec-WebSocket-Protocol": protocol } : {} });
  }

  /**
   * The client's address as Cloudflare's edge sets it on every request (clients cannot forge it
   * there); absent under a local workerd, where no request carries it.
   */
  readonly connInfo: GetConnInfo = (c: Context) => ({ remote: { address: c.req.header("cf-connecting-ip") } });

  /** The socket this object accepted, if it is still known in memory. */
  get(ws: WebSocket): WorkerSocket | undefined {
    return this.sockets.get(ws);
  }

  /** A socket accepted before an eviction, to be restored by the object. */
  wrap(ws: WebSocket): WorkerSocket {
    return new WorkerSocket(ws, this.state);
  }

  /** Adopts a restored socket. */
  adopt(socket: WorkerSocket): void {
    this.sockets.set(socket.ws, socket);
  }

  get size(): number {
    return this.sockets.size;
  }

  message(ws: WebSocket, data: string | ArrayBuffer): void {
    this.sockets.get(ws)?.handle.message(typeof data === "string" ? data : decoder.decode(data));
  }

  /**
   * The peer closed (or the connection failed). workerd does not answer a close frame by itself:
   * without this close() the client waits for the handshake to finish.
   */
  closed(ws: WebSocket, code: number, reason: string): void {
    try {
      // Also when this end closed first: until close() is called here workerd holds the TCP
      // connection open for 10 s after the client's close reply.
      ws.close(RESERVED.has(code) ? 1000 : code, reason);
    } catch (error) {
      // Closed by both ends at once; the handshake is over either way.
      console.debug("answering a close frame failed", error);
    }
    const socket = this.sockets.get(ws);
    this.sockets.delete(ws);
    socket?.handle.close();
  }
}
