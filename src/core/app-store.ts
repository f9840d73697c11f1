import type { App } from "./app.ts";
import type { Timers } from "./runtime.ts";

/** Where apps come from. Implementations: memory/file now; postgres, mysql, dynamodb later. */
export interface AppStore {
  findById(id: string): Promise<App | undefined>;
  findByKey(key: string): Promise<App | undefined>;
  /** Every app, for start-up listings; stores that cannot enumerate return what they have cached. */
  all(): Promise<App[]>;
  close?(): Promise<void>;
}

/**
 * How long a handshake or an API request waits for the app store. A store that is down must not
 * leave a client waiting: past this it is answered that the store is unavailable.
 */
export const APP_LOOKUP_TIMEOUT_MS = 5000;

/** The app store failed or did not answer in time; the client is told to come back later. */
export class AppStoreUnavailable extends Error {
  constructor(message: string, readonly cause?: unknown) {
    super(message);
    this.name = "AppStoreUnavailable";
  }
}

/** Looks an app up by key or id, bounded in time; store failures become AppStoreUnavailable. */
export function lookupApp(
  apps: AppStore, timers: Timers, by: "key" | "id", value: string, timeoutMs = APP_LOOKUP_TIMEOUT_MS,
): Promise<App | undefined> {
  return new Promise((resolve, reject) => {
    const timer = timers.setTimeout(() => {
      reject(new AppStoreUnavailable(`the app store did not answer a lookup by ${by} within ${timeoutMs} ms`));
    }, timeoutMs);
    const found = by === "key" ? apps.findByKey(value) : apps.findById(value);
    found.then(
      (app) => {
        timers.clearTimeout(timer);
        resolve(app);
      },
      (error: unknown) => {
        timers.clearTimeout(timer);
        reject(new AppStoreUnavailable(`the app store failed a lookup by ${by}: ${error instanceof Error ? error.message : String(error)}`, error));
      },
    );
  });
}
