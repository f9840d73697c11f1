// A small Upstash-REST → Redis bridge for tests: no Upstash-compatible proxy with pub/sub can be
// installed from npm (SRH and the Go proxies need Docker or Go; the npm upstash-redis-server lacks
// base64 replies, /multi-exec and /subscribe). It speaks what @upstash/redis 1.39 sends: bearer auth,
// POST / (one command), /pipeline, /multi-exec, base64 replies on `Upstash-Encoding: base64`, and
// POST /subscribe/<channel> as SSE. Bound to 127.0.0.1 only.
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { Redis } from "ioredis";

export interface UpstashBridge {
  url: string;
  token: string;
  close(): Promise<void>;
}

type Reply = Buffer | string | number | null | Reply[] | { [k: string]: Reply };

/** Upstash replies: strings (base64 when asked), numbers and null as-is, arrays recursively. */
function encode(value: Reply, base64: boolean): unknown {
  if (Buffer.isBuffer(value)) return base64 ? value.toString("base64") : value.toString("utf8");
  if (typeof value === "string") return base64 ? Buffer.from(value).toString("base64") : value;
  if (Array.isArray(value)) return value.map((v) => encode(v, base64));
  // ioredis turns HGETALL replies into objects even with callBuffer; Redis sends a flat array.
  if (value !== null && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => [encode(k, base64), encode(v, base64)]);
  return value;
}

export async function startUpstashBridge(options: { redisUrl: string }): Promise<UpstashBridge> {
  const token = randomBytes(16).toString("hex");
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 1 });
  // While Redis is down (outage tests) commands fail with errors the REST client sees; the
  // connection's own error events are expected and not worth a log line each.
  redis.on("error", () => {});
  const subscribers = new Set<Redis>();
  const app = new Hono();

  app.use("*", async (c, next) => {
    if (c.req.header("authorization") !== `Bearer ${token}`) return c.json({ error: "Unauthorized" }, 401);
    await next();
  });
  const run = async (cmd: unknown[], base64: boolean) => {
    try {
      const [name, ...args] = cmd.map(String);
      return { result: encode((await redis.callBuffer(name!, ...args)) as Reply, base64) };
    } catch (error) {
      return { error: (error as Error).message };
    }
  };
  const wantsBase64 = (c: { req: { header(n: string): string | undefined } }) => c.req.header("upstash-encoding") === "base64";

  app.post("/subscribe/*", (c) => {
    const raw = new URL(c.req.url).pathname.slice("/subscribe/".length);
    const channel = decodeURIComponent(raw);
    return streamSSE(c, async (stream) => {
      // One connection per stream, as a subscribed connection can run nothing else; no
      // reconnects, so a Redis outage ends the stream like it would on Upstash.
      const sub = new Redis(options.redisUrl, { retryStrategy: () => null, maxRetriesPerRequest: 0 });
      subscribers.add(sub);
      const ended = new Promise<void>((resolve) => {
        stream.onAbort(resolve);
        sub.on("end", resolve);
      });
      sub.on("error", () => {});
      sub.on("message", (ch: string, message: string) => void stream.writeSSE({ data: `message,${ch},${message}` }).catch(() => {}));
      try {
        await sub.subscribe(channel);
        await stream.writeSSE({ data: `subscribe,${channel},1` });
        await ended;
      } finally {
        subscribers.delete(sub);
        sub.disconnect();
      }
    });
  });
  app.post("/pipeline", async (c) => {
    const cmds = (await c.req.json()) as unknown[][];
    const out = [];
    for (const cmd of cmds) out.push(await run(cmd, wantsBase64(c)));
    return c.json(out);
  });
  app.post("/multi-exec", async (c) => {
    const cmds = (await c.req.json()) as unknown[][];
    try {
      const results = (await redis.multi(cmds.map((cmd) => cmd.map(String))).exec()) ?? [];
      return c.json(results.map(([error, result]) => (error ? { error: error.message } : { result: encode(result as Reply, wantsBase64(c)) })));
    } catch (error) {
      return c.json({ error: (error as Error).message }, 400);
    }
  });
  app.post("/", async (c) => {
    const reply = await run((await c.req.json()) as unknown[], wantsBase64(c));
    return c.json(reply, "error" in reply ? 400 : 200);
  });

  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    async close() {
      for (const sub of subscribers) sub.disconnect();
      (server as unknown as { closeAllConnections?(): void }).closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
      redis.disconnect();
    },
  };
}
