// The core in-process: a fake RawSocket per client, timers driven by hand and the local adapter.
// No processes, no network: tests of the server's logic and timing run in milliseconds.
import { createHash, createHmac } from "node:crypto";
import { LocalAdapter } from "../../src/adapters/local.ts";
import { MemoryAppStore } from "../../src/app-stores/memory.ts";
import { loadConfig, type Config } from "../../src/config/load.ts";
import type { Adapter } from "../../src/core/adapter.ts";
import type { AppStore } from "../../src/core/app-store.ts";
import type { App } from "../../src/core/app.ts";
import type { ServerEvent } from "../../src/core/events.ts";
import type { CryptoProvider, Logger, RawSocket, Timers } from "../../src/core/runtime.ts";
import { Switchboard, type SocketHandle } from "../../src/core/server.ts";

/** Calls the globals at call time, so vi.useFakeTimers() drives them. */
export const globalTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as ReturnType<typeof setInterval>),
  now: () => Date.now(),
};

/** Timers that fire only when the test advances the clock. */
export class ManualTimers implements Timers {
  private time = 1_700_000_000_000;
  private nextId = 1;
  private readonly pending = new Map<number, { at: number; fn: () => void; every?: number }>();

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.pending.set(id, { at: this.time + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  setInterval(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.pending.set(id, { at: this.time + ms, fn, every: Math.max(1, ms) });
    return id;
  }

  clearInterval(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /**
   * The process was stopped for `ms`: the clock jumps and each overdue timer fires once, late (as
   * a runtime's timers do after SIGCONT), at the next advance().
   */
  pause(ms: number): void {
    this.time += ms;
    for (const timer of this.pending.values()) if (timer.at < this.time) timer.at = this.time;
  }

  /** Moves the clock forward, firing due timers in time order and letting promises settle between them. */
  async advance(ms: number): Promise<void> {
    const until = this.time + ms;
    for (;;) {
      let nextId: number | undefined;
      let next: { at: number; fn: () => void; every?: number } | undefined;
      for (const [id, timer] of this.pending) if (timer.at <= until && (!next || timer.at < next.at)) [nextId, next] = [id, timer];
      if (!next) break;
      this.time = next.at;
      if (next.every) next.at += next.every;
      else this.pending.delete(nextId!);
      next.fn();
      await settle();
    }
    this.time = until;
    await settle();
  }
}

/** Lets queued promise callbacks (adapter round trips of the local adapter) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

export class FakeSocket implements RawSocket {
  readonly sent: string[] = [];
  closed?: { code: number; reason: string };
  buffered = 0;
  handle?: SocketHandle;
  /** Set by a test to play a runtime that answers pusher:ping itself (RawSocket.answeredAt). */
  answeredAt?: () => number;

  send(frame: string): void {
    if (this.closed) throw new Error("send on a closed socket");
    this.sent.push(frame);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = { code, reason };
    // A real runtime reports the close back to the core.
    queueMicrotask(() => this.handle?.close());
  }

  bufferedAmount(): number {
    return this.buffered;
  }
}

export interface Frame {
  event: string;
  channel?: string;
  data?: any;
  [key: string]: unknown;
}

export class FakeClient {
  socketId = "";
  constructor(readonly socket: FakeSocket, private readonly handle: SocketHandle, private readonly app: App) {}

  /** Every frame received, parsed (`data` too when it is a JSON string). */
  get frames(): Frame[] {
    return this.socket.sent.map((text) => {
      const frame = JSON.parse(text) as Frame;
      if (typeof frame.data === "string") {
        try {
          frame.data = JSON.parse(frame.data);
        } catch {
          // Application data that is not JSON stays a string.
        }
      }
      return frame;
    });
  }

  events(event: string, channel?: string): Frame[] {
    return this.frames.filter((f) => f.event === event && (channel === undefined || f.channel === channel));
  }

  send(message: unknown): void {
    this.handle.message(typeof message === "string" ? message : JSON.stringify(message));
  }

  /** Subscribes, signing private and presence channels as an app's auth endpoint would. */
  async subscribe(channel: string, member?: { user_id: string; user_info?: unknown }): Promise<void> {
    const channelData = member ? JSON.stringify(member) : undefined;
    const signed = channelData ? `${this.socketId}:${channel}:${channelData}` : `${this.socketId}:${channel}`;
    const auth = /^(private-|presence-)/.test(channel) ? `${this.app.key}:${hmac(this.app.secret, signed)}` : undefined;
    this.send({ event: "pusher:subscribe", data: { channel, auth, channel_data: channelData } });
    await settle();
  }

  close(): void {
    this.socket.closed ??= { code: 1000, reason: "client closed" };
    this.handle.close();
  }
}

function hmac(secret: string, text: string): string {
  return createHmac("sha256", secret).update(text).digest("hex");
}

/** Settles within a microtask, so settle() is enough to finish a signed subscribe. */
const syncCrypto: CryptoProvider = {
  hmacSha256Hex: async (secret, message) => hmac(secret, message),
  md5Hex: (bytes) => createHash("md5").update(bytes).digest("hex"),
};

export interface HarnessOptions {
  /** Environment-style settings, as a user would give them (APP_*, ACTIVITY_TIMEOUT, ...). */
  env?: Record<string, string>;
  apps?: AppStore;
  adapter?: Adapter;
  /** The test calls server.sweep() itself (as a Durable Object does from its alarm). */
  hostSweeps?: boolean;
}

export class Harness {
  readonly timers = new ManualTimers();
  readonly config: Config;
  readonly server: Switchboard;
  readonly app: App;
  readonly events: ServerEvent[] = [];
  readonly logs: { level: string; message: string }[] = [];

  constructor(options: HarnessOptions = {}) {
    this.config = loadConfig({
      argv: [],
      env: { APP_ID: "app-id", APP_KEY: "app-key", APP_SECRET: "app-secret", APP_ENABLE_CLIENT_MESSAGES: "true", ...options.env },
      readFile: (path) => {
        throw Object.assign(new Error(`no such file in the harness: ${path}`), { code: "ENOENT" });
      },
    });
    this.app = this.config.apps[0]!;
    const log = (level: string) => (message: string) => void this.logs.push({ level, message });
    const logger: Logger = { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
    this.server = new Switchboard({
      settings: this.config,
      apps: options.apps ?? new MemoryAppStore(this.config.apps),
      adapter: options.adapter ?? new LocalAdapter(() => this.timers.now()),
      timers: this.timers,
      crypto: syncCrypto,
      logger,
      hostSweeps: options.hostSweeps,
    });
    this.server.events.subscribe("harness", (e) => void this.events.push(e));
  }

  async start(): Promise<this> {
    await this.server.start();
    return this;
  }

  /** Opens a socket as a runtime would after an upgrade to /app/{key}. */
  async connect(appKey = this.app.key, protocol: string | null = "7"): Promise<FakeClient> {
    const socket = new FakeSocket();
    const handle = this.server.accept({ appKey, protocol, origin: null });
    socket.handle = handle;
    handle.open(socket);
    const client = new FakeClient(socket, handle, this.app);
    await settle();
    const established = client.events("pusher:connection_established")[0];
    if (established) client.socketId = established.data.socket_id;
    return client;
  }

  eventsOf<K extends ServerEvent["kind"]>(kind: K): Extract<ServerEvent, { kind: K }>[] {
    return this.events.filter((e): e is Extract<ServerEvent, { kind: K }> => e.kind === kind);
  }

  async stop(): Promise<void> {
    const stopped = this.server.shutdown();
    await this.timers.advance(10_000);
    await stopped;
  }
}
