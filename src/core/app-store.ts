import type { App } from "./app.ts";
import type { Timers } from "./runtime.ts";

/** Where apps come from: memory and file stores, or a database behind a cache (src/app-stores). */
export interface AppStore {
  findById(id: string): Promise<App | undefined>;
  findByKey(key: string): Promise<App | undefined>;
  /** Every app, for `switchboard apps list`; database stores read the whole table. */
  all(): Promise<App[]>;
  close?(): Promise<void>;
}

/**
 * How long a handshake or an API request waits for the app store. A store that is down must not
 * leave a client waiting: past this it is answered that the store is unavailable.
 */
const APP_LOOKUP_TIMEOUT_MS = 5000;

/**
 * Looks an app up by key or id, bounded in time (stores bound their own calls too; this is the
 * core's guarantee for any store): failures and time-outs become AppStoreError.
 */
export function lookupApp(
  apps: AppStore, timers: Timers, by: "key" | "id", value: string, timeoutMs = APP_LOOKUP_TIMEOUT_MS,
): Promise<App | undefined> {
  return new Promise((resolve, reject) => {
    let timer: unknown;
    let settled = false;
    const found = by === "key" ? apps.findByKey(value) : apps.findById(value);
    found.then(
      (app) => {
        settled = true;
        if (timer !== undefined) timers.clearTimeout(timer);
        resolve(app);
      },
      (error: unknown) => {
        settled = true;
        if (timer !== undefined) timers.clearTimeout(timer);
        reject(error instanceof AppStoreError ? error : new AppStoreError(`the app store failed a lookup by ${by}: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
      },
    );
    // A store answering from memory has settled by the next microtask: it gets no timer (a
    // setTimeout and clearTimeout per handshake, ~2 % of the connect profile on Node).
    queueMicrotask(() => {
      if (settled) return;
      timer = timers.setTimeout(() => {
        reject(new AppStoreError(`the app store did not answer a lookup by ${by} within ${timeoutMs} ms`));
      }, timeoutMs);
    });
  });
}

/** A store the `switchboard apps` and `switchboard migrate` commands can change. */
export interface AppDatabase extends AppStore {
  /** Fails with a clear message when the id or the key is taken. */
  create(app: App): Promise<void>;
  /** Replaces the app with this id; false when there is none. */
  update(app: App): Promise<boolean>;
  delete(id: string): Promise<boolean>;
  /** Creates the table (and index) when missing; never alters an existing one. */
  migrate(): Promise<"created" | "exists">;
}

/**
 * A store could not answer: the database is down, slow past its timeout, or returned something
 * unusable. Lookups reject with this (never hang), so a handshake or REST call can be refused
 * with a clear error instead of waiting.
 */
export class AppStoreError extends Error {
  override name = "AppStoreError";
}
