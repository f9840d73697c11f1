// Bun entrypoint: Bun.serve, its WebSocket handlers driving the core directly (the upgrade is
// routed by the shared Hono router), Bun's native topic pub/sub for
// channel fan-out and Bun.CryptoHasher for HMAC/MD5. Also the source of the single binary
// (`bun build --compile runtimes/bun.ts`). Protocol logic is shared with Node and Deno in src/.
import { readFileSync } from "node:fs";
// (hono/bun is marked deprecated for @hono/bun, which is not on npm yet: runtime-notes §2.)
import { getConnInfo } from "hono/bun";
import { totalmem } from "node:os";
import { createSwitchboard, startupLines, type Platform } from "../src/bootstrap.ts";
import type { Config } from "../src/config/load.ts";
import type { CryptoProvider, NativePubSub, RawSocket } from "../src/core/runtime.ts";
import type { SocketHandle } from "../src/core/server.ts";
import type { SocketBinding } from "../src/http/router.ts";
import { gracefulStop, listening, memoryStats, nodeLikeHost, runMain, unrefTimers } from "./cli.ts";
import { startSidecars, type ServeFetch } from "./sidecars.ts";
import { readTls } from "./tls.ts";

type BunSocketRaw = Bun.ServerWebSocket<SocketHandle>;

const bunCrypto: CryptoProvider = {
  async hmacSha256Hex(secret, message) {
    return new Bun.CryptoHasher("sha256", secret).update(message).digest("hex");
  },
  md5Hex(bytes) {
    return new Bun.CryptoHasher("md5").update(bytes).digest("hex");
  },
};

const timers = unrefTimers((handle) => (handle as ReturnType<typeof setTimeout>).unref());

/** The core's view of one Bun socket, built once when it opens. */
class BunSocket implements RawSocket {
  constructor(readonly raw: BunSocketRaw) {}
  send(frame: string): void {
    this.raw.send(frame);
  }
  close(code: number, reason: string): void {
    this.raw.close(code, reason);
  }
  bufferedAmount(): number {
    return this.raw.getBufferedAmount();
  }
  ping(): void {
    this.raw.ping();
  }
  // On a closed socket both are no-ops (Bun drops it from every topic when it closes), and
  // publishing through it still reaches the other subscribers, so no readyState guards.
  subscribe(topic: string): void {
    this.raw.subscribe(topic);
  }
  unsubscribe(topic: string): void {
    this.raw.unsubscribe(topic);
  }
}

/**
 * The router accepted an upgrade: Bun upgrades with the core's handle as the socket's `data`,
 * and the `websocket` handlers below drive it directly. Nothing else is kept per socket: no
 * Context, URL or event closures (hono/bun keeps those and builds a WSContext per event).
 */
const sockets: SocketBinding = {
  upgrade(c, handle) {
    const server = c.env as Bun.Server;
    return server.upgrade(c.req.raw, { data: handle }) ? new Response(null) : undefined;
  },
  // Asks the Bun.Server that Bun.serve passes as the router's env (see serve below).
  connInfo: getConnInfo,
};

/** A plain HTTP listener for the sidecars (metrics, the https redirect). */
const serveBun: ServeFetch = async (fetch, hostname, port) => {
  const server = Bun.serve({ hostname, port, fetch: (request) => fetch(request) });
  return { port: server.port, close: () => server.stop(true) };
};

/** Bun's publish result: bytes sent; -1 some subscriber is backed up; 0 dropped (or nobody). */
const backedUp = (result: number) => result <= 0;

/**
 * Native topics belong to a Bun.Server, so while a TLS reload's previous listener still has open
 * sockets (see reload below) a publish goes through each listener. Backed up when any listener
 * reports backpressure, or none delivered.
 */
function publishAll(servers: readonly Bun.Server[], topic: string, frame: string): boolean {
  if (servers.length === 1) return backedUp(servers[0]!.publish(topic, frame));
  let delivered = false;
  let pressure = false;
  for (const s of servers) {
    const result = s.publish(topic, frame);
    if (result > 0) delivered = true;
    else if (result < 0) pressure = true;
  }
  return pressure || !delivered;
}

export async function startBun(config: Config) {
  // The current listener last; earlier ones only while a TLS reload leaves them sockets to serve.
  const servers: Bun.Server[] = [];
  const pubsub: NativePubSub = {
    publish: (topic, frame) => publishAll(servers, topic, frame),
    publishExcept: (socket, topic, frame) => backedUp((socket as BunSocket).raw.publish(topic, frame)),
  };
  const platform: Platform = {
    // A `bun build --compile` binary runs from Bun's embedded file system.
    name: import.meta.url.includes("$bunfs") ? `binary, bun ${Bun.version}` : `bun ${Bun.version}`,
    sockets,
    timers,
    crypto: bunCrypto,
    readTextFile: (path) => Bun.file(path).text(),
    memoryUsage: memoryStats(() => process.memoryUsage()),
    totalMemory: totalmem,
    pubsub,
  };
  const readFile = (path: string) => readFileSync(path, "utf8");
  const tls = config.sslEnabled ? readTls(config, readFile) : undefined;
  const instance = await createSwitchboard(config, platform);
  const bound = config.maxSocketBufferKb * 1024;
  const decoder = new TextDecoder();
  const serve = (port: number, files = tls) => Bun.serve({
    hostname: config.bindAddress,
    port,
    // https:// and wss:// on the same port; reusePort lets a TLS reload open its listener beside this one.
    ...(files ? { tls: files, reusePort: true } : {}),
    fetch: (request, srv) => instance.router.fetch(request, srv),
    websocket: {
      open: (ws: BunSocketRaw) => ws.data.open(new BunSocket(ws)),
      // Text and binary frames are decoded alike.
      message: (ws: BunSocketRaw, message) => ws.data.message(typeof message === "string" ? message : decoder.decode(message)),
      close: (ws: BunSocketRaw) => ws.data.close(),
      ping: (ws: BunSocketRaw) => ws.data.alive(),
      pong: (ws: BunSocketRaw) => ws.data.alive(),
      maxPayloadLength: Math.ceil(config.maxWebSocketMessageKb * 1024),
      // Liveness is the core's job (activity_timeout, pusher:ping, 4201), the same on every runtime.
      idleTimeout: 0,
      sendPings: false,
      perMessageDeflate: false,
      // The core closes slow readers with 4100 at MAX_SOCKET_BUFFER_KB (before each send, and after
      // a publish Bun reports as backed up). Bun's own limit sits well above it as a hard stop:
      // past it Bun would silently drop frames, so it closes the socket instead.
      ...(bound > 0
        ? { backpressureLimit: Math.min(2 ** 31 - 1, bound * 2 + 1024 * 1024), closeOnBackpressureLimit: true }
        : { backpressureLimit: 2 ** 31 - 1, closeOnBackpressureLimit: false }),
    },
  });
  servers.push(await listening(instance, () => serve(config.port)));
  const port = servers[0]!.port;
  const sidecars = await listening(instance, () => startSidecars(config, instance, port, serveBun));
  for (const line of startupLines(config, platform.name, port)) instance.logger.info(line);
  let retiring: ReturnType<typeof setInterval> | undefined;
  const stop = gracefulStop(config, instance, async () => {
    clearInterval(retiring);
    await sidecars.close();
    await Promise.all(servers.map((s) => s.stop(true)));
  });
  /**
   * SIGHUP: Bun's server.reload() keeps the TLS options it started with (Bun 1.4), so a new
   * listener with the files' current certificate opens on the same port (SO_REUSEPORT) and the
   * previous one stops accepting; its open sockets stay served until they close, then it goes.
   */
  const retire = () => {
    for (const s of servers.slice(0, -1)) if (s.pendingWebSockets === 0 && s.pendingRequests === 0) servers.splice(servers.indexOf(s), 1);
    if (servers.length > 1) return;
    clearInterval(retiring);
    retiring = undefined;
  };
  const reload = () => {
    if (!config.sslEnabled) return instance.logger.info("SIGHUP: nothing to reload (TLS is off)");
    try {
      servers.push(serve(port, readTls(config, readFile)));
      const previous = servers[servers.length - 2]!;
      void previous.stop(false);
      retiring ??= setInterval(retire, 5000);
      retiring.unref();
      instance.logger.info("SIGHUP: TLS certificate and key reloaded");
    } catch (error) {
      instance.logger.error(`SIGHUP: TLS reload failed, keeping the current certificate: ${(error as Error).message}`);
    }
  };
  return { instance, port, stop, reload, metricsPort: sidecars.metricsPort };
}

if (import.meta.main) runMain(nodeLikeHost(process, (path) => readFileSync(path, "utf8")), startBun);
