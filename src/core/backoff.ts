/**
 * Exponential back-off: `baseMs` doubling with each attempt (0-based) up to `maxMs`. With `jitter`
 * a random point in the upper half of that, so nodes that lost a backend together do not all
 * come back to it in the same instant.
 */
export function backoff(attempt: number, o: { baseMs: number; maxMs: number; jitter?: boolean }): number {
  // The exponent is capped before it can overflow into Infinity for a long outage.
  const ms = Math.min(o.maxMs, o.baseMs * 2 ** Math.min(Math.max(0, attempt), 30));
  return o.jitter ? Math.round(ms / 2 + Math.random() * (ms / 2)) : ms;
}

/** Reconnecting to a backend: 100 ms doubling to 5 s, forever (a backend outage must never end the node). */
export const reconnectDelay = (attempt: number): number => backoff(attempt, { baseMs: 100, maxMs: 5000 });
