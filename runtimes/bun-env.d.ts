// The few Bun APIs runtimes/bun.ts uses, so `tsc --noEmit` checks it without bun-types (which
// would clash with @types/node). Bun itself ignores this file.

declare namespace Bun {
  interface ServerWebSocket<T = unknown> {
    data: T;
    readonly readyState: 0 | 1 | 2 | 3;
    /** Bytes sent, -1 when queued behind backpressure, 0 when dropped (or closed). */
    send(data: string | ArrayBuffer | Uint8Array, compress?: boolean): number;
    close(code?: number, reason?: string): void;
    ping(data?: string): number;
    subscribe(topic: string): void;
    unsubscribe(topic: string): void;
    /** Sends to every subscriber of `topic` except this socket; same return values as send. */
    publish(topic: string, data: string): number;
    getBufferedAmount(): number;
  }

  interface Server {
    readonly port: number;
    readonly hostname: string;
    /** Same return values as ServerWebSocket.send, for the topic as a whole. */
    publish(topic: string, data: string): number;
    /** Upgrades the request to a WebSocket whose `data` is `options.data`; false if it cannot. */
    upgrade(request: Request, options?: { data?: unknown; headers?: HeadersInit }): boolean;
    stop(closeActiveConnections?: boolean): Promise<void>;
    /** The peer of a request this server is handling; null for a closed or unix socket. */
    requestIP(request: Request): { address: string; port: number; family: string } | null;
    /** WebSockets and requests still open on this listener (also after stop(false)). */
    readonly pendingWebSockets: number;
    readonly pendingRequests: number;
  }

  interface TLSOptions {
    cert: string;
    key: string;
    ca?: string;
    passphrase?: string;
  }

  interface WebSocketHandler {
    // deno-lint-ignore no-explicit-any
    open?(ws: ServerWebSocket<any>): void;
    // deno-lint-ignore no-explicit-any
    message(ws: ServerWebSocket<any>, message: string | Uint8Array): void;
    // deno-lint-ignore no-explicit-any
    close?(ws: ServerWebSocket<any>, code: number, reason: string): void;
    // deno-lint-ignore no-explicit-any
    ping?(ws: ServerWebSocket<any>, data: Uint8Array): void;
    // deno-lint-ignore no-explicit-any
    pong?(ws: ServerWebSocket<any>, data: Uint8Array): void;
    maxPayloadLength?: number;
    /** Seconds without inbound data before Bun closes the socket; 0 disables. */
    idleTimeout?: number;
    sendPings?: boolean;
    backpressureLimit?: number;
    closeOnBackpressureLimit?: boolean;
    perMessageDeflate?: boolean;
  }

  interface ServeOptions {
    hostname?: string;
    port?: number;
    fetch(request: Request, server: Server): Response | Promise<Response> | undefined | Promise<Response | undefined>;
    websocket?: WebSocketHandler;
    tls?: TLSOptions;
    /** SO_REUSEPORT: another listener may bind the same port. */
    reusePort?: boolean;
  }

  function serve(options: ServeOptions): Server;

  class CryptoHasher {
    /** With `key`, an HMAC. */
    constructor(algorithm: "sha256" | "md5", key?: string);
    update(data: string | Uint8Array): CryptoHasher;
    digest(encoding: "hex"): string;
  }

  function file(path: string): { text(): Promise<string> };
  const version: string;
}
