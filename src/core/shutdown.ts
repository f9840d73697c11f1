// The graceful stop's phases and the two waits they need, kept out of server.ts. A node stops in
// order (README "Graceful stop"): `draining` (not ready, everything still served, so a balancer
// takes it out before anything is refused), `closing` (new handshakes get 4200, open sockets are
// closed with 4200 over a short window and cleaned up), `stopping` (the API answers 503, work in
// flight finishes), `stopped` (the adapter let go). A publish is never answered 2xx by a node that
// can no longer deliver it.
import type { Timers } from "./runtime.ts";

export type ShutdownPhase = "running" | "draining" | "closing" | "stopping" | "stopped";

/** Closes are spread in ticks this far apart: short enough to use the window evenly. */
export const CLOSE_TICK_MS = 50;

/**
 * Calls `close` for each item, spread over `spreadMs`: a tick every CLOSE_TICK_MS closes an even
 * share, so ten thousand clients reconnect over the window rather than in one spike, while a
 * handful close within a few ticks (there is no spike to spread).
 */
export async function closeSpread<T>(items: readonly T[], spreadMs: number, timers: Timers, close: (item: T) => void): Promise<void> {
  const ticks = Math.max(1, Math.floor(spreadMs / CLOSE_TICK_MS));
  const perTick = Math.max(1, Math.ceil(items.length / ticks));
  for (let i = 0; i < items.length; i += perTick) {
    if (i > 0) await sleep(timers, CLOSE_TICK_MS);
    for (const item of items.slice(i, i + perTick)) close(item);
  }
}

/** Waits for every promise to settle, or `ms`; true when all settled in time. */
export async function settleWithin(promises: readonly Promise<unknown>[], ms: number, timers: Timers): Promise<boolean> {
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
