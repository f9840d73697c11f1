// What the Node runtime writes on a WebSocket, and how: frames encoded once per broadcast, one
// writev per socket per event-loop turn, and the two places it reaches into `ws` 8's internals
// (`_socket`, the TCP socket, and `_receiver`, its frame parser), checked on the first socket so a
// `ws` upgrade that changes them falls back to ws's public API instead of breaking.
import type { WebSocket } from "ws";
import type { Logger } from "../src/core/runtime.ts";

// A broadcast hands the same string to every subscriber: build its WebSocket frame once.
let lastFrame = "";
let lastWire = Buffer.alloc(0);
/** Unmasked server-to-client text frame (RFC 6455 §5.2), FIN set. */
export function wireOf(frame: string): Buffer {
  if (frame !== lastFrame) {
    // Encoded straight into the frame buffer: one allocation, not a payload buffer and a copy.
    const n = Buffer.byteLength(frame);
    const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
    const out = Buffer.allocUnsafe(head + n);
    out[0] = 0x81;
    if (n < 126) out[1] = n;
    else if (n < 65536) {
      out[1] = 126;
      out.writeUInt16BE(n, 2);
    } else {
      out[1] = 127;
      out.writeUInt32BE(0, 2);
      out.writeUInt32BE(n, 6);
    }
    out.write(frame, head, n, "utf8");
    lastFrame = frame;
    lastWire = out;
  }
  return lastWire;
}

// Every frame a socket gets within one event-loop turn leaves in one writev: the socket is corked
// on its first write of the turn and all are uncorked together. One syscall per socket per message
// was most of the fan-out cost (bench: 1.0 → 0.14 writes per delivery, ~5x deliveries/s).
export type Corkable = { cork(): void; uncork(): void; write(b: Buffer): boolean };
const corked = new Set<Corkable>();
let flushScheduled = false;
function flushCorked() {
  flushScheduled = false;
  for (const s of corked) s.uncork();
  corked.clear();
}
/** Holds the socket's writes until the end of this event-loop turn. */
export function corkForTurn(sock: Corkable): void {
  if (corked.has(sock)) return;
  sock.cork();
  corked.add(sock);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flushCorked);
  }
}

type Endable = { end(...args: unknown[]): unknown; writableEnded: boolean; writableFinished: boolean; destroyed: boolean };
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

type Internals = { _socket?: Partial<Corkable & Endable>; _receiver?: Partial<Endable> };

/** Whether `ws` still has the internals used here: undefined until the first socket was seen. */
let internalsUsable: boolean | undefined;

/** True when this socket's `_socket` and `_receiver` are what ws 8 has (the streams this file patches and writes to). */
export function hasWsInternals(ws: WebSocket): boolean {
  const { _socket: socket, _receiver: receiver } = ws as unknown as Internals;
  const fns = (o: object | undefined, ...names: string[]) => o !== undefined && o !== null && names.every((n) => typeof (o as Record<string, unknown>)[n] === "function");
  return fns(socket, "cork", "uncork", "write", "end") && fns(receiver, "end", "write") &&
    typeof socket!.writableEnded === "boolean" && typeof receiver!.writableEnded === "boolean";
}

/** The first socket decides, for the process: the internals are the same for every socket of one ws version. */
function checkInternals(ws: WebSocket, log?: Pick<Logger, "warn">): boolean {
  if (internalsUsable === undefined) {
    internalsUsable = hasWsInternals(ws);
    if (!internalsUsable) log?.warn("the ws package's internals (_socket, _receiver) are not what Switchboard expects (ws 8.23): sending through ws's public API instead, which costs more CPU per message");
  }
  return internalsUsable;
}

/** The TCP socket to write frames to directly, or undefined to go through ws.send. */
export function rawSocketOf(ws: WebSocket): Corkable | undefined {
  return internalsUsable ? (ws as unknown as { _socket: Corkable })._socket : undefined;
}

/** Patches the socket's two streams with endQuietly, when the internals are as expected. */
export function quietEnds(ws: WebSocket, log?: Pick<Logger, "warn">): void {
  if (!checkInternals(ws, log)) return;
  const internals = ws as unknown as { _socket: Endable; _receiver: Endable };
  internals._socket.end = endQuietly;
  internals._receiver.end = endQuietly;
}

/** For tests: forget what the first socket showed. */
export function resetInternalsCheck(): void {
  internalsUsable = undefined;
}
