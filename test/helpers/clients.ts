// Clients for integration tests: a raw WebSocket that records every frame, pusher-js, and the
// pusher server SDK, all pointed at a TestServer.
import { createHmac } from "node:crypto";
import Pusher from "pusher-js";
import PusherServer from "pusher";
import WebSocket from "ws";
import type { TestServer } from "./server.ts";

export interface Frame {
  event: string;
  channel?: string;
  data?: unknown;
  user_id?: string;
  [key: string]: unknown;
}

/** Parses a frame's `data` when it is a JSON string (the wire form of most server events). */
export function dataOf(frame: Frame): any {
  if (typeof frame.data !== "string") return frame.data;
  try {
    return JSON.parse(frame.data);
  } catch {
    return frame.data;
  }
}

export interface RawClient {
  ws: WebSocket;
  frames: Frame[];
  /** Resolves with the first frame (seen or future) matching `match`, consuming it. */
  next(match?: (f: Frame) => boolean, timeoutMs?: number): Promise<Frame>;
  /** Resolves true if no matching frame arrives within `ms`. */
  none(match: (f: Frame) => boolean, ms?: number): Promise<boolean>;
  send(message: unknown): void;
  closed: Promise<{ code: number; reason: string }>;
  socketId?: string;
  close(): void;
}

export function byEvent(event: string, channel?: string) {
  return (f: Frame) => f.event === event && (channel === undefined || f.channel === channel);
}

export async function rawClient(server: TestServer, path = `/app/${server.key}?protocol=7&client=js&version=8.4.0`, opts: { established?: boolean } = {}): Promise<RawClient> {
  const ws = new WebSocket(`ws://${server.host}:${server.port}${path}`);
  const frames: Frame[] = [];
  const waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  ws.on("message", (raw) => {
    const frame = JSON.parse(raw.toString()) as Frame;
    const i = waiters.findIndex((w) => w.match(frame));
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(frame);
    else frames.push(frame);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.on("error", () => {});
  const client: RawClient = {
    ws,
    frames,
    next(match = () => true, timeoutMs = 5000) {
      const i = frames.findIndex(match);
      if (i >= 0) return Promise.resolve(frames.splice(i, 1)[0]!);
      return new Promise((resolve, reject) => {
        const waiter = {
          match,
          resolve: (f: Frame) => {
            clearTimeout(timer);
            resolve(f);
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no matching frame within ${timeoutMs} ms; unmatched frames: ${JSON.stringify(frames)}`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    async none(match, ms = 300) {
      try {
        await client.next(match, ms);
        return false;
      } catch {
        return true;
      }
    },
    send: (message) => ws.send(typeof message === "string" ? message : JSON.stringify(message)),
    closed,
    close: () => ws.close(),
  };
  if (opts.established !== false) {
    const established = await client.next(byEvent("pusher:connection_established"));
    client.socketId = dataOf(established).socket_id;
  }
  return client;
}

/** HMAC-SHA256 hex, as the spec's auth tokens use (independent of the server's implementation). */
export function sign(secret: string, message: string): string {
  return createHmac("sha256", secret).update(message).digest("hex");
}

export function authToken(server: TestServer, stringToSign: string): string {
  return `${server.key}:${sign(server.secret, stringToSign)}`;
}

/** Trigger params carrying an idempotency key (the SDK passes extra params into the body, untyped). */
export function idempotent(key: string): object {
  return { idempotency_key: key };
}

export function sdk(server: TestServer, appId = server.appId, key = server.key, secret = server.secret): PusherServer {
  return new PusherServer({ appId, key, secret, host: server.host, port: String(server.port), useTLS: false });
}

export interface PusherClientOptions {
  /** user_id/user_info for presence channel auth; null to sign without channel_data. */
  presence?: { user_id: string; user_info?: Record<string, any> };
  /** user_data for pusher:signin (id, user_info, watchlist). */
  user?: { id: string; user_info?: unknown; watchlist?: string[] };
  options?: Record<string, unknown>;
}

/** A pusher-js client whose auth endpoints are served in-process by the pusher SDK. */
export function pusherClient(server: TestServer, opts: PusherClientOptions = {}): Pusher {
  const backend = sdk(server);
  return new Pusher(server.key, {
    wsHost: server.host,
    wsPort: server.port,
    forceTLS: false,
    enabledTransports: ["ws"],
    disableStats: true,
    cluster: "",
    channelAuthorization: {
      customHandler: (params: { socketId: string; channelName: string }, callback: (e: Error | null, a: any) => void) => {
        const auth = params.channelName.startsWith("presence-") && opts.presence
          ? backend.authorizeChannel(params.socketId, params.channelName, opts.presence)
          : backend.authorizeChannel(params.socketId, params.channelName);
        callback(null, auth);
      },
    } as any,
    userAuthentication: {
      customHandler: (params: { socketId: string }, callback: (e: Error | null, a: any) => void) => {
        if (!opts.user) return callback(new Error("no user configured"), null);
        callback(null, backend.authenticateUser(params.socketId, opts.user));
      },
    } as any,
    ...opts.options,
  } as any);
}

/** Resolves when `emitter` (a pusher-js channel, connection or user) emits `event`. */
export function once<T = any>(emitter: { bind(event: string, cb: (data: T) => void): unknown; unbind?(event: string, cb: (data: T) => void): unknown }, event: string, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${event}`)), timeoutMs);
    const cb = (data: T) => {
      clearTimeout(timer);
      emitter.unbind?.(event, cb);
      resolve(data);
    };
    emitter.bind(event, cb);
  });
}

export async function connected(client: Pusher, timeoutMs = 5000): Promise<void> {
  if (client.connection.state === "connected") return;
  await once(client.connection, "connected", timeoutMs);
}
