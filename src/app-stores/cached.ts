// The cache in front of every database store: lookups by id and by key kept for the TTL, unknown
// ones briefly, a cold lookup made once however many handshakes race for it, and the database's
// outages ridden out on the last good entry of every app already seen.
import type { App } from "../core/app.ts";
import { AppStoreError, type AppStore } from "../core/app-store.ts";
import type { Logger } from "../core/runtime.ts";
import { entriesOf, type AppCache } from "./cache/cache.ts";
import { messageOf, withTimeout } from "./timeout.ts";

export interface CachedStoreOptions {
  ttlMs: number;
  missTtlMs: number;
  /** Bound on every cache call (the database store bounds its own). */
  timeoutMs: number;
  logger: Logger;
  /** Database reachable or not, on each change: for the server's `backend` events. */
  onStatus?(up: boolean, detail?: string): void;
}

/** What an operator graphs: where lookups were answered, and how the database fared. */
export interface CachedStoreStats {
  cacheHits: number;
  cacheMisses: number;
  /** Lookups that joined one already on its way to the database. */
  joined: number;
  databaseLookups: number;
  databaseErrors: number;
  /** Answers from the last good entry while the database was failing. */
  staleAnswers: number;
  cacheErrors: number;
}

export class CachedAppStore implements AppStore {
  readonly stats: CachedStoreStats = { cacheHits: 0, cacheMisses: 0, joined: 0, databaseLookups: 0, databaseErrors: 0, staleAnswers: 0, cacheErrors: 0 };
  private readonly inflight = new Map<string, Promise<App | undefined>>();
  /** The last app the database returned per entry: what known apps run on during an outage. */
  private readonly lastGood = new Map<string, App>();
  private down = false;

  constructor(
    private readonly db: AppStore,
    private readonly cache: AppCache | undefined,
    private readonly options: CachedStoreOptions,
  ) {}

  get databaseUp(): boolean {
    return !this.down;
  }

  findById(id: string): Promise<App | undefined> {
    return this.lookup(`id:${id}`, () => this.db.findById(id));
  }

  findByKey(key: string): Promise<App | undefined> {
    return this.lookup(`key:${key}`, () => this.db.findByKey(key));
  }

  /** Always the database: listings must show what is stored, not what was cached. */
  all(): Promise<App[]> {
    return this.db.all();
  }

  /** Drops an app's entries here and in a shared cache (the apps command does this after a change). */
  async invalidate(app: { id: string; key: string }): Promise<void> {
    for (const entry of entriesOf(app)) this.lastGood.delete(entry);
    await this.cache?.delete(entriesOf(app));
  }

  private async lookup(entry: string, load: () => Promise<App | undefined>): Promise<App | undefined> {
    const cached = await this.fromCache(entry);
    if (cached !== undefined) {
      this.stats.cacheHits++;
      return cached ?? undefined;
    }
    this.stats.cacheMisses++;
    const stale = this.lastGood.get(entry);
    if (this.down && stale) {
      // The database is known to be failing: answer now, and let one background lookup probe it.
      this.stats.staleAnswers++;
      this.load(entry, load).catch((error) => this.options.logger.debug(`apps: background refresh of ${entry} failed: ${messageOf(error)}`));
      return stale;
    }
    return this.load(entry, load);
  }

  /** One database lookup per entry at a time: racing cold handshakes share it. */
  private load(entry: string, load: () => Promise<App | undefined>): Promise<App | undefined> {
    const pending = this.inflight.get(entry);
    if (pending) {
      this.stats.joined++;
      return pending;
    }
    const started = this.fetch(entry, load).finally(() => this.inflight.delete(entry));
    this.inflight.set(entry, started);
    return started;
  }

  private async fetch(entry: string, load: () => Promise<App | undefined>): Promise<App | undefined> {
    this.stats.databaseLookups++;
    let app: App | undefined;
    try {
      app = await load();
    } catch (error) {
      this.stats.databaseErrors++;
      this.markDown(error);
      const stale = this.lastGood.get(entry);
      if (stale) {
        this.stats.staleAnswers++;
        this.options.logger.debug(`apps: ${entry} from its last good entry (database failing)`);
        return stale;
      }
      throw error instanceof AppStoreError ? error : new AppStoreError(messageOf(error), { cause: error });
    }
    this.markUp();
    this.options.logger.debug(`apps: ${entry} ${app ? `is app ${app.id}` : "is unknown"} (from the database)`);
    if (app) {
      for (const e of entriesOf(app)) this.lastGood.set(e, app);
      await Promise.all(entriesOf(app).map((e) => this.toCache(e, app!, this.options.ttlMs)));
    } else {
      this.lastGood.delete(entry);
      await this.toCache(entry, null, this.options.missTtlMs);
    }
    return app;
  }

  private markDown(error: unknown): void {
    if (this.down) return;
    this.down = true;
    const detail = messageOf(error);
    this.options.logger.warn(`apps database failing (${detail}); known apps answer from their last good entry`);
    this.options.onStatus?.(false, detail);
  }

  private markUp(): void {
    if (!this.down) return;
    this.down = false;
    this.options.logger.info("apps database answering again");
    this.options.onStatus?.(true);
  }

  /** A failing cache is a miss, never a failed lookup: the database still answers. */
  private async fromCache(entry: string): Promise<App | null | undefined> {
    if (!this.cache) return undefined;
    try {
      return await withTimeout(this.cache.get(entry), this.options.timeoutMs, `app cache (${this.cache.name}) get`);
    } catch (error) {
      this.cacheFailed("reading", error);
      return undefined;
    }
  }

  private async toCache(entry: string, app: App | null, ttlMs: number): Promise<void> {
    if (!this.cache || ttlMs <= 0) return;
    try {
      await withTimeout(this.cache.set(entry, app, ttlMs), this.options.timeoutMs, `app cache (${this.cache.name}) set`);
    } catch (error) {
      this.cacheFailed("writing", error);
    }
  }

  private cacheFailed(doing: string, error: unknown): void {
    this.stats.cacheErrors++;
    this.options.logger.debug(`app cache: ${doing} failed: ${messageOf(error)}`);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.db.close?.(), this.cache?.close?.()]);
  }
}
