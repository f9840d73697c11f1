// One ws WebSocket as the core sees it: the RawSocket it sends through, and the listeners that
// forward its events to the core's handle. The listeners are shared functions (`this` is the
// socket), not closures per connection.
import { WebSocket } from "ws";
import type { Logger, RawSocket } from "../src/core/runtime.ts";
import type { SocketHandle } from "../src/core/server.ts";
import { corkForTurn } from "./node-cork.ts";
import { wireOf } from "./node-frames.ts";
import { CLOSE_FRAME_EVENT, internalsOf, type WsReceiver, type WsSocket } from "./node-ws.ts";

/** The core's view of one ws socket through ws's public API (when its internals changed). */
class NodeSocket implements RawSocket {
  constructor(readonly ws: SwitchboardWebSocket) {}
  send(frame: string): void {
    if (this.ws.readyState === 1) this.ws.send(frame);
  }
  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }
  bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }
  ping(): void {
    this.ws.ping();
  }
}

/**
 * Sends straight to the TCP socket, with the frame built once per broadcast and the socket's
 * writes corked for the turn: ws's Sender only queues while compressing, which is off
 * (perMessageDeflate: false in node.ts). Only when checkWsInternals passed (runtimes/node-ws.ts).
 */
class DirectNodeSocket extends NodeSocket {
  override send(frame: string): void {
    const ws = this.ws;
    const sock = internalsOf(ws).socket;
    if (ws.readyState !== 1 || !sock) return;
    corkForTurn(sock);
    sock.write(wireOf(frame));
  }
}

/** ws's socket class with a slot for the core's handle, so the listeners below need no closure. */
export class SwitchboardWebSocket extends WebSocket {
  handle: SocketHandle | undefined = undefined;
}

/** Open sockets, for the final terminate on stop (ws's own clientTracking adds a closure each). */
const open = new Set<SwitchboardWebSocket>();

function onMessage(this: WebSocket, data: Buffer) {
  // Text and binary frames alike; ws has already checked a text frame's UTF-8.
  (this as SwitchboardWebSocket).handle!.message(data.toString());
}
function onAlive(this: WebSocket) {
  (this as SwitchboardWebSocket).handle!.alive();
}
function onClose(this: WebSocket) {
  open.delete(this as SwitchboardWebSocket);
  (this as SwitchboardWebSocket).handle!.close();
}
/** Where a receiver's listener finds its socket (`this` is ws's receiver there). */
const OWNER = Symbol("switchboard.socket");
/**
 * The peer's close frame arrived: the socket leaves its channels now, not once the TCP
 * connection has closed (ws's 'close'). The handle's close runs once; 'close' repeats it harmlessly.
 */
function onCloseFrame(this: WsReceiver & { [OWNER]?: SwitchboardWebSocket }) {
  this[OWNER]?.handle?.close();
}
/** Set once the instance exists: socket-level errors are the peer's doing, worth a debug line. */
let socketLog: Pick<Logger, "debug"> | undefined;
/** A debug line about a socket's or an upgrade's trouble, once the logger is known. */
export function debugSocket(message: string, error?: unknown): void {
  socketLog?.debug(message, error);
}
// ws always emits close after error (an unmasked frame, a bad close code): a listener must exist
// so the error is not thrown; the close that follows does the cleanup.
export function socketError(error: Error) {
  socketLog?.debug(`websocket error: ${error.message}`);
}

type Endable = Pick<WsSocket, "end" | "writableEnded" | "writableFinished" | "destroyed">;
/**
 * `end()` for a stream that has already finished: ws calls it on the TCP socket (socketOnEnd) and
 * on its frame parser (socketOnClose) after both were ended, and Node then builds an
 * ERR_STREAM_ALREADY_FINISHED error, stack and message included, that nobody reads. That was
 * ~12 µs of every client-initiated close (storm profile: NodeError 1.9 % of the server's CPU).
 */
function endQuietly(this: Endable, ...args: unknown[]): unknown {
  if (args.length === 0 && this.writableEnded && (this.writableFinished || this.destroyed)) return this;
  return (Object.getPrototypeOf(this) as Endable).end.apply(this, args);
}

/** Set at start-up by checkWsInternals: whether ws's private fields are what this file expects. */
let direct = false;

/**
 * Set once at start-up: where socket errors are logged, and whether sockets may use ws's private
 * fields (checkWsInternals found them as expected).
 */
export function configureSockets(options: { log: Pick<Logger, "debug">; direct: boolean }): void {
  socketLog = options.log;
  direct = options.direct;
}

/** A socket ws just upgraded: its events go to `handle`, which gets the socket to send through. */
export function attach(ws: SwitchboardWebSocket, handle: SocketHandle): void {
  ws.handle = handle;
  if (direct) {
    const { socket, receiver } = internalsOf(ws);
    socket.end = endQuietly;
    receiver.end = endQuietly;
    (receiver as WsReceiver & { [OWNER]?: SwitchboardWebSocket })[OWNER] = ws;
    receiver.on(CLOSE_FRAME_EVENT, onCloseFrame);
  }
  open.add(ws);
  ws.on("message", onMessage);
  ws.on("ping", onAlive);
  ws.on("pong", onAlive);
  ws.on("close", onClose);
  ws.on("error", socketError);
  handle.open(direct ? new DirectNodeSocket(ws) : new NodeSocket(ws));
}

/** The stop's last step: every socket still open is cut. */
export function terminateAll(): void {
  for (const ws of open) ws.terminate();
}
