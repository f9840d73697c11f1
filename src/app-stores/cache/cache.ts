import type { App } from "../../core/app.ts";

/**
 * Where looked-up apps are kept between database calls. Entries are "id:<id>" and "key:<key>";
 * the value null is a cached miss (an unknown key, kept briefly so a flood of bad keys does not
 * reach the database). Redis-backed caches are shared by every node and by the apps command.
 */
export interface AppCache {
  readonly name: string;
  /** undefined: not cached; null: cached as unknown. */
  get(entry: string): Promise<App | null | undefined>;
  set(entry: string, app: App | null, ttlMs: number): Promise<void>;
  delete(entries: string[]): Promise<void>;
  close?(): Promise<void>;
}

/** The cache entries that hold `app`, for lookups by id and by key. */
export function entriesOf(app: { id: string; key: string }): string[] {
  return [`id:${app.id}`, `key:${app.key}`];
}
