// Node entrypoint: @hono/node-server for HTTP, the ws package for WebSockets, node:crypto for
// HMAC/MD5. Everything protocol-related lives in src/ and is shared with Deno and Bun.
import { createHash, createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { serve, upgradeWebSocket } from "@hono/node-server";
import type { WSContext } from "hono/ws";
import { WebSocketServer, type WebSocket } from "ws";
import { createSwitchboard, startupLines, type Platform } from "../src/bootstrap.ts";
import { ConfigError, HELP, loadConfig, type Config } from "../src/config/load.ts";
import type { CryptoProvider, RawSocket, Timers } from "../src/core/runtime.ts";
import type { SocketHandle } from "../src/core/server.ts";

const nodeCrypto: CryptoProvider = {
  async hmacSha256Hex(secret, message) {
    return createHmac("sha256", secret).update(message).digest("hex");
  },
  md5Hex(bytes) {
    return createHash("md5").update(bytes).digest("hex");
  },
};

const timers: Timers = {
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  now: Date.now,
};

function wrapSocket(ws: WSContext<WebSocket>, handle: SocketHandle): RawSocket {
  const raw = ws.raw!;
  raw.on("pong", handle.alive);
  raw.on("ping", handle.alive);
  return {
    send: (frame) => raw.send(frame),
    close: (code, reason) => raw.close(code, reason),
    bufferedAmount: () => raw.bufferedAmount,
    ping: () => raw.ping(),
  };
}

export async function startNode(config: Config) {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: Math.ceil(config.maxWebSocketMessageKb * 1024),
    perMessageDeflate: false,
  });
  const platform: Platform = {
    name: `node ${process.version}`,
    sockets: { upgradeWebSocket, wrapSocket },
    timers,
    crypto: nodeCrypto,
    readTextFile: (path) => readFile(path, "utf8"),
    memoryUsage: () => {
      const m = process.memoryUsage();
      return { rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed };
    },
  };
  const instance = await createSwitchboard(config, platform);
  const http = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const srv = serve(
      { fetch: instance.router.fetch, hostname: config.bindAddress, port: config.port, websocket: { server: wss } },
      () => resolve(srv),
    );
  });
  const port = (http.address() as AddressInfo).port;
  for (const line of startupLines(config, platform.name, port)) instance.logger.info(line);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      instance.logger.info("shutting down: closing sockets with 4200");
      await instance.stop();
      await new Promise((r) => setTimeout(r, Math.min(config.shutdownGracePeriodMs, 500)));
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    })());
  return { instance, port, stop };
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, "/").split("/").pop()!);
if (isMain) {
  const argv = process.argv.slice(2);
  if (argv.includes("--help")) {
    console.log(HELP);
    process.exit(0);
  }
  let config: Config;
  try {
    config = loadConfig({ argv, env: process.env, readFile: (p) => readFileSync(p, "utf8") });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`switchboard: configuration error: ${error.message}`);
      process.exit(78);
    }
    throw error;
  }
  // A failed backend call must be logged, never take every connection down with the process.
  process.on("unhandledRejection", (error) => console.error("[switchboard] error: unhandled rejection", error));
  startNode(config).then(({ stop }) => {
    const onSignal = () => void stop().then(() => process.exit(0));
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
  }, (error) => {
    console.error(`switchboard: failed to start: ${(error as Error).message}`);
    process.exit(1);
  });
}
