// The retry policy (spec §7.1, Pusher's documented one): 1 s after the first failure, doubling,
// capped at 60 s, for as long as the next attempt starts within the window (5 min) after the
// first attempt. The last gap is shortened so an attempt lands exactly at the window's end.

import { backoff } from "../core/backoff.ts";

const RETRY_BASE_MS = 1000;
const RETRY_CAP_MS = 60_000;

/** Milliseconds to wait after the `failures`-th failed attempt (1-based), before the window. */
export function backoffMs(failures: number): number {
  return backoff(failures - 1, { baseMs: RETRY_BASE_MS, maxMs: RETRY_CAP_MS });
}

/** When to try again after a failure, or undefined when the window is over (dead letter). */
export function nextRetryMs(failures: number, firstAttemptAt: number, now: number, windowMs: number): number | undefined {
  const end = firstAttemptAt + windowMs;
  if (now >= end) return undefined;
  return Math.min(backoffMs(failures), end - now);
}
