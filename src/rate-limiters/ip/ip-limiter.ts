// Per-IP request budgets (docs/operating.md, "Rate limits"): an HTTP API limit and a WebSocket connection
// limit, each a fixed window per client address. Stores are RATE_LIMITER_DRIVER drivers
// (src/drivers/register-rate-limiters.ts); the memory store answers synchronously, so with it the
// WebSocket upgrade route stays synchronous (src/http/router.ts).
import type { RateLimitResult } from "../../core/rate-limiter.ts";

export interface IpLimitResult extends RateLimitResult {
  limit: number;
}

export interface IpLimiter {
  readonly name: string;
  /**
   * Counts one hit against `key` in the current window of `windowMs`. A store that cannot answer
   * allows the hit (a Redis outage must not lock every client out) and says so in its log.
   */
  hit(key: string, limit: number, windowMs: number): IpLimitResult | Promise<IpLimitResult>;
  /** Reachable or not, on each change (stores with a backend): feeds the `backend` events. */
  watch?(listener: (up: boolean, detail?: string) => void): void;
  close?(): Promise<void>;
}

/** The limits every store enforces; RATE_LIMITER_* settings. */
export interface IpLimits {
  api: { max: number; windowMs: number };
  websocket: { max: number; windowMs: number };
}
