// The few Deno APIs runtimes/deno.ts uses, so `tsc --noEmit` checks it without Deno's own lib
// (which would clash with @types/node). Deno itself ignores this file.

declare namespace Deno {
  interface UpgradeWebSocketOptions {
    protocol?: string;
    /** Seconds; Deno pings after half of it and closes with 1001 after the rest. 0 disables. */
    idleTimeout?: number;
  }
  interface NetAddr {
    transport: "tcp" | "udp";
    hostname: string;
    port: number;
  }
  interface HttpServer {
    readonly addr: NetAddr;
    readonly finished: Promise<void>;
    shutdown(): Promise<void>;
  }
  interface ServeOptions {
    hostname?: string;
    port?: number;
    onListen?: (addr: NetAddr) => void;
    /** PEM certificate chain and key: the server speaks TLS. */
    cert?: string;
    key?: string;
  }
  interface ServeHandlerInfo {
    remoteAddr: NetAddr;
  }
  function serve(options: ServeOptions, handler: (request: Request, info: ServeHandlerInfo) => Response | Promise<Response>): HttpServer;
  function systemMemoryInfo(): { total: number };
  function upgradeWebSocket(request: Request, options?: UpgradeWebSocketOptions): { socket: WebSocket; response: Response };
  const args: string[];
  const env: { toObject(): Record<string, string> };
  const version: { deno: string };
  function readTextFile(path: string): Promise<string>;
  function readTextFileSync(path: string): string;
  function exit(code?: number): never;
  function addSignalListener(signal: "SIGTERM" | "SIGINT" | "SIGHUP", handler: () => void): void;
  function memoryUsage(): { rss: number; heapTotal: number; heapUsed: number; external: number };
  function unrefTimer(id: number): void;
}

interface ImportMeta {
  /** True in the entry module (Deno and Bun). */
  main?: boolean;
}
