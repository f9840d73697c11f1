import { AppStoreError } from "../core/app-store.ts";

/**
 * Settles with `work`, or rejects with an AppStoreError after `ms`. Every database and cache call
 * goes through this: a database that stops answering must cost a bounded wait, never a hang.
 * The work itself is not cancelled; drivers reset their connections after a timeout.
 */
export function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AppStoreError(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/** The message of anything thrown, for logs and AppStoreErrors. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
