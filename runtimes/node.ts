// Node entrypoint: @hono/node-server for HTTP, the ws package for WebSockets, node:crypto for
// HMAC/MD5. Everything protocol-related lives in src/ and is shared with Deno and Bun.
import { createHash, createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { STATUS_CODES, type IncomingMessage } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { totalmem } from "node:os";
import type { Duplex } from "node:stream";
import { setFlagsFromString } from "node:v8";
import { serve } from "@hono/node-server";
import type { Hono } from "hono";
import { WebSocket, WebSocketServer } from "ws";
import { createSwitchboard, startupLines, type Platform } from "../src/bootstrap.ts";
import type { Config } from "../src/config/load.ts";
import type { SocketBinding } from "../src/http/router.ts";
import { gracefulStop, listening, memoryStats, nodeLikeHost, runMain, unrefTimers } from "./cli.ts";
import { startSidecars, type ServeFetch } from "./sidecars.ts";
import { readTls } from "./tls.ts";
import { tierUpEarly, warmUpHandshakes } from "./node-warmup.ts";
import { corkForTurn, quietEnds, rawSocketOf, wireOf, type Corkable } from "./node-wire.ts";
import { requestOf } from "./node-request.ts";
import type { CryptoProvider, Logger, RawSocket } from "../src/core/runtime.ts";
import type { SocketHandle } from "../src/core/server.ts";

const nodeCrypto: CryptoProvider = {
  async hmacSha256Hex(secret, message) {
    return createHmac("sha256", secret).update(message).digest("hex");
  },
  md5Hex(bytes) {
    return createHash("md5").update(bytes).digest("hex");
  },
};

/**
 * The warm-up's bounds (issue 26: it must cost less than a second): the CPU it may spend, and how
 * long it may delay the port opening on a machine too busy to give it that CPU soon.
 */
const WARM_UP_CPU_MS = 450;
const WARM_UP_WALL_MS = 3000;
/**
 * Handshakes in flight at once. Many at a time, not a few in a row: what a fresh process lacks
 * is not only compiled code but memory it has never touched (heap pages, socket buffers) for many
 * sockets at once; 16 in a row left the first storm as slow as without a warm-up (bench/README.md).
 * Those still in flight when the CPU bound is reached finish: ~0.8-0.9 s of CPU in all.
 */
const WARM_UP_CONCURRENCY = 256;

const timers = unrefTimers((handle) => (handle as NodeJS.Timeout).unref());

/** The core's view of one ws socket: one small object, its methods on the prototype. */
class NodeSocket implements RawSocket {
  constructor(readonly ws: SwitchboardWebSocket) {}
  send(frame: string): void {
    // Straight to the TCP socket: ws's Sender only queues while compressing, which is off
    // (perMessageDeflate: false below). Relies on ws 8's _socket, checked on the first socket
    // (node-wire.ts); ws's own send when a ws upgrade changed it.
    const ws = this.ws;
    if (ws.readyState !== 1) return;
    const sock = rawSocketOf(ws);
    if (!sock) return ws.send(frame);
    corkForTurn(sock);
    sock.write(wireOf(frame));
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
 * ws's socket class with a slot for the core's handle, so the event listeners below are shared
 * functions (`this` is the socket) instead of closures per connection.
 */
class SwitchboardWebSocket extends WebSocket {
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
/** Set once the instance exists: socket-level errors are the peer's doing, worth a debug line. */
let socketLog: Logger | undefined;
// ws always emits close after error (an unmasked frame, a bad close code): a listener must exist
// so the error is not thrown; the close that follows does the cleanup.
function socketError(error: Error) {
  socketLog?.debug(`websocket error: ${error.message}`);
}

function attach(ws: SwitchboardWebSocket, handle: SocketHandle): void {
  ws.handle = handle;
  quietEnds(ws, socketLog);
  open.add(ws);
  ws.on("message", onMessage);
  ws.on("ping", onAlive);
  ws.on("pong", onAlive);
  ws.on("close", onClose);
  ws.on("error", socketError);
  handle.open(new NodeSocket(ws));
}

/** What the router's upgrade leaves for the 'upgrade' listener: the socket's handle. */
class UpgradeEnv {
  handle: SocketHandle | undefined = undefined;
  constructor(private readonly req: IncomingMessage) {}
  /**
   * The peer's address, for the per-IP connection limit: read only when asked, since Node answers
   * it with a getpeername system call (3 % of a cold storm's CPU, for a limit that is usually off).
   */
  get address(): string | undefined {
    return this.req.socket.remoteAddress;
  }
}

/** The router decided to upgrade: note the handle; nothing of the Context or Request is kept. */
const sockets: SocketBinding = {
  upgrade(c, handle) {
    const env = c.env as UpgradeEnv | undefined;
    if (!env || !("handle" in env)) return undefined;
    env.handle = handle;
    return new Response(null);
  },
  // An upgrade's env carries the address; @hono/node-server's env for other requests has `incoming`.
  remoteAddress(c) {
    const env = c.env as (UpgradeEnv & { incoming?: IncomingMessage }) | undefined;
    return env?.address ?? env?.incoming?.socket.remoteAddress;
  },
};

/** Answers an upgrade the router did not accept (e.g. an API route's 4xx) and closes. */
async function reject(socket: Duplex, response: Response): Promise<void> {
  const body = Buffer.from(await response.arrayBuffer().catch((error: unknown) => {
    socketLog?.debug("reading a refused upgrade's response body failed", error);
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

/**
 * Upgrades go through the Hono router like any request (routing, path prefix, the 4005 catch-all),
 * but the ws upgrade happens here, after the router returned: the socket keeps only the core's
 * handle, not @hono/node-server's Context, Request and per-socket closures (12 KB a socket).
 */
function upgradeListener(router: Hono, wss: WebSocketServer) {
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
    const env = new UpgradeEnv(req);
    let response: Response | Promise<Response>;
    try {
      response = router.fetch(requestOf(req), env);
    } catch (error) {
      socketLog?.debug("an upgrade request the router could not take", error);
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

export async function startNode(config: Config) {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: Math.ceil(config.maxWebSocketMessageKb * 1024),
    perMessageDeflate: false,
    clientTracking: false,
    WebSocket: SwitchboardWebSocket,
  });
  const platform: Platform = {
    name: `node ${process.version}`,
    sockets,
    timers,
    crypto: nodeCrypto,
    readTextFile: (path) => readFile(path, "utf8"),
    memoryUsage: memoryStats(() => process.memoryUsage()),
    totalMemory: totalmem,
  };
  // Read before anything starts: a missing certificate is a start-up error, not a later surprise.
  const tls = config.sslEnabled ? readTls(config, (path) => readFileSync(path, "utf8")) : undefined;
  const instance = await createSwitchboard(config, platform);
  socketLog = instance.logger;
  /** The listener: @hono/node-server for HTTP, this file's upgrade path for WebSockets. */
  const listenOn = (router: Hono, hostname: string, port: number, secure?: typeof tls) =>
    new Promise<ReturnType<typeof serve>>((resolve, reject) => {
      // With TLS an https server on the same port: https:// and wss:// (its 'upgrade' events) alike.
      const srv = serve(
        secure
          ? { fetch: router.fetch, hostname, port, createServer: createHttpsServer, serverOptions: secure }
          : { fetch: router.fetch, hostname, port },
        () => resolve(srv),
      );
      // EADDRINUSE and the like: runMain turns it into one line and a non-zero exit.
      srv.once("error", reject);
      srv.on("upgrade", upgradeListener(router, wss));
    });
  if (config.warmupHandshakes > 0) {
    const restore = tierUpEarly(process.execArgv, process.env.NODE_OPTIONS);
    const warm = await warmUpHandshakes(config, platform, {
      handshakes: config.warmupHandshakes,
      cpuBudgetMs: WARM_UP_CPU_MS,
      concurrency: WARM_UP_CONCURRENCY,
      wallLimitMs: WARM_UP_WALL_MS,
      listen: async (router) => {
        const srv = await listenOn(router, "127.0.0.1", 0);
        return {
          port: (srv.address() as AddressInfo).port,
          close: () => new Promise<void>((resolve) => {
            srv.close(() => resolve());
            (srv as unknown as { closeAllConnections(): void }).closeAllConnections();
          }),
        };
      },
    }, instance.logger);
    restore();
    const odd = [warm.failed ? `${warm.failed} failed` : "", warm.cut ? `${warm.cut} cut at the time limit` : ""].filter(Boolean);
    instance.logger.info(`warm-up: ${warm.handshakes} handshakes in ${warm.ms} ms (${warm.cpuMs} ms of CPU)${odd.map((o) => `, ${o}`).join("")} (WARMUP_HANDSHAKES=0 skips it)`);
  }
  const listen = () => listenOn(instance.router, config.bindAddress, config.port, tls);
  const http = await listening(instance, listen);
  const port = (http.address() as AddressInfo).port;
  const sidecars = await listening(instance, () => startSidecars(config, instance, port, serveNode));
  for (const line of startupLines(config, platform.name, port)) instance.logger.info(line);

  const stop = gracefulStop(config, instance, async () => {
    for (const ws of open) ws.terminate();
    await sidecars.close();
    // close() waits for every keep-alive connection: idle ones go now, busy ones once their answer
    // (a 503 by now) is out, and any left after a second are cut, so the process does exit.
    const closed = new Promise<void>((resolve) => http.close(() => resolve()));
    const server = http as unknown as { closeIdleConnections?(): void; closeAllConnections?(): void };
    server.closeIdleConnections?.();
    const cut = setTimeout(() => server.closeAllConnections?.(), 1000);
    await closed;
    clearTimeout(cut);
  });
  /** SIGHUP: new handshakes use the files' current certificate and key; open connections stay. */
  const reload = () => {
    if (!config.sslEnabled) return instance.logger.info("SIGHUP: nothing to reload (TLS is off)");
    try {
      (http as HttpsServer).setSecureContext(readTls(config, (path) => readFileSync(path, "utf8")));
      instance.logger.info("SIGHUP: TLS certificate and key reloaded");
    } catch (error) {
      instance.logger.error(`SIGHUP: TLS reload failed, keeping the current certificate: ${(error as Error).message}`);
    }
  };
  return { instance, port, stop, reload, metricsPort: sidecars.metricsPort };
}

/** A plain HTTP listener for the sidecars (metrics, the https redirect). */
const serveNode: ServeFetch = (fetch, hostname, port) =>
  new Promise((resolve, reject) => {
    const srv = serve({ fetch, hostname, port }, (info) =>
      resolve({ port: info.port, close: () => new Promise<void>((done) => srv.close(() => done())) }));
    srv.once("error", reject);
  });

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, "/").split("/").pop()!);
/**
 * Keeps V8's young generation at its initial size (1 MB semi-spaces) instead of letting it grow to
 * 16 MB each under an allocation burst such as thousands of handshakes. Grown semi-spaces stay
 * committed while the server idles, since an idle server allocates too little to trigger the GC
 * that would shrink them: that was a fixed ~15–20 MB of RSS, 3 KB per connection at 5000 and 8 KB
 * at 2000. `--max-semi-space-size` would do the same but only works on the command line; this
 * also covers `node dist/node.js`. Passing either flag yourself (command line or NODE_OPTIONS)
 * leaves V8's default growth in place.
 */
export function limitYoungGeneration(execArgv: string[], nodeOptions = ""): boolean {
  if ([...execArgv, nodeOptions].some((arg) => /semi[-_]space/.test(arg))) return false;
  setFlagsFromString("--semi-space-growth-factor=1");
  return true;
}

if (isMain) {
  limitYoungGeneration(process.execArgv, process.env.NODE_OPTIONS);
  runMain(nodeLikeHost(process, (path) => readFileSync(path, "utf8")), startNode);
}
