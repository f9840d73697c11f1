// Node's WebSocket upgrades. They go through the Hono router like any request (routing, path
// prefix, the 4005 catch-all), but the ws upgrade happens here, after the router returned: the
// socket keeps only the core's handle, not @hono/node-server's Context, Request and per-socket
// closures (12 KB a socket).
import { STATUS_CODES, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Hono } from "hono";
import type { WebSocketServer } from "ws";
import type { SocketBinding } from "../src/http/router.ts";
import type { SocketHandle } from "../src/core/server.ts";
import { corkForTurn, type Corkable } from "./node-cork.ts";
import { requestOf } from "./node-request.ts";
import { attach, debugSocket, socketError, type SwitchboardWebSocket } from "./node-sockets.ts";

/** What the router's upgrade leaves for the 'upgrade' listener: the socket's handle. */
interface UpgradeEnv {
  handle?: SocketHandle;
  /** As in @hono/node-server's env, so its getConnInfo finds the peer of an upgrade too. */
  incoming: IncomingMessage;
}

/** The router decided to upgrade: note the handle; nothing of the Context or Request is kept. */
export const sockets: SocketBinding = {
  upgrade(c, handle) {
    const env = c.env as UpgradeEnv | undefined;
    if (!env || !("handle" in env)) return undefined;
    env.handle = handle;
    return new Response(null);
  },
  connInfo: getConnInfo,
};

/** Answers an upgrade the router did not accept (e.g. an API route's 4xx) and closes. */
async function reject(socket: Duplex, response: Response): Promise<void> {
  const body = Buffer.from(await response.arrayBuffer().catch((error: unknown) => {
    debugSocket("reading a refused upgrade's response body failed", error);
    return new ArrayBuffer(0);
  }));
  if (socket.destroyed) return;
  // The router's headers go along (Retry-After and X-RateLimit-* on a 429), except framing ones.
  let head = `HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? ""}\r\nConnection: close\r\n`;
  response.headers.forEach((value, name) => {
    if (name !== "content-length" && name !== "connection" && name !== "transfer-encoding") head += `${name}: ${value}\r\n`;
  });
  head += `Content-Length: ${body.length}\r\n\r\n`;
  socket.end(Buffer.concat([Buffer.from(head), body]));
}

/** The 'upgrade' listener of an HTTP server whose requests `router` answers. */
export function upgradeListener(router: Hono, wss: WebSocketServer) {
  const finish = (req: IncomingMessage, socket: Duplex, head: Buffer, env: UpgradeEnv, response: Response) => {
    const handle = env.handle;
    if (!handle) return void reject(socket, response);
    socket.off("error", socketError);
    // The 101 response and connection_established (sent by the core a few microtasks later, in
    // this turn) leave in one writev instead of two write syscalls, which were ~20 % of the
    // server's handshake CPU in the connect profile.
    corkForTurn(socket as unknown as Corkable);
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws as SwitchboardWebSocket, handle));
  };
  return (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", socketError);
    const env: UpgradeEnv = { handle: undefined, incoming: req };
    let response: Response | Promise<Response>;
    try {
      response = router.fetch(requestOf(req), env);
    } catch (error) {
      debugSocket("an upgrade request the router could not take", error);
      response = new Response(null, { status: 400 });
    }
    // The router answers an upgrade synchronously: the handshake completes in this turn.
    if (!(response instanceof Promise)) return finish(req, socket, head, env, response);
    response.then(
      (r) => finish(req, socket, head, env, r),
      () => finish(req, socket, head, env, new Response(null, { status: 500 })),
    );
  };
}
