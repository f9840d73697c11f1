// The "redis" adapter driver: ioredis over TCP (works on Node, Deno and Bun). One connection runs
// the state scripts and publishes; a second one is subscribed to the prefix's bus channel.
import { Redis, type RedisOptions } from "ioredis";
import type { Logger, Timers } from "../core/runtime.ts";
import { ClusterAdapter, type BackendEvents, type ClusterBackend } from "./cluster/adapter.ts";
import { SCRIPTS, type ScriptName } from "./cluster/scripts.ts";

/** Reconnect backoff: 100 ms doubling up to 5 s, forever (a bus outage must never end the node). */
export const reconnectDelay = (attempt: number): number => Math.min(100 * 2 ** Math.min(attempt, 6), 5000);

type ScriptRunner = Record<string, (key: string, ...args: (string | number)[]) => Promise<unknown>>;

export class RedisBackend implements ClusterBackend {
  private cmd?: Redis;
  private sub?: Redis;
  private up = false;
  private lastError = "connection closed";

  constructor(private readonly url: string) {}

  open(busChannel: string, events: BackendEvents): void {
    // No offline queue and no resending: while Redis is away a command fails at once and the
    // adapter answers from local state, then resynchronises, instead of piling up stale writes.
    const common: RedisOptions = { retryStrategy: reconnectDelay, connectTimeout: 5000 };
    const cmd = new Redis(this.url, { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false });
    // The subscriber queues its SUBSCRIBE until connected and re-subscribes after reconnects.
    const sub = new Redis(this.url, { ...common, maxRetriesPerRequest: null });
    this.cmd = cmd;
    this.sub = sub;
    for (const script of Object.values(SCRIPTS)) cmd.defineCommand(script.name, { numberOfKeys: 1, lua: script.lua });

    let subscribed = false;
    const maybeUp = () => {
      if (!this.up && subscribed && cmd.status === "ready") {
        this.up = true;
        events.up();
      }
    };
    const down = () => {
      if (!this.up) return;
      this.up = false;
      events.down(this.lastError);
    };
    // Errors repeat on every reconnect attempt; the adapter logs state changes, not each error.
    cmd.on("error", (error: Error) => (this.lastError = error.message));
    sub.on("error", () => {});
    cmd.on("ready", maybeUp);
    cmd.on("close", down);
    cmd.on("end", down);
    sub.on("message", (channel: string, payload: string) => {
      if (channel === busChannel) events.message(payload);
    });
    sub.subscribe(busChannel).then(() => {
      subscribed = true;
      maybeUp();
    }, () => {});
  }

  run(script: ScriptName, key: string, args: (string | number)[]): Promise<unknown> {
    const runner = this.cmd as unknown as ScriptRunner;
    return runner[SCRIPTS[script].name]!.call(this.cmd, key, ...args);
  }

  async publish(busChannel: string, payload: string): Promise<void> {
    await this.cmd!.publish(busChannel, payload);
  }

  async close(): Promise<void> {
    this.up = false;
    this.sub?.disconnect();
    if (this.cmd?.status === "ready") await this.cmd.quit().catch(() => this.cmd?.disconnect());
    else this.cmd?.disconnect();
  }
}

export interface RedisAdapterOptions {
  url: string;
  prefix: string;
  nodeTimeoutMs: number;
  timers: Timers;
  logger: Logger;
}

export function createRedisAdapter(options: RedisAdapterOptions): ClusterAdapter {
  return new ClusterAdapter("redis", new RedisBackend(options.url), options);
}
