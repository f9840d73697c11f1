// The graceful stop's phases and the two waits they need, kept out of server.ts. A node stops in
// order (docs/operating.md, "Graceful stop"): `draining` (not ready, everything still served, so a balancer
// takes it out before anything is refused), `closing` (new handshakes get 4200, open sockets are
// closed with 4200 over a short window and cleaned up), `stopping` (the API answers 503, work in
// flight finishes), `stopped` (the adapter let go). A publish is never answered 2xx by a node that
// can no longer deliver it.
import { ClusterUnavailableError } from "./adapter.ts";
import type { EventStream } from "./events.ts";
import type { Logger, Timers } from "./runtime.ts";

export type ShutdownPhase = "running" | "draining" | "closing" | "stopping" | "stopped";

/** Closes are spread in ticks this far apart: short enough to use the window evenly. */
const CLOSE_TICK_MS = 50;

/**
 * Calls `close` for each item, spread over `spreadMs`: a tick every CLOSE_TICK_MS closes an even
 * share, so ten thousand clients reconnect over the window rather than in one spike, while a
 * handful close within a few ticks (there is no spike to spread).
 */
async function closeSpread<T>(items: readonly T[], spreadMs: number, timers: Timers, close: (item: T) => void): Promise<void> {
  const ticks = Math.max(1, Math.floor(spreadMs / CLOSE_TICK_MS));
  const perTick = Math.max(1, Math.ceil(items.length / ticks));
  for (let i = 0; i < items.length; i += perTick) {
    if (i > 0) await sleep(timers, CLOSE_TICK_MS);
    for (const item of items.slice(i, i + perTick)) close(item);
  }
}

/** Waits for every promise to settle, or `ms`; true when all settled in time. */
async function settleWithin(promises: readonly Promise<unknown>[], ms: number, timers: Timers): Promise<boolean> {
  if (promises.length === 0) return true;
  let timer: unknown;
  const timeout = new Promise<false>((resolve) => (timer = timers.setTimeout(() => resolve(false), ms)));
  const settled = Promise.allSettled(promises).then(() => true as const);
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    timers.clearTimeout(timer);
  }
}

function sleep(timers: Timers, ms: number): Promise<void> {
  return new Promise((resolve) => timers.setTimeout(() => resolve(), ms));
}

/**
 * How long a stop waits for the closed sockets' cleanup, then for API work in flight, before the
 * adapter goes: a hung backend must not keep the process from exiting.
 */
const STOP_WAIT_MS = 5000;
/**
 * How long the closing waits for the runtime to report the sockets it closed (the client's close
 * frame came back): the listener must not cut them first, or clients see 1006 instead of 4200.
 */
const CLOSE_HANDSHAKE_WAIT_MS = 1000;

/** What the phases do to the node (src/core/server.ts supplies them). */
export interface StopHooks<S> {
  /** The open sockets, at the moment of asking. */
  sockets(): S[];
  /** 4200 to one socket, its cleanup pending; false when it was closed already. */
  close(socket: S): boolean;
  /** The closed sockets' cleanups still running. */
  cleanups(): Promise<unknown>[];
  /** Stops the node's own timers and the adapter. */
  release(): Promise<void>;
}

/** The graceful stop's state machine: each phase once, in order, each logged and a server event. */
export class GracefulStop<S> {
  phase: ShutdownPhase = "running";
  private closed?: Promise<void>;
  private stopped?: Promise<void>;
  /** API work admitted before the stop: the adapter stops after it finished. */
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Sockets the closing closed, until the runtime reports them closed (see reported). */
  private readonly unreported = new Map<S, () => void>();

  constructor(
    private readonly node: { timers: Timers; logger: Logger; events: EventStream },
    private readonly hooks: StopHooks<S>,
  ) {}

  get refusesSockets(): boolean {
    return this.phase !== "running" && this.phase !== "draining";
  }

  get refusesApi(): boolean {
    return this.phase === "stopping" || this.phase === "stopped";
  }

  admit<T>(work: () => Promise<T>): Promise<T> {
    if (this.refusesApi) {
      return Promise.reject(new ClusterUnavailableError("Server is shutting down, retry"));
    }
    const running = work();
    this.inFlight.add(running);
    const done = () => void this.inFlight.delete(running);
    running.then(done, done);
    return running;
  }

  drain(): void {
    if (this.phase === "running") this.enter("draining", "/ready answers 503; the API, sockets and bus keep serving");
  }

  /** Spread so clients do not reconnect elsewhere in one spike; resolves once the cleanups ran. */
  closeSockets(spreadMs: number): Promise<void> {
    this.drain();
    return (this.closed ??= (async () => {
      const sockets = this.hooks.sockets();
      this.enter("closing", `new handshakes get 4200; closing ${sockets.length} sockets with 4200 over ${spreadMs} ms`);
      const reports: Promise<void>[] = [];
      const close = (socket: S) => {
        // Listened for before closing: a runtime may report the close at once.
        reports.push(new Promise((resolve) => this.unreported.set(socket, resolve)));
        if (!this.hooks.close(socket)) this.reported(socket);
      };
      await closeSpread(sockets, spreadMs, this.node.timers, close);
      // Whatever opened meanwhile (a handshake past its checks when the closing began).
      for (const socket of this.hooks.sockets()) close(socket);
      await this.wait(reports, CLOSE_HANDSHAKE_WAIT_MS, "close handshakes");
      await this.wait(this.hooks.cleanups(), STOP_WAIT_MS, "socket cleanups");
    })());
  }

  /** Closes the sockets first if that phase did not run (a failed listen). */
  stop(): Promise<void> {
    return (this.stopped ??= (async () => {
      await this.closeSockets(0);
      this.enter("stopping", `the API answers 503; waiting for ${this.inFlight.size} requests in flight`);
      await this.wait([...this.inFlight], STOP_WAIT_MS, "API requests");
      await this.hooks.release();
      this.enter("stopped", "adapter stopped");
    })());
  }

  /** The runtime reported `socket` closed. */
  reported(socket: S): void {
    const resolve = this.unreported.get(socket);
    if (!resolve) return;
    this.unreported.delete(socket);
    resolve();
  }

  private async wait(promises: Promise<unknown>[], ms: number, what: string): Promise<void> {
    if (await settleWithin(promises, ms, this.node.timers)) return;
    this.node.logger.warn(`shutdown: ${what} still running after ${ms} ms; going on`);
  }

  private enter(phase: Exclude<ShutdownPhase, "running">, detail: string): void {
    this.phase = phase;
    this.node.logger.info(`shutdown: ${phase} (${detail})`);
    this.node.events.emit({ kind: "shutdown", appId: "", phase });
  }
}
