// Node entrypoint: the platform the core runs on (node:crypto for HMAC/MD5, unref'd timers), an
// @hono/node-server listener whose WebSocket upgrades node-upgrade.ts takes (each socket then
// node-sockets.ts's), and the process's start and stop. Everything protocol-related lives in src/
// and is shared with Deno and Bun.
import { createHash, createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import type { Server as HttpServer } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { totalmem } from "node:os";
import { serve } from "@hono/node-server";
import type { Hono } from "hono";
import { WebSocketServer } from "ws";
import { createSwitchboard, startupLines, type Platform } from "../src/bootstrap.ts";
import type { Config } from "../src/config/load.ts";
import { gracefulStop, listening, memoryStats, nodeLikeHost, runMain, unrefTimers } from "./cli.ts";
import { limitYoungGeneration } from "./node-flags.ts";
import { configureSockets, SwitchboardWebSocket, terminateAll } from "./node-sockets.ts";
import { sockets, upgradeListener } from "./node-upgrade.ts";
import { checkWsInternals } from "./node-ws.ts";
import { startSidecars, type ServeFetch } from "./sidecars.ts";
import { readTls } from "./tls.ts";
import { warmUpNode } from "./node-warmup.ts";
import type { CryptoProvider } from "../src/core/runtime.ts";

const nodeCrypto: CryptoProvider = {
  async hmacSha256Hex(secret, message) {
    return createHmac("sha256", secret).update(message).digest("hex");
  },
  md5Hex(bytes) {
    return createHash("md5").update(bytes).digest("hex");
  },
};

const timers = unrefTimers((handle) => (handle as NodeJS.Timeout).unref());

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
  const changed = await checkWsInternals(wss);
  configureSockets({ log: instance.logger, direct: changed === undefined });
  if (changed) {
    instance.logger.warn(`ws's internals differ from what this build expects (${changed}): using its public API, so frames are sent one write each and a socket leaves its channels only once its TCP connection closes`);
  }
  /** The listener: @hono/node-server for HTTP, node-upgrade.ts's upgrade path for WebSockets. */
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
  // Before the port opens: a deploy's reconnect storm then meets a warmed process (issue 26).
  await warmUpNode(config, platform, instance.logger, async (router) => (await listenOn(router, "127.0.0.1", 0)) as HttpServer);
  const listen = () => listenOn(instance.router, config.bindAddress, config.port, tls);
  const http = await listening(instance, listen);
  const port = (http.address() as AddressInfo).port;
  const sidecars = await listening(instance, () => startSidecars(config, instance, port, serveNode));
  for (const line of startupLines(config, platform.name, port)) instance.logger.info(line);

  const stop = gracefulStop(config, instance, async () => {
    terminateAll();
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

/** Runs the server, or a command, for this process: `node dist/node.js` and the npm package's bin/switchboard.js. */
export function main(): void {
  limitYoungGeneration(process.execArgv, process.env.NODE_OPTIONS);
  runMain(nodeLikeHost(process, (path) => readFileSync(path, "utf8")), startNode);
}

if (isMain) main();
