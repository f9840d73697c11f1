// Deno entrypoint: Deno.serve for HTTP, Deno.upgradeWebSocket for WebSockets (the upgrade is
// routed by the shared Hono router), Web Crypto for HMAC. Protocol logic is shared with Node and Bun in src/.
// Run with `deno run -A runtimes/deno.ts` from the repo root (deno.json: nodeModulesDir manual).
// (hono/deno is marked deprecated for @hono/deno, which is not on npm yet: runtime-notes §2.)
import { getConnInfo } from "hono/deno";
import { createSwitchboard, startupLines, type Platform } from "../src/bootstrap.ts";
import type { Config } from "../src/config/load.ts";
import { webCryptoProvider } from "../src/core/crypto.ts";
import type { RawSocket } from "../src/core/runtime.ts";
import type { SocketBinding } from "../src/http/router.ts";
import type { SocketHandle } from "../src/core/server.ts";
import { gracefulStop, listening, memoryStats, runMain, unrefTimers } from "./cli.ts";
import { startSidecars, type ServeFetch } from "./sidecars.ts";
import { readTls } from "./tls.ts";

const OPEN = 1;

// Deno's timers are numbers; unref'd so a pending sweep never keeps a stopping process alive.
const timers = unrefTimers((id) => Deno.unrefTimer(id as number));

const decoder = new TextDecoder();

/**
 * One object per socket: the core's RawSocket and the socket's handle. Deno's server WebSocket
 * has no ping API and does not surface pongs, so `ping` is absent: the core's
 * pusher:ping/pusher:pong keeps liveness working. Deno throws on send after close (ws and Bun
 * ignore it), which must not abort a broadcast loop, hence the readyState guard.
 */
class DenoSocket implements RawSocket {
  constructor(readonly raw: WebSocket, readonly handle: SocketHandle) {}
  send(frame: string): void {
    if (this.raw.readyState === OPEN) this.raw.send(frame);
  }
  close(code: number, reason: string): void {
    this.raw.close(code, reason);
  }
  bufferedAmount(): number {
    return this.raw.bufferedAmount;
  }
}

/** Where a socket's listeners find its DenoSocket (`this` is the WebSocket in a listener). */
const BOUND = Symbol("switchboard.socket");
type Bound = WebSocket & { [BOUND]: DenoSocket };

// Shared listeners instead of four closures set through on* handlers per socket: Deno wraps each
// on* handler in listener objects of its own (bench/deno-bare.ts: ~2–3 KB RSS per idle socket
// with closures vs without, at 5000).
function onOpen(this: WebSocket) {
  // Fires once: dropping it leaves an idle socket holding only its message and close listeners.
  this.removeEventListener("open", onOpen);
  const s = (this as Bound)[BOUND];
  s.handle.open(s);
}
function onMessage(this: WebSocket, event: MessageEvent) {
  const data: unknown = event.data;
  const handle = (this as Bound)[BOUND].handle;
  if (typeof data === "string") handle.message(data);
  else if (data instanceof ArrayBuffer) handle.message(decoder.decode(data));
}
function onClose(this: WebSocket) {
  (this as Bound)[BOUND].handle.close();
}

/**
 * The router accepted an upgrade: Deno.upgradeWebSocket with `idleTimeout: 0`, because Deno's own
 * idle pings close silent sockets with 1001 on a schedule of their own, while liveness is the
 * core's job (activity timeout, pusher:ping, 4201) on every runtime. The socket's events go
 * straight to the core's handle; nothing of Hono's Context is kept.
 */
const sockets: SocketBinding = {
  upgrade(c, handle) {
    const protocol = c.req.header("sec-websocket-protocol")?.split(",")[0]?.trim();
    const { response, socket } = Deno.upgradeWebSocket(c.req.raw, { idleTimeout: 0, ...(protocol ? { protocol } : {}) });
    // Strings and ArrayBuffers decode synchronously; a Blob (the spec's default) would need an await.
    socket.binaryType = "arraybuffer";
    (socket as Bound)[BOUND] = new DenoSocket(socket, handle);
    socket.addEventListener("open", onOpen);
    socket.addEventListener("message", onMessage);
    // No "error" listener: Deno dispatches close right after every error (ext/websocket's event
    // loop, close() and the idle timeout alike), and each listener is kept per socket.
    socket.addEventListener("close", onClose);
    return response;
  },
  // Reads the Deno.ServeHandlerInfo that Deno.serve passes as the router's env (see listen below).
  connInfo: getConnInfo,
};

/** A plain HTTP listener for the sidecars (metrics, the https redirect). */
const serveDeno: ServeFetch = (fetch, hostname, port) =>
  new Promise((resolve, reject) => {
    try {
      const server = Deno.serve({ hostname, port, onListen: (addr) => resolve({ port: addr.port, close: () => server.shutdown() }) }, (request) => fetch(request));
    } catch (error) {
      reject(error);
    }
  });

export async function startDeno(config: Config) {
  const platform: Platform = {
    name: `deno ${Deno.version.deno}`,
    sockets,
    timers,
    crypto: webCryptoProvider(),
    readTextFile: (path) => Deno.readTextFile(path),
    memoryUsage: memoryStats(() => Deno.memoryUsage()),
    totalMemory: () => Deno.systemMemoryInfo().total,
  };
  const tls = config.sslEnabled ? readTls(config, (path) => Deno.readTextFileSync(path)) : undefined;
  if (tls?.passphrase) throw new Error("SSL_PASSPHRASE is not supported on Deno (Deno.serve takes an unencrypted key): decrypt the key, or run on Node or Bun");
  const instance = await createSwitchboard(config, platform);
  let http!: Deno.HttpServer;
  const listen = () => new Promise<number>((resolve) => {
    http = Deno.serve(
      // https:// and wss:// on the same port. (SSL_CA_PATH: Deno sends the chain in SSL_CERT_PATH.)
      { hostname: config.bindAddress, port: config.port, onListen: (addr) => resolve(addr.port), ...(tls ? { cert: tls.ca ? `${tls.cert}\n${tls.ca}` : tls.cert, key: tls.key } : {}) },
      (request, info) => instance.router.fetch(request, info),
    );
  });
  const port = await listening(instance, listen);
  const sidecars = await listening(instance, () => startSidecars(config, instance, port, serveDeno));
  for (const line of startupLines(config, platform.name, port)) instance.logger.info(line);
  // shutdown() waits for open requests; upgraded sockets were closed with 4200 just before.
  const stop = gracefulStop(config, instance, async () => {
    await sidecars.close();
    await http.shutdown();
  });
  // Deno.serve cannot swap the certificate of a running listener (no setSecureContext/reload).
  const reload = () =>
    instance.logger.warn(config.sslEnabled
      ? "SIGHUP: Deno cannot reload the TLS certificate of a running server; restart it (or run on Node or Bun) to load a new one"
      : "SIGHUP: nothing to reload (TLS is off)");
  return { instance, port, stop, reload, metricsPort: sidecars.metricsPort };
}

if (import.meta.main) {
  runMain(
    {
      argv: Deno.args,
      env: Deno.env.toObject(),
      readFileSync: (path) => Deno.readTextFileSync(path),
      exit: (code) => Deno.exit(code),
      onSignal: (signal, listener) => Deno.addSignalListener(signal, listener),
      onUnhandledRejection: (listener) =>
        globalThis.addEventListener("unhandledrejection", (event) => {
          event.preventDefault();
          listener(event.reason);
        }),
    },
    startDeno,
  );
}
