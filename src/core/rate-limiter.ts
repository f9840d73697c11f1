/** Per-app request budgets for the HTTP API (spec §6.10), fixed one-second windows. */
export interface RateLimitResult {
  allowed: boolean;
  remaining: number;
  /** Milliseconds until the window resets. */
  resetMs: number;
}

export interface RateLimiter {
  /** Counts `points` against the app's budget `bucket` ("backend", "read") for this second. */
  consume(appId: string, bucket: string, points: number, limitPerSecond: number): Promise<RateLimitResult>;
}
