// Reading a KV listing (keys, or a watch of values until its initial values are in) to its end.
import type { TimerHandle, Timers } from "../../core/runtime.ts";

/**
 * Hands each item of `items` to `each` until the listing ends. A listing is an ordered consumer,
 * which can wait forever when NATS goes away mid-way: a sweep stuck on it would never run again,
 * and a REST read would hang. So it gives up, with an error of code TIMEOUT, when nothing comes
 * for `timeoutMs`.
 */
export async function drainListing<T>(
  items: AsyncIterable<T> & { stop(error?: Error): void }, each: (item: T) => void, timers: Timers, timeoutMs: number, bucket: string,
): Promise<void> {
  let timer: TimerHandle | undefined;
  const arm = () => {
    if (timer !== undefined) timers.clearTimeout(timer);
    timer = timers.setTimeout(() => {
      items.stop(Object.assign(new Error(`listing the keys of bucket ${bucket} stalled (nothing for ${timeoutMs} ms)`), { code: "TIMEOUT" }));
    }, timeoutMs);
  };
  arm();
  try {
    for await (const item of items) {
      each(item);
      arm();
    }
  } finally {
    if (timer !== undefined) timers.clearTimeout(timer);
  }
}
