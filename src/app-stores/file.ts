import { parseApp } from "../core/app.ts";
import type { App } from "../core/app.ts";
import type { AppStore } from "../core/app-store.ts";
import type { Logger } from "../core/runtime.ts";
import { MemoryAppStore } from "./memory.ts";

/**
 * Apps from a JSON file (an array of apps, or {"apps": [...]}) that may change while the
 * server runs: the file is read again at most every `refreshMs`, and a broken edit keeps the
 * last good list instead of dropping every app.
 */
export class FileAppStore implements AppStore {
  private readonly cache = new MemoryAppStore();
  private loadedAt = -Infinity;
  private loading?: Promise<void>;

  constructor(
    private readonly path: string,
    private readonly readText: (path: string) => Promise<string>,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
    private readonly refreshMs = 2000,
  ) {}

  /** Loads once at start-up so a broken file fails fast with a message naming it. */
  async load(): Promise<void> {
    this.cache.replace(parseAppsFile(await this.readText(this.path), this.path));
    this.loadedAt = this.now();
  }

  private async fresh(): Promise<MemoryAppStore> {
    if (this.now() - this.loadedAt >= this.refreshMs) {
      this.loading ??= this.load()
        .catch((error) => {
          this.loadedAt = this.now();
          this.logger.error(`keeping the previous apps: ${(error as Error).message}`);
        })
        .finally(() => (this.loading = undefined));
      await this.loading;
    }
    return this.cache;
  }

  async findById(id: string): Promise<App | undefined> {
    return (await this.fresh()).findById(id);
  }

  async findByKey(key: string): Promise<App | undefined> {
    return (await this.fresh()).findByKey(key);
  }

  async all(): Promise<App[]> {
    return (await this.fresh()).all();
  }
}

export function parseAppsFile(text: string, path: string): App[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`apps file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  const list = Array.isArray(json) ? json : (json as { apps?: unknown })?.apps;
  if (!Array.isArray(list)) throw new Error(`apps file ${path} must hold an array of apps or {"apps": [...]}`);
  return list.map((raw: unknown, i) => {
    const where = `apps[${i}] in ${path}`;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new Error(`${where} must be an object`);
    return parseApp(raw as Record<string, unknown>, where);
  });
}
