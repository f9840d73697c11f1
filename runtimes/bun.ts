// Bun entrypoint: Bun.serve, its WebSocket handlers driving the core directly (the upgrade is
// routed by the shared Hono router), Bun's native topic pub/sub for
// channel fan-out and Bun.CryptoHasher for HMAC/MD5. Also the source of the single binary
// (`bun build --compile runtimes/bun.ts`). Protocol logic is shared with Node and Deno in src/.
import { readFileSync } from "node:fs";
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
  remoteAddress: (c) => (c.env as Bun.Server).requestIP(c.req.raw)?.address,
};

/** A plain HTTP listener for the sidecars (metrics, the https redirect). */
const serveBun: ServeFetch = async (fetch, hostname, port) => {
  const server = Bun.serve({ hostname, port, fetch: (request) => fetch(request) });
  return { port: server.port, close: () => server.stop(true) };
};

/** Bun's publish result: bytes sent; -1 some subscriber is backed up; 0 dropped (or nobody). */
const backedUp = (result: number) => result <= 0;

export async function startBun(config: Config) {
  let server: Bun.Server | undefined;
  const pubsub: NativePubSub = {
    publish: (topic, frame) => backedUp(server!.publish(topic, frame)),
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
  const listen = () => Bun.serve({
    hostname: config.bindAddress,
    port: config.port,
    // https:// and wss:// on the same port.
    ...(tls ? { tls } : {}),
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
  server = await listening(instance, listen);
  const listener = server;
  const sidecars = await listening(instance, () => startSidecars(config, instance, listener.port, serveBun));
  for (const line of startupLines(config, platform.name, listener.port)) instance.logger.info(line);
  const stop = gracefulStop(config, instance, async () => {
    await sidecars.close();
    await listener.stop(true);
  });
  /** SIGHUP: server.reload with the files' current TLS options; open connections stay. */
  const reload = () => {
    if (!config.sslEnabled) return instance.logger.info("SIGHUP: nothing to reload (TLS is off)");
    try {
      listener.reload({ tls: readTls(config, readFile) });
      instance.logger.info("SIGHUP: TLS certificate and key reloaded");
    } catch (error) {
      instance.logger.error(`SIGHUP: TLS reload failed, keeping the current certificate: ${(error as Error).message}`);
    }
  };
  return { instance, port: listener.port, stop, reload, metricsPort: sidecars.metricsPort };
}

if (import.meta.main) runMain(nodeLikeHost(process, (path) => readFileSync(path, "utf8")), startBun);
