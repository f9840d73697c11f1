// The request deadline of the cluster drivers (CLUSTER_REQUEST_TIMEOUT_MS): a backend that does
// not answer in time is treated like one that refused, so no publish, join or read waits on it.
import type { TimerHandle, Timers } from "../../core/runtime.ts";

class DeadlineError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} got no answer within ${ms} ms`);
    this.name = "DeadlineError";
  }
}

/** `work`'s result, or a DeadlineError once `ms` have passed (the work itself is not cancelled). */
export function withDeadline<T>(timers: Timers, ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: TimerHandle | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = timers.setTimeout(() => reject(new DeadlineError(what, ms)), ms);
  });
  return Promise.race([work, expired]).finally(() => timers.clearTimeout(timer!));
}
