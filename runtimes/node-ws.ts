// The private fields of `ws` that the Node entrypoint uses, and the start-up self-check that
// decides whether it may. Two things ws's public API cannot do:
// - write a ready-made frame straight to the TCP socket (`_socket`), corked for the turn: a
//   broadcast encodes its frame once and each socket gets one writev per turn (node-sockets.ts);
// - tell when the peer's close frame arrives (`_receiver`'s 'conclude'): ws emits 'close' only
//   once the TCP connection is closed, a round trip later (30 s later for a peer that keeps its
//   half open), and until then the socket still counts in /users and user_count.
// Both, and node-sockets.ts's quiet end() patches, rely on ws 8's private fields. The self-check drives
// ws's own upgrade path over an in-memory stream; when a ws upgrade changed what it relies on,
// the node logs why and uses the public API only (ws.send; a socket leaves on 'close').
import type { EventEmitter } from "node:events";
import type { IncomingMessage } from "node:http";
import { Duplex } from "node:stream";
import type { WebSocket, WebSocketServer } from "ws";

/** The stream methods node-sockets.ts calls on ws's TCP socket and frame parser. */
export interface WsSocket {
  cork(): void;
  uncork(): void;
  write(b: Buffer): boolean;
  end(...args: unknown[]): unknown;
  writableEnded: boolean;
  writableFinished: boolean;
  destroyed: boolean;
}
export type WsReceiver = EventEmitter & Pick<WsSocket, "end" | "writableEnded" | "writableFinished" | "destroyed">;

/** ws's TCP socket and frame parser of an open WebSocket; only after checkWsInternals passed. */
export function internalsOf(ws: WebSocket): { socket: WsSocket; receiver: WsReceiver } {
  const inner = ws as unknown as { _socket: WsSocket; _receiver: WsReceiver };
  return { socket: inner._socket, receiver: inner._receiver };
}

/** The receiver event that a close frame arrived (ws 8: code, reason). */
export const CLOSE_FRAME_EVENT = "conclude";

/** A client's close frame with code 1000 (masked, as from a client; the mask is zero). */
const CLOSE_1000 = Buffer.from([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]);
/** An RFC 6455 §1.3 sample key: the check needs any valid one. */
const SAMPLE_KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const CHECK_MS = 2000;

/**
 * Upgrades an in-memory stream through `wss` (the server's own, so its WebSocket class and
 * options), feeds it a close frame, and checks what node-sockets.ts relies on. Undefined when all holds;
 * otherwise what changed, for the log line.
 */
export function checkWsInternals(wss: WebSocketServer, waitMs = CHECK_MS): Promise<string | undefined> {
  const stream = new Duplex({ read() {}, write: (_chunk, _encoding, done) => done() });
  const req = {
    method: "GET",
    url: "/",
    headers: { upgrade: "websocket", connection: "Upgrade", "sec-websocket-key": SAMPLE_KEY, "sec-websocket-version": "13" },
    socket: stream,
  } as unknown as IncomingMessage;
  return new Promise<string | undefined>((resolve) => {
    let settled = false;
    const done = (problem: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Ends ws's side too: its close timer is cleared when the stream closes.
      stream.destroy();
      resolve(problem);
    };
    const timer = setTimeout(() => done(`no '${CLOSE_FRAME_EVENT}' from its receiver within ${waitMs} ms of a close frame`), waitMs);
    try {
      wss.handleUpgrade(req, stream, Buffer.alloc(0), (ws) => {
        ws.on("error", (error) => done(`an error on a valid close frame: ${error.message}`));
        ws.on("close", () => done(`'close' before '${CLOSE_FRAME_EVENT}'`));
        const { socket, receiver } = internalsOf(ws);
        if ((socket as unknown) !== stream) return done("_socket is not the upgraded socket");
        for (const name of ["cork", "uncork", "write", "end"] as const) {
          if (typeof socket[name] !== "function") return done(`_socket.${name} is not a function`);
        }
        if (typeof receiver?.on !== "function" || typeof receiver.end !== "function") return done("_receiver is not a stream with end()");
        receiver.on(CLOSE_FRAME_EVENT, (code: unknown) => done(code === 1000 ? undefined : `'${CLOSE_FRAME_EVENT}' gave code ${String(code)}, not 1000`));
        stream.push(CLOSE_1000);
      });
    } catch (error) {
      done(`handleUpgrade threw: ${(error as Error).message}`);
    }
  });
}
