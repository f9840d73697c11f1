import type { App } from "../core/app.ts";
import type { AppStore } from "../core/app-store.ts";

/** Apps given at start-up (flags, environment, config file). */
export class MemoryAppStore implements AppStore {
  private readonly byId = new Map<string, App>();
  private readonly byKey = new Map<string, App>();

  constructor(apps: App[] = []) {
    this.replace(apps);
  }

  replace(apps: App[]): void {
    this.byId.clear();
    this.byKey.clear();
    for (const app of apps) {
      this.byId.set(app.id, app);
      this.byKey.set(app.key, app);
    }
  }

  async findById(id: string): Promise<App | undefined> {
    return this.byId.get(id);
  }

  async findByKey(key: string): Promise<App | undefined> {
    return this.byKey.get(key);
  }

  async all(): Promise<App[]> {
    return [...this.byId.values()];
  }
}
