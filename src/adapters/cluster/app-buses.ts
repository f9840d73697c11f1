// A bus per app: a node hears an app's bus only while it serves that app's sockets (or
// a console watches the app), so a node spends nothing on the traffic of apps it does not serve.
// This keeps, per app, how many holders (sockets, console viewers) want its bus and whether the
// backend confirmed the subscription; the driver subscribes and unsubscribes. The node-level bus
// (hellos, console revocations) is not here: every node always hears it.
import type { Logger, TimerHandle, Timers } from "../../core/runtime.ts";

/** What a driver does for AppBuses; each call resolves once the backend confirmed it. */
export interface AppBusDriver {
  subscribe(appIds: string[]): Promise<void>;
  unsubscribe(appIds: string[]): Promise<void>;
}

export interface AppBusOptions {
  driver: AppBusDriver;
  timers: Timers;
  /** How long an app's subscription outlives its last holder (CLUSTER_BUS_LINGER_MS). */
  lingerMs: number;
  logger: Logger;
  /** The driver's name, for the logs. */
  name: string;
  /** Whether the bus works now; while it does not, subscriptions wait for restore(). */
  online(): boolean;
  failed(operation: string, error: unknown): void;
}

/** CLUSTER_BUS_LINGER_MS's default. */
export const DEFAULT_BUS_LINGER_MS = 5000;

interface Entry {
  holders: number;
  /** The backend confirmed the subscription, and the bus has not been lost since. */
  subscribed: boolean;
  linger?: TimerHandle;
  /** This app's subscribe and unsubscribe run one after another, never crossing. */
  chain: Promise<void>;
}

/**
 * An app id as one token of a channel or subject name: [A-Za-z0-9-] as they are, every other
 * UTF-8 byte as _XX. NATS subjects refuse ".", "*", ">" and spaces, and Upstash puts the channel
 * raw into a URL path and splits its stream's lines at commas; the encoding is one-to-one.
 */
export function appToken(appId: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(appId)) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9-]/.test(c) ? c : `_${byte.toString(16).padStart(2, "0")}`;
  }
  return out;
}

export class AppBuses {
  private readonly apps = new Map<string, Entry>();
  /** Bumped when the bus is lost: a subscribe that was under way then does not count. */
  private generation = 0;
  /** Bus messages received from other nodes, per app (the metric). */
  readonly received = new Map<string, number>();

  constructor(private readonly opts: AppBusOptions) {}

  /**
   * One more holder of the app's bus. Resolves once the backend confirmed the subscription, so a
   * socket is never told it is connected before publishes from other nodes can reach it. While
   * the bus is away it resolves at once (the node serves its own sockets then; restore()
   * subscribes before the node counts as up). Rejects when the backend refused or did not answer
   * in time while up; the hold is then given back.
   */
  async hold(appId: string): Promise<void> {
    const entry = this.entry(appId);
    entry.holders++;
    if (entry.linger !== undefined) {
      this.opts.timers.clearTimeout(entry.linger);
      entry.linger = undefined;
    }
    if (entry.subscribed || !this.opts.online()) return;
    try {
      await this.serial(entry, () => this.subscribe(appId, entry));
    } catch (error) {
      if (!this.opts.online()) return; // lost meanwhile: restore() covers it
      this.release(appId);
      throw error;
    }
  }

  /** One holder fewer; after the last, the subscription lingers, then goes. */
  release(appId: string): void {
    const entry = this.apps.get(appId);
    if (!entry || entry.holders === 0) return;
    if (--entry.holders > 0) return;
    // A client that reconnects at once (a page reload, a network switch) finds the subscription
    // still there instead of making this node unsubscribe and subscribe again within a second.
    entry.linger = this.opts.timers.setTimeout(() => this.expire(appId, entry), this.opts.lingerMs);
  }

  /** Whether the node holds the app's bus (a socket or viewer), lingering or not. */
  holds(appId: string): boolean {
    return (this.apps.get(appId)?.holders ?? 0) > 0;
  }

  /**
   * A message of the app arrived from another node: counted. One for an app this node no longer
   * wants (an unsubscribe that failed, a client library that re-subscribed by itself after a
   * reconnect) starts the linger that drops it.
   */
  heard(appId: string): void {
    this.received.set(appId, (this.received.get(appId) ?? 0) + 1);
    if (this.apps.has(appId) || !this.opts.online()) return;
    const entry = this.entry(appId);
    entry.subscribed = true;
    entry.linger = this.opts.timers.setTimeout(() => this.expire(appId, entry), this.opts.lingerMs);
  }

  /** The bus was lost: no subscription counts as confirmed until restore() renews it. */
  lost(): void {
    this.generation++;
    for (const entry of this.apps.values()) entry.subscribed = false;
  }

  /**
   * Subscribes every held app again (the bus is back); the lifecycle counts the node as up only
   * after it. Apps held meanwhile are taken in the next round, until none is left.
   */
  async restore(): Promise<void> {
    for (;;) {
      const todo = [...this.apps].filter(([, e]) => e.holders > 0 && !e.subscribed).map(([appId]) => appId);
      if (todo.length === 0) return;
      const generation = this.generation;
      await this.opts.driver.subscribe(todo);
      if (generation !== this.generation) throw new Error("the bus was lost again while subscribing to the apps' buses");
      for (const appId of todo) {
        const entry = this.apps.get(appId);
        if (entry) entry.subscribed = true;
      }
      this.opts.logger.debug(`${this.opts.name} adapter: subscribed to the bus of ${todo.length} app(s) again`);
    }
  }

  stop(): void {
    for (const entry of this.apps.values()) if (entry.linger !== undefined) this.opts.timers.clearTimeout(entry.linger);
    this.apps.clear();
  }

  private entry(appId: string): Entry {
    let entry = this.apps.get(appId);
    if (!entry) this.apps.set(appId, (entry = { holders: 0, subscribed: false, chain: Promise.resolve() }));
    return entry;
  }

  private serial(entry: Entry, op: () => Promise<void>): Promise<void> {
    const run = entry.chain.then(op);
    // The chain only orders; each op's failure goes to whoever awaits `run`.
    entry.chain = run.then(undefined, () => undefined);
    return run;
  }

  private async subscribe(appId: string, entry: Entry): Promise<void> {
    if (entry.subscribed || entry.holders === 0 || !this.opts.online()) return;
    const generation = this.generation;
    await this.opts.driver.subscribe([appId]);
    if (generation === this.generation) entry.subscribed = true;
    this.opts.logger.debug(`${this.opts.name} adapter: subscribed to the bus of app ${appId}`);
  }

  private expire(appId: string, entry: Entry): void {
    entry.linger = undefined;
    if (entry.holders > 0) return;
    const unsubscribe = async () => {
      if (entry.holders > 0 || entry.linger !== undefined || !entry.subscribed) return;
      entry.subscribed = false;
      if (!this.opts.online()) return; // the bus is gone; a stray message after it comes back drops it
      await this.opts.driver.unsubscribe([appId]);
      this.opts.logger.debug(`${this.opts.name} adapter: unsubscribed from the bus of app ${appId} (no socket or console of it here)`);
    };
    this.serial(entry, unsubscribe)
      .catch((error: unknown) => this.opts.failed(`unsubscribing from the bus of app ${appId}`, error))
      .finally(() => {
        if (entry.holders === 0 && entry.linger === undefined && !entry.subscribed && this.apps.get(appId) === entry) this.apps.delete(appId);
      });
  }
}
