import type { App } from "./app.ts";

/** Where apps come from. Implementations: memory/file now; postgres, mysql, dynamodb later. */
export interface AppStore {
  findById(id: string): Promise<App | undefined>;
  findByKey(key: string): Promise<App | undefined>;
  /** Every app, for start-up listings; stores that cannot enumerate return what they have cached. */
  all(): Promise<App[]>;
  close?(): Promise<void>;
}
