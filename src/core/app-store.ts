import type { App } from "./app.ts";

/** Where apps come from: memory and file stores, or a database behind a cache (src/app-stores). */
export interface AppStore {
  findById(id: string): Promise<App | undefined>;
  findByKey(key: string): Promise<App | undefined>;
  /** Every app, for `switchboard apps list`; database stores read the whole table. */
  all(): Promise<App[]>;
  close?(): Promise<void>;
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
