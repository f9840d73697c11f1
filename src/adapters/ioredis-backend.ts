// What the two ioredis drivers (single Redis and Redis Cluster) share: script definitions, the
// up/down state machine across the command and subscriber connections, script calls and close.
import type { Cluster, Redis } from "ioredis";
import type { ClusterBackend } from "./cluster/backend.ts";
import type { TransportEvents } from "./cluster/transport.ts";
import { SCRIPTS, type ScriptName } from "./cluster/scripts.ts";


type ScriptRunner = Record<string, (keyCount: number, ...keysAndArgs: (string | number)[]) => Promise<unknown>>;

/** ioredis's rejection when a command outlives `commandTimeout`. */
export const COMMAND_TIMED_OUT = "Command timed out";

function timedOut(error: unknown): boolean {
  return error instanceof Error && error.message === COMMAND_TIMED_OUT;
}

export interface IoredisConnections<C extends Redis | Cluster> {
  cmd: C;
  sub: C;
  /** "message" for classic pub/sub, "smessage" for sharded. */
  messageEvent: "message" | "smessage";
  /** Resolves once the server confirmed every channel. */
  subscribe(channels: string[]): Promise<unknown>;
  unsubscribe(channels: string[]): Promise<unknown>;
  /** PUBLISH for classic pub/sub, SPUBLISH for sharded. */
  publish(channel: string, payload: string): Promise<unknown>;
}

export abstract class IoredisBackend<C extends Redis | Cluster> implements ClusterBackend {
  private cmd?: C;
  private sub?: C;
  private send?: (channel: string, payload: string) => Promise<unknown>;
  private subscriptions?: Pick<IoredisConnections<C>, "subscribe" | "unsubscribe">;
  private up = false;
  /**
   * Commands time out on a connection that stays "ready" (a stopped or overloaded server): the
   * node is down until a PING answers within the deadline (probe), since no `ready` will fire.
   */
  private hung = false;
  private probing = false;
  private maybeUp: () => void = () => {};
  /** Subscribes to the node channel again if a subscribe failed (each probe while down). */
  private resubscribe: () => void = () => {};
  private events?: TransportEvents;
  private lastError = "connection closed";

  /** Opens the command connection (no offline queue: fail fast while away) and the subscriber. */
  protected abstract connect(): IoredisConnections<C>;

  /** Whether the server answers again (the probe); each command is bound by the deadline. */
  protected ping(cmd: C): Promise<unknown> {
    return cmd.ping();
  }

  open(nodeChannel: string, events: TransportEvents): void {
    const { cmd, sub, messageEvent, subscribe, unsubscribe, publish } = this.connect();
    this.cmd = cmd;
    this.sub = sub;
    this.send = publish;
    this.subscriptions = { subscribe, unsubscribe };
    this.events = events;
    // No fixed numberOfKeys: each call passes its own count (a release names every key it touches).
    for (const script of Object.values(SCRIPTS)) cmd.defineCommand(script.name, { lua: script.lua });

    let subscribed = false;
    let subscribing = false;
    const maybeUp = () => {
      if (!this.up && !this.hung && subscribed && cmd.status === "ready") {
        this.up = true;
        events.up();
      }
    };
    this.maybeUp = maybeUp;
    const down = () => {
      if (!this.up) return;
      this.up = false;
      events.down(this.lastError);
    };
    // A fresh connection answers by definition; a hang seen on the old one is over.
    cmd.on("ready", () => (this.hung = false));
    // Errors repeat on every reconnect attempt, so they are not logged one by one: the latest is
    // the reason the adapter logs when the connection is lost. The subscriber reconnects with
    // the command connection (same server), so its errors only matter while commands still work.
    cmd.on("error", (error: Error) => (this.lastError = error.message));
    sub.on("error", (error: Error) => (this.lastError = `bus subscriber: ${error.message}`));
    cmd.on("ready", maybeUp);
    cmd.on("close", down);
    cmd.on("end", down);
    // The subscriber holds only our channels: the node channel and the apps' (ClusterAdapter).
    sub.on(messageEvent, (_channel: string, payload: string) => events.message(payload));
    const subscribeBus = () => {
      subscribing = true;
      return subscribe([nodeChannel]).then(() => {
        subscribed = true;
        maybeUp();
      }, (error: Error) => {
        // Without the bus subscription the node never goes up, so this must not pass unseen; the
        // probe tries again each tick (a cluster still forming answers CLUSTERDOWN, and no later
        // "ready" may come to retry it).
        this.lastError = `bus subscribe failed: ${error.message}`;
        events.failed(`subscribing to the bus channel ${nodeChannel}`, error);
      }).finally(() => (subscribing = false));
    };
    this.resubscribe = () => {
      if (!subscribed && !subscribing) void subscribeBus();
    };
    // Without its subscriber the node hears no other node, even with commands working: it is
    // down until the subscription is back. ioredis re-subscribes by itself on reconnect, without
    // telling when that is done; our own SUBSCRIBE after it is answered in order, so its reply
    // says the bus is back (subscribing twice to a channel is harmless).
    const subscriberLost = () => {
      if (!subscribed) return;
      subscribed = false;
      this.lastError = "bus subscriber disconnected";
      down();
    };
    sub.on("close", subscriberLost);
    sub.on("end", subscriberLost);
    sub.on("ready", () => {
      if (!subscribed) void subscribeBus();
    });
    void subscribeBus();
  }

  async publish(channel: string, payload: string): Promise<void> {
    if (!this.send) throw new Error("not connected");
    await this.watch(this.send(channel, payload));
  }

  async subscribe(channels: string[]): Promise<void> {
    if (!this.subscriptions) throw new Error("not connected");
    await this.subscriptions.subscribe(channels);
  }

  async unsubscribe(channels: string[]): Promise<void> {
    if (!this.subscriptions) throw new Error("not connected");
    await this.subscriptions.unsubscribe(channels);
  }

  run(script: ScriptName, keys: string[], args: (string | number)[]): Promise<unknown> {
    const runner = this.cmd as unknown as ScriptRunner;
    return this.watch(runner[SCRIPTS[script].name]!.call(this.cmd, keys.length, ...keys, ...args));
  }

  /** A command that outlived its deadline makes the backend hung: an outage like a lost connection. */
  private async watch<T>(command: Promise<T>): Promise<T> {
    try {
      return await command;
    } catch (error) {
      if (timedOut(error)) this.wentHung(error as Error);
      throw error;
    }
  }

  private wentHung(error: Error): void {
    if (this.hung) return;
    this.hung = true;
    this.lastError = `no answer within the request deadline (${error.message})`;
    if (!this.up) return;
    this.up = false;
    this.events?.down(this.lastError);
  }

  /**
   * Called each tick while the lifecycle is down. While hung, one PING at a time (itself bound by
   * the command deadline): an answer means the server works again, and the node goes up.
   */
  probe(): void {
    this.resubscribe();
    if (!this.hung || this.probing || this.cmd?.status !== "ready") return;
    this.probing = true;
    this.ping(this.cmd).then(() => {
      this.hung = false;
      this.maybeUp();
    }, (error: Error) => {
      // Expected while the server is still stopped; the outage was logged when it began.
      this.lastError = `no answer within the request deadline (${error.message})`;
      this.events?.failed("probing a backend that stopped answering", error);
    }).finally(() => (this.probing = false));
  }

  async close(): Promise<void> {
    this.up = false;
    this.sub?.disconnect();
    // QUIT lets a working server finish what we sent; a hung one would only make us wait.
    if (this.cmd?.status === "ready" && !this.hung) {
      await this.cmd.quit().catch((error: Error) => {
        this.events?.failed("closing the command connection", error);
        this.cmd?.disconnect();
      });
    }
    else this.cmd?.disconnect();
  }
}
