// What a runtime (Node, Deno, Bun) plugs into the core. The core never touches a platform API
// directly: sockets, timers, clocks and crypto all arrive through these interfaces.

export type TimerHandle = unknown;

export interface Timers {
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle): void;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** Milliseconds since the epoch. Injected so tests can pin the clock for signature windows. */
  now(): number;
}

export interface CryptoProvider {
  /** Lowercase hex HMAC-SHA256 of `message` keyed with `secret` (both UTF-8). */
  hmacSha256Hex(secret: string, message: string): Promise<string>;
  /** Lowercase hex MD5 of raw bytes (REST body_md5). */
  md5Hex(bytes: Uint8Array): string;
}

/**
 * One WebSocket as the core sees it. Runtimes wrap their native socket (ws, Deno's WebSocket,
 * Bun's ServerWebSocket) in this; the wrapper must be built from the runtime's stable socket
 * object, not from a per-event context.
 */
export interface RawSocket {
  /** Sends one text frame. The same string is handed to every subscriber of a broadcast. */
  send(frame: string): void;
  close(code: number, reason: string): void;
  /** Bytes queued but not yet written to the network. */
  bufferedAmount(): number;
  /** WebSocket ping control frame, where the runtime can send one. */
  ping?(): void;
  /**
   * When the runtime last answered a pusher:ping for the core without waking it (a Durable
   * Object's auto-response), ms epoch; 0 if never. Liveness counts it as the client's activity.
   */
  answeredAt?(): number;
  /** Native topic pub/sub (Bun): lets a broadcast be one call instead of a loop over sockets. */
  subscribe?(topic: string): void;
  unsubscribe?(topic: string): void;
}

/**
 * Native topic publishing for runtimes that have it (Bun's server.publish). Both methods return
 * true when some subscriber could not take the frame at once (Bun: -1 backpressure, 0 dropped):
 * the native path bypasses the per-socket buffer check, so the registry then checks each
 * subscriber's bound and closes slow readers with 4100.
 */
export interface NativePubSub {
  publish(topic: string, frame: string): boolean;
  /** Publishes through `socket` so that socket itself is skipped (socket_id exclusion). */
  publishExcept(socket: RawSocket, topic: string, frame: string): boolean;
}

export interface MemoryStats {
  rss: number;
  heapTotal: number;
  heapUsed: number;
}

export interface Logger {
  info(message: string, extra?: unknown): void;
  warn(message: string, extra?: unknown): void;
  error(message: string, extra?: unknown): void;
  debug(message: string, extra?: unknown): void;
}
