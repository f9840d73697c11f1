import type { App } from "../core/app.ts";
import { AppStoreError, lookupApp } from "../core/app-store.ts";
import type { Switchboard } from "../core/server.ts";
import { HttpError } from "./errors.ts";

/**
 * The app by id, for the HTTP API and the console alike; a store that fails or hangs is a 503,
 * never a hanging request.
 */
export async function findApp(server: Switchboard, id: string): Promise<App | undefined> {
  try {
    return await lookupApp(server.apps, server.timers, "id", id);
  } catch (error) {
    if (!(error instanceof AppStoreError)) throw error;
    server.logger.warn(`HTTP API: ${error.message}`, error.cause);
    throw new HttpError(503, "Application store unavailable, try again", { "Retry-After": "1" });
  }
}
