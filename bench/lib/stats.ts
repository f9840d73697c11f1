// Small measurement helpers shared by the scenarios.

/** Collects latency samples in a preallocated buffer (no per-sample allocation on the hot path). */
export class Samples {
  private buf: Float64Array;
  count = 0;
  /** Samples seen beyond capacity (counted, not stored). */
  dropped = 0;

  constructor(capacity: number) {
    this.buf = new Float64Array(Math.max(1, capacity));
  }

  add(value: number): void {
    if (this.count < this.buf.length) this.buf[this.count++] = value;
    else this.dropped++;
  }

  summary(): LatencySummary {
    const sorted = this.buf.slice(0, this.count).sort();
    const at = (q: number) => (sorted.length ? round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!) : NaN);
    return { samples: this.count, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted.length ? round(sorted[sorted.length - 1]!) : NaN };
  }
}

export interface LatencySummary {
  samples: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Runs fn(0..count-1) with at most `concurrency` in flight; collects failures instead of throwing. */
export async function pool<T>(count: number, concurrency: number, fn: (i: number) => Promise<T>, deadline = Infinity): Promise<{ results: (T | undefined)[]; failures: number; errors: string[] }> {
  const results: (T | undefined)[] = new Array(count);
  let next = 0;
  let failures = 0;
  const errors: string[] = [];
  const worker = async () => {
    while (next < count && performance.now() < deadline) {
      const i = next++;
      try {
        results[i] = await fn(i);
      } catch (error) {
        failures++;
        if (errors.length < 5) errors.push((error as Error).message.slice(0, 200));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  // Items never started because the deadline passed count as failures too.
  failures += count - Math.min(next, count);
  return { results, failures, errors };
}

/**
 * Calls fn(i) for i in 0..count-1 at `perSecond`, catching up after timer lateness so the
 * average rate holds even though setTimeout only has millisecond precision.
 */
export async function atRate(count: number, perSecond: number, fn: (i: number) => void, deadline = Infinity): Promise<number> {
  const start = performance.now();
  let sent = 0;
  while (sent < count && performance.now() < deadline) {
    const elapsed = performance.now() - start;
    const due = Math.min(count, Math.floor((elapsed * perSecond) / 1000) + 1);
    while (sent < due) fn(sent++);
    const nextAt = start + (sent * 1000) / perSecond;
    await new Promise((r) => setTimeout(r, Math.max(0, nextAt - performance.now())));
  }
  return sent;
}

/** Resolves when `done()` is true, polling every 20 ms, or when `timeoutMs` passes (returns false). */
export async function until(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() >= end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}
