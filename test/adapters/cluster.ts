// Helpers for the multi-node integration tests: service checks (skip locally, fail in CI), a
// cluster of real server processes sharing one Redis prefix, a private redis-server, and raw
// clients that subscribe with tokens signed like an app's auth endpoint would.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, Socket } from "node:net";
import { Redis } from "ioredis";
import { authToken, byEvent, dataOf, rawClient, sdk, type Frame, type RawClient } from "../helpers/clients.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

/** True when host:port accepts TCP connections. */
export function reachable(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("error", () => done(false));
    socket.connect(port, host, () => done(true));
  });
}

/**
 * Whether a test file can run: a missing service skips it on a developer's machine (with a
 * message saying why) but fails it in CI, where the service is part of the contract.
 */
export async function requireService(ok: boolean | Promise<boolean>, what: string): Promise<boolean> {
  if (await ok) return true;
  const message = `${what} is not reachable`;
  if (process.env.CI === "true") throw new Error(`${message}; CI must provide it`);
  console.warn(`skipping: ${message}`);
  return false;
}

/** The cluster node id a server logged when its adapter connected. */
export function nodeIdOf(server: TestServer): string {
  const m = /adapter: connected \(node ([0-9a-f-]+)\)/.exec(server.output());
  if (!m) throw new Error(`no node id in output:\n${server.output()}`);
  return m[1]!;
}

export function uniquePrefix(label: string): string {
  return `sbtest:${label}:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}:`;
}

export interface ClusterOptions {
  prefix: string;
  redisUrl?: string;
  /** Seconds; small so dead-node tests finish quickly. */
  nodeTimeout?: number;
  env?: Record<string, string>;
}

export function startNode(options: ClusterOptions): Promise<TestServer> {
  return startServer({
    env: {
      ADAPTER_DRIVER: "redis",
      REDIS_URL: options.redisUrl ?? "redis://127.0.0.1:6379",
      REDIS_PREFIX: options.prefix,
      CLUSTER_NODE_TIMEOUT: String(options.nodeTimeout ?? 2),
      APP_ENABLE_CLIENT_MESSAGES: "true",
      ...options.env,
    },
  });
}

export function startCluster(size: number, options: ClusterOptions): Promise<TestServer[]> {
  return Promise.all(Array.from({ length: size }, () => startNode(options)));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** A redis-server of our own (never the shared one), without persistence, for outage tests. */
export interface OwnRedis {
  port: number;
  url: string;
  start(): Promise<void>;
  kill(): Promise<void>;
  /** Sends a signal (SIGSTOP/SIGCONT for a hung-backend test) to the running server. */
  signal(sig: NodeJS.Signals): void;
}

/** A server process of the test's own: started on demand, killed with SIGKILL, started again. */
export function ownProcess(command: string, args: string[], ports: number[]): { start(): Promise<void>; kill(): Promise<void>; signal(sig: NodeJS.Signals): void } {
  let child: ChildProcess | undefined;
  return {
    async start() {
      child = spawn(command, args, { stdio: "ignore" });
      for (let i = 0; i < 100; i++) {
        if ((await Promise.all(ports.map((p) => reachable(p)))).every(Boolean)) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`${command} on ${ports.join("/")} did not start`);
    },
    async kill() {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((resolve) => c.once("exit", resolve));
      c.kill("SIGKILL");
      await exited;
    },
    signal(sig) {
      if (child && child.exitCode === null && child.signalCode === null) child.kill(sig);
    },
  };
}

export function ownRedis(port: number): OwnRedis {
  const server = ownProcess("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], [port]);
  return { port, url: `redis://127.0.0.1:${port}`, start: server.start, kill: server.kill, signal: server.signal };
}

/** What a Redis still holds of a node under the Lua scripts' key layout (empty once cleaned up). */
export async function redisTraces(url: string, prefix: string, nodeId: string, appId = "app-id"): Promise<string[]> {
  const redis = new Redis(url);
  try {
    const left: string[] = [];
    if ((await redis.zscore(`${prefix}{nodes}:nodes`, nodeId)) !== null) left.push("heartbeat entry");
    if ((await redis.scard(`${prefix}{${appId}}:n:${nodeId}`)) > 0) left.push("recorded items");
    if ((await redis.exists(`${prefix}{nodes}:na:${nodeId}`)) > 0) left.push("app list");
    return left;
  } finally {
    redis.disconnect();
  }
}

export const ACK = "pusher_internal:subscription_succeeded";
export const MEMBER_ADDED = "pusher_internal:member_added";
export const MEMBER_REMOVED = "pusher_internal:member_removed";

/** Subscribes a raw client (signing private/presence channels); resolves with the ack. */
export async function subscribe(server: TestServer, client: RawClient, channel: string, member?: { user_id: string; user_info?: unknown }): Promise<Frame> {
  const channelData = member ? JSON.stringify(member) : undefined;
  const signed = channelData ? `${client.socketId}:${channel}:${channelData}` : `${client.socketId}:${channel}`;
  const needsAuth = channel.startsWith("private-") || channel.startsWith("presence-");
  client.send({
    event: "pusher:subscribe",
    data: { channel, ...(needsAuth ? { auth: authToken(server, signed) } : {}), ...(channelData ? { channel_data: channelData } : {}) },
  });
  const frame = await client.next((f) => f.channel === channel && (f.event === ACK || f.event === "pusher:subscription_error"));
  if (frame.event !== ACK) throw new Error(`subscribing to ${channel} failed: ${JSON.stringify(frame)}`);
  return frame;
}

export async function subscribed(server: TestServer, channel: string, member?: { user_id: string; user_info?: unknown }): Promise<RawClient> {
  const client = await rawClient(server);
  await subscribe(server, client, channel, member);
  return client;
}

export async function signIn(server: TestServer, id: string, watchlist?: string[]): Promise<RawClient> {
  const client = await rawClient(server);
  const userData = JSON.stringify(watchlist ? { id, watchlist } : { id });
  client.send({ event: "pusher:signin", data: { auth: authToken(server, `${client.socketId}::user::${userData}`), user_data: userData } });
  await client.next(byEvent("pusher:signin_success"));
  return client;
}

/** Frames of `event` on `channel` the client received so far (not consumed by next()). */
export function received(client: RawClient, event: string, channel?: string): Frame[] {
  return client.frames.filter((f) => f.event === event && (channel === undefined || f.channel === channel));
}

/**
 * Polls `probe` until it returns true; for state that converges (heartbeat expiry, resync). A
 * probe refused with 503 (a node not back on its cluster backend yet refuses cluster reads and
 * publishes) counts as "not yet"; any other failure ends the wait.
 */
export async function eventually(probe: () => Promise<boolean> | boolean, timeoutMs = 15_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const notYet = (error: unknown) => {
    if ((error as { status?: unknown } | null)?.status === 503) return false;
    throw error;
  };
  for (;;) {
    if (await Promise.resolve().then(probe).catch(notYet)) return;
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** GET on a node's HTTP API through the official SDK, parsed. */
export async function getJson(server: TestServer, path: string, params: Record<string, string> = {}): Promise<any> {
  return (await sdk(server).get({ path, params })).json();
}

/** Triggers a marker from `server`: bus order per publisher makes it arrive after earlier events. */
export async function marker(server: TestServer, channel: string, clients: RawClient[]): Promise<void> {
  const id = Math.random().toString(36).slice(2);
  await sdk(server).trigger(channel, "marker", { id });
  await Promise.all(clients.map((c) => c.next((f) => f.event === "marker" && f.channel === channel && dataOf(f).id === id)));
}
